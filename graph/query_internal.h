/*
 * query_internal.h -- helpers shared by the read queries of graph/ (not part
 * of the interface service/ sees).
 *
 * Everything here reads a built snapshot and never modifies it. Arrays the
 * helpers fill are owned by the caller and released with the
 * matching free or destroy function. Out-of-memory is reported as -1 (or NULL);
 * the query turns it into TN_ERR_INTERNAL at its edge.
 */
#ifndef TN_QUERY_INTERNAL_H
#define TN_QUERY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "error.h"
#include "opts.h"
#include "query.h"
#include "snap.h"
#include "value.h"

/* How often (in loop iterations) the non-igraph queries poll the stop flag. */
#define TN_Q_POLL 1024

/* Check the options the service consumes for slow queries ("deadline_ms"
 * a non-negative integer, "progress" a boolean) so a bad type is still
 * invalid_params even if the service did not look at it. */
tn_code_t tn_q_slow_opts(const tn_val_t *opts, tn_error_t *err);

/* The home a query works for: docs/protocol.md, "Data model". */
typedef struct tn_q_home {
    const char *id;             /* the home id (may name no node) */
    int64_t idx;                /* its vertex, -1 when absent */
    const char *country;        /* the home's country code; NULL when unknown */
    unsigned char *unit;        /* per vertex: 1 if a unit of this home */
    size_t nunits;
    int owned;                  /* 'unit' is ours to free (not the snapshot's) */
} tn_q_home_t;

/* Resolve the "home" option (NULL = the snapshot's home) into *h.
 * An explicit home that names no node is TN_ERR_NOT_FOUND; the snapshot's
 * own home may be absent (then there are no units). Release with
 * tn_q_home_destroy. */
tn_code_t tn_q_home_init(const tn_snap_t *s, const char *home, tn_q_home_t *h, tn_error_t *err);
void tn_q_home_destroy(tn_q_home_t *h);

/* Mark in 'out' (nnodes bytes) the vertices whose parent chain reaches
 * vertex 'root' (root included). Cycles in parent links are tolerated. */
void tn_q_units_mark(const tn_snap_t *s, int64_t root, unsigned char *out);

/* The country code of vertex v: its "country", or a country node's own id. */
const char *tn_q_country(const tn_snap_t *s, int64_t v);
/* The "full" graph's structural edge of vertex v: a city's parent, else its
 * country; a province's country. -1 for a country or when there is none. */
int64_t tn_q_full_edge(const tn_snap_t *s, size_t v);

/* Is pair 'p' (index) a home pair of 'h'? On yes, *unit and *foreign
 * receive the vertex of the unit end and of the other end. */
int tn_q_home_pair(const tn_snap_t *s, const tn_q_home_t *h, size_t p,
                   int64_t *unit, int64_t *foreign);

/* ASCII case-insensitive equality and substring search. */
int tn_q_eq_nocase(const char *a, const char *b);
int tn_q_contains_nocase(const char *hay, const char *needle);

/* Has country node c (a vertex) the tag 'tag' (case-insensitive)? */
int tn_q_has_tag(const tn_node_t *c, const char *tag);

/* Start a result map holding {"epoch"}; -1 on out-of-memory. */
int tn_q_result_begin(tn_val_t *out, const tn_snap_t *s);

/* Common edge helpers: free *out and return the code. */
tn_code_t tn_q_oom(tn_val_t *out, tn_error_t *err);
tn_code_t tn_q_fail(tn_val_t *out, tn_code_t code, tn_error_t *err);

/* A vertex and what it is ranked by, and the one ranking order of the
 * queries' lists (qsort): count descending, then vertex (= id) order. */
typedef struct tn_q_counted {
    int64_t count, v;
} tn_q_counted_t;
int tn_q_cmp_counted(const void *x, const void *y);

/* A node's display name: its name, or its id when it has none. */
const char *tn_q_name(const tn_node_t *n);

/* Make 'it' (nil) the map of a listed node, with room for 'room' keys,
 * holding its "id" and "name" (tn_q_name): how every list names a node.
 * -1 on out-of-memory. */
int tn_q_node_item(tn_val_t *it, const tn_node_t *nd, size_t room);

/* ---- Coverage of a home (coverage.c), shared by stats, gaps, metrics and
 * recommend. Built in O(nodes + pairs log pairs). ---- */
typedef struct tn_q_cover {
    size_t nnodes;
    size_t pairs;               /* home pairs kept by the filter */
    size_t countries;           /* covered countries: distinct codes of foreign ends */
    size_t candidates;          /* country nodes other than the home's own country */
    size_t candidates_covered;  /* ... of which covered */
    int64_t *cpairs;            /* per vertex (country nodes): home pairs into it */
    int64_t *cunits;            /* per vertex (country nodes): distinct units paired there */
    int64_t *upairs;            /* per vertex (units): home pairs */
    int64_t *ucountries;        /* per vertex (units): distinct countries */
    int64_t *uregions;          /* per vertex (units): distinct regions */
    unsigned char *candidate;   /* per vertex: a country node other than the home's country */
    tn_arena_t arena;           /* owns the per-vertex arrays */
} tn_q_cover_t;

/* Compute the coverage of home 'h' under filter 'f'. Polls ctx.
 * TN_OK, TN_ERR_INTERNAL (OOM) or a stop code. */
tn_code_t tn_q_cover_init(const tn_snap_t *s, const tn_q_home_t *h, const tn_filter_t *f,
                          const tn_qctx_t *ctx, tn_q_cover_t *c, tn_error_t *err);
void tn_q_cover_destroy(tn_q_cover_t *c);

/* Group kinds for tn_q_cover_groups. */
typedef enum tn_q_by {
    TN_Q_BY_REGION = 0,
    TN_Q_BY_SUBREGION,
    TN_Q_BY_TAG
} tn_q_by_t;

/* Append to array 'items' one {"group","countries","covered","ratio","pairs",
 * "units"} map per group (sorted by group name), counting only candidate
 * countries for which keep[v] is non-zero (keep NULL = all). For
 * TN_Q_BY_TAG, 'tag' names the single group. -1 on OOM. */
int tn_q_cover_groups(const tn_snap_t *s, const tn_q_home_t *h, const tn_filter_t *f,
                      const tn_q_cover_t *c, tn_q_by_t by, const char *tag,
                      const unsigned char *keep, tn_val_t *items);


/* The "by" option names, indexable by tn_coverage_opts_t.by (coverage.h). */
enum { TN_Q_COV_REGION = 0, TN_Q_COV_SUBREGION, TN_Q_COV_TAG, TN_Q_COV_COUNTRY, TN_Q_COV_UNIT };

/* Choices shared by the schemas of query.c and the queries' parses. */
extern const char *const tn_q_node_kind_names[];
extern const char *const tn_q_place_kind_names[];      /* "province", "city" */
extern const char *const tn_q_metric_names[];
extern const char *const tn_q_graph_names[];
extern const char *const tn_q_cov_by_names[];
extern const char *const tn_q_timeline_by_names[];   /* query.timeline "by" */
extern const char *const tn_q_comm_algo_names[];     /* query.communities "algorithm" */

/* query.centrality's degree needs no igraph (centrality.c). */
int tn_q_centrality_needs_igraph(const tn_val_t *opts);

/* Declare the parts (query.h) of a query written as X_opts_t, X_result_t,
 * X_parse, X_compute, X_encode and X_result_free: thin typeless wrappers of
 * the typed functions (the compiler still checks those against the types)
 * and the const tn_query_parts_t X_parts that the table of query.c names. */
#define TN_Q_PARTS(X)                                                                           \
    static tn_code_t X##_parse_v(const tn_val_t *opts, void *o, tn_error_t *err) {              \
        return X##_parse(opts, (X##_opts_t *) o, err);                                          \
    }                                                                                           \
    static tn_code_t X##_compute_v(const tn_snap_t *s, const void *o, const tn_qctx_t *ctx,     \
                                   void *r, tn_error_t *err) {                                  \
        return X##_compute(s, (const X##_opts_t *) o, ctx, (X##_result_t *) r, err);            \
    }                                                                                           \
    static int X##_encode_v(const tn_snap_t *s, const void *r, tn_val_t *out) {                 \
        return X##_encode(s, (const X##_result_t *) r, out);                                    \
    }                                                                                           \
    static void X##_result_free_v(void *r) {                                                    \
        X##_result_free((X##_result_t *) r);                                                    \
    }                                                                                           \
    const tn_query_parts_t X##_parts = { sizeof(X##_opts_t), sizeof(X##_result_t),             \
                                         X##_parse_v, X##_compute_v, X##_encode_v,              \
                                         X##_result_free_v }

/* X_result_free for a result whose arrays all come from its 'arena' (the
 * rest borrowed or plain values): one release, and the zeroed result may
 * be freed again. */
#define TN_Q_ARENA_FREE(X)                                                                      \
    void X##_result_free(X##_result_t *r) {                                                     \
        tn_arena_free(&r->arena);                                                               \
        memset(r, 0, sizeof *r);                                                                \
    }

/* The parts of every query, listed in the table of query.c. */
extern const tn_query_parts_t tn_graph_stats_parts, tn_node_get_parts, tn_node_find_parts,
    tn_node_list_parts, tn_node_neighbors_parts, tn_pair_list_parts, tn_centrality_parts,
    tn_coverage_parts, tn_gaps_parts, tn_recommend_parts, tn_metrics_parts, tn_timeline_parts,
    tn_overlap_parts, tn_communities_parts, tn_whatif_parts, tn_plan_parts;

#endif
