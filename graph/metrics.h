/*
 * metrics.h -- metrics.get's cached part (metrics.c) as parse -> compute
 * -> encode: graph.stats, coverage by region and the home's timeline.
 */
#ifndef TN_METRICS_H
#define TN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "coverage.h"
#include "graph_stats.h"

typedef struct { int64_t if_epoch; } tn_metrics_opts_t;

typedef struct {
    tn_graph_stats_result_t stats;    /* unfiltered */
    tn_coverage_result_t cov;         /* of the snapshot's home, by region */
    int *years;                       /* the home pairs' years, ascending */
    size_t nyears;
    int64_t undated;                  /* home pairs with no known year */
} tn_metrics_result_t;

tn_code_t tn_metrics_parse(const tn_val_t *opts, tn_metrics_opts_t *o, tn_error_t *err);
tn_code_t tn_metrics_compute(const tn_snap_t *s, const tn_metrics_opts_t *o, const tn_qctx_t *ctx,
                             tn_metrics_result_t *r, tn_error_t *err);
int tn_metrics_encode(const tn_snap_t *s, const tn_metrics_result_t *r, tn_val_t *out);
void tn_metrics_result_free(tn_metrics_result_t *r);

#endif
