/*
 * http.c -- the HTTP side port: binding, routing, access, limits and the
 * /events stream (http.h). /api, /metrics and the page are in http_api.c,
 * http_prom.c and the generated http_assets.c.
 *
 * Access follows the RPC port: without a token file the port is loopback
 * only (main.c refuses any other address) and every client may read; with
 * one, /api, /metrics and /events need "Authorization: Bearer <token>" of
 * any role (all roles may read; nothing here writes). /healthz and the
 * page's static files carry no data and are open.
 *
 * Limits: evhttp bounds the request line plus headers and the body, and
 * closes a client idle or stalled for http_timeout_s. Connections are
 * counted from their first request (libevent 2.1's evhttp offers no hook at
 * accept); past http_max_connections a client gets 503 and is closed.
 * /events clients are capped too, and one whose unsent events pile up is
 * dropped rather than buffered without bound.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "auth.h"
#include "http_internal.h"
#include "log.h"

#define HTTP_MAX_HEADERS 8192          /* request line + headers */
#define HTTP_MAX_BODY 1024             /* GET only: any body is refused above this */
#define SSE_MAX_UNSENT (256u << 10)    /* an /events client this far behind is dropped */
#define SSE_KEEPALIVE_S 10

/* ---- replies ---- */

int tn_http_status_of(tn_code_t code) {
    switch (code) {
    case TN_OK: return 200;
    case TN_ERR_UNAUTHORIZED: return 401;
    case TN_ERR_FORBIDDEN: return 403;
    case TN_ERR_NOT_FOUND:
    case TN_ERR_METHOD_NOT_FOUND: return 404;
    case TN_ERR_BUSY:
    case TN_ERR_UNAVAILABLE:
    case TN_ERR_TIMEOUT:
    case TN_ERR_CANCELLED: return 503;
    case TN_ERR_INTERNAL: return 500;
    case TN_ERR_CONFLICT: return 409;
    default: return 400;
    }
}

static const char *reason_of(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

void tn_http_send(struct evhttp_request *req, int status, const char *ctype, const char *body,
                  size_t len) {
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", ctype);
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    struct evbuffer *buf = evbuffer_new();
    if (buf == NULL || (len > 0 && evbuffer_add(buf, body, len) != 0)) {
        if (buf)
            evbuffer_free(buf);
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    evhttp_send_reply(req, status, reason_of(status), buf);
    evbuffer_free(buf);
}

void tn_http_send_error(struct evhttp_request *req, tn_code_t code, const char *message) {
    tn_val_t root = TN_VAL_NIL, e = TN_VAL_NIL;
    int rc = tn_val_set_map(&root, 1) | tn_val_set_map(&e, 2);
    rc |= tn_map_add_str(&e, "code", tn_code_name(code));
    rc |= tn_map_add_str(&e, "message", message);
    rc |= tn_map_add_take(&root, "error", &e);
    char *json = rc == 0 ? tn_val_to_json(&root) : NULL;
    tn_val_free(&root);
    if (json == NULL) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    tn_http_send(req, tn_http_status_of(code), "application/json", json, strlen(json));
    free(json);
}

/* ---- connections ---- */

static void sse_remove(tn_http_t *h, size_t i) {
    h->sse[i] = h->sse[--h->nsse];
}

/* A request of a connection that failed while we still owed it an answer
 * (or were streaming it) is detached from the connection by evhttp and
 * left for us to free; the connection's own requests it frees itself. */
static void forget_request(struct evhttp_request *req) {
    if (req != NULL && evhttp_request_get_connection(req) == NULL)
        evhttp_request_free(req);
}

/* evhttp is about to free 'evcon' and its requests: forget them. */
static void conn_closed(struct evhttp_connection *evcon, void *arg) {
    tn_http_t *h = arg;
    for (size_t i = 0; i < h->nconns; i++)
        if (h->conns[i] == evcon) {
            h->conns[i] = h->conns[--h->nconns];
            break;
        }
    for (size_t i = h->nsse; i-- > 0;)
        if (h->sse[i].evcon == evcon) {
            forget_request(h->sse[i].req);
            sse_remove(h, i);
        }
    for (http_waiting_t **pp = &h->waiting; *pp;) {
        http_waiting_t *w = *pp;
        if (w->evcon == evcon) {
            *pp = w->next;
            forget_request(w->req);
            free(w);
        } else {
            pp = &w->next;
        }
    }
    tn_http_callers_gone(h, evcon);
}

/* Count the connection on its first request; 0 if it is over the limit. */
static int admit(tn_http_t *h, struct evhttp_request *req) {
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    for (size_t i = 0; i < h->nconns; i++)
        if (h->conns[i] == evcon)
            return 1;
    if (h->nconns >= h->srv->cfg.http_max_connections) {
        h->rejected++;
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        tn_http_send_error(req, TN_ERR_BUSY, "too many HTTP connections; try again shortly");
        return 0;
    }
    h->conns[h->nconns++] = evcon;
    h->accepted++;
    evhttp_connection_set_closecb(evcon, conn_closed, h);
    return 1;
}

/* A client whose output we will not buffer any more: shut the socket so
 * evhttp sees the error and frees the connection itself (freeing it from
 * here could pull it from under evhttp). */
static void drop_client(struct evhttp_connection *evcon) {
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

/* ---- access ---- */

/* 1 if the request may read; otherwise it has been answered 401. */
static int authorized(tn_http_t *h, struct evhttp_request *req) {
    const tn_auth_t *auth = h->srv->cfg.auth;
    if (auth == NULL)
        return 1;                     /* loopback only, like the RPC port */
    const char *a = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    const char *peer = "?";
    ev_uint16_t port = 0;
    char *host = NULL;
    evhttp_connection_get_peer(evhttp_request_get_connection(req), &host, &port);
    if (host)
        peer = host;
    if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                          "Bearer realm=\"twinnet\"");
        tn_http_send_error(req, TN_ERR_UNAUTHORIZED,
                           "send a token: Authorization: Bearer <token>");
        return 0;
    }
    const char *tok = a + 7;
    while (*tok == ' ')
        tok++;
    const char *name;
    int role = tn_auth_check(auth, tok, strlen(tok), &name);
    if (role == TN_ROLE_NONE) {
        /* Never log the token. */
        tn_log(TN_LOG_WARN, "http: invalid token from %s", peer);
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                          "Bearer realm=\"twinnet\", error=\"invalid_token\"");
        tn_http_send_error(req, TN_ERR_UNAUTHORIZED, "invalid token");
        return 0;
    }
    return 1;                         /* read is the least role: every token may read */
}

/* ---- /events ---- */

static void sse_send(tn_http_t *h, const char *text) {
    for (size_t i = h->nsse; i-- > 0;) {
        struct bufferevent *bev = evhttp_connection_get_bufferevent(h->sse[i].evcon);
        if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > SSE_MAX_UNSENT) {
            tn_log(TN_LOG_WARN, "http: dropping an /events client that does not read");
            struct evhttp_connection *evcon = h->sse[i].evcon;
            sse_remove(h, i);
            drop_client(evcon);
            continue;
        }
        struct evbuffer *b = evbuffer_new();
        if (b == NULL)
            continue;
        evbuffer_add(b, text, strlen(text));
        evhttp_send_reply_chunk(h->sse[i].req, b);
        evbuffer_free(b);
    }
}

void tn_http_epoch_changed(tn_http_t *h, uint64_t epoch) {
    if (h == NULL || h->nsse == 0)
        return;
    char text[160];
    snprintf(text, sizeof text, "id: %" PRIu64 "\nevent: epoch\ndata: {\"type\":\"epoch\",\"epoch\":%" PRIu64 "}\n\n",
             epoch, epoch);
    sse_send(h, text);
}

static void keepalive_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_http_t *h = arg;
    if (h->nsse > 0)
        sse_send(h, ": keepalive\n\n");
}

static void events(tn_http_t *h, struct evhttp_request *req) {
    if (h->nsse >= h->srv->cfg.http_max_events) {
        tn_http_send_error(req, TN_ERR_BUSY, "too many /events clients; try again shortly");
        return;
    }
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", "text/event-stream");
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "X-Accel-Buffering", "no");
    evhttp_send_reply_start(req, 200, "OK");
    h->sse[h->nsse].req = req;
    h->sse[h->nsse].evcon = evhttp_request_get_connection(req);
    h->nsse++;
    /* The stream itself keeps the connection busy: evhttp's idle timeout
     * must not close it (keep-alive comments detect a dead client). */
    evhttp_connection_set_timeout(h->sse[h->nsse - 1].evcon, -1);
    char text[96];
    snprintf(text, sizeof text, "retry: 3000\n: connected at epoch %" PRIu64 "\n\n", h->srv->epoch);
    struct evbuffer *b = evbuffer_new();
    if (b) {
        evbuffer_add(b, text, strlen(text));
        evhttp_send_reply_chunk(req, b);
        evbuffer_free(b);
    }
}

/* ---- routing ---- */

static void page(struct evhttp_request *req, const char *path) {
    const tn_http_asset_t *a = tn_http_asset_find(path);
    if (a == NULL) {
        tn_http_send_error(req, TN_ERR_NOT_FOUND, "no such page");
        return;
    }
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    /* The page and its scripts come from this server only. */
    evhttp_add_header(out, "Content-Security-Policy",
                      "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
    evhttp_add_header(out, "X-Frame-Options", "DENY");
    tn_http_send(req, 200, a->type, (const char *) a->data, a->len);
}

static void handle(struct evhttp_request *req, void *arg) {
    tn_http_t *h = arg;
    if (!admit(h, req))
        return;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        static const char body[] =
            "{\"error\":{\"code\":\"forbidden\",\"message\":\"the HTTP port is read-only: GET only\"}}";
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        tn_http_send(req, 405, "application/json", body, sizeof body - 1);
        return;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
    char *path = raw ? evhttp_uridecode(raw, 0, NULL) : NULL;
    if (path == NULL) {
        tn_http_send_error(req, TN_ERR_INVALID_REQUEST, "malformed request target");
        return;
    }
    const char *query = evhttp_uri_get_query(uri);
    if (strcmp(path, "/healthz") == 0) {
        tn_http_send(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
    } else if (strcmp(path, "/metrics") == 0) {
        if (authorized(h, req))
            tn_http_metrics(h, req);
    } else if (strcmp(path, "/events") == 0) {
        if (authorized(h, req))
            events(h, req);
    } else if (strncmp(path, "/api/", 5) == 0) {
        if (authorized(h, req))
            tn_http_api(h, req, path + 5, query);
    } else {
        page(req, path);
    }
    free(path);
}

tn_http_t *tn_http_start(tn_server_t *srv, char *err, size_t errlen) {
    const tn_config_t *cfg = &srv->cfg;
    tn_http_t *h = calloc(1, sizeof *h);
    if (h == NULL || (h->conns = calloc(cfg->http_max_connections, sizeof *h->conns)) == NULL
        || (h->sse = calloc(cfg->http_max_events ? cfg->http_max_events : 1, sizeof *h->sse)) == NULL
        || (h->eh = evhttp_new(srv->base)) == NULL) {
        snprintf(err, errlen, "out of memory");
        tn_http_free(h);
        return NULL;
    }
    h->srv = srv;
    evhttp_set_max_headers_size(h->eh, HTTP_MAX_HEADERS);
    evhttp_set_max_body_size(h->eh, HTTP_MAX_BODY);
    evhttp_set_timeout(h->eh, cfg->http_timeout_s);
    /* Every method reaches the handler, which answers all but GET and
     * HEAD with a JSON 405 (evhttp's own would be HTML). */
    evhttp_set_allowed_methods(h->eh, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST
                                          | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH
                                          | EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(h->eh, handle, h);
    h->sock = evhttp_bind_socket_with_handle(h->eh, cfg->http_host, (ev_uint16_t) cfg->http_port);
    if (h->sock == NULL) {
        snprintf(err, errlen, "cannot listen for HTTP on %s:%d", cfg->http_host, cfg->http_port);
        tn_http_free(h);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(evhttp_bound_socket_get_fd(h->sock), (struct sockaddr *) &ss, &sl) == 0)
        h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                                 : ((struct sockaddr_in *) &ss)->sin_port);
    static const struct timeval every = { SSE_KEEPALIVE_S, 0 };
    h->keepalive = event_new(srv->base, -1, EV_PERSIST, keepalive_cb, h);
    if (h->keepalive == NULL || event_add(h->keepalive, &every) != 0) {
        snprintf(err, errlen, "cannot start the /events keep-alive timer");
        tn_http_free(h);
        return NULL;
    }
    if (cfg->http_port_file) {
        FILE *f = fopen(cfg->http_port_file, "w");
        if (f == NULL || fprintf(f, "%d\n", h->port) < 0 || fclose(f) != 0) {
            snprintf(err, errlen, "cannot write the HTTP port file %s", cfg->http_port_file);
            tn_http_free(h);
            return NULL;
        }
    }
    tn_log(TN_LOG_INFO, "HTTP on %s:%d (dashboard, /metrics, /api, /events)", cfg->http_host, h->port);
    return h;
}

int tn_http_port(const tn_http_t *h) {
    return h ? h->port : -1;
}

void tn_http_free(tn_http_t *h) {
    if (h == NULL)
        return;
    if (h->keepalive)
        event_free(h->keepalive);
    if (h->eh)
        evhttp_free(h->eh);           /* runs conn_closed for each connection */
    while (h->waiting) {
        http_waiting_t *w = h->waiting;
        h->waiting = w->next;
        free(w);
    }
    /* Callers still referenced (none once the workers have stopped) keep
     * working without us: they no longer point here. */
    for (http_caller_t *c = h->callers; c; c = c->next) {
        c->h = NULL;
        c->req = NULL;
        c->base.closed = 1;
    }
    tn_val_free(&h->g_metrics);
    tn_val_free(&h->g_units);
    free(h->conns);
    free(h->sse);
    free(h);
}
