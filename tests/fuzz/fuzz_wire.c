/*
 * fuzz_wire.c -- a connection's whole input path without sockets: an
 * arbitrary byte stream, delivered in chunks, through the frame scanner,
 * the decoder, the envelope check and the dispatcher as far as it runs
 * without an event loop (query functions on a built snapshot, change
 * prepare/commit on the world model, option checks of the inline methods,
 * all found through the method registry).
 *
 * Input: byte 0 chooses the chunking and the limits, the rest is the
 * stream. Chunks are copied into a buffer of exactly the bytes received so
 * far, so a scanner that reads past what has arrived trips ASan.
 *
 * Invariants checked (each a finding when it fails):
 *  - msgpack-c and the scanner agree on every message boundary, and on
 *    "incomplete" at the end of the stream; a 0xc1 refusal is a msgpack-c
 *    parse error too;
 *  - an accepted frame decodes (or is refused for a non-string map key or
 *    an ext), and re-encoding the decoded value gives the same value;
 *  - every reply (result or error) encodes to [1, msgid, ...] with the
 *    request's msgid;
 *  - a query that fails leaves its result nil; nothing reports "internal"
 *    (there is no memory shortage here);
 *  - prepare never changes the model; a prepared change commits on a fresh
 *    copy of the world, the epoch advances by one, and graph.stats on the
 *    result agrees with the model's counts.
 */
#include <msgpack.h>
#include <stdatomic.h>

#include "codec.h"
#include "frame.h"
#include "fuzz.h"
#include "opts.h"
#include "query.h"
#include "registry.h"

static tn_model_t *world;
static tn_snap_t *world_snap;
static int verbose;                 /* TN_FUZZ_VERBOSE=1: print each request's outcome */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void) argc;
    (void) argv;
    world = fz_world_model();
    world_snap = fz_snapshot(world);
    verbose = getenv("TN_FUZZ_VERBOSE") != NULL;
    return 0;
}

/* A reply must be [1, msgid, error, result] with our msgid, and decode. */
static void check_reply(const char *buf, size_t len, uint32_t msgid, int is_error) {
    tn_val_t v = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    FZ_CHECK(tn_codec_decode((const uint8_t *) buf, len, &v, &err) == TN_OK);
    FZ_CHECK(v.type == TN_V_ARR && v.u.a.n == 4);
    FZ_CHECK(v.u.a.items[0].type == TN_V_INT && v.u.a.items[0].u.i == 1);
    FZ_CHECK(v.u.a.items[1].type == TN_V_INT && v.u.a.items[1].u.i == (int64_t) msgid);
    if (is_error) {
        FZ_CHECK(tn_val_str(tn_map_get(&v.u.a.items[2], "code")) != NULL);
        FZ_CHECK(v.u.a.items[3].type == TN_V_NIL);
    } else {
        FZ_CHECK(v.u.a.items[2].type == TN_V_NIL);
    }
    tn_val_free(&v);
}

static void reply_error(uint32_t msgid, const tn_error_t *err) {
    if (verbose)
        fprintf(stderr, "  msgid %u: %s: %s\n", msgid, tn_code_name(err->code), err->message);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    FZ_CHECK(err->code != TN_OK);
    FZ_CHECK(tn_rpc_encode_error(msgid, err, &buf, &len, &cap) == 0);
    check_reply(buf, len, msgid, 1);
    free(buf);
}

static void reply_result(uint32_t msgid, const tn_val_t *res) {
    if (verbose)
        fprintf(stderr, "  msgid %u: ok\n", msgid);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    FZ_CHECK(tn_rpc_encode_result(msgid, res, &buf, &len, &cap) == 0);
    check_reply(buf, len, msgid, 0);
    free(buf);
}

/* No input may make a request fail for lack of memory or an internal bug. */
static void check_code(tn_code_t rc) {
    FZ_CHECK(rc >= TN_OK && rc < TN_CODE_COUNT);
    FZ_CHECK(rc != TN_ERR_INTERNAL);
}

static void run_query(const tn_query_def_t *def, const tn_rpc_msg_t *msg) {
    atomic_int stop;
    atomic_init(&stop, TN_RUN);
    tn_qctx_t ctx = { &stop, NULL, NULL };
    tn_val_t out = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_code_t rc = tn_query_run(def, world_snap, msg->options, &ctx, &out, &err);
    check_code(rc);
    if (rc == TN_OK) {
        FZ_CHECK(out.type == TN_V_MAP);
        reply_result(msg->msgid, &out);
    } else {
        FZ_CHECK(out.type == TN_V_NIL);
        FZ_CHECK(err.code == rc);
        reply_error(msg->msgid, &err);
    }
    tn_val_free(&out);
    tn_error_clear(&err);
}

/* After a commit: graph.stats over a snapshot must count what the model holds. */
static void check_stats(const tn_model_t *m) {
    tn_snap_t *s = fz_snapshot(m);
    tn_val_t out = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    const tn_query_def_t *def = tn_query_find("graph.stats");
    FZ_CHECK(def != NULL && tn_query_run(def, s, NULL, NULL, &out, &err) == TN_OK);
    int64_t total = -1, epoch = -1;
    FZ_CHECK(tn_val_as_int(tn_map_get(tn_map_get(&out, "pairs"), "total"), &total));
    FZ_CHECK(tn_val_as_int(tn_map_get(&out, "epoch"), &epoch));
    FZ_CHECK((size_t) total == tn_model_pair_count(m));
    FZ_CHECK((uint64_t) epoch == tn_model_epoch(m));
    tn_val_free(&out);
    tn_snap_release(s);
}

static void run_change(tn_change_kind_t method, const tn_rpc_msg_t *msg) {
    uint64_t epoch = tn_model_epoch(world);
    size_t nodes = tn_model_node_count(world), pairs = tn_model_pair_count(world);
    tn_change_t *c = NULL;
    tn_error_t err = TN_ERROR_INIT;
    tn_code_t rc = tn_change_prepare(world, method, msg->options, &c, &err);
    check_code(rc);
    /* Prepare never touches the model. */
    FZ_CHECK(tn_model_epoch(world) == epoch);
    FZ_CHECK(tn_model_node_count(world) == nodes && tn_model_pair_count(world) == pairs);
    if (rc != TN_OK) {
        FZ_CHECK(c == NULL);
        reply_error(msg->msgid, &err);
        tn_error_clear(&err);
        return;
    }
    FZ_CHECK(c != NULL);
    tn_val_t res = TN_VAL_NIL;
    if (tn_change_is_dry_run(c)) {
        FZ_CHECK(tn_change_result(world, c, &res) == 0);
        reply_result(msg->msgid, &res);
        tn_val_free(&res);
        tn_change_free(c);
        return;
    }
    tn_change_free(c);
    /* Commit on a fresh world so that no input changes what the next sees;
     * prepare must decide the same way there. */
    tn_model_t *m = fz_world_model();
    c = NULL;
    FZ_CHECK(tn_change_prepare(m, method, msg->options, &c, &err) == TN_OK);
    tn_change_commit(m, c);
    FZ_CHECK(tn_model_epoch(m) == epoch + 1);
    FZ_CHECK(tn_change_result(m, c, &res) == 0);
    int64_t e = -1;
    FZ_CHECK(tn_val_as_int(tn_map_get(&res, "epoch"), &e) && (uint64_t) e == epoch + 1);
    reply_result(msg->msgid, &res);
    tn_val_free(&res);
    tn_change_free(c);
    check_stats(m);
    tn_model_free(m);
}

static void dispatch(const tn_rpc_msg_t *msg) {
    tn_error_t err = TN_ERROR_INIT;
    const tn_method_t *m = tn_registry_find(msg->method);
    if (m == NULL) {
        tn_error_set(&err, TN_ERR_METHOD_NOT_FOUND, "no method %.64s", msg->method);
        reply_error(msg->msgid, &err);
        tn_error_clear(&err);
        return;
    }
    tn_code_t rc = tn_registry_validate(m, msg->options, &err);
    check_code(rc);
    if (rc != TN_OK) {
        reply_error(msg->msgid, &err);
        tn_error_clear(&err);
        return;
    }
    /* The inline methods need a connection to run: only their option
     * check is exercised here. */
    if (m->kind == TN_MK_QUERY)
        run_query(m->query, msg);
    else if (m->kind == TN_MK_CHANGE)
        run_change(m->change, msg);
}

/* Decoding and re-encoding a value gives the same value (as JSON text). */
static void check_roundtrip(const tn_val_t *v) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    tn_val_t back = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    FZ_CHECK(tn_codec_encode(v, &buf, &len, &cap) == 0);
    FZ_CHECK(tn_codec_decode((const uint8_t *) buf, len, &back, &err) == TN_OK);
    char *a = fz_to_json(v), *b = fz_to_json(&back);
    FZ_CHECK(strcmp(a, b) == 0);
    free(a);
    free(b);
    free(buf);
    tn_val_free(&back);
}

/* One message the scanner accepted: frame[0..len); 'rest' is the whole
 * remaining stream starting at the same byte (for msgpack-c's opinion). */
static void on_frame(const uint8_t *frame, size_t len, const uint8_t *rest, size_t rest_len) {
    msgpack_unpacked u;
    size_t off = 0;
    msgpack_unpacked_init(&u);
    FZ_CHECK(msgpack_unpack_next(&u, (const char *) rest, rest_len, &off) == MSGPACK_UNPACK_SUCCESS);
    FZ_CHECK(off == len);
    msgpack_unpacked_destroy(&u);

    tn_val_t v = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_code_t rc = tn_codec_decode(frame, len, &v, &err);
    FZ_CHECK(rc == TN_OK || rc == TN_ERR_INVALID_REQUEST);
    if (rc != TN_OK) {
        FZ_CHECK(v.type == TN_V_NIL);
        tn_error_clear(&err);
        return;
    }
    check_roundtrip(&v);

    tn_rpc_msg_t msg;
    int msgid_ok = 0;
    rc = tn_rpc_parse(&v, &msg, &msgid_ok, &err);
    if (rc != TN_OK) {
        FZ_CHECK(rc == TN_ERR_INVALID_REQUEST || rc == TN_ERR_INVALID_PARAMS);
        reply_error(msgid_ok ? msg.msgid : 0, &err);
    } else if (msg.type == TN_RPC_REQUEST) {
        FZ_CHECK(msg.method != NULL && msg.params != NULL && msg.params->type == TN_V_ARR);
        FZ_CHECK(msg.options == NULL || msg.options->type == TN_V_MAP);
        dispatch(&msg);
    } else if (msg.type == TN_RPC_NOTIFY) {
        FZ_CHECK(msg.method != NULL);
        int64_t id;
        if (strcmp(msg.method, "cancel") == 0)
            (void) tn_val_as_int(tn_map_get(msg.options, "msgid"), &id);
    }
    tn_error_clear(&err);
    tn_val_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    if (world == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    const uint8_t ctl = data[0];
    const uint8_t *in = data + 1;
    const size_t n = size - 1;

    tn_frame_limits_t lim;
    tn_frame_limits_default(&lim);
    if (ctl & 0x40) {
        /* Tight limits, so every refusal is in reach of short inputs. */
        lim.max_bytes = 256;
        lim.max_depth = 4;
        lim.max_items = 8;
        lim.max_str = 32;
    } else {
        lim.max_bytes = 65536;
    }
    /* Chunk sizes: 1..max from a small generator seeded by the control byte. */
    size_t max_chunk = (ctl & 0x80) ? n + 1 : 1 + (size_t) (ctl & 0x3f) * 4;
    uint32_t rng = 0x9e3779b9u ^ ctl;

    uint8_t *win = NULL;            /* exactly the bytes received so far */
    size_t have = 0, start = 0;
    tn_frame_t f;
    tn_frame_reset(&f);
    int dead = 0;
    tn_frame_status_t st = TN_FRAME_MORE;
    while (have < n && !dead) {
        rng = rng * 1103515245u + 12345u;
        size_t k = 1 + (size_t) ((rng >> 8) % max_chunk);
        if (k > n - have)
            k = n - have;
        uint8_t *grown = realloc(win, have + k);
        FZ_CHECK(grown != NULL);
        win = grown;
        memcpy(win + have, in + have, k);
        have += k;
        for (;;) {
            st = tn_frame_scan(&f, win + start, have - start, &lim);
            if (st == TN_FRAME_DONE) {
                size_t len = f.pos;
                FZ_CHECK(len > 0 && len <= have - start && len <= lim.max_bytes);
                on_frame(win + start, len, in + start, n - start);
                start += len;
                tn_frame_reset(&f);
                continue;
            }
            if (st == TN_FRAME_MORE) {
                FZ_CHECK(f.pos <= have - start);
                break;
            }
            /* Refused: the connection would be closed. A bad byte is a
             * msgpack-c parse error as well. */
            FZ_CHECK(f.reason != TN_FRAME_R_NONE);
            FZ_CHECK(tn_frame_scan(&f, win + start, have - start, &lim) == TN_FRAME_INVALID);
            if (f.reason == TN_FRAME_R_BADBYTE) {
                msgpack_unpacked u;
                size_t off = 0;
                msgpack_unpacked_init(&u);
                FZ_CHECK(msgpack_unpack_next(&u, (const char *) in + start, n - start, &off)
                         == MSGPACK_UNPACK_PARSE_ERROR);
                msgpack_unpacked_destroy(&u);
            }
            dead = 1;
            break;
        }
    }
    if (!dead && start < n) {
        /* The stream ended inside a message: msgpack-c must want more too. */
        msgpack_unpacked u;
        size_t off = 0;
        msgpack_unpacked_init(&u);
        FZ_CHECK(msgpack_unpack_next(&u, (const char *) in + start, n - start, &off)
                 == MSGPACK_UNPACK_CONTINUE);
        msgpack_unpacked_destroy(&u);
    }
    free(win);
    return 0;
}
