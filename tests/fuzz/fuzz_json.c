/*
 * fuzz_json.c -- the JSON parser (tn_val_from_json) on arbitrary bytes.
 *
 * Input: the whole input is the JSON text.
 *
 * Invariants checked:
 *  - the parser either returns a value, or -1 with a reason and a nil
 *    value (never both, never a crash, never a leak);
 *  - a parsed value printed as JSON parses again, and printing that gives
 *    the same text (a fixpoint after one round);
 *  - the value survives MessagePack encoding and decoding unchanged
 *    (compared as JSON text), as a request's options would.
 */
#include "codec.h"
#include "fuzz.h"

/* Nesting depth of a value (a scalar is 0). */
static int depth_of(const tn_val_t *v) {
    int d = 0;
    if (v->type == TN_V_ARR)
        for (size_t i = 0; i < v->u.a.n; i++) {
            int k = depth_of(&v->u.a.items[i]);
            d = k > d ? k : d;
        }
    else if (v->type == TN_V_MAP)
        for (size_t i = 0; i < v->u.m.n; i++) {
            int k = depth_of(&v->u.m.kv[i].val);
            d = k > d ? k : d;
        }
    else
        return 0;
    return d + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tn_val_t v = TN_VAL_NIL;
    char why[160];
    why[0] = '\0';
    if (tn_val_from_json((const char *) data, size, &v, why, sizeof why) != 0) {
        FZ_CHECK(v.type == TN_V_NIL);
        FZ_CHECK(why[0] != '\0');
        return 0;
    }
    char *a = fz_to_json(&v);
    tn_val_t back = TN_VAL_NIL;
    FZ_CHECK(tn_val_from_json(a, strlen(a), &back, why, sizeof why) == 0);
    char *b = fz_to_json(&back);
    FZ_CHECK(strcmp(a, b) == 0);
    free(b);
    tn_val_free(&back);

    /* msgpack-c decodes at most 32 levels (JSON allows 64 here); the wire
     * never lets deeper messages through the scanner. */
    if (depth_of(&v) <= 32) {
        char *buf = NULL;
        size_t len = 0, cap = 0;
        tn_error_t err = TN_ERROR_INIT;
        FZ_CHECK(tn_codec_encode(&v, &buf, &len, &cap) == 0);
        FZ_CHECK(tn_codec_decode((const uint8_t *) buf, len, &back, &err) == TN_OK);
        b = fz_to_json(&back);
        FZ_CHECK(strcmp(a, b) == 0);
        free(b);
        free(buf);
        tn_val_free(&back);
    }
    free(a);
    tn_val_free(&v);
    return 0;
}
