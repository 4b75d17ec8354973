/*
 * graph_stats.h -- graph.stats (graph_stats.c) as parse -> compute -> encode, and the
 * figures metrics.get embeds.
 */
#ifndef TN_GRAPH_STATS_H
#define TN_GRAPH_STATS_H

#include <stdint.h>

#include "error.h"
#include "query.h"
#include "snap.h"
#include "value.h"

typedef struct { tn_filter_t f; } tn_graph_stats_opts_t;

typedef struct {
    int64_t nodes[3];           /* by tn_node_kind_t */
    int64_t pairs[2];           /* by tn_pair_kind_t, under the filter */
    const char *home;           /* borrowed from the snapshot */
    int64_t units, home_pairs, countries;
} tn_graph_stats_result_t;

TN_Q_DECLARE(tn_graph_stats);

#endif
