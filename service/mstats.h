/*
 * mstats.h -- per-method request figures for the Prometheus exposition
 * (GET /metrics): answers by method and code, and a latency histogram per
 * method in seconds.
 *
 * The methods are the registry's (a fixed set), plus one row "other"
 * for requests whose method could not be read or is unknown, so the number
 * of label values is bounded whatever clients send. Loop thread only.
 */
#ifndef TN_MSTATS_H
#define TN_MSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Upper bounds of the latency buckets, in seconds (+Inf is implicit). */
#define TN_MSTATS_NBOUNDS 16
extern const double tn_mstats_bounds[TN_MSTATS_NBOUNDS];

typedef struct tn_mstat {
    const char *method;                   /* static storage; "other" for the last row */
    uint64_t by_code[TN_CODE_COUNT];      /* TN_OK counts successes */
    uint64_t le[TN_MSTATS_NBOUNDS];       /* answers at or below each bound (not cumulative) */
    uint64_t count;
    double sum_s;
} tn_mstat_t;

typedef struct tn_mstats {
    tn_mstat_t *rows;                     /* one per method, then "other" */
    size_t n;
} tn_mstats_t;

/* Rows for 'n' method names (borrowed, static storage) plus "other".
 * 0, or -1 when out of memory. */
int tn_mstats_init(tn_mstats_t *ms, const char *const *names, size_t n);
void tn_mstats_free(tn_mstats_t *ms);

/* Count one answer of 'method' (NULL or unknown: "other"). */
void tn_mstats_record(tn_mstats_t *ms, const char *method, tn_code_t code, uint64_t latency_us);

#endif
