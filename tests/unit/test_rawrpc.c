/*
 * test_rawrpc.c -- service/wire/rawrpc.c: the fast lane's raw bytes are
 * the bytes codec.c's encoder writes for the same values, and the request
 * peek accepts only what the full decoder reads the same way.
 */
#include "test.h"

#include <stdint.h>

#include "codec.h"
#include "frame.h"
#include "rawrpc.h"

static int same_bytes(const uint8_t *a, size_t na, const char *b, size_t nb) {
    return na == nb && memcmp(a, b, na) == 0;
}

static void test_scalars_match_codec(void) {
    static const uint64_t ints[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295u,
                                     4294967296u, (uint64_t) 1 << 40, INT64_MAX };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        uint8_t raw[16];
        char *enc = NULL;
        size_t len = 0, cap = 0;
        tn_val_t v = tn_val_int((int64_t) ints[i]);
        CHECK_EQ_INT(tn_codec_encode(&v, &enc, &len, &cap), 0);
        CHECK(same_bytes(raw, tn_raw_uint(raw, ints[i]), enc, len));
        free(enc);
    }
    static const uint32_t lens[] = { 0, 1, 31, 32, 255, 256, 65535, 65536 };
    char *body = calloc(65537, 1);
    CHECK(body != NULL);
    memset(body, 'x', 65536);
    for (size_t i = 0; body && i < sizeof lens / sizeof lens[0]; i++) {
        uint8_t raw[16];
        char *enc = NULL;
        size_t len = 0, cap = 0;
        tn_val_t v = TN_VAL_NIL;
        body[lens[i]] = '\0';
        CHECK_EQ_INT(tn_val_set_str(&v, body), 0);
        CHECK_EQ_INT(tn_codec_encode(&v, &enc, &len, &cap), 0);
        size_t h = tn_raw_str_head(raw, lens[i]);
        CHECK_EQ_INT(len, h + lens[i]);
        CHECK(len >= h && memcmp(raw, enc, h) == 0);
        body[lens[i]] = 'x';
        tn_val_free(&v);
        free(enc);
    }
    free(body);
    static const uint32_t sizes[] = { 0, 1, 15, 16, 300 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t raw[16];
        char *enc = NULL, key[16];
        size_t len = 0, cap = 0;
        tn_val_t m = TN_VAL_NIL;
        CHECK_EQ_INT(tn_val_set_map(&m, sizes[i]), 0);
        for (uint32_t k = 0; k < sizes[i]; k++) {
            snprintf(key, sizeof key, "k%u", k);
            CHECK_EQ_INT(tn_map_add_int(&m, key, 0), 0);
        }
        CHECK_EQ_INT(tn_codec_encode(&m, &enc, &len, &cap), 0);
        size_t h = tn_raw_map_head(raw, sizes[i]);
        CHECK(len >= h && memcmp(raw, enc, h) == 0);
        tn_val_free(&m);
        free(enc);
    }
}

static void test_result_head_matches_codec(void) {
    static const uint32_t ids[] = { 0, 5, 127, 128, 300, 70000, UINT32_MAX };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        uint8_t raw[TN_RAW_RESULT_HEAD + 8];
        char *enc = NULL;
        size_t len = 0, cap = 0;
        tn_val_t pong = TN_VAL_NIL;
        CHECK_EQ_INT(tn_val_set_str(&pong, "pong"), 0);
        CHECK_EQ_INT(tn_rpc_encode_result(ids[i], &pong, &enc, &len, &cap), 0);
        size_t h = tn_raw_result_head(raw, ids[i]);
        CHECK(h <= TN_RAW_RESULT_HEAD);
        memcpy(raw + h, "\xa4pong", 5);
        CHECK(same_bytes(raw, h + 5, enc, len));
        tn_val_free(&pong);
        free(enc);
    }
}

/* Whatever the peek accepts, the frame scanner finds to be one message of
 * the same length and the full decoder reads as the same request without
 * options. */
static void check_agrees(const uint8_t *buf, size_t len) {
    uint32_t id = 0;
    const char *m = NULL;
    size_t ml = 0;
    if (tn_raw_peek_request(buf, len, &id, &m, &ml) != len)
        return;
    tn_val_t v = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_rpc_msg_t msg;
    tn_frame_limits_t lim;
    tn_frame_t f;
    int ok = 0;
    tn_frame_limits_default(&lim);
    tn_frame_reset(&f);
    CHECK_EQ_INT(tn_frame_scan(&f, buf, len, &lim), TN_FRAME_DONE);
    CHECK_EQ_INT(f.pos, len);
    CHECK_EQ_INT(tn_codec_decode(buf, len, &v, &err), TN_OK);
    CHECK_EQ_INT(tn_rpc_parse(&v, &msg, &ok, &err), TN_OK);
    CHECK(msg.type == TN_RPC_REQUEST && msg.msgid == id && msg.options == NULL);
    CHECK(msg.method != NULL && strlen(msg.method) == ml && memcmp(msg.method, m, ml) == 0);
    tn_val_free(&v);
    tn_error_clear(&err);
}

static void test_peek_request(void) {
    static const uint32_t ids[] = { 0, 7, 127, 128, 255, 256, 65535, 65536, UINT32_MAX };
    const char *long_name = "a.method.name.longer.than.thirty.one.bytes";
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        for (int which = 0; which < 2; which++) {
            const char *name = which ? long_name : "server.ping";
            char *buf = NULL;
            size_t len = 0, cap = 0;
            uint32_t id = 0;
            const char *m = NULL;
            size_t ml = 0;
            CHECK_EQ_INT(tn_rpc_encode_request(ids[i], name, NULL, &buf, &len, &cap), 0);
            CHECK_EQ_INT(tn_raw_peek_request((const uint8_t *) buf, len, &id, &m, &ml), len);
            CHECK_EQ_INT(id, ids[i]);
            CHECK(ml == strlen(name) && memcmp(m, name, ml) == 0);
            check_agrees((const uint8_t *) buf, len);
            /* Cut short: not there yet; followed by more bytes: the
             * request's own length. */
            for (size_t cut = 0; cut < len; cut++)
                CHECK_EQ_INT(tn_raw_peek_request((const uint8_t *) buf, cut, &id, &m, &ml), 0);
            uint8_t *more = malloc(len + 1);
            CHECK(more != NULL);
            if (more != NULL) {
                memcpy(more, buf, len);
                more[len] = 0xc0;
                CHECK_EQ_INT(tn_raw_peek_request(more, len + 1, &id, &m, &ml), len);
            }
            free(more);
            free(buf);
        }
    /* Shapes left to the full decoder. */
    static const struct { const char *bytes; size_t n; } other[] = {
        { "\x94\x00\x01\xa4ping\x91\x80", 10 },          /* params [{}] */
        { "\x94\x00\x01\xa4pi\0g\x90", 9 },               /* NUL in the method */
        { "\x94\x02\x01\xa4ping\x90", 9 },                /* not a request */
        { "\x94\x00\xd0\x01\xa4ping\x90", 10 },           /* msgid as int8 */
        { "\x94\x00\xcf\0\0\0\0\0\0\0\x01\xa4ping\x90", 17 }, /* msgid as uint64 */
        { "\x94\x00\x01\xc4\x04ping\x90", 10 },           /* method as bin */
        { "\x93\x00\x01\xa4ping", 8 },                    /* three elements */
        { "\x94\x00\x01\xa4ping\xc0", 9 },                /* params nil */
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        uint32_t id;
        const char *m;
        size_t ml;
        CHECK_EQ_INT(tn_raw_peek_request((const uint8_t *) other[i].bytes, other[i].n, &id, &m, &ml), 0);
    }
}

int main(void) {
    RUN(test_scalars_match_codec);
    RUN(test_result_head_matches_codec);
    RUN(test_peek_request);
    return TEST_DONE();
}
