/*
 * server.c -- the listener, signals and the server's lifetime.
 *
 * One event loop thread owns every socket; the writer thread owns the live
 * model (writer.h); query
 * workers (jobs.c) own nothing but the job they run. Accept errors such as
 * EMFILE disable the listener for a moment instead of spinning (libevent's
 * listener would otherwise retry at once, forever), and SIGPIPE is ignored so a peer that resets mid-reply
 * cannot kill the process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "http.h"
#include "registry.h"
#include "dispatch.h"
#include "log.h"
#include "server.h"
#include "server_state.h"

#define LISTEN_BACKLOG 511

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg) {
    (void) l;
    (void) len;
    tn_server_t *srv = arg;
    char host[INET6_ADDRSTRLEN] = "?", peer[64];
    int port = 0;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *) sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    snprintf(peer, sizeof peer, "%s:%d", host, port);
    evutil_make_socket_nonblocking(fd);
    /* Replies are whole messages written at once: without this, the tail
     * segment of a large reply waits for the peer's delayed ACK (~40 ms). */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    tn_conn_accept(srv, fd, peer);
}

static void reenable_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    evconnlistener_enable(arg);
}

static void accept_error_cb(struct evconnlistener *l, void *arg) {
    tn_server_t *srv = arg;
    int e = EVUTIL_SOCKET_ERROR();
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        /* Out of descriptors: pause accepting for 200 ms rather than being
         * woken again at once by the same pending connection. */
        static const struct timeval pause = { 0, 200000 };
        evconnlistener_disable(l);
        event_base_once(srv->base, -1, EV_TIMEOUT, reenable_cb, l, &pause);
        tn_log(TN_LOG_WARN, "accept: %s; pausing the listener", strerror(e));
        return;
    }
    tn_log(TN_LOG_WARN, "accept: %s", strerror(e));
}

static void progress_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_dispatch_progress_tick(arg);
    tn_log_flush();                 /* counts of rate-limited log lines */
}

static void signal_cb(evutil_socket_t sig, short what, void *arg) {
    (void) what;
    tn_server_t *srv = arg;
    tn_log(TN_LOG_INFO, "signal %d: shutting down", (int) sig);
    event_base_loopexit(srv->base, NULL);
}

static int bind_listener(tn_server_t *srv, char *err, size_t errlen) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t slen;
    struct sockaddr_in *in = (struct sockaddr_in *) &ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
    if (inet_pton(AF_INET, srv->cfg.host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t) srv->cfg.port);
        slen = sizeof *in;
    } else if (inet_pton(AF_INET6, srv->cfg.host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t) srv->cfg.port);
        slen = sizeof *in6;
    } else {
        snprintf(err, errlen, "listen address '%s' is not a numeric IPv4 or IPv6 address",
                 srv->cfg.host);
        return -1;
    }
    srv->listener = evconnlistener_new_bind(srv->base, accept_cb, srv,
                                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE
                                                | LEV_OPT_CLOSE_ON_EXEC,
                                            LISTEN_BACKLOG, (struct sockaddr *) &ss, (int) slen);
    if (srv->listener == NULL) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", srv->cfg.host, srv->cfg.port,
                 strerror(errno));
        return -1;
    }
    evconnlistener_set_error_cb(srv->listener, accept_error_cb);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(evconnlistener_get_fd(srv->listener), (struct sockaddr *) &bound, &blen) == 0)
        srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &bound)->sin6_port
                                                      : ((struct sockaddr_in *) &bound)->sin_port);
    return 0;
}

tn_server_t *tn_server_new(const tn_config_t *cfg, tn_model_t *model, tn_store_t *store,
                           char *err, size_t errlen) {
    tn_server_t *srv = calloc(1, sizeof *srv);
    if (srv == NULL || (srv->writer = tn_writer_new(model, store)) == NULL) {
        free(srv);
        tn_store_close(store);
        tn_model_free(model);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->cfg = *cfg;
    srv->penalty = calloc(TN_AUTH_PENALTY_MAX, sizeof *srv->penalty);
    if (srv->penalty == NULL) {
        snprintf(err, errlen, "out of memory");
        tn_writer_free(srv->writer);
        free(srv);
        return NULL;
    }
    tn_error_t aerr = TN_ERROR_INIT;
    if (tn_writer_load_audit(srv->writer, &aerr) != TN_OK) {
        snprintf(err, errlen, "%s", aerr.message);
        tn_error_clear(&aerr);
        tn_writer_free(srv->writer);
        free(srv->penalty);
        free(srv);
        return NULL;
    }
    srv->snap = tn_writer_snapshot(srv->writer);
    srv->epoch = srv->snap->epoch;
    tn_cache_init(&srv->cache, srv->epoch);
    {
        /* A figures row per method of the registry (GET /metrics). */
        size_t n;
        const tn_method_t *all = tn_registry_all(&n);
        const char *names[128];
        if (n > 128)
            n = 128;
        for (size_t i = 0; i < n; i++)
            names[i] = all[i].name;
        if (tn_mstats_init(&srv->mstats, names, n) != 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        srv->stats.by_method = &srv->mstats;
    }
    clock_gettime(CLOCK_MONOTONIC, &srv->started);
    signal(SIGPIPE, SIG_IGN);
    /* Workers wake the loop with event_active(): that needs libevent's locks. */
    if (evthread_use_pthreads() != 0 || (srv->base = event_base_new()) == NULL) {
        snprintf(err, errlen, "cannot create the event loop");
        goto fail;
    }
    if (bind_listener(srv, err, errlen) != 0)
        goto fail;
    srv->jobs = tn_jobs_start(srv->base, cfg->max_queued, tn_dispatch_job_done, srv,
                              tn_writer_batch, tn_writer_tick, srv->writer);
    if (srv->jobs == NULL) {
        snprintf(err, errlen, "cannot start the query workers");
        goto fail;
    }
    srv->sigint = evsignal_new(srv->base, SIGINT, signal_cb, srv);
    srv->sigterm = evsignal_new(srv->base, SIGTERM, signal_cb, srv);
    if (!srv->sigint || !srv->sigterm || evsignal_add(srv->sigint, NULL) != 0
        || evsignal_add(srv->sigterm, NULL) != 0) {
        snprintf(err, errlen, "cannot install signal handlers");
        goto fail;
    }
    static const struct timeval every = { 0, 200000 };
    srv->progress_timer = event_new(srv->base, -1, EV_PERSIST, progress_cb, srv);
    if (srv->progress_timer == NULL || event_add(srv->progress_timer, &every) != 0) {
        snprintf(err, errlen, "cannot start the progress timer");
        goto fail;
    }
    if (cfg->http_port >= 0) {
        char herr[256];
        srv->http = tn_http_start(srv, herr, sizeof herr);
        if (srv->http == NULL && cfg->http_required) {
            snprintf(err, errlen, "%s", herr);
            goto fail;
        }
        if (srv->http == NULL)
            tn_log(TN_LOG_WARN, "%s; serving without the HTTP port (--http HOST:PORT or none)", herr);
    }
    if (cfg->port_file) {
        FILE *f = fopen(cfg->port_file, "w");
        if (f == NULL || fprintf(f, "%d\n", srv->port) < 0 || fclose(f) != 0) {
            snprintf(err, errlen, "cannot write the port file %s", cfg->port_file);
            goto fail;
        }
    }
    return srv;
fail:
    tn_server_free(srv);
    return NULL;
}

int tn_server_port(const tn_server_t *srv) {
    return srv->port;
}

int tn_server_run(tn_server_t *srv) {
    tn_log(TN_LOG_INFO, "listening on %s:%d (home %s, epoch %llu, %zu nodes, %zu pairs, data %s, fsync %s)",
           srv->cfg.host, srv->port, tn_writer_home(srv->writer), (unsigned long long) srv->epoch,
           srv->snap->nnodes, srv->snap->npairs,
           tn_writer_data_dir(srv->writer) ? tn_writer_data_dir(srv->writer) : "in memory",
           tn_writer_fsync(srv->writer));
    return event_base_dispatch(srv->base) < 0 ? -1 : 0;
}

void tn_server_free(tn_server_t *srv) {
    if (srv == NULL)
        return;
    /* Workers first: they may still hold jobs that point at the loop. Every
     * job still in srv->live is one they held (waiting, running, or finished
     * but not yet handed back), and tn_jobs_stop has freed it: the list only
     * indexed them, so forget it rather than free them a second time. */
    tn_jobs_stop(srv->jobs);
    srv->jobs = NULL;
    srv->live = NULL;
    tn_conn_close_all(srv);
    while (srv->nsubs > 0)
        tn_caller_release(srv->subs[--srv->nsubs]);
    free(srv->subs);
    /* After the workers and subscriptions: they may hold HTTP callers. */
    tn_http_free(srv->http);
    srv->http = NULL;
    if (srv->listener)
        evconnlistener_free(srv->listener);
    if (srv->sigint)
        event_free(srv->sigint);
    if (srv->sigterm)
        event_free(srv->sigterm);
    if (srv->progress_timer)
        event_free(srv->progress_timer);
    tn_cache_destroy(&srv->cache);
    tn_snap_release(srv->snap);
    if (srv->base)
        event_base_free(srv->base);
    tn_writer_free(srv->writer);
    free(srv->obuf);
    free(srv->penalty);
    tn_mstats_free(&srv->mstats);
    free(srv);
}
