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

/* The score memo across processes. A service that computes in worker
 * processes (a copy of the snapshot each) gets the raw scores back and
 * keeps them in its own snapshot's memo, so that another "top", "kind",
 * "country" or "normalized" is ranked there without igraph. None of these
 * calls igraph; they read or change s->memo, so the caller serialises
 * them against each other. */
typedef struct tn_cmemo {
    int64_t n;                  /* graph vertices */
    const int64_t *gv;          /* the snapshot vertex of each */
    const double *res;          /* raw scores */
    const int64_t *deg;         /* degrees in the simple graph */
} tn_cmemo_t;

/* Answer query.centrality 'opts' from the memo of s into *out (the value
 * tree tn_query_run would give): 1 answered, 0 not kept (or degree, or
 * options that do not parse), -1 out of memory. */
int tn_centrality_memo_answer(const tn_snap_t *s, const tn_val_t *opts, tn_val_t *out);
/* The memo entry for 'opts': 1 with *e pointing into the memo (valid until
 * the memo next changes), 0 none. */
int tn_centrality_memo_export(const tn_snap_t *s, const tn_val_t *opts, tn_cmemo_t *e);
/* Keep an entry computed elsewhere for 'opts' (copied), counted as a
 * computation (tn_q_centrality_computed): 1 kept, 0 options without a
 * memo, -1 out of memory or vertices that are not the snapshot's. */
int tn_centrality_memo_import(const tn_snap_t *s, const tn_val_t *opts, const tn_cmemo_t *e);

/* ---- the scores alone (a resident worker process computes them) ----
 *
 * A service may compute the raw scores elsewhere from a flat edge list
 * and keep them in the memo (tn_centrality_memo_import); ranking and
 * encoding then happen where the snapshot is. */

/* Does 'm' run igraph in one piece: not degree (no igraph), not an exact
 * path metric (whose sources split over processes, graph/split.h)? */
int tn_centrality_whole(const tn_cmetric_t *m);

/* The graph 'co' names: gv (s->nnodes long) receives each graph vertex's
 * snapshot vertex, *edges a new array of 2 * *ne vertex ids (the caller
 * frees it). Returns the vertex count, -1 on out-of-memory. No igraph. */
int64_t tn_centrality_graph(const tn_snap_t *s, const tn_centrality_opts_t *co, int64_t *gv,
                            int64_t **edges, size_t *ne);

/* The raw scores and simple-graph degrees of metric 'm' (res and deg n
 * long) on that graph, as query.centrality computes them. Calls igraph
 * (bracketed here with ctx): the igraph thread or a worker process only.
 * An exact path metric runs whole unless a splitter is set (split.h). */
tn_code_t tn_centrality_scores(int64_t n, const int64_t *edges, size_t ne, const tn_cmetric_t *m,
                               const tn_qctx_t *ctx, double *res, int64_t *deg, tn_error_t *err);

#endif
