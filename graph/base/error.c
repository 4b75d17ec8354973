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

/* A message that came out of vsnprintf: the buffer may have cut it inside
 * a character, and a site may have echoed raw input; make it valid. */
static void utf8_repair(char *msg, size_t size) {
    char tmp[1024];
    size_t len = strlen(msg), i = 0;
    while (i < len) {
        size_t n = tn_utf8_char(msg + i, len - i);
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
