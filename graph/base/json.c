/*
 * json.c -- tn_val_from_json (value.h): one JSON text (RFC 8259) into a
 * value tree. Used for JSON Lines imports and the dataset's meta.json.
 *
 * A recursive-descent parser over a borrowed buffer of known length (it
 * never reads past 'len' and needs no NUL terminator). It must never accept
 * what RFC 8259 rejects -- trailing commas, comments, single quotes, lone
 * surrogates, raw control characters or invalid UTF-8 in strings, text
 * after the value -- because an importer that guesses would load data the
 * analyst did not write. Limits (RFC 8259 section 9 allows them): nesting
 * depth 64, no U+0000 in strings (values become C strings downstream), and
 * no duplicate keys in an object (section 4 leaves their meaning open).
 * Errors name the line and column (columns count characters, 1-based).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "utf8.h"
#include "value.h"

#define JSON_MAX_DEPTH 64

typedef struct parser {
    const char *s;
    size_t len, pos;
    char *buf;              /* scratch for the string being decoded */
    size_t blen, bcap;
    char *err;
    size_t errlen;
    int failed;
} parser_t;

/* Report the first error at byte offset 'at' as "line L col C: reason". */
static int fail(parser_t *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(parser_t *p, size_t at, const char *fmt, ...) {
    if (p->failed)
        return -1;
    p->failed = 1;
    if (p->err == NULL || p->errlen == 0)
        return -1;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        unsigned char c = (unsigned char) p->s[i];
        if (c == '\n') {
            line++;
            col = 1;
        } else if ((c & 0xc0) != 0x80) {     /* count characters, not bytes */
            col++;
        }
    }
    char reason[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "line %zu col %zu: %s", line, col, reason);
    return -1;
}

static int oom(parser_t *p) {
    return fail(p, p->pos, "out of memory");
}

static void skip_ws(parser_t *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

/* "unexpected end of input" or "unexpected 'x'", for the byte at pos. */
static int unexpected(parser_t *p, const char *expected) {
    if (p->pos >= p->len)
        return fail(p, p->pos, "unexpected end of input, expected %s", expected);
    unsigned char c = (unsigned char) p->s[p->pos];
    if (c >= 0x20 && c < 0x7f)
        return fail(p, p->pos, "unexpected '%c', expected %s", c, expected);
    return fail(p, p->pos, "unexpected byte 0x%02x, expected %s", c, expected);
}

static int buf_put(parser_t *p, const char *bytes, size_t n) {
    if (tn_grow((void **) &p->buf, &p->bcap, p->blen + n + 1, 64, 1) != 0)
        return oom(p);
    memcpy(p->buf + p->blen, bytes, n);
    p->blen += n;
    p->buf[p->blen] = '\0';
    return 0;
}

static int hex4(parser_t *p, size_t at, unsigned *out) {
    unsigned v = 0;
    if (at + 4 > p->len)
        return fail(p, at, "truncated \\u escape");
    for (size_t i = 0; i < 4; i++) {
        char c = p->s[at + i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned) (c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned) (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned) (c - 'A' + 10);
        else return fail(p, at + i, "\\u must be followed by four hex digits");
    }
    *out = v;
    return 0;
}

static int put_utf8(parser_t *p, unsigned cp) {
    char b[4];
    size_t n;
    if (cp < 0x80) { b[0] = (char) cp; n = 1; }
    else if (cp < 0x800) {
        b[0] = (char) (0xc0 | (cp >> 6)); b[1] = (char) (0x80 | (cp & 0x3f)); n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char) (0xe0 | (cp >> 12)); b[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char) (0x80 | (cp & 0x3f)); n = 3;
    } else {
        b[0] = (char) (0xf0 | (cp >> 18)); b[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char) (0x80 | ((cp >> 6) & 0x3f)); b[3] = (char) (0x80 | (cp & 0x3f)); n = 4;
    }
    return buf_put(p, b, n);
}

/* Decode the string at pos (which holds '"') into p->buf / p->blen. */
static int parse_string(parser_t *p) {
    size_t open = p->pos;
    p->pos++;
    p->blen = 0;
    if (buf_put(p, "", 0) != 0)
        return -1;
    for (;;) {
        if (p->pos >= p->len)
            return fail(p, open, "unterminated string");
        unsigned char c = (unsigned char) p->s[p->pos];
        if (c == '"') {
            p->pos++;
            return 0;
        }
        if (c < 0x20)
            return fail(p, p->pos, "control character 0x%02x in a string (escape it)", c);
        if (c == '\\') {
            size_t at = p->pos;
            if (at + 1 >= p->len)
                return fail(p, open, "unterminated string");
            char e = p->s[at + 1];
            const char *lit = NULL;
            switch (e) {
            case '"': lit = "\""; break;
            case '\\': lit = "\\"; break;
            case '/': lit = "/"; break;
            case 'b': lit = "\b"; break;
            case 'f': lit = "\f"; break;
            case 'n': lit = "\n"; break;
            case 'r': lit = "\r"; break;
            case 't': lit = "\t"; break;
            case 'u': break;
            default:
                return fail(p, at, "invalid escape '\\%c'", (e >= 0x20 && e < 0x7f) ? e : '?');
            }
            if (lit != NULL) {
                if (buf_put(p, lit, 1) != 0)
                    return -1;
                p->pos += 2;
                continue;
            }
            unsigned cp, lo;
            if (hex4(p, at + 2, &cp) != 0)
                return -1;
            p->pos = at + 6;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return fail(p, at, "lone low surrogate \\u%04X", cp);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                /* UTF-16 pair: a high surrogate must be followed by a low one. */
                if (p->pos + 1 >= p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
                    return fail(p, at, "high surrogate \\u%04X without a low surrogate", cp);
                if (hex4(p, p->pos + 2, &lo) != 0)
                    return -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return fail(p, at, "high surrogate \\u%04X without a low surrogate", cp);
                p->pos += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (cp == 0)
                return fail(p, at, "\\u0000 is not supported in strings");
            if (put_utf8(p, cp) != 0)
                return -1;
            continue;
        }
        if (c < 0x80) {
            size_t start = p->pos;           /* a run of plain ASCII at once */
            while (p->pos < p->len) {
                unsigned char d = (unsigned char) p->s[p->pos];
                if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\')
                    break;
                p->pos++;
            }
            if (buf_put(p, p->s + start, p->pos - start) != 0)
                return -1;
            continue;
        }
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (p->pos + n > p->len || !tn_utf8_valid(p->s + p->pos, n, 0))
            return fail(p, p->pos, "invalid UTF-8 in a string");
        if (buf_put(p, p->s + p->pos, n) != 0)
            return -1;
        p->pos += n;
    }
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* At *i, one digit or more (the fraction or the exponent of a number);
 * *i moves past them. -1, naming 'what' was expected, when there is none. */
static int digits(parser_t *p, size_t *i, const char *what) {
    if (*i >= p->len || !is_digit(p->s[*i])) {
        p->pos = *i;
        return unexpected(p, what);
    }
    while (*i < p->len && is_digit(p->s[*i]))
        (*i)++;
    return 0;
}

static int parse_number(parser_t *p, tn_val_t *out) {
    size_t start = p->pos, i = p->pos;
    int integral = 1;
    if (i < p->len && p->s[i] == '-')
        i++;
    if (i >= p->len || !is_digit(p->s[i])) {
        p->pos = i;
        return unexpected(p, "a digit");
    }
    if (p->s[i] == '0') {
        i++;
        if (i < p->len && is_digit(p->s[i]))
            return fail(p, i, "leading zeros are not allowed in numbers");
    } else {
        while (i < p->len && is_digit(p->s[i]))
            i++;
    }
    if (i < p->len && p->s[i] == '.') {
        integral = 0;
        i++;
        if (digits(p, &i, "a digit after '.'") != 0)
            return -1;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        integral = 0;
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (digits(p, &i, "a digit in the exponent") != 0)
            return -1;
    }
    /* strtoll/strtod need a terminated copy: the buffer may not have one. */
    p->blen = 0;
    if (buf_put(p, p->s + start, i - start) != 0)
        return -1;
    if (integral) {
        errno = 0;
        long long v = strtoll(p->buf, NULL, 10);
        if (errno == 0) {
            *out = tn_val_int((int64_t) v);
            p->pos = i;
            return 0;
        }                                    /* too big for int64: a float */
    }
    double d = strtod(p->buf, NULL);         /* the C locale: the service sets none */
    if (!isfinite(d))
        return fail(p, start, "number out of range");
    *out = tn_val_float(d);
    p->pos = i;
    return 0;
}

static int parse_literal(parser_t *p, const char *word, tn_val_t v, tn_val_t *out) {
    size_t n = strlen(word);
    if (p->pos + n > p->len || memcmp(p->s + p->pos, word, n) != 0)
        return unexpected(p, "a value");
    p->pos += n;
    *out = v;
    return 0;
}

static int key_cmp(const void *x, const void *y) {
    const tn_kv_t *a = *(const tn_kv_t *const *) x, *b = *(const tn_kv_t *const *) y;
    return strcmp(a->key, b->key);
}

/* RFC 8259 section 4 leaves duplicate names undefined; refuse them. Sorting
 * keeps this O(n log n) for objects with many keys. */
static int check_duplicates(parser_t *p, const tn_val_t *map, size_t open) {
    size_t n = map->u.m.n;
    if (n < 2)
        return 0;
    const tn_kv_t **keys = malloc(n * sizeof *keys);
    if (keys == NULL)
        return oom(p);
    for (size_t i = 0; i < n; i++)
        keys[i] = &map->u.m.kv[i];
    qsort(keys, n, sizeof *keys, key_cmp);
    int rc = 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i - 1]->key, keys[i]->key) == 0) {
            rc = fail(p, open, "duplicate key \"%s\" in object", TN_CLIP(keys[i]->key, 60));
            break;
        }
    free(keys);
    return rc;
}

static int parse_value(parser_t *p, tn_val_t *out, int depth);

/* At the '[' or '{' of a list: make *out an empty array or map (by
 * 'close'), step over the bracket and the white space after. 1 when an item
 * follows, 0 when 'close' does at once (the empty list, stepped over too),
 * -1 on out-of-memory. */
static int list_open(parser_t *p, tn_val_t *out, char close) {
    if ((close == ']' ? tn_val_set_arr(out, 4) : tn_val_set_map(out, 4)) != 0)
        return oom(p);
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    return 1;
}

/* After an item of a list ('what': "array" or "object"): 1 when a ','
 * announces another item, 0 when 'close' ends the list (either stepped
 * over), -1 after a trailing comma or anything else. */
static int list_next(parser_t *p, char close, const char *what) {
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ',') {
        p->pos++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == close)
            return fail(p, p->pos, "trailing comma in %s", what);
        return 1;
    }
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    return unexpected(p, close == ']' ? "',' or ']'" : "',' or '}'");
}

static int parse_array(parser_t *p, tn_val_t *out, int depth) {
    int more = list_open(p, out, ']');
    while (more == 1) {
        tn_val_t *slot = tn_arr_push(out);
        if (slot == NULL)
            return oom(p);
        if (parse_value(p, slot, depth) != 0)
            return -1;
        more = list_next(p, ']', "array");
    }
    return more;
}

static int parse_object(parser_t *p, tn_val_t *out, int depth) {
    size_t open = p->pos;
    int more = list_open(p, out, '}');
    while (more == 1) {
        if (p->pos >= p->len || p->s[p->pos] != '"')
            return unexpected(p, "a string key");
        if (parse_string(p) != 0)
            return -1;
        tn_val_t *slot = tn_map_add(out, p->buf);
        if (slot == NULL)
            return oom(p);
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':')
            return unexpected(p, "':' after an object key");
        p->pos++;
        if (parse_value(p, slot, depth) != 0)
            return -1;
        more = list_next(p, '}', "object");
    }
    return more == 0 ? check_duplicates(p, out, open) : more;
}

/* Parse one value at pos (after whitespace) into *out (nil). 'depth' is the
 * number of arrays and objects already open around it. */
static int parse_value(parser_t *p, tn_val_t *out, int depth) {
    skip_ws(p);
    if (p->pos >= p->len)
        return unexpected(p, "a value");
    switch (p->s[p->pos]) {
    case '{':
    case '[':
        if (depth >= JSON_MAX_DEPTH)
            return fail(p, p->pos, "nesting deeper than %d levels", JSON_MAX_DEPTH);
        return p->s[p->pos] == '{' ? parse_object(p, out, depth + 1)
                                   : parse_array(p, out, depth + 1);
    case '"':
        if (parse_string(p) != 0)
            return -1;
        return tn_val_set_strn(out, p->buf, p->blen) == 0 ? 0 : oom(p);
    case 't':
        return parse_literal(p, "true", tn_val_bool(1), out);
    case 'f':
        return parse_literal(p, "false", tn_val_bool(0), out);
    case 'n':
        return parse_literal(p, "null", TN_VAL_NIL, out);
    default:
        if (p->s[p->pos] != '-' && !is_digit(p->s[p->pos]))
            return unexpected(p, "a value");
        return parse_number(p, out);
    }
}

int tn_val_from_json(const char *s, size_t len, tn_val_t *out, char *err, size_t errlen) {
    parser_t p = { .s = s, .len = len, .err = err, .errlen = errlen };
    tn_val_t v = TN_VAL_NIL;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    /* RFC 8259 section 8.1: a parser MAY ignore a byte order mark. */
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        p.pos = 3;
    int rc = parse_value(&p, &v, 0);
    if (rc == 0) {
        skip_ws(&p);
        if (p.pos < p.len)
            rc = fail(&p, p.pos, "unexpected text after the JSON value");
    }
    free(p.buf);
    if (rc != 0) {
        tn_val_free(&v);
        *out = TN_VAL_NIL;
        return -1;
    }
    *out = v;
    return 0;
}
