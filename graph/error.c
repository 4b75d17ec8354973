/*
 * error.c -- wire names of the result codes, and the error object.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[TN_CODE_COUNT] = {
    [TN_OK] = "ok",
    [TN_ERR_PARSE] = "parse_error",
    [TN_ERR_INVALID_REQUEST] = "invalid_request",
    [TN_ERR_METHOD_NOT_FOUND] = "method_not_found",
    [TN_ERR_INVALID_PARAMS] = "invalid_params",
    [TN_ERR_NOT_FOUND] = "not_found",
    [TN_ERR_CONFLICT] = "conflict",
    [TN_ERR_UNAUTHORIZED] = "unauthorized",
    [TN_ERR_FORBIDDEN] = "forbidden",
    [TN_ERR_TOO_LARGE] = "too_large",
    [TN_ERR_TIMEOUT] = "timeout",
    [TN_ERR_CANCELLED] = "cancelled",
    [TN_ERR_BUSY] = "busy",
    [TN_ERR_UNAVAILABLE] = "unavailable",
    [TN_ERR_INTERNAL] = "internal",
};

const char *tn_code_name(tn_code_t code) {
    if ((int) code < 0 || code >= TN_CODE_COUNT)
        return "internal";
    return names[code];
}

/* The length of the UTF-8 character at s[0..left), 0 if it is not one
 * (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_char(const unsigned char *s, size_t left) {
    unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
    else return 0;
    if (n >= left)
        return 0;
    for (size_t k = 1; k <= n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))
        || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n + 1;
}

const char *tn_utf8_clip(char *out, size_t outsz, const char *str) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *) str;
    size_t len = strlen(str), i = 0, o = 0;
    if (outsz == 0)
        return out;
    while (i < len) {
        size_t n = utf8_char(s + i, len - i);
        if (n > 0) {
            if (o + n > outsz - 1)
                break;
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        } else {
            if (o + 4 > outsz - 1)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[s[i] >> 4];
            out[o++] = hex[s[i] & 15];
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

/* A message that came out of vsnprintf: the buffer may have cut it inside
 * a character, and a site may have echoed raw input; make it valid. */
static void utf8_repair(char *msg, size_t size) {
    char tmp[1024];
    size_t len = strlen(msg), i = 0;
    while (i < len) {
        size_t n = utf8_char((const unsigned char *) msg + i, len - i);
        if (n == 0)
            break;
        i += n;
    }
    if (i == len)
        return;
    if (len + 1 == size && len - i < 4) {
        /* Cut by the buffer in the middle of a character: drop its start. */
        size_t k = i;
        while (k < len && (k == i || ((unsigned char) msg[k] & 0xc0) == 0x80))
            k++;
        if (k == len) {
            msg[i] = '\0';
            return;
        }
    }
    snprintf(tmp, sizeof tmp, "%s", msg);
    tn_utf8_clip(msg, size, tmp);
}

tn_code_t tn_error_set(tn_error_t *err, tn_code_t code, const char *fmt, ...) {
    if (err == NULL)
        return code;
    if (err->code == TN_OK || err->message[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        utf8_repair(err->message, sizeof err->message);
    }
    if (err->code == TN_OK)
        err->code = code;
    return code;
}

void tn_error_detail(tn_error_t *err, int64_t index, const char *field, const char *fmt, ...) {
    if (err == NULL)
        return;
    err->ndetails++;
    if (err->ndetails > TN_ERROR_MAX_DETAILS)
        return;
    if (err->data.type != TN_V_ARR && tn_val_set_arr(&err->data, 8) != 0)
        return;
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    utf8_repair(reason, sizeof reason);
    char fbuf[128];
    tn_val_t d = TN_VAL_NIL;
    if (tn_val_set_map(&d, 3) != 0)
        return;
    int rc = tn_map_add_int(&d, "index", index);
    rc |= field ? tn_map_add_str(&d, "field", tn_utf8_clip(fbuf, sizeof fbuf, field))
                : tn_map_add_nil(&d, "field");
    rc |= tn_map_add_str(&d, "reason", reason);
    if (rc != 0) {
        tn_val_free(&d);
        return;
    }
    tn_arr_push_take(&err->data, &d);
}

void tn_error_clear(tn_error_t *err) {
    if (err == NULL)
        return;
    tn_val_free(&err->data);
    err->code = TN_OK;
    err->message[0] = '\0';
    err->ndetails = 0;
}
