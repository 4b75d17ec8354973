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

tn_code_t tn_graph_stats_parse(const tn_val_t *opts, tn_graph_stats_opts_t *o, tn_error_t *err);
tn_code_t tn_graph_stats_compute(const tn_snap_t *s, const tn_graph_stats_opts_t *o,
                                 const tn_qctx_t *ctx, tn_graph_stats_result_t *r, tn_error_t *err);
int tn_graph_stats_encode(const tn_snap_t *s, const tn_graph_stats_result_t *r, tn_val_t *out);
void tn_graph_stats_result_free(tn_graph_stats_result_t *r);

#endif
