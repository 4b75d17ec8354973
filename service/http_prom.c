/*
 * http_prom.c -- GET /metrics: the Prometheus text exposition format 0.0.4.
 *
 * Server figures (answers by method and code, latency histograms,
 * connections, cache, jobs, epoch) are read on the loop at once. The graph
 * gauges planners watch (pairs, covered countries, coverage per region,
 * idle units) need a pass over the snapshot, so they are asked once per
 * epoch from the dispatcher like any request (metrics.get and coverage by
 * unit, computed on a worker) and kept; a scrape after a change waits for
 * those two answers.
 *
 * Label values are bounded: methods come from the method registry (plus
 * "other"), codes from the error table, regions from the five UN regions
 * (a region outside them is not exported), queues and transports are fixed.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "dispatch.h"
#include "reply.h"

static const char *const un_regions[] = { "Africa", "Americas", "Asia", "Europe", "Oceania" };
static const char *const queue_names[TN_QUEUE_COUNT] = { "igraph", "light", "write" };

/* ---- writing ---- */

static void head(struct evbuffer *b, const char *name, const char *type, const char *help) {
    evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int64_t get_int(const tn_val_t *map, const char *a, const char *b) {
    const tn_val_t *v = tn_map_get(map, a);
    if (b != NULL)
        v = tn_map_get(v, b);
    int64_t i = 0;
    tn_val_as_int(v, &i);
    return i;
}

static void server_metrics(tn_http_t *h, struct evbuffer *b) {
    tn_server_t *srv = h->srv;
    const tn_mstats_t *ms = &srv->mstats;

    head(b, "twinnet_requests_total", "counter",
         "Answers by method and code (ok, or the protocol's error code), over RPC and HTTP /api.");
    for (size_t i = 0; i < ms->n; i++)
        for (int c = 0; c < TN_CODE_COUNT; c++)
            if (c == TN_OK || ms->rows[i].by_code[c] > 0)
                evbuffer_add_printf(b, "twinnet_requests_total{method=\"%s\",code=\"%s\"} %" PRIu64 "\n",
                                    ms->rows[i].method, c == TN_OK ? "ok" : tn_code_name((tn_code_t) c),
                                    ms->rows[i].by_code[c]);
    head(b, "twinnet_errors_total", "counter", "Error answers by method and error code.");
    for (size_t i = 0; i < ms->n; i++)
        for (int c = 1; c < TN_CODE_COUNT; c++)
            if (ms->rows[i].by_code[c] > 0)
                evbuffer_add_printf(b, "twinnet_errors_total{method=\"%s\",code=\"%s\"} %" PRIu64 "\n",
                                    ms->rows[i].method, tn_code_name((tn_code_t) c), ms->rows[i].by_code[c]);
    head(b, "twinnet_request_duration_seconds", "histogram",
         "Time from a request's arrival to its answer, by method.");
    for (size_t i = 0; i < ms->n; i++) {
        const tn_mstat_t *r = &ms->rows[i];
        uint64_t cum = 0;
        for (int k = 0; k < TN_MSTATS_NBOUNDS; k++) {
            cum += r->le[k];
            evbuffer_add_printf(b, "twinnet_request_duration_seconds_bucket{method=\"%s\",le=\"%g\"} %" PRIu64 "\n",
                                r->method, tn_mstats_bounds[k], cum);
        }
        evbuffer_add_printf(b, "twinnet_request_duration_seconds_bucket{method=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
                            r->method, r->count);
        evbuffer_add_printf(b, "twinnet_request_duration_seconds_sum{method=\"%s\"} %.9f\n", r->method, r->sum_s);
        evbuffer_add_printf(b, "twinnet_request_duration_seconds_count{method=\"%s\"} %" PRIu64 "\n",
                            r->method, r->count);
    }

    head(b, "twinnet_connections", "gauge", "Open client connections by transport.");
    evbuffer_add_printf(b, "twinnet_connections{transport=\"rpc\"} %zu\n", srv->nconns);
    evbuffer_add_printf(b, "twinnet_connections{transport=\"http\"} %zu\n", h->nconns);
    head(b, "twinnet_connections_accepted_total", "counter", "Client connections accepted, by transport.");
    evbuffer_add_printf(b, "twinnet_connections_accepted_total{transport=\"rpc\"} %" PRIu64 "\n",
                        srv->stats.connections_total - srv->stats.rejected_connections);
    evbuffer_add_printf(b, "twinnet_connections_accepted_total{transport=\"http\"} %" PRIu64 "\n", h->accepted);
    head(b, "twinnet_connections_rejected_total", "counter",
         "Client connections refused at the connection limit, by transport.");
    evbuffer_add_printf(b, "twinnet_connections_rejected_total{transport=\"rpc\"} %" PRIu64 "\n",
                        srv->stats.rejected_connections);
    evbuffer_add_printf(b, "twinnet_connections_rejected_total{transport=\"http\"} %" PRIu64 "\n", h->rejected);
    head(b, "twinnet_event_subscribers", "gauge",
         "Clients told of every change: RPC metrics.subscribe and HTTP /events.");
    evbuffer_add_printf(b, "twinnet_event_subscribers{transport=\"rpc\"} %zu\n", srv->nsubs);
    evbuffer_add_printf(b, "twinnet_event_subscribers{transport=\"http\"} %zu\n", h->nsse);

    head(b, "twinnet_cache_hits_total", "counter", "Query answers served from the per-epoch result cache.");
    evbuffer_add_printf(b, "twinnet_cache_hits_total %" PRIu64 "\n", srv->cache_hits);
    head(b, "twinnet_cache_misses_total", "counter", "Queries the result cache could not answer.");
    evbuffer_add_printf(b, "twinnet_cache_misses_total %" PRIu64 "\n", srv->cache_misses);
    head(b, "twinnet_cache_entries", "gauge", "Results in the cache of the current epoch.");
    evbuffer_add_printf(b, "twinnet_cache_entries %zu\n", srv->cache.n);
    head(b, "twinnet_cache_bytes", "gauge", "Encoded bytes of the cached results.");
    evbuffer_add_printf(b, "twinnet_cache_bytes %zu\n", srv->cache.bytes);

    size_t waiting[TN_QUEUE_COUNT], running[TN_QUEUE_COUNT];
    for (int q = 0; q < TN_QUEUE_COUNT; q++)
        tn_jobs_load(srv->jobs, q, &waiting[q], &running[q]);
    head(b, "twinnet_jobs_queued", "gauge", "Jobs waiting for a worker, by queue.");
    for (int q = 0; q < TN_QUEUE_COUNT; q++)
        evbuffer_add_printf(b, "twinnet_jobs_queued{queue=\"%s\"} %zu\n", queue_names[q], waiting[q]);
    head(b, "twinnet_jobs_running", "gauge", "Jobs a worker is running, by queue.");
    for (int q = 0; q < TN_QUEUE_COUNT; q++)
        evbuffer_add_printf(b, "twinnet_jobs_running{queue=\"%s\"} %zu\n", queue_names[q], running[q]);

    head(b, "twinnet_epoch", "gauge", "The epoch of the published graph (grows with every applied change).");
    evbuffer_add_printf(b, "twinnet_epoch %" PRIu64 "\n", srv->epoch);
    head(b, "twinnet_uptime_seconds", "gauge", "Seconds since the server started.");
    evbuffer_add_printf(b, "twinnet_uptime_seconds %" PRId64 "\n", tn_server_uptime_s(srv));
    head(b, "twinnet_build_info", "gauge", "The server's version, as a label.");
    evbuffer_add_printf(b, "twinnet_build_info{version=\"%s\"} 1\n", TN_VERSION);
}

static int is_un_region(const char *g) {
    for (size_t i = 0; g && i < sizeof un_regions / sizeof un_regions[0]; i++)
        if (strcmp(g, un_regions[i]) == 0)
            return 1;
    return 0;
}

static void graph_metrics(tn_http_t *h, struct evbuffer *b) {
    const tn_val_t *m = &h->g_metrics;
    const tn_val_t *g = tn_map_get(m, "graph"), *cov = tn_map_get(m, "coverage");
    const tn_val_t *units = tn_map_get(&h->g_units, "items");
    head(b, "twinnet_graph_epoch", "gauge", "The epoch the graph gauges below were computed on.");
    evbuffer_add_printf(b, "twinnet_graph_epoch %" PRIu64 "\n", h->gauges_epoch);
    head(b, "twinnet_nodes", "gauge", "Nodes by kind.");
    /* Spelled out rather than looped: gcc -O3 unrolls such a loop and then
       warns (format-overflow) about a kind past the table's end. */
    evbuffer_add_printf(b, "twinnet_nodes{kind=\"country\"} %" PRId64 "\n", get_int(g, "nodes", "country"));
    evbuffer_add_printf(b, "twinnet_nodes{kind=\"province\"} %" PRId64 "\n", get_int(g, "nodes", "province"));
    evbuffer_add_printf(b, "twinnet_nodes{kind=\"city\"} %" PRId64 "\n", get_int(g, "nodes", "city"));
    head(b, "twinnet_pairs", "gauge", "Pairs (partnerships) by kind.");
    evbuffer_add_printf(b, "twinnet_pairs{kind=\"sister\"} %" PRId64 "\n", get_int(g, "pairs", "sister"));
    evbuffer_add_printf(b, "twinnet_pairs{kind=\"friendly\"} %" PRId64 "\n", get_int(g, "pairs", "friendly"));
    head(b, "twinnet_home_pairs", "gauge", "The home's pairs with partners abroad.");
    evbuffer_add_printf(b, "twinnet_home_pairs %" PRId64 "\n", get_int(g, "home", "pairs"));
    head(b, "twinnet_home_units", "gauge", "The home's units (itself and the divisions below it).");
    evbuffer_add_printf(b, "twinnet_home_units %" PRId64 "\n", get_int(g, "home", "units"));
    head(b, "twinnet_countries", "gauge", "Country nodes (the coverage denominator).");
    evbuffer_add_printf(b, "twinnet_countries %" PRId64 "\n", get_int(cov, "total", "countries"));
    head(b, "twinnet_covered_countries", "gauge", "Countries with at least one home pair.");
    evbuffer_add_printf(b, "twinnet_covered_countries %" PRId64 "\n", get_int(cov, "total", "covered"));

    const tn_val_t *items = tn_map_get(cov, "items");
    static const char *const fields[][3] = {
        { "twinnet_region_countries", "countries", "Country nodes by UN region." },
        { "twinnet_region_covered_countries", "covered", "Covered countries by UN region." },
        { "twinnet_region_pairs", "pairs", "Home pairs by UN region of the partner." },
        { "twinnet_coverage_ratio", "ratio", "Covered countries over countries, by UN region." },
    };
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        head(b, fields[f][0], "gauge", fields[f][2]);
        for (size_t i = 0; items && items->type == TN_V_ARR && i < items->u.a.n; i++) {
            const tn_val_t *it = &items->u.a.items[i];
            const char *grp = tn_val_str(tn_map_get(it, "group"));
            if (!is_un_region(grp))
                continue;
            double x = 0;
            tn_val_as_num(tn_map_get(it, fields[f][1]), &x);
            evbuffer_add_printf(b, "%s{region=\"%s\"} %.17g\n", fields[f][0], grp, x);
        }
    }
    int64_t idle = 0;
    for (size_t i = 0; units && units->type == TN_V_ARR && i < units->u.a.n; i++)
        idle += get_int(&units->u.a.items[i], "pairs", NULL) == 0;
    head(b, "twinnet_idle_units", "gauge", "Home units without any pair abroad.");
    evbuffer_add_printf(b, "twinnet_idle_units %" PRId64 "\n", idle);
}

static void reply(tn_http_t *h, struct evhttp_request *req) {
    struct evbuffer *b = evbuffer_new();
    if (b == NULL) {
        tn_http_send_error(req, TN_ERR_INTERNAL, "out of memory");
        return;
    }
    server_metrics(h, b);
    if (h->have_gauges)
        graph_metrics(h, b);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

/* Ask the dispatcher for the gauges' two answers (workers compute them,
 * the per-epoch cache keeps them for RPC clients too). */
static void ask_gauges(tn_http_t *h) {
    static const char *const methods[2] = { "metrics.get", "query.coverage" };
    h->g_pending = 2;
    tn_val_free(&h->g_metrics);
    tn_val_free(&h->g_units);
    for (int which = 0; which < 2; which++) {
        tn_val_t opts = TN_VAL_NIL;
        http_caller_t *hc = tn_http_caller_new(h, NULL, which);
        int bad = tn_val_set_map(&opts, 1);
        if (which == 1)
            bad |= tn_map_add_str(&opts, "by", "unit");
        if (hc == NULL || bad) {
            tn_val_free(&opts);
            if (hc)
                tn_caller_release(&hc->base);
            tn_http_gauge_answer(h, which, NULL);
            continue;
        }
        tn_dispatch_call(h->srv, &hc->base, 0, methods[which], &opts, tn_now_ns());
        tn_val_free(&opts);
        tn_caller_release(&hc->base);
    }
}

void tn_http_metrics(tn_http_t *h, struct evhttp_request *req) {
    if (h->have_gauges && h->gauges_epoch == h->srv->epoch) {
        reply(h, req);
        return;
    }
    http_waiting_t *w = calloc(1, sizeof *w);
    if (w == NULL) {
        tn_http_send_error(req, TN_ERR_INTERNAL, "out of memory");
        return;
    }
    w->req = req;
    w->evcon = evhttp_request_get_connection(req);
    w->next = h->waiting;
    h->waiting = w;
    if (h->g_pending == 0)
        ask_gauges(h);
}

void tn_http_gauge_answer(tn_http_t *h, int which, const tn_val_t *result) {
    tn_val_t *slot = which == 0 ? &h->g_metrics : &h->g_units;
    tn_val_free(slot);
    if (result == NULL || tn_val_copy(slot, result) != 0)
        h->have_gauges = 0;          /* the server figures go out alone */
    if (--h->g_pending > 0)
        return;
    int64_t epoch = -1;
    h->have_gauges = h->g_metrics.type == TN_V_MAP && h->g_units.type == TN_V_MAP
                     && tn_val_as_int(tn_map_get(&h->g_metrics, "epoch"), &epoch);
    h->gauges_epoch = (uint64_t) epoch;
    /* Answer every /metrics request that waited. */
    while (h->waiting) {
        http_waiting_t *w = h->waiting;
        h->waiting = w->next;
        reply(h, w->req);
        free(w);
    }
}
