/*
 * stats.h -- request counters and a latency histogram for metrics.get.
 *
 * The histogram has logarithmic buckets (about 4% wide) from 1 us to ~1 h,
 * so p50/p99 come out within a few percent at O(1) cost per request.
 * Loop thread only.
 */
#ifndef TN_STATS_H
#define TN_STATS_H

#include <stdint.h>

#define TN_STATS_BUCKETS 512

typedef struct tn_stats {
    uint64_t requests_total;
    uint64_t errors_total;
    uint64_t connections_total;
    uint64_t rejected_connections;
    uint64_t buckets[TN_STATS_BUCKETS];
    uint64_t samples;
    struct tn_mstats *by_method;  /* answers by method and code (mstats.h); may be NULL */
} tn_stats_t;

void tn_stats_record(tn_stats_t *st, uint64_t latency_us, int is_error);
/* The q-quantile (0..1) of recorded latencies, in microseconds (0 if none). */
uint64_t tn_stats_quantile(const tn_stats_t *st, double q);

#endif
