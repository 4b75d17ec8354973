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

TN_Q_DECLARE(tn_metrics);

#endif
