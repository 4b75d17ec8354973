/*
 * registry.h -- the method registry: one entry per method, and everything
 * the service does by method is derived from it: dispatch, the role check,
 * option validation, server.methods (and through it the CLI's help), the
 * cache policy and the queue a query runs on.
 *
 * Read queries are declared once, in graph/'s query table (query.h), since
 * graph/ code runs them by name too; the registry takes them from there
 * (role "read", kind query). Every other method has its entry in
 * registry.c. No other code compares a method name.
 */
#ifndef TN_REGISTRY_H
#define TN_REGISTRY_H

#include <stddef.h>

#include "model.h"
#include "opts.h"
#include "query.h"
#include "reply.h"

typedef struct tn_server tn_server_t;

typedef enum tn_method_kind {
    TN_MK_INLINE = 0,             /* answered on the loop at once */
    TN_MK_QUERY,                  /* a read query job over the epoch's snapshot */
    TN_MK_CHANGE,                 /* a change through the writer */
    TN_MK_IMPORT                  /* a step of a streamed import (on the loop) */
} tn_method_kind_t;

/* Entry flags. */
#define TN_MF_CACHE  1u           /* answers are kept per epoch */
#define TN_MF_IGRAPH 2u           /* may need the igraph thread (see tn_registry_queue) */
#define TN_MF_SLOW   4u           /* may take long: deadline_ms, progress, cancel */
#define TN_MF_LIVE   8u           /* the answer gets the server's live figures added,
                                     and if_epoch equal to the epoch is answered at once */

/* An inline or import method: validated options, answer through 'call'. */
typedef void tn_method_fn(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);

typedef struct tn_method {
    const char *name;
    int role;                     /* least role (auth.h); TN_ROLE_NONE: callable before auth */
    tn_method_kind_t kind;
    const tn_opt_spec_t *opts;    /* option schema */
    unsigned flags;               /* TN_MF_... */
    const char *description;      /* one line */
    tn_method_fn *fn;             /* TN_MK_INLINE, TN_MK_IMPORT */
    const tn_query_def_t *query;  /* TN_MK_QUERY */
    tn_change_kind_t change;      /* TN_MK_CHANGE */
} tn_method_t;

/* The method called 'name', or NULL. Thread-safe (the table is built
 * once, on first use). */
const tn_method_t *tn_registry_find(const char *name);
/* Every method in the protocol's order; *n receives the count. */
const tn_method_t *tn_registry_all(size_t *n);

/* The change kind of a journalled method name: 0 and *kind set, or -1
 * when 'name' is not a change method. */
int tn_registry_change_kind(const char *name, tn_change_kind_t *kind);

/* Check a request's options against the entry's schema. */
tn_code_t tn_registry_validate(const tn_method_t *m, const tn_val_t *opts, tn_error_t *err);

/* Does this query call, with these options, run on the igraph thread? */
int tn_registry_needs_igraph(const tn_method_t *m, const tn_val_t *opts);

/* server.methods: {"items": [{name, role, params, slow, description,
 * options}]}. 0, or -1 on out-of-memory. */
int tn_registry_describe(tn_val_t *out);

#endif
