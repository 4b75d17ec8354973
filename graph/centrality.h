/*
 * centrality.h -- query.centrality (centrality.c) as parse -> compute ->
 * encode. compute runs igraph unless the metric is degree; call it (or the
 * table's row) through tn_query_run, on the igraph thread.
 */
#ifndef TN_CENTRALITY_H
#define TN_CENTRALITY_H

#include <stddef.h>
#include <stdint.h>

#include "query.h"

/* What the metric depends on (the memo's key, with the pair filter). */
typedef struct tn_cmetric {
    int metric;                 /* index in tn_q_metric_names */
    int full;                   /* graph "full" (else "partnerships") */
    int normalized;
    double damping;
    double cutoff;              /* < 0: exact */
    int64_t approx;             /* betweenness from this many sampled sources; 0: exact */
} tn_cmetric_t;

typedef struct {
    tn_cmetric_t m;
    tn_filter_t f;
    int graph;                  /* index in tn_q_graph_names */
    int kind;                   /* report only this node kind; -1 all */
    const char *country;        /* report only this country; NULL all */
    int64_t top;
} tn_centrality_opts_t;

/* One reported vertex and its finished score. */
typedef struct tn_scored {
    double score;
    int64_t v;
} tn_scored_t;

typedef struct {
    int metric, graph;
    tn_scored_t *items;         /* best first, at most top */
    size_t n;
} tn_centrality_result_t;

tn_code_t tn_centrality_parse(const tn_val_t *opts, tn_centrality_opts_t *o, tn_error_t *err);
tn_code_t tn_centrality_compute(const tn_snap_t *s, const tn_centrality_opts_t *o,
                                const tn_qctx_t *ctx, tn_centrality_result_t *r, tn_error_t *err);
int tn_centrality_encode(const tn_snap_t *s, const tn_centrality_result_t *r, tn_val_t *out);
void tn_centrality_result_free(tn_centrality_result_t *r);

#endif
