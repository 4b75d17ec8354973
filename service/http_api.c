/*
 * http_api.c -- GET /api/<method>?<option>=<value>...: every read query,
 * answered with the same JSON result its RPC call returns.
 *
 * Which methods: the rows of the method table that are queries run as
 * jobs and need no more than the read role (http_read_method below is the
 * one place that decides; nothing else keeps a list). Changes and
 * administration are refused with 403: the port is read-only.
 *
 * Query strings carry no types, so each value is read as the JSON-like
 * scalar it spells: true/false, an integer, a decimal number, otherwise a
 * string; a key given more than once becomes a list. The query then checks
 * its options as it does for RPC.
 *
 * Queries share the RPC path's workers, deadline and per-epoch result
 * cache (a hit is decoded from the cached MessagePack bytes).
 */
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "http_internal.h"
#include "query.h"

#define API_MAX_OPTIONS 64

/* The query behind 'name' if HTTP may serve it; else NULL with the code
 * to answer (method_not_found or forbidden) in *why. */
static const tn_query_def_t *http_read_method(const char *name, tn_code_t *why, const char **mname) {
    int role, is_query;
    const char *n;
    for (size_t i = 0; (n = tn_methods_at(i, &role, &is_query)) != NULL; i++) {
        if (strcmp(n, name) != 0)
            continue;
        *mname = n;
        if (role > TN_ROLE_READ) {
            *why = TN_ERR_FORBIDDEN;
            return NULL;
        }
        const tn_query_def_t *def = is_query ? tn_query_find(n) : NULL;
        if (def == NULL)
            *why = TN_ERR_METHOD_NOT_FOUND;
        return def;
    }
    *mname = NULL;
    *why = TN_ERR_METHOD_NOT_FOUND;
    return NULL;
}

/* A query-string value as the scalar it spells. */
static int scalar(const char *s, tn_val_t *out) {
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
        *out = tn_val_bool(s[0] == 't');
        return 0;
    }
    if (*s != '\0') {
        char *end;
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (*end == '\0' && errno == 0) {
            *out = tn_val_int(i);
            return 0;
        }
        errno = 0;
        double d = strtod(s, &end);
        /* Only plain decimals: "nan", "inf" and hex floats stay strings. */
        if (*end == '\0' && errno == 0 && isfinite(d) && strpbrk(s, "xXnNiI") == NULL) {
            *out = tn_val_float(d);
            return 0;
        }
    }
    return tn_val_set_str(out, s);
}

/* Options from the query string; TN_OK or invalid_params. */
static tn_code_t parse_options(const char *query, tn_val_t *opts, tn_error_t *err) {
    if (tn_val_set_map(opts, 8) != 0)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    if (query == NULL || *query == '\0')
        return TN_OK;
    struct evkeyvalq kv;
    kv.tqh_first = NULL;
    kv.tqh_last = &kv.tqh_first;
    if (evhttp_parse_query_str(query, &kv) != 0) {
        evhttp_clear_headers(&kv);
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "malformed query string");
    }
    size_t count = 0;
    tn_code_t rc = TN_OK;
    for (struct evkeyval *e = kv.tqh_first; e && rc == TN_OK; e = e->next.tqe_next) {
        if (++count > API_MAX_OPTIONS) {
            rc = tn_error_set(err, TN_ERR_INVALID_PARAMS, "more than %d options", API_MAX_OPTIONS);
            break;
        }
        if (e->key[0] == '\0') {
            rc = tn_error_set(err, TN_ERR_INVALID_PARAMS, "an option without a name");
            break;
        }
        tn_val_t v = TN_VAL_NIL;
        if (scalar(e->value, &v) != 0) {
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
            break;
        }
        tn_val_t *have = NULL;
        for (size_t i = 0; i < opts->u.m.n; i++)
            if (strcmp(opts->u.m.kv[i].key, e->key) == 0)
                have = &opts->u.m.kv[i].val;
        int bad;
        if (have == NULL) {
            bad = tn_map_add_take(opts, e->key, &v);
        } else {
            /* A repeated key: a list of every value, in order. */
            bad = 0;
            if (have->type != TN_V_ARR) {      /* values are scalars: an array is ours */
                tn_val_t first = *have, arr = TN_VAL_NIL;
                *have = TN_VAL_NIL;
                bad = tn_val_set_arr(&arr, 4) | tn_arr_push_take(&arr, &first);
                *have = arr;
            }
            bad |= tn_arr_push_take(have, &v);
        }
        if (bad)
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    evhttp_clear_headers(&kv);
    return rc;
}

static void answer(tn_http_t *h, struct evhttp_request *req, const char *method, tn_code_t code,
                   const char *json_or_message, uint64_t t0) {
    h->srv->cur_method = method;
    tn_reply_count(h->srv, code, t0);
    if (req == NULL)
        return;
    if (code == TN_OK)
        tn_http_send(req, 200, "application/json", json_or_message, strlen(json_or_message));
    else
        tn_http_send_error(req, code, json_or_message);
}

/* JSON of a result; metrics.get gets its live server section as over RPC. */
static char *result_json(tn_http_t *h, const char *method, const tn_val_t *res) {
    if (strcmp(method, "metrics.get") != 0)
        return tn_val_to_json(res);
    tn_val_t copy = TN_VAL_NIL;
    char *json = NULL;
    if (tn_val_copy(&copy, res) == 0 && tn_reply_server_metrics(h->srv, &copy) == 0)
        json = tn_val_to_json(&copy);
    tn_val_free(&copy);
    return json;
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_job_t *job = arg;
    tn_http_t *h = job->owner;
    atomic_store(&job->stop, TN_STOP_DEADLINE);
    if (tn_jobs_withdraw(h->srv->jobs, job)) {
        /* Still queued: answer now, not after the queries ahead of it. */
        tn_qctx_t ctx = { &job->stop, NULL, NULL };
        job->rc = tn_query_stopped(&ctx, &job->err);
        tn_http_job_done(h, job);
    }
}

tn_code_t tn_http_submit(tn_http_t *h, http_pending_t *p, const tn_query_def_t *def,
                         const tn_val_t *opts, char *cache_key, int deadline_ms, tn_error_t *err) {
    tn_server_t *srv = h->srv;
    tn_job_t *job = calloc(1, sizeof *job);
    if (job == NULL || (opts && tn_val_copy(&job->opts, opts) != 0)) {
        free(job);
        free(cache_key);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    job->conn_id = p->id;
    job->kind = TN_JOB_QUERY;
    job->method = def->name;
    job->def = def;
    job->queue = def->uses_igraph ? TN_QUEUE_IGRAPH : TN_QUEUE_LIGHT;
    /* Degree needs no igraph: it never waits behind a betweenness. */
    const char *metric = tn_val_str(tn_map_get(opts, "metric"));
    if (job->queue == TN_QUEUE_IGRAPH && strcmp(def->name, "query.centrality") == 0 && metric
        && strcmp(metric, "degree") == 0)
        job->queue = TN_QUEUE_LIGHT;
    job->snap = tn_snap_retain(srv->snap);
    job->cache_key = cache_key;
    job->started_ns = p->t0;
    atomic_init(&job->stop, TN_RUN);
    job->owner = h;
    if (deadline_ms <= 0)
        deadline_ms = srv->cfg.default_deadline_ms;
    job->deadline = evtimer_new(srv->base, deadline_cb, job);
    struct timeval tv = { deadline_ms / 1000, (deadline_ms % 1000) * 1000 };
    if (job->deadline == NULL || evtimer_add(job->deadline, &tv) != 0) {
        tn_job_free(job);
        return tn_error_set(err, TN_ERR_INTERNAL, "cannot arm the deadline timer");
    }
    if (tn_jobs_submit(srv->jobs, job) != 0) {
        tn_job_free(job);
        return tn_error_set(err, TN_ERR_BUSY, "the query queue is full; try again shortly");
    }
    p->job = job;
    return TN_OK;
}

void tn_http_api(tn_http_t *h, struct evhttp_request *req, const char *name, const char *query) {
    tn_server_t *srv = h->srv;
    uint64_t t0 = tn_now_ns();
    tn_error_t err = TN_ERROR_INIT;
    tn_code_t why;
    const char *mname;
    const tn_query_def_t *def = http_read_method(name, &why, &mname);
    if (def == NULL) {
        char msg[200];
        if (why == TN_ERR_FORBIDDEN)
            snprintf(msg, sizeof msg, "%.64s is not a read method; the HTTP port is read-only", name);
        else if (mname != NULL)
            snprintf(msg, sizeof msg, "%.64s is not served over HTTP (use the RPC port)", name);
        else
            snprintf(msg, sizeof msg, "no method %.64s", name);
        answer(h, req, mname, why, msg, t0);
        return;
    }
    tn_val_t opts = TN_VAL_NIL;
    if (parse_options(query, &opts, &err) != TN_OK) {
        answer(h, req, mname, err.code, err.message, t0);
        tn_val_free(&opts);
        tn_error_clear(&err);
        return;
    }
    /* Options the service consumes: deadline_ms (and progress, which has
     * no meaning here but is accepted as over RPC). */
    int deadline_ms = 0;
    const tn_val_t *d = tn_map_get(&opts, "deadline_ms");
    if (d) {
        int64_t ms;
        if (!tn_val_as_int(d, &ms) || ms < 1 || ms > srv->cfg.max_deadline_ms) {
            char msg[96];
            snprintf(msg, sizeof msg, "deadline_ms: must be an integer from 1 to %d", srv->cfg.max_deadline_ms);
            answer(h, req, mname, TN_ERR_INVALID_PARAMS, msg, t0);
            tn_val_free(&opts);
            return;
        }
        deadline_ms = (int) ms;
    }
    if (strcmp(mname, "metrics.get") == 0) {
        const tn_val_t *ie = tn_map_get(&opts, "if_epoch");
        int64_t want;
        if (ie && tn_val_as_int(ie, &want) && want == (int64_t) srv->epoch) {
            char json[96];
            snprintf(json, sizeof json, "{\"epoch\":%lld,\"not_modified\":true}", (long long) srv->epoch);
            answer(h, req, mname, TN_OK, json, t0);
            tn_val_free(&opts);
            return;
        }
    }
    char *key = tn_cache_key(mname, &opts);
    const cache_entry_t *hit = key ? tn_cache_get(srv, key) : NULL;
    if (hit != NULL) {
        free(key);
        tn_val_t res = TN_VAL_NIL;
        char *json = NULL;
        if (hit->result.type != TN_V_NIL)
            json = result_json(h, mname, &hit->result);
        else if (tn_codec_decode((const uint8_t *) hit->enc, hit->enc_len, &res, &err) == TN_OK)
            json = tn_val_to_json(&res);
        tn_val_free(&res);
        tn_error_clear(&err);
        if (json == NULL)
            answer(h, req, mname, TN_ERR_INTERNAL, "out of memory", t0);
        else
            answer(h, req, mname, TN_OK, json, t0);
        free(json);
        tn_val_free(&opts);
        return;
    }
    http_pending_t *p = tn_http_pending_add(h, req, mname, t0);
    if (p == NULL) {
        free(key);
        answer(h, req, mname, TN_ERR_INTERNAL, "out of memory", t0);
        tn_val_free(&opts);
        return;
    }
    if (tn_http_submit(h, p, def, &opts, key, deadline_ms, &err) != TN_OK) {
        tn_http_pending_drop(h, p);
        answer(h, req, mname, err.code, err.message, t0);
        tn_error_clear(&err);
    }
    tn_val_free(&opts);
}

void tn_http_api_done(tn_http_t *h, http_pending_t *p, tn_job_t *job) {
    tn_server_t *srv = h->srv;
    struct evhttp_request *req = p->req;
    const char *method = p->method;
    uint64_t t0 = p->t0;
    tn_http_pending_drop(h, p);
    if (job->rc != TN_OK) {
        answer(h, req, method, job->rc, job->err.message, t0);
        tn_job_free(job);
        return;
    }
    char *json = result_json(h, method, &job->result);
    if (job->cache_key)
        tn_cache_put(srv, job->snap->epoch, job->cache_key, &job->result);
    if (json == NULL)
        answer(h, req, method, TN_ERR_INTERNAL, "out of memory", t0);
    else
        answer(h, req, method, TN_OK, json, t0);
    free(json);
    tn_job_free(job);
}
