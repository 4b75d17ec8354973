/*
 * reply.h -- answering one request through the caller interface
 * (caller.h), counting each answer in the latency histogram.
 */
#ifndef TN_REPLY_H
#define TN_REPLY_H

#include <stdint.h>

#include "caller.h"
#include "error.h"
#include "stats.h"
#include "value.h"

/* One request being answered: who asked, under which msgid, since when,
 * and where its latency is counted. */
typedef struct tn_call {
    tn_caller_t *caller;
    uint32_t msgid;
    uint64_t t0;
    tn_stats_t *stats;
    const char *method;           /* its row in stats->by_method; NULL: "other" */
} tn_call_t;

uint64_t tn_now_ns(void);

/* Exactly one of these per request. A closed caller gets nothing. */
void tn_reply_result(const tn_call_t *call, const tn_val_t *result);
void tn_reply_encoded(const tn_call_t *call, const char *enc, size_t len);
void tn_reply_error(const tn_call_t *call, const tn_error_t *err);
/* An error with a printf-style message taking one string. */
void tn_reply_code(const tn_call_t *call, tn_code_t code, const char *fmt, const char *arg);

/* A notification to one caller (dropped when closed or unsupported). */
void tn_notify(tn_caller_t *c, const char *method, const tn_val_t *params);

#endif
