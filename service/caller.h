/*
 * caller.h -- whoever asked: the narrow interface between the methods and
 * the transport a request arrived on (a msgpack-RPC connection, conn.c;
 * an HTTP request could be another).
 *
 * Methods answer only through these operations (reply.h wraps them) and
 * never see the transport's own struct. A caller is reference counted on
 * the loop thread: each job in flight and each subscription holds a
 * reference, so a transport that goes away is marked closed and freed
 * only when the last reference is dropped; answers for a closed caller are
 * dropped. Nothing is ever looked up again by id to see whether it still
 * exists.
 */
#ifndef TN_CALLER_H
#define TN_CALLER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

struct event;
struct tn_import;
struct tn_server;
typedef struct tn_caller tn_caller_t;

typedef struct tn_caller_ops {
    /* The answer to request 'msgid': a value tree, a result already
     * encoded as one MessagePack object (a cached answer), or an error. */
    void (*result)(tn_caller_t *c, uint32_t msgid, const tn_val_t *result);
    void (*result_encoded)(tn_caller_t *c, uint32_t msgid, const char *enc, size_t len);
    void (*error)(tn_caller_t *c, uint32_t msgid, const tn_error_t *err);
    /* A notification (events, progress). NULL: the transport has none. */
    void (*notify)(tn_caller_t *c, const char *method, const tn_val_t *params);
    /* One of its jobs was answered (flow control). May be NULL. */
    void (*answered)(tn_caller_t *c);
    /* Read no more requests for now / again (auth pacing); hang up once
     * what was sent has gone out. May be NULL. */
    void (*pause)(tn_caller_t *c);
    void (*resume)(tn_caller_t *c);
    void (*hang_up)(tn_caller_t *c);
    /* The last reference is gone: free the transport's memory. */
    void (*destroy)(tn_caller_t *c);
} tn_caller_ops_t;

struct tn_caller {
    const tn_caller_ops_t *ops;
    struct tn_server *srv;        /* the server it calls */
    int refs;                     /* loop thread only */
    int closed;                   /* the transport is gone: answers are dropped */
    char peer[64];                /* address, for logs and the audit trail */
    char token_name[64];          /* who authenticated ("" = nobody) */
    const char *role_name;        /* "read", "write", "admin" */
    int role;                     /* auth.h roles */
    size_t jobs_in_flight;        /* answers owed by workers */
    int subscribed;               /* metrics.subscribe */
    /* Failed-auth pacing (m_auth.c). */
    int auth_failures;
    int preauth_refused;          /* calls refused before auth (hung up after a few) */
    int auth_pending;             /* a failed auth's reply is being held back */
    uint32_t auth_msgid;
    uint64_t auth_t0;
    struct event *auth_timer;
    /* Streamed imports staged for this caller (imports.c). */
    struct tn_import *imports;
    size_t nimports;
};

static inline void tn_caller_retain(tn_caller_t *c) {
    c->refs++;
}

static inline void tn_caller_release(tn_caller_t *c) {
    if (c != NULL && --c->refs == 0)
        c->ops->destroy(c);
}

#endif
