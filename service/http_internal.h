/*
 * http_internal.h -- what the HTTP files share (http.c: the port, routing,
 * access, limits, /events; http_api.c: /api/<method>; http_prom.c:
 * /metrics; http_assets.c: the embedded dashboard). Not for other modules.
 */
#ifndef TN_HTTP_INTERNAL_H
#define TN_HTTP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "http.h"
#include "caller.h"
#include "server_state.h"

struct evhttp;
struct evhttp_request;
struct evhttp_connection;
struct evhttp_bound_socket;

/* One /api request (or an internal call for the graph gauges), as a
 * caller of the dispatcher (caller.h). It lives until its last reference
 * is dropped; 'req' is NULL once answered or once the client has gone. */
typedef struct http_caller {
    tn_caller_t base;                  /* first: all the dispatcher sees */
    struct tn_http *h;
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    int gauge;                         /* -1: an /api request; 0, 1: which gauges call */
    struct http_caller *prev, *next;   /* h->callers */
} http_caller_t;

/* A /metrics request waiting for the graph gauges. */
typedef struct http_waiting {
    struct http_waiting *next;
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
} http_waiting_t;

typedef struct http_sse {
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
} http_sse_t;

struct tn_http {
    tn_server_t *srv;
    struct evhttp *eh;
    struct evhttp_bound_socket *sock;
    int port;
    struct evhttp_connection **conns;  /* open connections (the limit) */
    size_t nconns;
    uint64_t rejected;                 /* refused over the connection limit */
    uint64_t accepted;
    http_sse_t *sse;
    size_t nsse;
    struct event *keepalive;
    http_caller_t *callers;            /* callers not yet destroyed */
    http_waiting_t *waiting;
    /* Graph gauges for /metrics: metrics.get and coverage by unit, asked
     * through the dispatcher once per epoch (workers compute them, the
     * cache keeps them). */
    tn_val_t g_metrics, g_units;
    int g_pending;                     /* calls under way */
    uint64_t gauges_epoch;
    int have_gauges;
};

/* http.c: replies. 'body' is copied. */
void tn_http_send(struct evhttp_request *req, int status, const char *ctype, const char *body,
                  size_t len);
/* {"error": {"code", "message"}} with the status for the code. */
void tn_http_send_error(struct evhttp_request *req, tn_code_t code, const char *message);
int tn_http_status_of(tn_code_t code);
/* A new caller for 'req' (NULL for an internal call), with read rights
 * and one reference (the creator's). */
http_caller_t *tn_http_caller_new(tn_http_t *h, struct evhttp_request *req, int gauge);
/* The client of 'evcon' has gone: its callers are closed, their jobs stopped. */
void tn_http_callers_gone(tn_http_t *h, struct evhttp_connection *evcon);

/* http_api.c */
void tn_http_api(tn_http_t *h, struct evhttp_request *req, const char *method, const char *query);

/* http_prom.c */
void tn_http_metrics(tn_http_t *h, struct evhttp_request *req);
/* A gauges call's answer (NULL: it failed). */
void tn_http_gauge_answer(tn_http_t *h, int which, const tn_val_t *result);

/* http_assets.c (generated at build time from clients/web) */
typedef struct tn_http_asset {
    const char *path;                  /* "/", "/assets/app.js" */
    const char *type;                  /* Content-Type */
    const unsigned char *data;
    size_t len;
} tn_http_asset_t;
const tn_http_asset_t *tn_http_asset_find(const char *path);

#endif
