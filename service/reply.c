/*
 * reply.c -- responses: encode into the server's reused buffer and queue
 * them on the connection, counting each in the latency histogram.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_internal.h"

uint64_t tn_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* ---- replies ---- */

void tn_reply_count(tn_server_t *srv, tn_code_t code, uint64_t t0) {
    uint64_t us = (tn_now_ns() - t0) / 1000;
    tn_stats_record(&srv->stats, us, code != TN_OK);
    tn_mstats_record(&srv->mstats, srv->cur_method, code, us);
    srv->cur_method = NULL;
}

void tn_reply_send_buffer(tn_conn_t *c, int rc) {
    tn_server_t *srv = c->srv;
    if (rc == 0)
        tn_conn_send(c, srv->obuf, srv->olen);
    srv->olen = 0;
}

void tn_reply_result(tn_conn_t *c, uint32_t msgid, const tn_val_t *result, uint64_t t0) {
    tn_server_t *srv = c->srv;
    srv->olen = 0;
    int rc = tn_rpc_encode_result(msgid, result, &srv->obuf, &srv->olen, &srv->ocap);
    if (rc != 0) {
        tn_error_t err = TN_ERROR_INIT;
        tn_error_set(&err, TN_ERR_INTERNAL, "out of memory encoding the result");
        tn_reply_error(c, msgid, &err, t0);
        return;
    }
    tn_reply_count(srv, TN_OK, t0);
    tn_reply_send_buffer(c, rc);
}

void tn_reply_error(tn_conn_t *c, uint32_t msgid, const tn_error_t *err, uint64_t t0) {
    tn_server_t *srv = c->srv;
    srv->olen = 0;
    int rc = tn_rpc_encode_error(msgid, err, &srv->obuf, &srv->olen, &srv->ocap);
    tn_reply_count(srv, err->code, t0);
    tn_reply_send_buffer(c, rc);
}

void tn_reply_code(tn_conn_t *c, uint32_t msgid, uint64_t t0, tn_code_t code,
                       const char *fmt, const char *arg) {
    tn_error_t err = TN_ERROR_INIT;
    tn_error_set(&err, code, fmt, arg);
    tn_reply_error(c, msgid, &err, t0);
}

int64_t tn_server_uptime_s(const tn_server_t *srv) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) (now.tv_sec - srv->started.tv_sec);
}

/* The server section of metrics.get: live counters, never cached. */
int tn_reply_server_metrics(tn_server_t *srv, tn_val_t *res) {
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
    return rc;
}

void tn_reply_query(tn_conn_t *c, uint32_t msgid, const char *method, const tn_val_t *result,
                        uint64_t t0) {
    if (strcmp(method, "metrics.get") != 0) {
        tn_reply_result(c, msgid, result, t0);
        return;
    }
    tn_val_t copy;
    if (tn_val_copy(&copy, result) != 0 || tn_reply_server_metrics(c->srv, &copy) != 0) {
        tn_val_free(&copy);
        tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
        return;
    }
    tn_reply_result(c, msgid, &copy, t0);
    tn_val_free(&copy);
}
