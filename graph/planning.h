/*
 * planning.h -- the planning queries (docs/protocol.md):
 * query.timeline, query.overlap, query.communities and query.whatif.
 *
 * Each is three parts so the computation is testable without a wire:
 * parse (options map -> typed options, defaults applied), compute (built
 * snapshot -> plain C result) and encode (result -> value tree), plus a
 * free. Results borrow strings (ids, region names) from the snapshot they
 * were computed on, so the snapshot must outlive the result.
 *
 * A unit's pairs: pairs with one end among the unit and its descendants
 * (the parent chain) and the other end outside the unit's country. Any
 * province or city node may be the unit.
 */
#ifndef TN_PLANNING_H
#define TN_PLANNING_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "error.h"
#include "query.h"
#include "snap.h"
#include "value.h"

/* ---- query.timeline ---- */

enum { TN_TL_BY_NONE = 0, TN_TL_BY_REGION, TN_TL_BY_UNIT };

typedef struct tn_timeline_opts {
    const char *unit;           /* NULL: the snapshot's home */
    int by;                     /* TN_TL_BY_* */
    tn_filter_t f;
} tn_timeline_opts_t;

/* Pairs per year over the result's [first, last] range, and undated ones. */
typedef struct tn_timeline_series {
    const char *group;          /* borrowed; NULL for the whole unit */
    int64_t *pairs;             /* last - first + 1 counts (NULL when no dated pair) */
    int64_t undated;
} tn_timeline_series_t;

typedef struct tn_timeline_result {
    uint64_t epoch;
    const char *unit;           /* borrowed */
    int first, last;            /* years; first > last when no pair is dated */
    tn_timeline_series_t all;
    tn_timeline_series_t *groups;   /* by region: sorted by name; by unit: by id */
    size_t ngroups;
    int by;
    tn_arena_t arena;           /* owns groups and every series' pairs */
} tn_timeline_result_t;

TN_Q_DECLARE(tn_timeline);

/* ---- query.overlap ---- */

#define TN_OVERLAP_MIN 2
#define TN_OVERLAP_MAX 8

typedef struct tn_overlap_opts {
    const char *homes[TN_OVERLAP_MAX];   /* borrowed from the options map */
    size_t nhomes;
    tn_filter_t f;
} tn_overlap_opts_t;

/* A country (by code) or a partner node reached by two or more homes. */
typedef struct tn_overlap_shared {
    const char *id;             /* borrowed */
    unsigned homes;             /* bit i: reached by the result's home i */
} tn_overlap_shared_t;

typedef struct tn_overlap_home {
    const char *id;             /* borrowed */
    int64_t pairs, countries, partners;
    const char **only_countries;    /* sorted; borrowed strings */
    size_t nonly_countries;
    const char **only_partners;     /* sorted ids */
    size_t nonly_partners;
} tn_overlap_home_t;

typedef struct tn_overlap_result {
    uint64_t epoch;
    tn_overlap_home_t homes[TN_OVERLAP_MAX];   /* sorted by id */
    size_t nhomes;
    tn_overlap_shared_t *shared_countries, *shared_partners;   /* sorted by id */
    size_t nshared_countries, nshared_partners;
    double jaccard[TN_OVERLAP_MAX][TN_OVERLAP_MAX];
    tn_arena_t arena;           /* owns the shared and only lists */
} tn_overlap_result_t;

TN_Q_DECLARE(tn_overlap);

/* ---- query.communities (igraph thread only) ---- */

enum { TN_COMM_MULTILEVEL = 0, TN_COMM_LEIDEN };

typedef struct tn_communities_opts {
    int full;                   /* graph "full" (else "partnerships") */
    int algorithm;              /* TN_COMM_* */
    double resolution;
    int64_t seed;
    int64_t top;
    int members;
    tn_filter_t f;
} tn_communities_opts_t;

typedef struct tn_communities_result {
    uint64_t epoch;
    int full, algorithm, members;
    double modularity;
    int64_t top;
    size_t n;                   /* vertices of the graph */
    int64_t *gv;                /* graph vertex -> snapshot vertex (id order) */
    int64_t *degree;            /* per graph vertex, in the simple graph */
    int64_t *membership;        /* per graph vertex: community number */
    size_t count;               /* communities: numbered 0.. by size desc, then first id */
    int64_t *size;              /* per community */
    tn_arena_t arena;           /* owns gv, degree, membership and size */
} tn_communities_result_t;

TN_Q_DECLARE(tn_communities);

/* ---- query.whatif (igraph thread: it may run query.centrality) ---- */

#define TN_WHATIF_MAX_QUERIES 8

typedef struct tn_whatif_query {
    const tn_query_def_t *def;
    const tn_val_t *options;    /* borrowed; NULL when absent */
} tn_whatif_query_t;

typedef struct tn_whatif_opts {
    const tn_val_t *nodes, *add, *remove;   /* borrowed arrays, NULL when absent */
    tn_whatif_query_t q[TN_WHATIF_MAX_QUERIES];
    size_t nq;
    const tn_val_t *filters;    /* the request's options: as_of, min_confidence, kind pass down */
} tn_whatif_opts_t;

typedef struct tn_whatif_result {
    uint64_t epoch;
    size_t nq;
    const char *method[TN_WHATIF_MAX_QUERIES];
    tn_val_t before[TN_WHATIF_MAX_QUERIES], after[TN_WHATIF_MAX_QUERIES];
} tn_whatif_result_t;

TN_Q_DECLARE(tn_whatif);

/* Build the hypothetical snapshot: 's' plus nodes and add, minus remove.
 * Records are validated as import.batch validates them (same codes, same
 * per-record details, fields named "nodes.*" and "add.*"); a removed pair
 * that does not exist is not_found. *out is a built snapshot at s's epoch. */
tn_code_t tn_whatif_snapshot(const tn_snap_t *s, const tn_whatif_opts_t *o, tn_snap_t **out,
                             tn_error_t *err);

/* Shared by the planning queries (unit.c): resolve a unit ("unit" or a
 * "homes" entry; NULL = the snapshot's home) into a home whose home pairs
 * are the unit's pairs. A node that does not exist is not_found (the
 * snapshot's own home may be absent: no pairs); a country node is
 * invalid_params naming 'field'. Release with tn_q_home_destroy. */
struct tn_q_home;
tn_code_t tn_q_unit_init(const tn_snap_t *s, const char *id, const char *field,
                         struct tn_q_home *h, tn_error_t *err);

#endif
