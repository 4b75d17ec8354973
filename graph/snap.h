/*
 * snap.h -- an immutable, indexed view of the model at one epoch, which
 * every query of graph/ reads.
 *
 * Two ways to make one. tn_snap_new() copies a model's record pointers
 * (taking a reference on each) and tn_snap_build() then sorts and indexes
 * them; build is idempotent but not thread-safe, so the caller serialises
 * it. A line (below) publishes a model's epochs one after the other, each
 * built when published and derived from the one before without sorting or
 * touching the records that did not change. After build, a snapshot is
 * read-only and may be shared by any number of threads. Reference counts
 * are atomic; the last release frees it.
 *
 * Vertex order: nodes sorted by id (strcmp). Pair order: by key (see
 * record.h), i.e. by (min(a,b), max(a,b)). Both orders are the tie-breaks
 * the protocol reference asks for (docs/protocol.md), so queries that scan in order are deterministic.
 */
#ifndef TN_SNAP_H
#define TN_SNAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "error.h"
#include "model.h"
#include "record.h"

typedef struct tn_snap {
    atomic_int refs;
    uint64_t epoch;
    char *home;                 /* home id (may name no node) */
    tn_val_t meta;              /* the model's dataset notes (tn_model_meta), copied */
    size_t nnodes, npairs;
    tn_node_t **nodes;          /* sorted by id after build */
    tn_pair_t **pairs;          /* sorted by key after build */

    /* Filled by tn_snap_build: */
    int built;
    int64_t *pa, *pb;           /* per pair: vertex index of a and b */
    int64_t *country_of;        /* per node: index of its country node, -1 if none
                                   (a country node maps to itself) */
    unsigned char *is_unit;     /* per node: 1 if a home unit */
    int64_t home_idx;           /* -1 when the home node is absent */
    size_t *adj_off;            /* CSR: pairs of vertex v are adj_pair[adj_off[v]..adj_off[v+1]) */
    size_t *adj_pair;           /* pair indices, each pair listed under both ends */
    void *index;                /* private: id -> vertex hash */
    tn_arena_t arena;           /* private: owns pa, pb, country_of, is_unit and the CSR */

    /* Results a query keeps for this snapshot's lifetime (centrality's
     * score memo): owned here, freed with the snapshot by memo_free. Only
     * the thread that runs that query touches it (the igraph thread), or
     * the service's worker pool under its lock (centrality.h). */
    void *memo;
    void (*memo_free)(void *memo);

    /* A snapshot published by a line (below) holds no reference on its
     * records: its era keeps them (and every later era) alive. NULL for
     * tn_snap_new's snapshots, which retain each record. */
    struct tn_snap_era *era;
} tn_snap_t;

/* Copy the model's record pointers (retaining each record). NULL on OOM. */
tn_snap_t *tn_snap_new(const tn_model_t *m);

/* Sort and index; TN_OK or TN_ERR_INTERNAL (out of memory). Idempotent. */
tn_code_t tn_snap_build(tn_snap_t *s, tn_error_t *err);

/* The last step of publishing (snap_line.c): fill 's' (a snapshot of
 * 'm' whose arrays are allocated, not built) from 'prev' (built, of the
 * model before the changes in 'log', which must not be "all") without
 * sorting: merge the logged records into prev's order and carry the
 * rest of its index over. On failure 's' is left unbuilt. Sorts and
 * deduplicates the log's arrays in place. */
tn_code_t tn_snap_derive(tn_snap_t *s, const tn_snap_t *prev, const tn_model_t *m,
                         tn_model_log_t *log, tn_error_t *err);

/* Drop a snapshot's reference on its era (snap_line.c). */
void tn_snap_era_release(struct tn_snap_era *e);

tn_snap_t *tn_snap_retain(tn_snap_t *s);
void tn_snap_release(tn_snap_t *s);

/* Vertex index of node 'id', or -1. Needs a built snapshot. */
int64_t tn_snap_find(const tn_snap_t *s, const char *id);

/* Pair filters of docs/protocol.md, "Methods": a filtered-out pair does not exist
 * for that call. */
typedef struct tn_filter {
    int as_of;              /* 0 = no limit; else keep since_year <= as_of or unknown */
    tn_conf_t min_conf;     /* TN_CONF_LOW = all */
    int kinds;              /* bit (1 << tn_pair_kind_t); default both */
} tn_filter_t;

#define TN_FILTER_ALL ((tn_filter_t){ 0, TN_CONF_LOW, 3 })

int tn_filter_keep(const tn_filter_t *f, const tn_pair_t *p);

/* Does 'f' keep every pair (NULL, or TN_FILTER_ALL's settings)? */
int tn_filter_is_all(const tn_filter_t *f);

/* ---- a line: one model's published snapshots, in epoch order ----
 *
 * The service's writer publishes a snapshot after each group of changes.
 * Publishing through a line is O(change) plus flat copies: no record is
 * retained or released per epoch (eras free what the model dropped once
 * no older snapshot can read it), and the new snapshot is derived from
 * the last one (tn_snap_derive) instead of sorted again. Only the thread
 * that changes the model publishes; the snapshots themselves are shared
 * as ever. */
typedef struct tn_snap_line tn_snap_line_t;

/* Follow 'm' (tn_model_follow). Free the model before the line. NULL on
 * out-of-memory. */
tn_snap_line_t *tn_snap_line_new(tn_model_t *m);
void tn_snap_line_free(tn_snap_line_t *l);

/* A built snapshot of the model as it is now (a reference for the
 * caller), or NULL with 'err' set on out-of-memory (the line is then as
 * before: the next publish rebuilds). */
tn_snap_t *tn_snap_line_publish(tn_snap_line_t *l, tn_error_t *err);

/* How publishing went so far, for stats and tests. */
typedef struct tn_snap_line_stats {
    uint64_t derived, rebuilt;      /* publishes of each kind */
    uint64_t retired, freed;        /* records handed over by the model, and freed since */
    uint64_t leaked;                /* records kept forever: an era could not grow */
} tn_snap_line_stats_t;
void tn_snap_line_stats(const tn_snap_line_t *l, tn_snap_line_stats_t *out);

#endif
