/*
 * stats.c -- counters and the log-bucket latency histogram.
 */
#include "stats.h"

#include <math.h>

/* Bucket b holds latencies in [1.04^b, 1.04^(b+1)) us; bucket 0 also takes 0. */
static int bucket_by_log(uint64_t us) {
    if (us <= 1)
        return 0;
    int b = (int) (log((double) us) / log(1.04));
    return b >= TN_STATS_BUCKETS ? TN_STATS_BUCKETS - 1 : b;
}

/* Every request is counted, and most take under a millisecond: their
 * buckets and the buckets' middles are looked up in tables filled once by
 * the very same formulas (so the figures do not change), not computed
 * with log and pow each time. Loop thread only, like the rest. */
#define SMALL_US 1024
static uint16_t small_bucket[SMALL_US];
static uint64_t middle[TN_STATS_BUCKETS];
static int tables_ready;

static void fill_tables(void) {
    for (uint64_t us = 0; us < SMALL_US; us++)
        small_bucket[us] = (uint16_t) bucket_by_log(us);
    for (int b = 0; b < TN_STATS_BUCKETS; b++)
        middle[b] = (uint64_t) llround(pow(1.04, b + 0.5));
    tables_ready = 1;
}

static int bucket_of(uint64_t us) {
    if (!tables_ready)
        fill_tables();
    return us < SMALL_US ? small_bucket[us] : bucket_by_log(us);
}

void tn_stats_record(tn_stats_t *st, uint64_t latency_us, int is_error) {
    st->requests_total++;
    if (is_error)
        st->errors_total++;
    st->buckets[bucket_of(latency_us)]++;
    st->samples++;
}

uint64_t tn_stats_quantile(const tn_stats_t *st, double q) {
    if (st->samples == 0)
        return 0;
    uint64_t rank = (uint64_t) ceil(q * (double) st->samples);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    if (!tables_ready)
        fill_tables();
    for (int b = 0; b < TN_STATS_BUCKETS; b++) {
        seen += st->buckets[b];
        if (seen >= rank)
            return middle[b];                                 /* the bucket's middle */
    }
    return 0;
}
