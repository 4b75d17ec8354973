/*
 * query.h -- every read query of graph/, in one table: the read part of
 * the method registry (the service's registry, service/registry.c, takes
 * its read methods from here, so a read query is declared exactly once).
 *
 * A query is a pure function of a built snapshot and an options map; it
 * fills a result map or returns an error (and leaves *out nil). Each entry
 * carries the option schema (opts.h): the service validates requests
 * against it before queueing, server.methods reports it, and the query's
 * own parse reads the same names.
 *
 * Long queries honour ctx->stop: queries over igraph through the
 * interruption handler (igraph_bridge.h), the others by polling it in their
 * loops. Stopping returns TN_ERR_TIMEOUT or TN_ERR_CANCELLED, whichever
 * value the flag holds.
 */
#ifndef TN_QUERY_H
#define TN_QUERY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "opts.h"
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

/* The three parts of a query, typeless so that one runner (tn_query_run)
 * drives them all: parse the options into a struct of opts_size bytes,
 * compute a result of result_size bytes, encode it once, free it. The
 * runner gives parse and compute zeroed structs, and calls result_free
 * after every compute, failed or not. A query declares its parts from its
 * typed functions with TN_Q_PARTS (query_internal.h), which keeps the types
 * checked. */
typedef struct tn_query_parts {
    size_t opts_size, result_size;
    tn_code_t (*parse)(const tn_val_t *opts, void *o, tn_error_t *err);
    tn_code_t (*compute)(const tn_snap_t *s, const void *o, const tn_qctx_t *ctx, void *r,
                         tn_error_t *err);
    int (*encode)(const tn_snap_t *s, const void *r, tn_val_t *out);   /* -1 on OOM */
    void (*result_free)(void *r);
} tn_query_parts_t;

/* The typed parts of query X, declared from its X_opts_t and X_result_t:
 * X_parse fills the options, X_compute the result (it may start from a
 * zeroed one and leave it for X_result_free on error), X_encode returns -1
 * on OOM (the runner frees what it built), X_result_free releases and may
 * run twice. */
#define TN_Q_DECLARE(X)                                                                         \
    tn_code_t X##_parse(const tn_val_t *opts, X##_opts_t *o, tn_error_t *err);                  \
    tn_code_t X##_compute(const tn_snap_t *s, const X##_opts_t *o, const tn_qctx_t *ctx,        \
                          X##_result_t *r, tn_error_t *err);                                    \
    int X##_encode(const tn_snap_t *s, const X##_result_t *r, tn_val_t *out);                   \
    void X##_result_free(X##_result_t *r)

/* Does a request with these options need the igraph thread? (A query
 * may answer some options in plain C, e.g. centrality's degree.) */
typedef int tn_query_igraph_fn(const tn_val_t *opts);

/* Flags of a query. */
#define TN_QF_IGRAPH   1u   /* runs on the igraph thread (unless igraph_for says no) */
#define TN_QF_SLOW     2u   /* may take long: deadline_ms, progress and cancel apply */
#define TN_QF_NOCACHE  4u   /* the answer is not kept per epoch */
#define TN_QF_LIVE     8u   /* the service adds its live figures ("server") to the
                               answer and answers "if_epoch" equal to the current
                               epoch itself (metrics.get) */

typedef struct tn_query_def {
    const char *name;               /* wire method name, e.g. "query.centrality" */
    const tn_query_parts_t *parts;  /* parse -> compute -> encode -> free */
    const tn_opt_spec_t *opts;      /* option schema (incl. what the service reads) */
    unsigned flags;                 /* TN_QF_... */
    const char *description;        /* one line, for server.methods and the CLI */
    tn_query_igraph_fn *igraph_for; /* NULL: TN_QF_IGRAPH decides */
} tn_query_def_t;

/* Does 'def' with these options need the igraph thread? */
int tn_query_needs_igraph(const tn_query_def_t *def, const tn_val_t *opts);

/* Run a read query: the one way to call def->parts. It checks the options
 * against def->opts, then parses, computes, encodes and frees the result;
 * on error *out is nil. When the query needs
 * igraph for these options, its igraph work is bracketed here (the stop
 * flag and progress of ctx reach igraph's handlers); the caller must then
 * be the igraph thread. A query that runs another through tn_query_run
 * shares its bracket. */
tn_code_t tn_query_run(const tn_query_def_t *def, const tn_snap_t *s, const tn_val_t *opts,
                       const tn_qctx_t *ctx, tn_val_t *out, tn_error_t *err);

/* How many times query.centrality computed a metric on snapshot 's'
 * (answers from the snapshot's score memo do not count). */
uint64_t tn_q_centrality_computed(const tn_snap_t *s);

/* The query called 'name', or NULL. */
const tn_query_def_t *tn_query_find(const char *name);
/* All queries; *n receives the count. */
const tn_query_def_t *tn_query_all(size_t *n);

/* The stop code for a flag value: TN_ERR_TIMEOUT or TN_ERR_CANCELLED. */
tn_code_t tn_query_stopped(const tn_qctx_t *ctx, tn_error_t *err);
/* Non-zero when ctx asks to stop. */
int tn_query_should_stop(const tn_qctx_t *ctx);

#endif
