/*
 * query.h -- every read query of graph/, in one table.
 *
 * A query is a pure function of a built snapshot and an options map; it
 * fills a result map or returns an error (and leaves *out nil). Queries
 * validate their own options (graph/ owns what they mean); the table lists
 * the option names so server.methods can report them.
 *
 * Long queries honour ctx->stop: queries over igraph through the
 * interruption handler (igraph_bridge.h), the others by polling it in their
 * loops. Stopping returns TN_ERR_TIMEOUT or TN_ERR_CANCELLED, whichever
 * value the flag holds.
 */
#ifndef TN_QUERY_H
#define TN_QUERY_H

#include <stdatomic.h>
#include <stdint.h>

#include "error.h"
#include "snap.h"
#include "value.h"

/* Values of the stop flag. */
#define TN_RUN            0
#define TN_STOP_DEADLINE  1
#define TN_STOP_CANCEL    2

typedef struct tn_qctx {
    const atomic_int *stop;         /* NULL: never stopped */
    /* Optional progress report (done of total steps); may be NULL. */
    void (*progress)(void *arg, uint64_t done, uint64_t total);
    void *progress_arg;
} tn_qctx_t;

typedef tn_code_t tn_query_fn(const tn_snap_t *s, const tn_val_t *opts, const tn_qctx_t *ctx,
                              tn_val_t *out, tn_error_t *err);

typedef struct tn_query_def {
    const char *name;               /* wire method name, e.g. "query.centrality" */
    tn_query_fn *fn;
    const char *const *params;      /* option names, NULL-terminated (incl. deadline_ms
                                       for slow queries, which the service consumes) */
    int uses_igraph;                /* must run on the igraph thread */
    int slow;                       /* may take long: deadline_ms and cancel apply */
} tn_query_def_t;

/* The query called 'name', or NULL. */
const tn_query_def_t *tn_query_find(const char *name);
/* All queries; *n receives the count. */
const tn_query_def_t *tn_query_all(size_t *n);

/* The stop code for a flag value: TN_ERR_TIMEOUT or TN_ERR_CANCELLED. */
tn_code_t tn_query_stopped(const tn_qctx_t *ctx, tn_error_t *err);
/* Non-zero when ctx asks to stop. */
int tn_query_should_stop(const tn_qctx_t *ctx);

#endif
