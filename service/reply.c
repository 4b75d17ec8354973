/*
 * reply.c -- answers through the caller interface, each counted in the
 * latency histogram once.
 */
#include "reply.h"

#include <time.h>

#include "mstats.h"

uint64_t tn_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void count(const tn_call_t *call, tn_code_t code) {
    if (call->stats == NULL)
        return;
    uint64_t us = (tn_now_ns() - call->t0) / 1000;
    tn_stats_record(call->stats, us, code != TN_OK);
    if (call->stats->by_method != NULL)
        tn_mstats_record(call->stats->by_method, call->method, code, us);
}

void tn_reply_result(const tn_call_t *call, const tn_val_t *result) {
    count(call, TN_OK);
    if (!call->caller->closed)
        call->caller->ops->result(call->caller, call->msgid, result);
}

void tn_reply_encoded(const tn_call_t *call, const char *enc, size_t len) {
    count(call, TN_OK);
    if (!call->caller->closed)
        call->caller->ops->result_encoded(call->caller, call->msgid, enc, len);
}

void tn_reply_error(const tn_call_t *call, const tn_error_t *err) {
    count(call, err->code);
    if (!call->caller->closed)
        call->caller->ops->error(call->caller, call->msgid, err);
}

void tn_reply_code(const tn_call_t *call, tn_code_t code, const char *fmt, const char *arg) {
    tn_error_t err = TN_ERROR_INIT;
    tn_error_set(&err, code, fmt, arg);
    tn_reply_error(call, &err);
    tn_error_clear(&err);
}

void tn_notify(tn_caller_t *c, const char *method, const tn_val_t *params) {
    if (!c->closed && c->ops->notify != NULL)
        c->ops->notify(c, method, params);
}
