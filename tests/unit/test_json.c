/*
 * test_json.c -- graph/base/json.c (tn_val_from_json): every value kind, string
 * escapes including surrogate pairs, the limits, and the error messages
 * with their line and column.
 */
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "value.h"

static char errbuf[256];

/* Parse a literal; returns 0 or -1 and leaves the message in errbuf. */
static int parse(const char *s, tn_val_t *out) {
    *out = TN_VAL_NIL;
    return tn_val_from_json(s, strlen(s), out, errbuf, sizeof errbuf);
}

/* Parse, then print back with tn_val_to_json, for round-trip checks. */
static char *reprint(const char *s) {
    static char out[512];
    tn_val_t v;
    if (parse(s, &v) != 0) {
        snprintf(out, sizeof out, "ERROR %s", errbuf);
        return out;
    }
    char *j = tn_val_to_json(&v);
    snprintf(out, sizeof out, "%s", j ? j : "(oom)");
    free(j);
    tn_val_free(&v);
    return out;
}

/* Does parsing 's' fail with a message containing 'want'? */
static int fails_with(const char *s, const char *want) {
    tn_val_t v;
    if (parse(s, &v) == 0) {
        tn_val_free(&v);
        fprintf(stderr, "  accepted: %.60s\n", s);
        return 0;
    }
    if (v.type != TN_V_NIL)
        return 0;
    if (strstr(errbuf, want) == NULL) {
        fprintf(stderr, "  for %.60s: got \"%s\", wanted \"%s\"\n", s, errbuf, want);
        return 0;
    }
    return 1;
}

static void test_scalars(void) {
    tn_val_t v;
    CHECK_EQ_INT(parse("null", &v), 0);
    CHECK_EQ_INT(v.type, TN_V_NIL);
    CHECK_EQ_INT(parse(" true ", &v), 0);
    CHECK(v.type == TN_V_BOOL && v.u.b == 1);
    CHECK_EQ_INT(parse("false", &v), 0);
    CHECK(v.type == TN_V_BOOL && v.u.b == 0);
    CHECK_EQ_INT(parse("-42", &v), 0);
    CHECK(v.type == TN_V_INT && v.u.i == -42);
    CHECK_EQ_INT(parse("9223372036854775807", &v), 0);
    CHECK(v.type == TN_V_INT && v.u.i == INT64_MAX);
    CHECK_EQ_INT(parse("-9223372036854775808", &v), 0);
    CHECK(v.type == TN_V_INT && v.u.i == INT64_MIN);
    CHECK_EQ_INT(parse("9223372036854775808", &v), 0);    /* past int64: a float */
    CHECK_EQ_INT(v.type, TN_V_FLOAT);
    CHECK_NEAR(v.u.f, 9223372036854775808.0, 1);
    CHECK_EQ_INT(parse("1.5e3", &v), 0);
    CHECK(v.type == TN_V_FLOAT && v.u.f == 1500.0);
    CHECK_EQ_INT(parse("0.25", &v), 0);
    CHECK(v.type == TN_V_FLOAT && v.u.f == 0.25);
    CHECK_EQ_INT(parse("2E-2", &v), 0);
    CHECK_NEAR(v.u.f, 0.02, 1e-15);
    CHECK_EQ_INT(parse("0", &v), 0);
    CHECK(v.type == TN_V_INT && v.u.i == 0);
    CHECK_EQ_INT(parse("\"hi\"", &v), 0);
    CHECK(v.type == TN_V_STR && v.u.s.len == 2);
    CHECK_EQ_STR(tn_val_str(&v), "hi");
    tn_val_free(&v);
}

static void test_containers(void) {
    CHECK_EQ_STR(reprint("[]"), "[]");
    CHECK_EQ_STR(reprint("{}"), "{}");
    CHECK_EQ_STR(reprint(" [ 1 , [ 2 , { } ] , \"x\" ] "), "[1,[2,{}],\"x\"]");
    CHECK_EQ_STR(reprint("{\"b\": 1, \"a\": [true, null]}"), "{\"b\":1,\"a\":[true,null]}");

    tn_val_t v;
    CHECK_EQ_INT(parse("{\"dataset\": \"hunan-builtin\", \"reference\": {\"pairs\": 101}}", &v), 0);
    CHECK_EQ_STR(tn_val_str(tn_map_get(&v, "dataset")), "hunan-builtin");
    int64_t n = 0;
    CHECK(tn_val_as_int(tn_map_get(tn_map_get(&v, "reference"), "pairs"), &n) && n == 101);
    tn_val_free(&v);

    /* Whitespace of every allowed kind, a BOM, and CRLF. */
    CHECK_EQ_INT(parse("\xEF\xBB\xBF\r\n\t{ \"a\" :\r\n 1 }\n", &v), 0);
    tn_val_free(&v);
}

static void test_strings(void) {
    tn_val_t v;
    CHECK_EQ_INT(parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", &v), 0);
    CHECK_EQ_STR(tn_val_str(&v), "a\"b\\c/d\b\f\n\r\t");
    tn_val_free(&v);

    CHECK_EQ_INT(parse("\"\\u00e9\\u6E56\\u5357\"", &v), 0);      /* é 湖南 */
    CHECK_EQ_STR(tn_val_str(&v), "\xC3\xA9\xE6\xB9\x96\xE5\x8D\x97");
    tn_val_free(&v);

    CHECK_EQ_INT(parse("\"\\uD83D\\uDE00\"", &v), 0);              /* U+1F600 */
    CHECK_EQ_STR(tn_val_str(&v), "\xF0\x9F\x98\x80");
    CHECK_EQ_INT(v.u.s.len, 4);
    tn_val_free(&v);

    CHECK_EQ_INT(parse("\"\xE6\xB9\x96\xE5\x8D\x97 \xF0\x9F\x98\x80\"", &v), 0);  /* raw UTF-8 */
    CHECK_EQ_STR(tn_val_str(&v), "\xE6\xB9\x96\xE5\x8D\x97 \xF0\x9F\x98\x80");
    tn_val_free(&v);

    CHECK_EQ_INT(parse("{\"\\u6E56\": 1}", &v), 0);                /* escaped key */
    CHECK(tn_map_get(&v, "\xE6\xB9\x96") != NULL);
    tn_val_free(&v);
}

static void test_errors(void) {
    CHECK(fails_with("", "line 1 col 1: unexpected end of input"));
    CHECK(fails_with("   ", "unexpected end of input"));
    CHECK(fails_with("{\"a\" 1}", "line 1 col 6: unexpected '1', expected ':'"));
    CHECK(fails_with("[1,]", "trailing comma"));
    CHECK(fails_with("{\"a\":1,}", "trailing comma"));
    CHECK(fails_with("[1 2]", "expected ',' or ']'"));
    CHECK(fails_with("{\"a\":1 \"b\":2}", "expected ',' or '}'"));
    CHECK(fails_with("{a:1}", "expected a string key"));
    CHECK(fails_with("'x'", "expected a value"));
    CHECK(fails_with("tru", "expected a value"));
    CHECK(fails_with("nul", "expected a value"));
    CHECK(fails_with("1 2", "line 1 col 3: unexpected text after the JSON value"));
    CHECK(fails_with("{} x", "unexpected text after"));
    CHECK(fails_with("[1]\n// c", "line 2 col 1: unexpected text"));
    CHECK(fails_with("01", "leading zeros"));
    CHECK(fails_with("-", "expected a digit"));
    CHECK(fails_with("1.", "expected a digit after '.'"));
    CHECK(fails_with(".5", "expected a value"));
    CHECK(fails_with("1e", "expected a digit in the exponent"));
    CHECK(fails_with("+1", "expected a value"));
    CHECK(fails_with("1e999", "number out of range"));
    CHECK(fails_with("NaN", "expected a value"));
    CHECK(fails_with("\"abc", "unterminated string"));
    CHECK(fails_with("\"a\nb\"", "control character 0x0a"));
    CHECK(fails_with("\"\\x\"", "invalid escape '\\x'"));
    CHECK(fails_with("\"\\u12zz\"", "four hex digits"));
    CHECK(fails_with("\"\\u12", "truncated \\u escape"));
    CHECK(fails_with("\"\\uDE00\"", "lone low surrogate"));
    CHECK(fails_with("\"\\uD83D\"", "without a low surrogate"));
    CHECK(fails_with("\"\\uD83Dx\"", "without a low surrogate"));
    CHECK(fails_with("\"\\uD83D\\u0041\"", "without a low surrogate"));
    CHECK(fails_with("\"\\u0000\"", "\\u0000 is not supported"));
    CHECK(fails_with("\"\xC3\x28\"", "invalid UTF-8"));
    CHECK(fails_with("\"\xED\xA0\x80\"", "invalid UTF-8"));         /* encoded surrogate */
    CHECK(fails_with("\"\xE6\xB9\"", "invalid UTF-8"));             /* truncated sequence */
    CHECK(fails_with("\"\x80\"", "invalid UTF-8"));
    CHECK(fails_with("{\"a\":1,\"b\":2,\"a\":3}", "duplicate key \"a\""));
    /* Columns count characters, not bytes: '[', '"', two CJK characters,
     * '"', ' ' and then the 'x' in column 7 (byte 10). */
    CHECK(fails_with("[\"\xE6\xB9\x96\xE5\x8D\x97\" x]", "line 1 col 7:"));
    CHECK(fails_with("{\n  \"a\": [1,\n  2,,\n]}", "line 3 col 5: unexpected ','"));

    /* A length shorter than the string: only 'len' bytes are read. */
    tn_val_t v;
    CHECK_EQ_INT(tn_val_from_json("[1]garbage", 3, &v, errbuf, sizeof errbuf), 0);
    tn_val_free(&v);
    CHECK_EQ_INT(tn_val_from_json("\"ab\"", 3, &v, errbuf, sizeof errbuf), -1);
    /* A NULL or tiny error buffer is fine. */
    CHECK_EQ_INT(tn_val_from_json("[", 1, &v, NULL, 0), -1);
    char tiny[4];
    CHECK_EQ_INT(tn_val_from_json("[", 1, &v, tiny, sizeof tiny), -1);
    CHECK_EQ_INT((int) strlen(tiny), 3);
}

static void test_depth(void) {
    char deep[200];
    tn_val_t v;
    /* 64 levels are allowed, 65 are not. */
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    CHECK_EQ_INT(parse(deep, &v), 0);
    tn_val_free(&v);
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    CHECK(fails_with(deep, "nesting deeper than 64"));
    /* Objects count like arrays. */
    char mixed[200];
    size_t k = 0;
    for (int i = 0; i < 65; i++)
        k += (size_t) snprintf(mixed + k, sizeof mixed - k, "%s", i % 2 ? "[" : "{\"k\":");
    CHECK(k < sizeof mixed - 1);
    CHECK(fails_with(mixed, "nesting deeper than 64"));
    /* A very deep input stops at the limit instead of exhausting the stack. */
    char *huge = malloc(1000001);
    if (huge != NULL) {
        memset(huge, '[', 1000000);
        huge[1000000] = '\0';
        CHECK(fails_with(huge, "line 1 col 65: nesting deeper than 64"));
        free(huge);
    }
}

static void test_big_object(void) {
    /* Many keys: the duplicate check must stay fast and correct. */
    size_t n = 20000, cap = n * 24 + 16, k = 0;
    char *s = malloc(cap);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    s[k++] = '{';
    for (size_t i = 0; i < n; i++)
        k += (size_t) snprintf(s + k, cap - k, "%s\"k%zu\":%zu", i ? "," : "", i, i);
    s[k++] = '}';
    s[k] = '\0';
    tn_val_t v;
    CHECK_EQ_INT(parse(s, &v), 0);
    CHECK_EQ_INT(v.u.m.n, n);
    tn_val_free(&v);
    /* The same with one repeated key at the end. */
    k--;
    k += (size_t) snprintf(s + k, cap - k, ",\"k7\":0}");
    CHECK(fails_with(s, "duplicate key \"k7\""));
    free(s);
}

int main(void) {
    RUN(test_scalars);
    RUN(test_containers);
    RUN(test_strings);
    RUN(test_errors);
    RUN(test_depth);
    RUN(test_big_object);
    return TEST_DONE();
}
