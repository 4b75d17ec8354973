/*
 * codec.c -- MessagePack <-> tn_val_t with msgpack-c's C API, and the
 * msgpack-RPC envelope of docs/protocol.md, "Transport and framing".
 *
 * Decoding runs msgpack_unpack_next() over one complete message that
 * tn_frame_scan() has already bounded (so msgpack-c's per-header allocation
 * is at most a small multiple of the message), then copies the object tree
 * into a tn_val_t and drops the zone at once: nothing borrowed from msgpack-c
 * outlives the call. Encoding drives a msgpack_packer whose write callback
 * appends to the caller's growable buffer. No sockets, no event loop.
 */
#include "codec.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/* ---- decoding ---- */

/* Copy one msgpack object into *out (nil on entry). Recursion is bounded:
 * msgpack-c itself refuses nesting beyond 32 levels. */
static tn_code_t from_object(const msgpack_object *o, tn_val_t *out, tn_error_t *err) {
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        *out = TN_VAL_NIL;
        return TN_OK;
    case MSGPACK_OBJECT_BOOLEAN:
        *out = tn_val_bool(o->via.boolean);
        return TN_OK;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        /* value.h: integers that do not fit int64 travel as floats. */
        if (o->via.u64 > (uint64_t) INT64_MAX)
            *out = tn_val_float((double) o->via.u64);
        else
            *out = tn_val_int((int64_t) o->via.u64);
        return TN_OK;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = tn_val_int(o->via.i64);
        return TN_OK;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *out = tn_val_float(o->via.f64);
        return TN_OK;
    case MSGPACK_OBJECT_STR:
        /* docs/protocol.md, "Transport and framing": str and bin are both strings. */
        if (tn_val_set_strn(out, o->via.str.ptr, o->via.str.size) != 0)
            return tn_error_set(err, TN_ERR_INTERNAL, "out of memory decoding a string");
        return TN_OK;
    case MSGPACK_OBJECT_BIN:
        if (tn_val_set_strn(out, o->via.bin.ptr, o->via.bin.size) != 0)
            return tn_error_set(err, TN_ERR_INTERNAL, "out of memory decoding a string");
        return TN_OK;
    case MSGPACK_OBJECT_ARRAY: {
        const msgpack_object_array *a = &o->via.array;
        if (tn_val_set_arr(out, a->size) != 0)
            goto oom;
        for (uint32_t i = 0; i < a->size; i++) {
            tn_val_t *slot = tn_arr_push(out);     /* capacity is reserved: cannot fail */
            if (slot == NULL)
                goto oom;
            tn_code_t rc = from_object(&a->ptr[i], slot, err);
            if (rc != TN_OK) {
                tn_val_free(out);
                return rc;
            }
        }
        return TN_OK;
    }
    case MSGPACK_OBJECT_MAP: {
        const msgpack_object_map *m = &o->via.map;
        if (tn_val_set_map(out, m->size) != 0)
            goto oom;
        for (uint32_t i = 0; i < m->size; i++) {
            const msgpack_object *k = &m->ptr[i].key;
            const char *kp;
            uint32_t kn;
            if (k->type == MSGPACK_OBJECT_STR) {
                kp = k->via.str.ptr;
                kn = k->via.str.size;
            } else if (k->type == MSGPACK_OBJECT_BIN) {
                kp = k->via.bin.ptr;
                kn = k->via.bin.size;
            } else {
                tn_val_free(out);
                return tn_error_set(err, TN_ERR_INVALID_REQUEST, "map keys must be strings");
            }
            /* Keys are C strings in a tn_val_t and looked up with strcmp: a
             * key with a NUL inside would silently alias a shorter one. */
            if (kn > 0 && memchr(kp, '\0', kn) != NULL) {
                tn_val_free(out);
                return tn_error_set(err, TN_ERR_INVALID_REQUEST, "map key contains a NUL byte");
            }
            /* tn_map_add() wants a C string; most keys are short. */
            char small[64];
            char *key = kn < sizeof small ? small : malloc((size_t) kn + 1);
            if (key == NULL)
                goto oom;
            if (kn > 0)                      /* msgpack-c gives "" a NULL pointer */
                memcpy(key, kp, kn);
            key[kn] = '\0';
            tn_val_t *slot = tn_map_add(out, key);
            if (key != small)
                free(key);
            if (slot == NULL)
                goto oom;
            tn_code_t rc = from_object(&m->ptr[i].val, slot, err);
            if (rc != TN_OK) {
                tn_val_free(out);
                return rc;
            }
        }
        return TN_OK;
    }
    case MSGPACK_OBJECT_EXT:
        return tn_error_set(err, TN_ERR_INVALID_REQUEST, "ext values are not accepted");
    }
    return tn_error_set(err, TN_ERR_PARSE, "unknown MessagePack object type");
oom:
    tn_val_free(out);
    return tn_error_set(err, TN_ERR_INTERNAL, "out of memory decoding a message");
}

tn_code_t tn_codec_decode(const uint8_t *buf, size_t len, tn_val_t *out, tn_error_t *err) {
    msgpack_unpacked u;
    size_t off = 0;
    tn_code_t rc;

    *out = TN_VAL_NIL;
    msgpack_unpacked_init(&u);
    msgpack_unpack_return r = msgpack_unpack_next(&u, (const char *) buf, len, &off);
    switch (r) {
    case MSGPACK_UNPACK_SUCCESS:
        if (off != len)
            rc = tn_error_set(err, TN_ERR_PARSE, "%zu trailing bytes after the message", len - off);
        else
            rc = from_object(&u.data, out, err);
        break;
    case MSGPACK_UNPACK_CONTINUE:
        rc = tn_error_set(err, TN_ERR_PARSE, "message is truncated");
        break;
    case MSGPACK_UNPACK_NOMEM_ERROR:
        /* Also msgpack-c's answer to nesting beyond 32 levels, which a
         * frame-checked message cannot reach. */
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory decoding a message");
        break;
    default:
        rc = tn_error_set(err, TN_ERR_PARSE, "bytes are not valid MessagePack");
        break;
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* ---- encoding ---- */

typedef struct outbuf {
    char **buf;
    size_t *len, *cap;
} outbuf_t;

/* msgpack_packer's write callback: append, growing by doubling. */
static int append_cb(void *data, const char *p, size_t n) {
    outbuf_t *o = data;
    if (n > SIZE_MAX - *o->len)
        return -1;
    size_t need = *o->len + n;
    if (need > *o->cap) {
        size_t ncap = *o->cap ? *o->cap : 256;
        while (ncap < need) {
            if (ncap > SIZE_MAX / 2) {
                ncap = need;
                break;
            }
            ncap *= 2;
        }
        char *np = realloc(*o->buf, ncap);
        if (np == NULL)
            return -1;
        *o->buf = np;
        *o->cap = ncap;
    }
    memcpy(*o->buf + *o->len, p, n);
    *o->len += n;
    return 0;
}

static int pack_str(msgpack_packer *pk, const char *s, size_t n) {
    if (n > UINT32_MAX)
        return -1;
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n) ? -1 : 0;
}

/* Pack one value. Recursion depth is the tree's, which every producer
 * bounds (decoded input by the frame limits, JSON by its parser). */
static int pack_val(msgpack_packer *pk, const tn_val_t *v) {
    switch (v->type) {
    case TN_V_NIL:
        return msgpack_pack_nil(pk);
    case TN_V_BOOL:
        return v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case TN_V_INT:
        return msgpack_pack_int64(pk, v->u.i);     /* packs the smallest width */
    case TN_V_FLOAT:
        return msgpack_pack_double(pk, v->u.f);
    case TN_V_STR:
        return pack_str(pk, v->u.s.p, v->u.s.len);
    case TN_V_ARR:
        if (v->u.a.n > UINT32_MAX || msgpack_pack_array(pk, v->u.a.n) != 0)
            return -1;
        for (size_t i = 0; i < v->u.a.n; i++)
            if (pack_val(pk, &v->u.a.items[i]) != 0)
                return -1;
        return 0;
    case TN_V_MAP:
        if (v->u.m.n > UINT32_MAX || msgpack_pack_map(pk, v->u.m.n) != 0)
            return -1;
        for (size_t i = 0; i < v->u.m.n; i++) {
            const tn_kv_t *kv = &v->u.m.kv[i];
            if (pack_str(pk, kv->key, kv->klen) != 0 || pack_val(pk, &kv->val) != 0)
                return -1;
        }
        return 0;
    }
    return -1;
}

/* Set up a packer on the caller's buffer; 'o' must outlive the packer. */
static void packer_on(msgpack_packer *pk, outbuf_t *o, char **buf, size_t *len, size_t *cap) {
    o->buf = buf;
    o->len = len;
    o->cap = cap;
    msgpack_packer_init(pk, o, append_cb);
}

/* Every encoder appends a whole message or nothing: on failure the length
 * goes back to where it was, so a half-written message never reaches a
 * socket. */
static int finish(int rc, size_t *len, size_t start) {
    if (rc != 0) {
        *len = start;
        return -1;
    }
    return 0;
}

int tn_codec_encode(const tn_val_t *v, char **buf, size_t *len, size_t *cap) {
    msgpack_packer pk;
    outbuf_t o;
    size_t start = *len;
    packer_on(&pk, &o, buf, len, cap);
    return finish(pack_val(&pk, v), len, start);
}

int tn_rpc_encode_result(uint32_t msgid, const tn_val_t *result, char **buf, size_t *len,
                         size_t *cap) {
    msgpack_packer pk;
    outbuf_t o;
    size_t start = *len;
    packer_on(&pk, &o, buf, len, cap);
    int rc = msgpack_pack_array(&pk, 4) || msgpack_pack_int(&pk, TN_RPC_RESPONSE)
             || msgpack_pack_uint32(&pk, msgid) || msgpack_pack_nil(&pk);
    if (rc == 0)
        rc = result ? pack_val(&pk, result) : msgpack_pack_nil(&pk);
    return finish(rc, len, start);
}

int tn_rpc_encode_error(uint32_t msgid, const tn_error_t *err, char **buf, size_t *len,
                        size_t *cap) {
    msgpack_packer pk;
    outbuf_t o;
    size_t start = *len;
    int with_data = err->data.type != TN_V_NIL;
    packer_on(&pk, &o, buf, len, cap);
    const char *code = tn_code_name(err->code);
    /* docs/protocol.md, "Transport and framing": {"code", "message"} plus an optional "data". */
    int rc = msgpack_pack_array(&pk, 4) || msgpack_pack_int(&pk, TN_RPC_RESPONSE)
             || msgpack_pack_uint32(&pk, msgid) || msgpack_pack_map(&pk, with_data ? 3 : 2)
             || pack_str(&pk, "code", 4) || pack_str(&pk, code, strlen(code))
             || pack_str(&pk, "message", 7) || pack_str(&pk, err->message, strlen(err->message));
    if (rc == 0 && with_data)
        rc = pack_str(&pk, "data", 4) || pack_val(&pk, &err->data);
    if (rc == 0)
        rc = msgpack_pack_nil(&pk);
    return finish(rc, len, start);
}

/* params is [] when 'param' is NULL or nil, else [param]. */
static int pack_params(msgpack_packer *pk, const tn_val_t *param) {
    if (param == NULL || param->type == TN_V_NIL)
        return msgpack_pack_array(pk, 0);
    return msgpack_pack_array(pk, 1) || pack_val(pk, param) ? -1 : 0;
}

int tn_rpc_encode_notify(const char *method, const tn_val_t *param, char **buf, size_t *len,
                         size_t *cap) {
    msgpack_packer pk;
    outbuf_t o;
    size_t start = *len;
    packer_on(&pk, &o, buf, len, cap);
    int rc = msgpack_pack_array(&pk, 3) || msgpack_pack_int(&pk, TN_RPC_NOTIFY)
             || pack_str(&pk, method, strlen(method)) || pack_params(&pk, param);
    return finish(rc, len, start);
}

int tn_rpc_encode_request(uint32_t msgid, const char *method, const tn_val_t *options,
                          char **buf, size_t *len, size_t *cap) {
    msgpack_packer pk;
    outbuf_t o;
    size_t start = *len;
    packer_on(&pk, &o, buf, len, cap);
    int rc = msgpack_pack_array(&pk, 4) || msgpack_pack_int(&pk, TN_RPC_REQUEST)
             || msgpack_pack_uint32(&pk, msgid) || pack_str(&pk, method, strlen(method))
             || pack_params(&pk, options);
    return finish(rc, len, start);
}

/* ---- the envelope ---- */

/* A msgid is an integer in 0..2^32-1 (docs/protocol.md, "Transport and framing"). Integers
 * above INT64_MAX decode as floats and are refused with the rest. */
static int read_msgid(const tn_val_t *v, uint32_t *out) {
    if (v->type != TN_V_INT || v->u.i < 0 || v->u.i > (int64_t) UINT32_MAX)
        return 0;
    *out = (uint32_t) v->u.i;
    return 1;
}

/* params must be an array of 0 or 1 elements, the element a map. */
static tn_code_t read_params(const tn_val_t *p, tn_rpc_msg_t *msg, tn_error_t *err) {
    if (p->type != TN_V_ARR)
        return tn_error_set(err, TN_ERR_INVALID_REQUEST, "params must be an array");
    msg->params = p;
    if (p->u.a.n == 0)
        return TN_OK;
    if (p->u.a.n > 1)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                            "params must be [] or [options], got %zu elements", p->u.a.n);
    if (p->u.a.items[0].type != TN_V_MAP)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "params[0] must be a map of options");
    msg->options = &p->u.a.items[0];
    return TN_OK;
}

int tn_rpc_peek_msgid(const uint8_t *buf, size_t len, uint32_t *msgid) {
    msgpack_unpacked u;
    size_t off = 0;
    int ok = 0;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, (const char *) buf, len, &off) == MSGPACK_UNPACK_SUCCESS
        && u.data.type == MSGPACK_OBJECT_ARRAY && u.data.via.array.size >= 2) {
        const msgpack_object *it = u.data.via.array.ptr;
        if (it[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER && it[0].via.u64 == TN_RPC_REQUEST
            && it[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER && it[1].via.u64 <= UINT32_MAX) {
            *msgid = (uint32_t) it[1].via.u64;
            ok = 1;
        }
    }
    msgpack_unpacked_destroy(&u);
    return ok;
}

tn_code_t tn_rpc_parse(const tn_val_t *v, tn_rpc_msg_t *msg, int *msgid_ok, tn_error_t *err) {
    memset(msg, 0, sizeof *msg);
    if (msgid_ok)
        *msgid_ok = 0;
    if (v->type != TN_V_ARR || v->u.a.n == 0)
        return tn_error_set(err, TN_ERR_INVALID_REQUEST, "a message must be a non-empty array");
    const tn_val_t *it = v->u.a.items;
    size_t n = v->u.a.n;
    if (it[0].type != TN_V_INT || it[0].u.i < 0 || it[0].u.i > 2)
        return tn_error_set(err, TN_ERR_INVALID_REQUEST, "message type must be 0, 1 or 2");
    msg->type = (tn_rpc_type_t) it[0].u.i;

    if (msg->type == TN_RPC_NOTIFY) {
        if (n != 3)
            return tn_error_set(err, TN_ERR_INVALID_REQUEST,
                                "a notification has 3 elements, got %zu", n);
        if (it[1].type != TN_V_STR)
            return tn_error_set(err, TN_ERR_INVALID_REQUEST, "method must be a string");
        msg->method = it[1].u.s.p;
        if (strlen(msg->method) != it[1].u.s.len)
            return tn_error_set(err, TN_ERR_INVALID_REQUEST, "method contains a NUL byte");
        return read_params(&it[2], msg, err);
    }

    /* Requests and responses: read the msgid before judging the rest, so
     * a malformed request can still be answered under its own msgid. */
    if (n < 2 || !read_msgid(&it[1], &msg->msgid))
        return tn_error_set(err, TN_ERR_INVALID_REQUEST, "msgid must be an integer in 0..4294967295");
    if (msgid_ok && msg->type == TN_RPC_REQUEST)
        *msgid_ok = 1;
    if (n != 4)
        return tn_error_set(err, TN_ERR_INVALID_REQUEST, "a %s has 4 elements, got %zu",
                            msg->type == TN_RPC_REQUEST ? "request" : "response", n);
    if (msg->type == TN_RPC_RESPONSE) {
        if (it[2].type != TN_V_NIL && it[2].type != TN_V_MAP)
            return tn_error_set(err, TN_ERR_INVALID_REQUEST, "a response's error must be nil or a map");
        msg->error = &it[2];
        msg->result = &it[3];
        return TN_OK;
    }
    if (it[2].type != TN_V_STR)
        return tn_error_set(err, TN_ERR_INVALID_REQUEST, "method must be a string");
    msg->method = it[2].u.s.p;
    if (strlen(msg->method) != it[2].u.s.len)
        return tn_error_set(err, TN_ERR_INVALID_REQUEST, "method contains a NUL byte");
    return read_params(&it[3], msg, err);
}
