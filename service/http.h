/*
 * http.h -- the HTTP side port (the protocol reference, "HTTP side port"):
 * GET /healthz, /metrics (Prometheus text), /api/<read method>, /events
 * (Server-Sent Events) and the dashboard page, on the server's event loop
 * with libevent's evhttp. Read-only: no change can be made over HTTP.
 *
 * The loop thread owns everything here. An /api request is a caller of
 * the same dispatcher as an RPC request (caller.h): same registry, option
 * checks, workers, deadlines and per-epoch cache.
 */
#ifndef TN_HTTP_H
#define TN_HTTP_H

#include <stdint.h>

struct tn_server;
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

#endif
