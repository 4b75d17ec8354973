/*
 * http.h -- the HTTP side port (the protocol reference, "HTTP side port"):
 * GET /healthz, /metrics (Prometheus text), /api/<read method>, /events
 * (Server-Sent Events) and the dashboard page, on the server's event loop
 * with libevent's evhttp. Read-only: no change can be made over HTTP.
 *
 * The loop thread owns everything here. Queries run as jobs on the same
 * workers as RPC queries and share the per-epoch result cache.
 */
#ifndef TN_HTTP_H
#define TN_HTTP_H

#include <stdint.h>

struct tn_server;
struct tn_job;
typedef struct tn_http tn_http_t;

/* Bind cfg->http_host:http_port on the server's loop. NULL with a message
 * in 'err' on failure. */
tn_http_t *tn_http_start(struct tn_server *srv, char *err, size_t errlen);
/* Close every HTTP connection and free the port (before the workers stop). */
void tn_http_free(tn_http_t *h);
int tn_http_port(const tn_http_t *h);

/* An epoch was applied: one "epoch" event to every /events client.
 * 'h' may be NULL. */
void tn_http_epoch_changed(tn_http_t *h, uint64_t epoch);

/* A finished job: 1 if it was an HTTP request's (then it is answered and
 * freed here), 0 if not. 'h' may be NULL. */
int tn_http_job_done(tn_http_t *h, struct tn_job *job);

#endif
