/*
 * error.h -- result codes and the error object shared by graph/ and service/.
 *
 * Codes mirror docs/protocol.md, "Errors" one for one, so an error travels from
 * the deepest validation check to the wire without translation tables.
 * The message and the optional per-record details live in a tn_error_t the
 * caller owns (in the manner of hiredis's errstr), never in a global.
 */
#ifndef TN_ERROR_H
#define TN_ERROR_H

#include "utf8.h"   /* TN_CLIP, for echoing input in messages */
#include "value.h"

typedef enum tn_code {
    TN_OK = 0,
    TN_ERR_PARSE,             /* parse_error */
    TN_ERR_INVALID_REQUEST,   /* invalid_request */
    TN_ERR_METHOD_NOT_FOUND,  /* method_not_found */
    TN_ERR_INVALID_PARAMS,    /* invalid_params */
    TN_ERR_NOT_FOUND,         /* not_found */
    TN_ERR_CONFLICT,          /* conflict */
    TN_ERR_UNAUTHORIZED,      /* unauthorized */
    TN_ERR_FORBIDDEN,         /* forbidden */
    TN_ERR_TOO_LARGE,         /* too_large */
    TN_ERR_TIMEOUT,           /* timeout */
    TN_ERR_CANCELLED,         /* cancelled */
    TN_ERR_BUSY,              /* busy */
    TN_ERR_UNAVAILABLE,       /* unavailable */
    TN_ERR_INTERNAL,          /* internal */
    TN_CODE_COUNT
} tn_code_t;

/* At most this many per-record details are kept (docs/protocol.md, "Errors"). */
#define TN_ERROR_MAX_DETAILS 100

typedef struct tn_error {
    tn_code_t code;
    char message[256];
    tn_val_t data;        /* nil, or an array of {index, field, reason} maps */
    size_t ndetails;      /* details seen, including those not kept */
} tn_error_t;

#define TN_ERROR_INIT { TN_OK, { 0 }, { TN_V_NIL, { 0 } }, 0 }

/* The wire name of a code ("invalid_params"); "internal" for unknown. */
const char *tn_code_name(tn_code_t code);

/* Set code and message (printf-style) and return 'code', so that
 * `return tn_error_set(err, TN_ERR_NOT_FOUND, "no node %s", id);` reads well.
 * 'err' may be NULL. An error already set keeps its first message. */
tn_code_t tn_error_set(tn_error_t *err, tn_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add one batch-record detail {index, field, reason}; keeps the first
 * TN_ERROR_MAX_DETAILS and counts the rest. 'field' may be NULL. */
void tn_error_detail(tn_error_t *err, int64_t index, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Release 'data' and reset to TN_OK. */
void tn_error_clear(tn_error_t *err);

#endif
