/*
 * test_codec.c -- service/wire/codec.c: MessagePack <-> tn_val_t round trips,
 * every integer width, the decoder's refusals, and every error path of the
 * msgpack-RPC envelope (tn_rpc_parse) and its encoders.
 */
#include "test.h"

#include <msgpack.h>
#include <stdint.h>

#include "codec.h"
#include "frame.h"

/* Bytes packed by msgpack-c, for inputs our encoder would never produce. */
typedef struct raw {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} raw_t;

static void raw_init(raw_t *r) {
    msgpack_sbuffer_init(&r->sb);
    msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

static void raw_clear(raw_t *r) {
    msgpack_sbuffer_clear(&r->sb);
}

static void pstr(raw_t *r, const char *s) {
    msgpack_pack_str_with_body(&r->pk, s, strlen(s));
}

static tn_code_t decode_raw(raw_t *r, tn_val_t *out, tn_error_t *err) {
    tn_error_clear(err);
    return tn_codec_decode((const uint8_t *) r->sb.data, r->sb.size, out, err);
}

/* Encode, check the frame scanner accepts exactly those bytes, decode. */
static int round_trip(const tn_val_t *v) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    tn_val_t back = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_frame_limits_t lim;
    tn_frame_t f;
    int ok = tn_codec_encode(v, &buf, &len, &cap) == 0;
    tn_frame_limits_default(&lim);
    tn_frame_reset(&f);
    ok = ok && tn_frame_scan(&f, (const uint8_t *) buf, len, &lim) == TN_FRAME_DONE && f.pos == len;
    ok = ok && tn_codec_decode((const uint8_t *) buf, len, &back, &err) == TN_OK;
    ok = ok && tn_val_equal(v, &back);
    if (!ok) {
        char *j = tn_val_to_json(v);
        fprintf(stderr, "  round trip failed for %s (%s)\n", j ? j : "?", err.message);
        free(j);
    }
    tn_val_free(&back);
    tn_error_clear(&err);
    free(buf);
    return ok;
}

static void test_round_trip_values(void) {
    const int64_t ints[] = {
        0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL, INT64_MAX,
        -1, -32, -33, -128, -129, -32768, -32769, -2147483648LL, -2147483649LL, INT64_MIN,
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        tn_val_t v = tn_val_int(ints[i]);
        CHECK(round_trip(&v));
    }
    const double floats[] = { 0.0, -0.5, 1.5, 3.141592653589793, 1e300, -1e-300 };
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
        tn_val_t v = tn_val_float(floats[i]);
        CHECK(round_trip(&v));
    }
    tn_val_t v = TN_VAL_NIL;
    CHECK(round_trip(&v));
    v = tn_val_bool(1);
    CHECK(round_trip(&v));
    v = tn_val_bool(0);
    CHECK(round_trip(&v));

    /* Strings of each length class, including UTF-8 and an embedded NUL. */
    size_t lens[] = { 0, 1, 31, 32, 255, 256, 65535, 65536 };
    char *big = malloc(65537);
    memset(big, 'z', 65537);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        tn_val_set_strn(&v, big, lens[i]);
        CHECK(round_trip(&v));
        tn_val_free(&v);
    }
    free(big);
    tn_val_set_str(&v, "长沙 Changsha");
    CHECK(round_trip(&v));
    tn_val_free(&v);
    tn_val_set_strn(&v, "a\0b", 3);
    CHECK(round_trip(&v));
    tn_val_free(&v);

    /* Containers: empty, nested, and past the fix/16-bit sizes. */
    tn_val_t m = TN_VAL_NIL;
    tn_val_set_map(&m, 0);
    CHECK(round_trip(&m));
    tn_map_add_str(&m, "id", "CN-430100");
    tn_map_add_int(&m, "degree", 12);
    tn_map_add_float(&m, "score", 0.25);
    tn_map_add_bool(&m, "slow", 1);
    tn_map_add_nil(&m, "parent");
    tn_val_t *tags = tn_map_add(&m, "tags");
    tn_val_set_arr(tags, 0);
    tn_arr_push_str(tags, "bri");
    tn_arr_push_int(tags, -7);
    tn_val_t *inner = tn_map_add(&m, "inner");
    tn_val_set_map(inner, 0);
    tn_map_add_str(inner, "", "empty key");
    CHECK(round_trip(&m));
    tn_val_free(&m);

    tn_val_t a = TN_VAL_NIL;
    tn_val_set_arr(&a, 0);
    for (int i = 0; i < 70000; i++)
        tn_arr_push_int(&a, i);
    CHECK(round_trip(&a));
    tn_val_free(&a);
    tn_val_set_map(&m, 0);
    for (int i = 0; i < 20; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        tn_map_add_int(&m, k, i);
    }
    CHECK(round_trip(&m));
    tn_val_free(&m);
}

static void test_encode_appends(void) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    tn_val_t one = tn_val_int(1), neg = tn_val_int(-1), big = tn_val_int(300);
    CHECK_EQ_INT(tn_codec_encode(&one, &buf, &len, &cap), 0);
    CHECK_EQ_INT(tn_codec_encode(&neg, &buf, &len, &cap), 0);
    CHECK_EQ_INT(tn_codec_encode(&big, &buf, &len, &cap), 0);
    /* Smallest widths: fixint, negative fixint, uint16. */
    CHECK_EQ_INT(len, 5);
    CHECK(memcmp(buf, "\x01\xff\xcd\x01\x2c", 5) == 0);
    CHECK(cap >= len);
    free(buf);
}

static void test_decode_widths(void) {
    raw_t r;
    tn_val_t v = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    raw_init(&r);

    struct { int kind; int64_t want; } cases[] = {
        { 0, 200 }, { 1, 60000 }, { 2, 4000000000LL }, { 3, 9000000000000000000LL },
        { 4, -100 }, { 5, -30000 }, { 6, -2000000000LL }, { 7, -9000000000000000000LL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        raw_clear(&r);
        switch (cases[i].kind) {
        case 0: msgpack_pack_fix_uint8(&r.pk, 200); break;
        case 1: msgpack_pack_fix_uint16(&r.pk, 60000); break;
        case 2: msgpack_pack_fix_uint32(&r.pk, 4000000000u); break;
        case 3: msgpack_pack_fix_uint64(&r.pk, 9000000000000000000ull); break;
        case 4: msgpack_pack_fix_int8(&r.pk, -100); break;
        case 5: msgpack_pack_fix_int16(&r.pk, -30000); break;
        case 6: msgpack_pack_fix_int32(&r.pk, -2000000000); break;
        default: msgpack_pack_fix_int64(&r.pk, -9000000000000000000LL); break;
        }
        CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_OK);
        CHECK_EQ_INT(v.type, TN_V_INT);
        CHECK_EQ_INT(v.u.i, cases[i].want);
    }
    /* Small values in wide encodings still decode as the same integer. */
    raw_clear(&r);
    msgpack_pack_fix_uint64(&r.pk, 5);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_OK);
    CHECK(v.type == TN_V_INT && v.u.i == 5);
    raw_clear(&r);
    msgpack_pack_fix_int64(&r.pk, 5);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_OK);
    CHECK(v.type == TN_V_INT && v.u.i == 5);

    /* INT64_MAX is still an int; one more is a float (value.h). */
    raw_clear(&r);
    msgpack_pack_uint64(&r.pk, (uint64_t) INT64_MAX);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_OK);
    CHECK(v.type == TN_V_INT && v.u.i == INT64_MAX);
    raw_clear(&r);
    msgpack_pack_uint64(&r.pk, (uint64_t) INT64_MAX + 1);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_OK);
    CHECK_EQ_INT(v.type, TN_V_FLOAT);
    CHECK_NEAR(v.u.f, 9223372036854775808.0, 1.0);
    raw_clear(&r);
    msgpack_pack_uint64(&r.pk, UINT64_MAX);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_OK);
    CHECK_EQ_INT(v.type, TN_V_FLOAT);
    CHECK_NEAR(v.u.f, 18446744073709551615.0, 1.0);

    /* float32 arrives as a float of the same value. */
    raw_clear(&r);
    msgpack_pack_float(&r.pk, 1.5f);
    CHECK_EQ_INT((unsigned char) r.sb.data[0], 0xca);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_OK);
    CHECK(v.type == TN_V_FLOAT && v.u.f == 1.5);
    raw_clear(&r);
    msgpack_pack_double(&r.pk, -0.125);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_OK);
    CHECK(v.type == TN_V_FLOAT && v.u.f == -0.125);
    msgpack_sbuffer_destroy(&r.sb);
}

static void test_decode_strings_and_keys(void) {
    raw_t r;
    tn_val_t v = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    raw_init(&r);

    /* bin is a string, as a value and as a map key. */
    msgpack_pack_map(&r.pk, 1);
    msgpack_pack_bin_with_body(&r.pk, "id", 2);
    msgpack_pack_bin_with_body(&r.pk, "CN-430600", 9);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_OK);
    CHECK_EQ_STR(tn_val_str(tn_map_get(&v, "id")), "CN-430600");
    tn_val_free(&v);

    /* Non-string keys are not a request we understand. */
    raw_clear(&r);
    msgpack_pack_map(&r.pk, 1);
    msgpack_pack_int(&r.pk, 1);
    msgpack_pack_int(&r.pk, 2);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_ERR_INVALID_REQUEST);
    CHECK_EQ_INT(v.type, TN_V_NIL);
    raw_clear(&r);
    msgpack_pack_array(&r.pk, 1);
    msgpack_pack_map(&r.pk, 2);
    pstr(&r, "ok");
    msgpack_pack_nil(&r.pk);
    msgpack_pack_nil(&r.pk);
    msgpack_pack_nil(&r.pk);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_ERR_INVALID_REQUEST);
    CHECK(strstr(err.message, "key") != NULL);
    CHECK_EQ_INT(v.type, TN_V_NIL);

    /* A key with a NUL inside would alias a shorter key. */
    raw_clear(&r);
    msgpack_pack_map(&r.pk, 1);
    msgpack_pack_str_with_body(&r.pk, "id\0x", 4);
    msgpack_pack_int(&r.pk, 1);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_ERR_INVALID_REQUEST);

    /* ext is refused wherever it appears. */
    raw_clear(&r);
    msgpack_pack_array(&r.pk, 2);
    msgpack_pack_int(&r.pk, 1);
    msgpack_pack_ext_with_body(&r.pk, "abcd", 4, 1);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_ERR_INVALID_REQUEST);
    CHECK_EQ_INT(v.type, TN_V_NIL);

    /* Trailing bytes, truncation, 0xc1 and emptiness are parse errors. */
    raw_clear(&r);
    msgpack_pack_int(&r.pk, 1);
    msgpack_pack_int(&r.pk, 2);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_ERR_PARSE);
    CHECK(strstr(err.message, "trailing") != NULL);
    raw_clear(&r);
    msgpack_pack_array(&r.pk, 2);
    msgpack_pack_int(&r.pk, 1);
    CHECK_EQ_INT(decode_raw(&r, &v, &err), TN_ERR_PARSE);
    tn_error_clear(&err);
    CHECK_EQ_INT(tn_codec_decode((const uint8_t *) "\xc1", 1, &v, &err), TN_ERR_PARSE);
    tn_error_clear(&err);
    CHECK_EQ_INT(tn_codec_decode((const uint8_t *) "", 0, &v, &err), TN_ERR_PARSE);
    tn_error_clear(&err);
    msgpack_sbuffer_destroy(&r.sb);
}

/* ---- the envelope ---- */

/* Decode raw bytes and run tn_rpc_parse; returns its code. */
static tn_code_t parse_raw(raw_t *r, tn_val_t *v, tn_rpc_msg_t *msg, int *msgid_ok, tn_error_t *err) {
    tn_val_free(v);
    tn_code_t rc = decode_raw(r, v, err);
    if (rc != TN_OK)
        return rc;
    tn_error_clear(err);
    return tn_rpc_parse(v, msg, msgid_ok, err);
}

static void test_rpc_parse_ok(void) {
    raw_t r;
    tn_val_t v = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_rpc_msg_t msg;
    int ok;
    raw_init(&r);

    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 0);
    msgpack_pack_uint32(&r.pk, 4294967295u);
    pstr(&r, "node.get");
    msgpack_pack_array(&r.pk, 1);
    msgpack_pack_map(&r.pk, 1);
    pstr(&r, "id");
    pstr(&r, "CN-430100");
    CHECK_EQ_INT(parse_raw(&r, &v, &msg, &ok, &err), TN_OK);
    CHECK_EQ_INT(msg.type, TN_RPC_REQUEST);
    CHECK_EQ_INT(msg.msgid, 4294967295u);
    CHECK_EQ_INT(ok, 1);
    CHECK_EQ_STR(msg.method, "node.get");
    CHECK_EQ_STR(tn_val_str(tn_map_get(msg.options, "id")), "CN-430100");

    /* msgid 0, params [] (no options); msgid in a wide encoding. */
    raw_clear(&r);
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 0);
    msgpack_pack_fix_uint64(&r.pk, 0);
    pstr(&r, "server.ping");
    msgpack_pack_array(&r.pk, 0);
    CHECK_EQ_INT(parse_raw(&r, &v, &msg, &ok, &err), TN_OK);
    CHECK_EQ_INT(msg.msgid, 0);
    CHECK(msg.params != NULL && msg.options == NULL);

    /* Notification. */
    raw_clear(&r);
    msgpack_pack_array(&r.pk, 3);
    msgpack_pack_int(&r.pk, 2);
    pstr(&r, "cancel");
    msgpack_pack_array(&r.pk, 1);
    msgpack_pack_map(&r.pk, 1);
    pstr(&r, "msgid");
    msgpack_pack_int(&r.pk, 9);
    CHECK_EQ_INT(parse_raw(&r, &v, &msg, &ok, &err), TN_OK);
    CHECK_EQ_INT(msg.type, TN_RPC_NOTIFY);
    CHECK_EQ_INT(ok, 0);
    CHECK_EQ_STR(msg.method, "cancel");
    CHECK(tn_map_get(msg.options, "msgid") != NULL);

    /* Responses, with and without an error. */
    raw_clear(&r);
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 1);
    msgpack_pack_int(&r.pk, 7);
    msgpack_pack_nil(&r.pk);
    pstr(&r, "pong");
    CHECK_EQ_INT(parse_raw(&r, &v, &msg, &ok, &err), TN_OK);
    CHECK_EQ_INT(msg.type, TN_RPC_RESPONSE);
    CHECK_EQ_INT(msg.msgid, 7);
    CHECK_EQ_INT(msg.error->type, TN_V_NIL);
    CHECK_EQ_STR(tn_val_str(msg.result), "pong");
    raw_clear(&r);
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 1);
    msgpack_pack_int(&r.pk, 8);
    msgpack_pack_map(&r.pk, 2);
    pstr(&r, "code");
    pstr(&r, "not_found");
    pstr(&r, "message");
    pstr(&r, "no node XX");
    msgpack_pack_nil(&r.pk);
    CHECK_EQ_INT(parse_raw(&r, &v, &msg, &ok, &err), TN_OK);
    CHECK_EQ_STR(tn_val_str(tn_map_get(msg.error, "code")), "not_found");
    CHECK_EQ_INT(ok, 0);   /* a response is never answered */

    tn_val_free(&v);
    tn_error_clear(&err);
    msgpack_sbuffer_destroy(&r.sb);
}

/* One bad envelope: the packed message, the code and whether msgid is known. */
static void expect(raw_t *r, tn_code_t code, int want_ok, const char *needle, int line) {
    tn_val_t v = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_rpc_msg_t msg;
    int ok = -1;
    tn_code_t rc = parse_raw(r, &v, &msg, &ok, &err);
    if (rc != code || ok != want_ok || (needle && !strstr(err.message, needle))) {
        fprintf(stderr, "  line %d: got %s ok=%d \"%s\"\n", line, tn_code_name(rc), ok, err.message);
        CHECK(0);
    } else {
        CHECK(1);
    }
    tn_val_free(&v);
    tn_error_clear(&err);
    raw_clear(r);
}

/* [0, <msgid packed by 'how'>, "m", []] */
static void request_with_msgid(raw_t *r, int how) {
    msgpack_pack_array(&r->pk, 4);
    msgpack_pack_int(&r->pk, 0);
    switch (how) {
    case 0: msgpack_pack_int(&r->pk, -1); break;
    case 1: msgpack_pack_uint64(&r->pk, 4294967296ull); break;
    case 2: msgpack_pack_double(&r->pk, 1.0); break;
    case 3: pstr(r, "1"); break;
    case 4: msgpack_pack_nil(&r->pk); break;
    case 5: msgpack_pack_uint64(&r->pk, UINT64_MAX); break;
    default: msgpack_pack_int64(&r->pk, INT64_MIN); break;
    }
    pstr(r, "m");
    msgpack_pack_array(&r->pk, 0);
}

static void test_rpc_parse_errors(void) {
    raw_t r;
    raw_init(&r);

    /* Not an array / empty / wrong length / wrong type code. */
    pstr(&r, "hello");
    expect(&r, TN_ERR_INVALID_REQUEST, 0, "array", __LINE__);
    msgpack_pack_array(&r.pk, 0);
    expect(&r, TN_ERR_INVALID_REQUEST, 0, NULL, __LINE__);
    msgpack_pack_array(&r.pk, 3);
    msgpack_pack_int(&r.pk, 0);
    msgpack_pack_int(&r.pk, 5);
    pstr(&r, "m");
    expect(&r, TN_ERR_INVALID_REQUEST, 1, "4 elements", __LINE__);   /* msgid still known */
    msgpack_pack_array(&r.pk, 5);
    msgpack_pack_int(&r.pk, 0);
    msgpack_pack_int(&r.pk, 5);
    pstr(&r, "m");
    msgpack_pack_array(&r.pk, 0);
    msgpack_pack_nil(&r.pk);
    expect(&r, TN_ERR_INVALID_REQUEST, 1, "4 elements", __LINE__);
    msgpack_pack_array(&r.pk, 1);
    msgpack_pack_int(&r.pk, 0);
    expect(&r, TN_ERR_INVALID_REQUEST, 0, "msgid", __LINE__);
    for (int code = -1; code <= 3; code += 4) {
        msgpack_pack_array(&r.pk, 4);
        msgpack_pack_int(&r.pk, code);
        msgpack_pack_int(&r.pk, 5);
        pstr(&r, "m");
        msgpack_pack_array(&r.pk, 0);
        expect(&r, TN_ERR_INVALID_REQUEST, 0, "type", __LINE__);
    }
    msgpack_pack_array(&r.pk, 4);
    pstr(&r, "0");
    msgpack_pack_int(&r.pk, 5);
    pstr(&r, "m");
    msgpack_pack_array(&r.pk, 0);
    expect(&r, TN_ERR_INVALID_REQUEST, 0, "type", __LINE__);
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_double(&r.pk, 0.0);
    msgpack_pack_int(&r.pk, 5);
    pstr(&r, "m");
    msgpack_pack_array(&r.pk, 0);
    expect(&r, TN_ERR_INVALID_REQUEST, 0, "type", __LINE__);

    /* msgid negative, too large, a float, a string, nil. */
    for (int how = 0; how <= 6; how++) {
        request_with_msgid(&r, how);
        expect(&r, TN_ERR_INVALID_REQUEST, 0, "msgid", __LINE__);
    }

    /* method not a string; a method with a NUL inside. */
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 0);
    msgpack_pack_int(&r.pk, 5);
    msgpack_pack_int(&r.pk, 42);
    msgpack_pack_array(&r.pk, 0);
    expect(&r, TN_ERR_INVALID_REQUEST, 1, "method", __LINE__);
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 0);
    msgpack_pack_int(&r.pk, 5);
    msgpack_pack_str_with_body(&r.pk, "server.ping\0x", 13);
    msgpack_pack_array(&r.pk, 0);
    expect(&r, TN_ERR_INVALID_REQUEST, 1, "NUL", __LINE__);

    /* params not an array: invalid_request; [1,2] and [5]: invalid_params. */
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 0);
    msgpack_pack_int(&r.pk, 5);
    pstr(&r, "m");
    msgpack_pack_map(&r.pk, 0);
    expect(&r, TN_ERR_INVALID_REQUEST, 1, "params", __LINE__);
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 0);
    msgpack_pack_int(&r.pk, 5);
    pstr(&r, "m");
    msgpack_pack_array(&r.pk, 2);
    msgpack_pack_int(&r.pk, 1);
    msgpack_pack_int(&r.pk, 2);
    expect(&r, TN_ERR_INVALID_PARAMS, 1, "params", __LINE__);
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 0);
    msgpack_pack_int(&r.pk, 5);
    pstr(&r, "m");
    msgpack_pack_array(&r.pk, 1);
    msgpack_pack_int(&r.pk, 5);
    expect(&r, TN_ERR_INVALID_PARAMS, 1, "map", __LINE__);
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 0);
    msgpack_pack_int(&r.pk, 5);
    pstr(&r, "m");
    msgpack_pack_array(&r.pk, 2);
    msgpack_pack_map(&r.pk, 0);
    msgpack_pack_map(&r.pk, 0);
    expect(&r, TN_ERR_INVALID_PARAMS, 1, NULL, __LINE__);

    /* Notifications: wrong length, method, params. */
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 2);
    pstr(&r, "cancel");
    msgpack_pack_array(&r.pk, 0);
    msgpack_pack_nil(&r.pk);
    expect(&r, TN_ERR_INVALID_REQUEST, 0, "3 elements", __LINE__);
    msgpack_pack_array(&r.pk, 3);
    msgpack_pack_int(&r.pk, 2);
    msgpack_pack_int(&r.pk, 1);
    msgpack_pack_array(&r.pk, 0);
    expect(&r, TN_ERR_INVALID_REQUEST, 0, "method", __LINE__);
    msgpack_pack_array(&r.pk, 3);
    msgpack_pack_int(&r.pk, 2);
    pstr(&r, "cancel");
    msgpack_pack_nil(&r.pk);
    expect(&r, TN_ERR_INVALID_REQUEST, 0, "params", __LINE__);
    msgpack_pack_array(&r.pk, 3);
    msgpack_pack_int(&r.pk, 2);
    pstr(&r, "cancel");
    msgpack_pack_array(&r.pk, 1);
    pstr(&r, "x");
    expect(&r, TN_ERR_INVALID_PARAMS, 0, NULL, __LINE__);

    /* Responses: wrong length, bad msgid, error neither nil nor a map. */
    msgpack_pack_array(&r.pk, 3);
    msgpack_pack_int(&r.pk, 1);
    msgpack_pack_int(&r.pk, 5);
    msgpack_pack_nil(&r.pk);
    expect(&r, TN_ERR_INVALID_REQUEST, 0, "4 elements", __LINE__);
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 1);
    msgpack_pack_int(&r.pk, -5);
    msgpack_pack_nil(&r.pk);
    msgpack_pack_nil(&r.pk);
    expect(&r, TN_ERR_INVALID_REQUEST, 0, "msgid", __LINE__);
    msgpack_pack_array(&r.pk, 4);
    msgpack_pack_int(&r.pk, 1);
    msgpack_pack_int(&r.pk, 5);
    pstr(&r, "oops");
    msgpack_pack_nil(&r.pk);
    expect(&r, TN_ERR_INVALID_REQUEST, 0, "error", __LINE__);
    msgpack_sbuffer_destroy(&r.sb);
}

/* ---- encoders ---- */

static void test_rpc_encoders(void) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    tn_val_t v = TN_VAL_NIL, opts = TN_VAL_NIL, res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT, perr = TN_ERROR_INIT;
    tn_rpc_msg_t msg;
    tn_frame_limits_t lim;
    tn_frame_t f;
    int ok;
    tn_frame_limits_default(&lim);

    /* Four messages in one buffer; the frame scanner splits them. */
    tn_val_set_map(&opts, 1);
    tn_map_add_str(&opts, "id", "JP");
    tn_val_set_map(&res, 1);
    tn_map_add_int(&res, "epoch", 3);
    tn_error_set(&err, TN_ERR_INVALID_PARAMS, "bad batch");
    tn_error_detail(&err, 4, "since", "not a year");
    CHECK_EQ_INT(tn_rpc_encode_request(77, "node.get", &opts, &buf, &len, &cap), 0);
    CHECK_EQ_INT(tn_rpc_encode_request(78, "server.ping", NULL, &buf, &len, &cap), 0);
    CHECK_EQ_INT(tn_rpc_encode_result(4000000000u, &res, &buf, &len, &cap), 0);
    CHECK_EQ_INT(tn_rpc_encode_error(9, &err, &buf, &len, &cap), 0);
    tn_error_clear(&err);
    tn_error_set(&err, TN_ERR_NOT_FOUND, "no node XX");
    CHECK_EQ_INT(tn_rpc_encode_error(10, &err, &buf, &len, &cap), 0);
    CHECK_EQ_INT(tn_rpc_encode_notify("event", &res, &buf, &len, &cap), 0);

    size_t off = 0;
    int seen = 0;
    while (off < len) {
        tn_frame_reset(&f);
        if (tn_frame_scan(&f, (const uint8_t *) buf + off, len - off, &lim) != TN_FRAME_DONE)
            break;
        tn_val_free(&v);
        tn_error_clear(&perr);
        CHECK_EQ_INT(tn_codec_decode((const uint8_t *) buf + off, f.pos, &v, &perr), TN_OK);
        CHECK_EQ_INT(tn_rpc_parse(&v, &msg, &ok, &perr), TN_OK);
        switch (seen) {
        case 0:
            CHECK(msg.type == TN_RPC_REQUEST && msg.msgid == 77);
            CHECK_EQ_STR(msg.method, "node.get");
            CHECK(msg.options && tn_val_equal(msg.options, &opts));
            break;
        case 1:
            CHECK(msg.type == TN_RPC_REQUEST && msg.msgid == 78 && msg.options == NULL);
            CHECK_EQ_INT(msg.params->u.a.n, 0);
            break;
        case 2:
            CHECK(msg.type == TN_RPC_RESPONSE && msg.msgid == 4000000000u);
            CHECK_EQ_INT(msg.error->type, TN_V_NIL);
            CHECK(tn_val_equal(msg.result, &res));
            break;
        case 3: {
            CHECK(msg.type == TN_RPC_RESPONSE && msg.msgid == 9);
            CHECK_EQ_INT(msg.result->type, TN_V_NIL);
            CHECK_EQ_STR(tn_val_str(tn_map_get(msg.error, "code")), "invalid_params");
            CHECK_EQ_STR(tn_val_str(tn_map_get(msg.error, "message")), "bad batch");
            const tn_val_t *data = tn_map_get(msg.error, "data");
            CHECK(data && data->type == TN_V_ARR && data->u.a.n == 1);
            if (data && data->type == TN_V_ARR && data->u.a.n == 1)
                CHECK_EQ_STR(tn_val_str(tn_map_get(&data->u.a.items[0], "field")), "since");
            break;
        }
        case 4:
            CHECK_EQ_INT(msg.error->u.m.n, 2);      /* no "data" when there is none */
            CHECK(tn_map_get(msg.error, "data") == NULL);
            break;
        default:
            CHECK(msg.type == TN_RPC_NOTIFY);
            CHECK_EQ_STR(msg.method, "event");
            CHECK(tn_val_equal(msg.options, &res));
            break;
        }
        off += f.pos;
        seen++;
    }
    CHECK_EQ_INT(seen, 6);
    CHECK_EQ_INT(off, len);
    tn_val_free(&v);
    tn_val_free(&opts);
    tn_val_free(&res);
    tn_error_clear(&err);
    tn_error_clear(&perr);
    free(buf);
}

int main(void) {
    RUN(test_round_trip_values);
    RUN(test_encode_appends);
    RUN(test_decode_widths);
    RUN(test_decode_strings_and_keys);
    RUN(test_rpc_parse_ok);
    RUN(test_rpc_parse_errors);
    RUN(test_rpc_encoders);
    return TEST_DONE();
}
