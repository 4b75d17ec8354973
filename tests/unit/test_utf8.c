/*
 * test_utf8.c -- echoing outside text in messages: tn_utf8_clip cuts on
 * character boundaries and writes invalid bytes as \xNN; tn_error_set
 * always leaves a valid UTF-8 message.
 */
#include "error.h"
#include "test.h"
#include "utf8.h"

static void test_clip_cuts_on_character_boundaries(void) {
    char out[8];
    /* "aaaaaa" + é (2 bytes) does not fit in 7 bytes: é is left out whole. */
    CHECK_EQ_STR(tn_utf8_clip(out, sizeof out, "aaaaaa\xc3\xa9"), "aaaaaa");
    CHECK_EQ_STR(tn_utf8_clip(out, sizeof out, "aaaaa\xc3\xa9"), "aaaaa\xc3\xa9");
    /* A 4-byte character is kept or dropped whole. */
    CHECK_EQ_STR(tn_utf8_clip(out, sizeof out, "aaaa\xf0\x9f\x98\x80"), "aaaa");
    CHECK_EQ_STR(tn_utf8_clip(out, sizeof out, "aaa\xf0\x9f\x98\x80"), "aaa\xf0\x9f\x98\x80");
    CHECK_EQ_STR(tn_utf8_clip(out, 1, "abc"), "");
}

static void test_clip_escapes_invalid_bytes(void) {
    char out[64];
    CHECK_EQ_STR(tn_utf8_clip(out, sizeof out, "\xff\xfe"), "\\xff\\xfe");
    CHECK_EQ_STR(tn_utf8_clip(out, sizeof out, "KK\xc3"), "KK\\xc3");           /* cut character */
    CHECK_EQ_STR(tn_utf8_clip(out, sizeof out, "\xc0\xaf"), "\\xc0\\xaf");      /* overlong */
    CHECK_EQ_STR(tn_utf8_clip(out, sizeof out, "\xed\xa0\x80"), "\\xed\\xa0\\x80");   /* surrogate */
    /* An escape that does not fit is left out whole. */
    char small[6];
    CHECK_EQ_STR(tn_utf8_clip(small, sizeof small, "ab\xff"), "ab");
    CHECK(tn_utf8_valid(tn_utf8_clip(out, sizeof out, "x\x80y\xe4\xb8"), 11, 1));
}

static void test_error_messages_are_valid_utf8(void) {
    /* 300 two-byte characters overflow the 256-byte message: the cut
     * falls between characters. */
    char big[601];
    for (int i = 0; i < 300; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2);
    big[600] = '\0';
    for (int shift = 0; shift < 2; shift++) {
        tn_error_t err = TN_ERROR_INIT;
        tn_error_set(&err, TN_ERR_NOT_FOUND, "%s%s", shift ? "x" : "", big);
        CHECK(tn_utf8_valid(err.message, strlen(err.message), 1));
        CHECK(strlen(err.message) >= 250);
        tn_error_clear(&err);
    }
    /* Raw bytes printed with %s are escaped. */
    tn_error_t err = TN_ERROR_INIT;
    tn_error_set(&err, TN_ERR_NOT_FOUND, "no node %s", "\xff\xfe");
    CHECK_EQ_STR(err.message, "no node \\xff\\xfe");
    tn_error_clear(&err);
    /* TN_CLIP in a format argument. */
    tn_error_set(&err, TN_ERR_NOT_FOUND, "no method %s", TN_CLIP("aaaa\xc3\xa9", 5));
    CHECK_EQ_STR(err.message, "no method aaaa");
    tn_error_clear(&err);
}

int main(void) {
    RUN(test_clip_cuts_on_character_boundaries);
    RUN(test_clip_escapes_invalid_bytes);
    RUN(test_error_messages_are_valid_utf8);
    return TEST_DONE();
}
