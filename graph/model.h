/*
 * model.h -- the live graph: nodes, pairs, the home and the epoch, and the
 * only way to change them (validated, atomic changes).
 *
 * The live model belongs to one thread (the service's event loop). Readers
 * on other threads never touch it: they get an immutable snapshot
 * (tn_snap_new) that shares the records by reference count.
 *
 * A change is made in two steps so that the service can make it durable in
 * between: tn_change_prepare() validates a whole request against the model
 * and allocates everything the change needs, without touching the model;
 * tn_change_commit() then applies it without allocating, so it cannot fail
 * half-way. "An error never changes state" (docs/protocol.md, "Errors") follows
 * from prepare being the only step that can fail.
 */
#ifndef TN_MODEL_H
#define TN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "record.h"
#include "value.h"

#define TN_DEFAULT_HOME "CN-430000"

typedef struct tn_model tn_model_t;
typedef struct tn_change tn_change_t;

/* The kinds of change. Which wire method is which kind is said by the
 * method registry (service/registry.c), not here. */
typedef enum tn_change_kind {
    TN_CHANGE_NODE_UPSERT = 0,
    TN_CHANGE_NODE_DELETE,
    TN_CHANGE_PAIR_UPSERT,
    TN_CHANGE_PAIR_DELETE,
    TN_CHANGE_BATCH              /* import.batch (and a committed streamed import) */
} tn_change_kind_t;

/* A new empty model whose home is 'home' (copied; NULL = TN_DEFAULT_HOME).
 * The home need not exist yet. NULL on out-of-memory. */
tn_model_t *tn_model_new(const char *home);
void tn_model_free(tn_model_t *m);

/* A new model that holds 'nodes' and 'pairs' (each retained; the arrays
 * are the caller's) at 'epoch', for a graph that must not touch the live
 * one (query.whatif). The records must form a consistent model, as a
 * snapshot's do; nothing is re-checked. NULL on out-of-memory or on a pair
 * whose end is not among the nodes. */
tn_model_t *tn_model_from_records(const char *home, uint64_t epoch, tn_node_t *const *nodes,
                                  size_t nn, tn_pair_t *const *pairs, size_t np);

uint64_t tn_model_epoch(const tn_model_t *m);
/* Set the epoch (recovery only: after loading a snapshot, the epoch it was
 * taken at). */
void tn_model_set_epoch(tn_model_t *m, uint64_t epoch);
const char *tn_model_home(const tn_model_t *m);

/* Dataset notes kept with the graph: a map such as {"dataset", "reference":
 * {"pairs", "countries", "as_of", "source"}, "note"} that graph.stats reports
 * beside the computed figures (the official totals the verified data falls
 * short of). Set replaces (copies); 0 or -1 on out-of-memory. */
int tn_model_set_meta(tn_model_t *m, const tn_val_t *meta);
const tn_val_t *tn_model_meta(const tn_model_t *m);

size_t tn_model_node_count(const tn_model_t *m);
size_t tn_model_pair_count(const tn_model_t *m);

/* Borrowed look-ups, valid until the next commit; NULL when absent. */
const tn_node_t *tn_model_node(const tn_model_t *m, const char *id);
const tn_pair_t *tn_model_pair(const tn_model_t *m, const char *a, const char *b);

/* The pairs of node 'id' (borrowed array, valid until the next commit);
 * returns their count, 0 with *out NULL for an unknown id. */
size_t tn_model_node_pairs(const tn_model_t *m, const char *id, tn_pair_t *const **out);

/* The pair whose key (record.h) is 'key' (borrowed), or NULL. */
const tn_pair_t *tn_model_pair_by_key(const tn_model_t *m, const char *key);

/* All nodes / pairs in storage order (borrowed, valid until the next commit). */
tn_node_t *const *tn_model_nodes(const tn_model_t *m, size_t *n);
tn_pair_t *const *tn_model_pairs(const tn_model_t *m, size_t *n);

/* Validate a change of kind 'kind' with options 'opts' (the params map)
 * against 'm'. On success *out holds a prepared change
 * (free it with tn_change_free, committed or not). Errors:
 * invalid_params (with per-record details for import.batch), not_found,
 * conflict, internal (out of memory). The model is never modified. */
tn_code_t tn_change_prepare(const tn_model_t *m, tn_change_kind_t kind, const tn_val_t *opts,
                            tn_change_t **out, tn_error_t *err);

/* Was the request a dry run (import.batch "dry_run": true)? A dry run is
 * never committed; its counts are reported by tn_change_result. */
int tn_change_is_dry_run(const tn_change_t *c);

/* Apply a prepared change to the model it was prepared against (nothing
 * may have been committed in between) and advance the epoch by one.
 * Does not allocate and cannot fail. */
void tn_change_commit(tn_model_t *m, tn_change_t *c);

/* The reply of a change: {"epoch"} or, for import.batch, {"epoch",
 * "nodes_added", "nodes_updated", "nodes_unchanged", "pairs_added",
 * "pairs_updated", "pairs_unchanged", "nodes_removed", "pairs_removed",
 * "dry_run"}. Call after commit (or for a dry run, after prepare).
 * 0, or -1 on out-of-memory. */
int tn_change_result(const tn_model_t *m, const tn_change_t *c, tn_val_t *out);

void tn_change_free(tn_change_t *c);

/* ---- following the model (a line of published snapshots, snap.h) ----
 *
 * A snapshot of a followed model does not take a reference on each
 * record (that is O(graph) per epoch): the model hands each record it
 * stops holding to 'retire' (with the model's reference) instead of
 * releasing it, and the follower frees it once no snapshot can read it.
 * The model also logs which node ids and pair keys each commit touched,
 * so the next snapshot can be derived from the last one. */
typedef void tn_model_retire_fn(void *arg, tn_node_t *node, tn_pair_t *pair);

typedef struct tn_model_log {
    int all;                    /* everything may have changed (replace, or a huge log) */
    const char **nodes;         /* ids of nodes added, replaced or removed */
    size_t nn;
    const char **pairs;         /* keys of pairs added, replaced or removed */
    size_t np;
} tn_model_log_t;

/* Follow 'm': from now on dropped records go to retire(arg, node, pair)
 * (exactly one of the two non-NULL), also when the model is freed, so
 * free the model before what 'arg' names. Starts an empty log. */
void tn_model_follow(tn_model_t *m, tn_model_retire_fn *retire, void *arg);

/* Move the log out (the strings are the records' own: valid until the
 * retired records are freed) and start an empty one. */
void tn_model_log_take(tn_model_t *m, tn_model_log_t *out);
void tn_model_log_free(tn_model_log_t *log);

/* Prepare and commit in one step (used to load datasets and in tests). */
tn_code_t tn_model_apply(tn_model_t *m, tn_change_kind_t kind, const tn_val_t *opts,
                         tn_val_t *result, tn_error_t *err);

#endif
