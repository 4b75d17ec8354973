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
#include "server_internal.h"

struct evhttp;
struct evhttp_request;
struct evhttp_connection;
struct evhttp_bound_socket;

/* A request waiting for a job (an /api query, or /metrics waiting for the
 * graph gauges). 'req' is NULL once the client has gone. */
typedef struct http_pending {
    struct http_pending *next;
    uint64_t id;                       /* the job's conn_id (from srv->next_conn_id) */
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    tn_job_t *job;                     /* NULL: waits for the gauges job */
    const char *method;                /* stats row; static storage */
    uint64_t t0;
} http_pending_t;

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
    http_pending_t *pending;
    /* Graph gauges for /metrics, computed on a worker once per epoch. */
    tn_val_t gauges;
    uint64_t gauges_epoch;
    int have_gauges;
    uint64_t gauges_job;               /* id of the job computing them; 0: none */
};

/* http.c: replies. 'body' is copied. */
void tn_http_send(struct evhttp_request *req, int status, const char *ctype, const char *body,
                  size_t len);
/* {"error": {"code", "message"}} with the status for the code. */
void tn_http_send_error(struct evhttp_request *req, tn_code_t code, const char *message);
int tn_http_status_of(tn_code_t code);
http_pending_t *tn_http_pending_add(tn_http_t *h, struct evhttp_request *req, const char *method,
                                    uint64_t t0);
/* Unlink and free 'p' (not its job). */
void tn_http_pending_drop(tn_http_t *h, http_pending_t *p);

/* http_api.c */
void tn_http_api(tn_http_t *h, struct evhttp_request *req, const char *method, const char *query);
/* A finished /api job ('p' is its request). Frees the job and 'p'. */
void tn_http_api_done(tn_http_t *h, http_pending_t *p, tn_job_t *job);
/* Submit a query job for 'def' and 'opts' (copied) on behalf of 'p';
 * deadline_ms 0: the configured default. TN_OK or busy/internal. */
tn_code_t tn_http_submit(tn_http_t *h, http_pending_t *p, const tn_query_def_t *def,
                         const tn_val_t *opts, char *cache_key, int deadline_ms, tn_error_t *err);

/* http_prom.c */
void tn_http_metrics(tn_http_t *h, struct evhttp_request *req);
/* The gauges job came back: keep its result and answer waiting requests. */
void tn_http_gauges_done(tn_http_t *h, tn_job_t *job);

/* http_assets.c (generated at build time from clients/web) */
typedef struct tn_http_asset {
    const char *path;                  /* "/", "/assets/app.js" */
    const char *type;                  /* Content-Type */
    const unsigned char *data;
    size_t len;
} tn_http_asset_t;
const tn_http_asset_t *tn_http_asset_find(const char *path);

#endif
