/*
 * m_server.c -- the constant-time methods about the server itself:
 * server.ping, server.info, server.save, audit.list, metrics.subscribe,
 * and the live figures metrics.get adds to its cached part.
 */
#include <stdlib.h>

#include "handlers.h"
#include "writes.h"

int64_t tn_server_uptime_s(const tn_server_t *srv) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) (now.tv_sec - srv->started.tv_sec);
}

void tn_m_server_ping(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    (void) srv;
    (void) opts;
    tn_val_t v = TN_VAL_NIL;
    if (tn_val_set_str(&v, "pong") != 0)
        return tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
    tn_reply_result(call, &v);
    tn_val_free(&v);
}

void tn_m_server_info(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    (void) opts;
    tn_val_t res = TN_VAL_NIL;
    int rc = tn_val_set_map(&res, 8);
    rc |= tn_map_add_str(&res, "version", TN_VERSION);
    rc |= tn_map_add_int(&res, "uptime_s", tn_server_uptime_s(srv));
    rc |= tn_map_add_int(&res, "epoch", (int64_t) srv->epoch);
    rc |= tn_map_add_str(&res, "home", tn_writer_home(srv->writer));
    rc |= tn_map_add_int(&res, "connections", (int64_t) srv->nconns);
    /* Without --data the server runs in memory: data_dir nil, fsync "none". */
    rc |= tn_map_add_str(&res, "data_dir", tn_writer_data_dir(srv->writer));
    rc |= tn_map_add_str(&res, "fsync", tn_writer_fsync(srv->writer));
    if (rc != 0)
        tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(call, &res);
    tn_val_free(&res);
}

/* server.time: {"epoch", "unix_ms"}, so a client can date what it read. */
typedef struct server_time {
    uint64_t epoch;
    int64_t unix_ms;
} server_time_t;

static void server_time_compute(const tn_server_t *srv, server_time_t *t) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    t->epoch = srv->epoch;
    t->unix_ms = (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int server_time_encode(const server_time_t *t, tn_val_t *out) {
    return tn_val_set_map(out, 2) | tn_map_add_int(out, "epoch", (int64_t) t->epoch)
           | tn_map_add_int(out, "unix_ms", t->unix_ms);
}

void tn_m_server_time(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    (void) opts;
    server_time_t t;
    tn_val_t res = TN_VAL_NIL;
    server_time_compute(srv, &t);
    if (server_time_encode(&t, &res) != 0)
        tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(call, &res);
    tn_val_free(&res);
}

void tn_m_server_save(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    (void) opts;
    tn_val_t none = TN_VAL_NIL;
    tn_writes_submit(srv, call, "server.save", TN_JOB_SAVE, TN_CHANGE_BATCH, &none);
}

void tn_m_audit_list(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    tn_val_t res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    if (tn_writer_audit_list(srv->writer, opts, &res, &err) != TN_OK)
        tn_reply_error(call, &err);
    else
        tn_reply_result(call, &res);
    tn_val_free(&res);
    tn_error_clear(&err);
}

void tn_m_metrics_subscribe(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    (void) opts;
    tn_caller_t *c = call->caller;
    if (!c->subscribed) {
        if (srv->nsubs == srv->subs_cap) {
            size_t ncap = srv->subs_cap ? srv->subs_cap * 2 : 16;
            tn_caller_t **p = realloc(srv->subs, ncap * sizeof *p);
            if (p == NULL)
                return tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
            srv->subs = p;
            srv->subs_cap = ncap;
        }
        srv->subs[srv->nsubs++] = c;
        tn_caller_retain(c);
        c->subscribed = 1;
    }
    tn_m_reply_true(call, "subscribed");
}

void tn_m_reply_true(const tn_call_t *call, const char *key) {
    tn_val_t res = TN_VAL_NIL;
    if (tn_val_set_map(&res, 1) != 0 || tn_map_add_bool(&res, key, 1) != 0)
        tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(call, &res);
    tn_val_free(&res);
}

void tn_m_unsubscribe(tn_server_t *srv, tn_caller_t *c) {
    for (size_t i = 0; i < srv->nsubs; i++)
        if (srv->subs[i] == c) {
            srv->subs[i] = srv->subs[--srv->nsubs];
            c->subscribed = 0;
            tn_caller_release(c);
            return;
        }
}

int tn_m_live_figures(tn_server_t *srv, tn_val_t *res) {
    tn_val_t s = TN_VAL_NIL, lat = TN_VAL_NIL;
    int rc = tn_val_set_map(&s, 5) | tn_val_set_map(&lat, 2);
    rc |= tn_map_add_int(&s, "uptime_s", tn_server_uptime_s(srv));
    rc |= tn_map_add_int(&s, "connections", (int64_t) srv->nconns);
    rc |= tn_map_add_int(&s, "requests_total", (int64_t) srv->stats.requests_total);
    rc |= tn_map_add_int(&s, "errors_total", (int64_t) srv->stats.errors_total);
    rc |= tn_map_add_int(&lat, "p50", (int64_t) tn_stats_quantile(&srv->stats, 0.50));
    rc |= tn_map_add_int(&lat, "p99", (int64_t) tn_stats_quantile(&srv->stats, 0.99));
    rc |= tn_map_add_take(&s, "latency_us", &lat);
    rc |= tn_map_add_take(res, "server", &s);
    tn_val_free(&lat);
    tn_val_free(&s);
    return rc;
}
