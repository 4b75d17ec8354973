/*
 * mstats.c -- per-method answer counters and latency histograms (mstats.h).
 */
#include "mstats.h"

#include <stdlib.h>
#include <string.h>

/* From 100 us (a cache hit) to 10 s (the default query deadline). */
const double tn_mstats_bounds[TN_MSTATS_NBOUNDS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

int tn_mstats_init(tn_mstats_t *ms, const char *const *names, size_t n) {
    ms->rows = calloc(n + 1, sizeof *ms->rows);
    ms->n = 0;
    if (ms->rows == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        ms->rows[i].method = names[i];
    ms->rows[n].method = "other";
    ms->n = n + 1;
    return 0;
}

void tn_mstats_free(tn_mstats_t *ms) {
    free(ms->rows);
    ms->rows = NULL;
    ms->n = 0;
}

static tn_mstat_t *row_of(tn_mstats_t *ms, const char *method) {
    if (method != NULL) {
        /* Names usually come from the table itself: compare pointers first. */
        for (size_t i = 0; i + 1 < ms->n; i++)
            if (ms->rows[i].method == method)
                return &ms->rows[i];
        for (size_t i = 0; i + 1 < ms->n; i++)
            if (strcmp(ms->rows[i].method, method) == 0)
                return &ms->rows[i];
    }
    return &ms->rows[ms->n - 1];
}

void tn_mstats_record(tn_mstats_t *ms, const char *method, tn_code_t code, uint64_t latency_us) {
    if (ms->n == 0)
        return;
    tn_mstat_t *r = row_of(ms, method);
    if ((int) code < 0 || code >= TN_CODE_COUNT)
        code = TN_ERR_INTERNAL;
    r->by_code[code]++;
    r->count++;
    double s = (double) latency_us / 1e6;
    r->sum_s += s;
    for (int b = 0; b < TN_MSTATS_NBOUNDS; b++)
        if (s <= tn_mstats_bounds[b]) {
            r->le[b]++;
            break;
        }
}
