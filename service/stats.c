/*
 * stats.c -- counters and the log-bucket latency histogram.
 */
#include "stats.h"

#include <math.h>

/* Bucket b holds latencies in [1.04^b, 1.04^(b+1)) us; bucket 0 also takes 0. */
static int bucket_of(uint64_t us) {
    if (us <= 1)
        return 0;
    int b = (int) (log((double) us) / log(1.04));
    return b >= TN_STATS_BUCKETS ? TN_STATS_BUCKETS - 1 : b;
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
    for (int b = 0; b < TN_STATS_BUCKETS; b++) {
        seen += st->buckets[b];
        if (seen >= rank)
            return (uint64_t) llround(pow(1.04, b + 0.5));   /* the bucket's middle */
    }
    return 0;
}
