/*
 * snap.h -- an immutable, indexed view of the model at one epoch, which
 * every query of graph/ reads.
 *
 * tn_snap_new() runs on the model's thread and only copies pointers (and
 * takes a reference on each record), so it is O(nodes + pairs) with a small
 * constant. tn_snap_build() does the real work (sorting, indexing, home
 * units) and may run on a worker thread; it is idempotent but not
 * thread-safe: the caller serialises it (service/jobs.c holds a mutex).
 * After build, a snapshot is read-only and may be shared by any number of
 * threads. Reference counts are atomic; the last release frees it.
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
} tn_snap_t;

/* Copy the model's record pointers (retaining each record). NULL on OOM. */
tn_snap_t *tn_snap_new(const tn_model_t *m);

/* Sort and index; TN_OK or TN_ERR_INTERNAL (out of memory). Idempotent. */
tn_code_t tn_snap_build(tn_snap_t *s, tn_error_t *err);

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

#endif
