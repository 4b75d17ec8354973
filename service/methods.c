/*
 * methods.c -- every method of PROTOCOL.md section 5 in one table, and the
 * three ways a request is served:
 *  - inline on the loop (server.*, metrics.subscribe): constant time;
 *  - as a change: validated and applied on the loop through the model's
 *    prepare/commit (model.h), which bumps the epoch;
 *  - as a query job on a worker (jobs.h) over the epoch's snapshot, with a
 *    deadline timer, cancel, and a per-epoch result cache.
 * Order of checks for a request, as in Neovim's channel: envelope (codec),
 * look-up, options, run, encode.
 */
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "log.h"
#include "opts.h"
#include "query.h"
#include "server_internal.h"

#define CACHE_MAX 2048

/* Roles (auth.h); ROLE_ANY: callable before auth. Deny by default: a
 * method is callable only by the roles its row grants. */
typedef int role_t;
#define ROLE_ANY   TN_ROLE_NONE
#define ROLE_READ  TN_ROLE_READ
#define ROLE_WRITE TN_ROLE_WRITE
#define ROLE_ADMIN TN_ROLE_ADMIN

typedef enum { M_INLINE, M_CHANGE, M_QUERY } mkind_t;

typedef void inline_fn(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0);

static inline_fn m_server_ping, m_server_methods, m_server_info, m_metrics_subscribe, m_server_save;
static inline_fn m_auth, m_audit_list;
static inline_fn m_import_begin, m_import_chunk, m_import_commit, m_import_abort;

static const char *const p_none[] = { NULL };
static const char *const p_auth[] = { "token", NULL };
static const char *const p_audit[] = { "from_ms", "to_ms", "node", "method", "token", "limit",
                                       "offset", NULL };
static const char *const p_node_upsert[] = { "node", NULL };
static const char *const p_node_delete[] = { "id", "cascade", NULL };
static const char *const p_pair_upsert[] = { "pair", NULL };
static const char *const p_pair_delete[] = { "a", "b", NULL };
static const char *const p_batch[] = { "nodes", "pairs", "mode", "dry_run", NULL };
static const char *const p_ibegin[] = { "mode", "dry_run", "total", "progress", NULL };
static const char *const p_ichunk[] = { "import", "nodes", "pairs", NULL };
static const char *const p_itoken[] = { "import", NULL };

typedef struct method {
    const char *name;
    mkind_t kind;
    role_t role;                  /* least role that may call it */
    inline_fn *fn;                /* M_INLINE */
    const char *const *params;    /* NULL: from the query table */
} method_t;

static const method_t methods[] = {
    { "server.ping",       M_INLINE, ROLE_ANY,   m_server_ping,       p_none },
    { "auth",              M_INLINE, ROLE_ANY,   m_auth,              p_auth },
    { "server.methods",    M_INLINE, ROLE_READ,  m_server_methods,    p_none },
    { "server.info",       M_INLINE, ROLE_READ,  m_server_info,       p_none },
    { "server.save",       M_INLINE, ROLE_ADMIN, m_server_save,       p_none },
    { "audit.list",        M_INLINE, ROLE_ADMIN, m_audit_list,        p_audit },
    { "graph.stats",       M_QUERY,  ROLE_READ,  NULL, NULL },
    { "node.get",          M_QUERY,  ROLE_READ,  NULL, NULL },
    { "node.find",         M_QUERY,  ROLE_READ,  NULL, NULL },
    { "node.list",         M_QUERY,  ROLE_READ,  NULL, NULL },
    { "node.neighbors",    M_QUERY,  ROLE_READ,  NULL, NULL },
    { "pair.list",         M_QUERY,  ROLE_READ,  NULL, NULL },
    { "query.centrality",  M_QUERY,  ROLE_READ,  NULL, NULL },
    { "query.coverage",    M_QUERY,  ROLE_READ,  NULL, NULL },
    { "query.gaps",        M_QUERY,  ROLE_READ,  NULL, NULL },
    { "query.recommend",   M_QUERY,  ROLE_READ,  NULL, NULL },
    { "metrics.get",       M_QUERY,  ROLE_READ,  NULL, NULL },
    { "metrics.subscribe", M_INLINE, ROLE_READ,  m_metrics_subscribe, p_none },
    { "node.upsert",       M_CHANGE, ROLE_WRITE, NULL, p_node_upsert },
    { "node.delete",       M_CHANGE, ROLE_WRITE, NULL, p_node_delete },
    { "pair.upsert",       M_CHANGE, ROLE_WRITE, NULL, p_pair_upsert },
    { "pair.delete",       M_CHANGE, ROLE_WRITE, NULL, p_pair_delete },
    { "import.batch",      M_CHANGE, ROLE_WRITE, NULL, p_batch },
    { "import.begin",      M_INLINE, ROLE_WRITE, m_import_begin,      p_ibegin },
    { "import.chunk",      M_INLINE, ROLE_WRITE, m_import_chunk,      p_ichunk },
    { "import.commit",     M_INLINE, ROLE_WRITE, m_import_commit,     p_itoken },
    { "import.abort",      M_INLINE, ROLE_WRITE, m_import_abort,      p_itoken },
};

#define NMETHODS (sizeof methods / sizeof methods[0])

static const method_t *find_method(const char *name) {
    for (size_t i = 0; i < NMETHODS; i++)
        if (strcmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
}

uint64_t tn_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* ---- replies ---- */

static void send_encoded(tn_conn_t *c, int rc) {
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
    tn_stats_record(&srv->stats, (tn_now_ns() - t0) / 1000, 0);
    send_encoded(c, rc);
}

void tn_reply_error(tn_conn_t *c, uint32_t msgid, const tn_error_t *err, uint64_t t0) {
    tn_server_t *srv = c->srv;
    srv->olen = 0;
    int rc = tn_rpc_encode_error(msgid, err, &srv->obuf, &srv->olen, &srv->ocap);
    tn_stats_record(&srv->stats, (tn_now_ns() - t0) / 1000, 1);
    send_encoded(c, rc);
}

static void reply_code(tn_conn_t *c, uint32_t msgid, uint64_t t0, tn_code_t code,
                       const char *fmt, const char *arg) {
    tn_error_t err = TN_ERROR_INIT;
    tn_error_set(&err, code, fmt, arg);
    tn_reply_error(c, msgid, &err, t0);
}

static void reply_query(tn_conn_t *c, uint32_t msgid, const char *method, const tn_val_t *result,
                        uint64_t t0);

/* ---- the per-epoch cache ---- */

static void cache_clear(tn_server_t *srv) {
    for (size_t i = 0; i < srv->ncache; i++) {
        free(srv->cache_entries[i].key);
        free(srv->cache_entries[i].enc);
        tn_val_free(&srv->cache_entries[i].result);
    }
    srv->ncache = 0;
    tn_hmap_destroy(&srv->cache);
    tn_hmap_init(&srv->cache);
}

static const cache_entry_t *cache_get(tn_server_t *srv, const char *key) {
    size_t i;
    if (srv->cache_epoch != srv->epoch || !tn_hmap_get(&srv->cache, key, &i))
        return NULL;
    return &srv->cache_entries[i];
}

/* Keep a result of 'epoch' under 'key', taking 'result' (left nil) and
 * encoding it once, so a hit costs a look-up and a copy of bytes. Returns
 * the entry, or NULL when it was not kept (then 'result' is untouched). */
static const cache_entry_t *cache_put(tn_server_t *srv, uint64_t epoch, const char *key,
                                      tn_val_t *result) {
    if (epoch != srv->epoch || cache_get(srv, key) != NULL)
        return NULL;
    if (srv->cache_epoch != epoch) {
        cache_clear(srv);
        srv->cache_epoch = epoch;
    }
    if (srv->ncache >= CACHE_MAX)
        cache_clear(srv);          /* crude but bounded: dashboards refill it */
    if (srv->ncache == srv->cache_cap) {
        size_t ncap = srv->cache_cap ? srv->cache_cap * 2 : 64;
        cache_entry_t *p = realloc(srv->cache_entries, ncap * sizeof *p);
        if (p == NULL)
            return NULL;
        srv->cache_entries = p;
        srv->cache_cap = ncap;
    }
    cache_entry_t *e = &srv->cache_entries[srv->ncache];
    size_t cap = 0;
    e->key = strdup(key);
    e->enc = NULL;
    e->enc_len = 0;
    if (e->key == NULL || tn_codec_encode(result, &e->enc, &e->enc_len, &cap) != 0
        || tn_hmap_put(&srv->cache, e->key, srv->ncache) != 0) {
        free(e->key);
        free(e->enc);
        return NULL;
    }
    e->result = *result;
    *result = TN_VAL_NIL;
    srv->ncache++;
    return e;
}

/* Answer from a cache entry: the response envelope around the encoded
 * result, written by hand ([1, msgid as uint32, nil, ...]). metrics.get
 * adds live server figures, so it is encoded afresh. */
static void reply_cached(tn_conn_t *c, uint32_t msgid, const char *method, const cache_entry_t *e,
                         uint64_t t0) {
    if (strcmp(method, "metrics.get") == 0) {
        reply_query(c, msgid, method, &e->result, t0);
        return;
    }
    uint8_t head[8] = { 0x94, 0x01, 0xce, (uint8_t) (msgid >> 24), (uint8_t) (msgid >> 16),
                        (uint8_t) (msgid >> 8), (uint8_t) msgid, 0xc0 };
    tn_server_t *srv = c->srv;
    size_t need = sizeof head + e->enc_len;
    if (need > srv->ocap) {
        char *p = realloc(srv->obuf, need);
        if (p == NULL)
            return reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
        srv->obuf = p;
        srv->ocap = need;
    }
    memcpy(srv->obuf, head, sizeof head);
    memcpy(srv->obuf + sizeof head, e->enc, e->enc_len);
    srv->olen = need;
    tn_stats_record(&srv->stats, (tn_now_ns() - t0) / 1000, 0);
    send_encoded(c, 0);
}

void tn_server_epoch_changed(tn_server_t *srv, uint64_t epoch) {
    if (tn_writer_epoch(srv->writer) != srv->epoch) {
        /* The writer published after the fsync: pick up the new snapshot
         * before answering, so a client reads its own writes. */
        tn_snap_t *s = tn_writer_snapshot(srv->writer);
        if (s != NULL) {
            tn_snap_release(srv->snap);
            srv->snap = s;
            srv->epoch = s->epoch;
            cache_clear(srv);
            srv->cache_epoch = srv->epoch;
        }
    }
    /* PROTOCOL.md section 7: an event to every subscriber. */
    tn_val_t ev = TN_VAL_NIL;
    if (tn_val_set_map(&ev, 2) != 0 || tn_map_add_str(&ev, "type", "epoch") != 0
        || tn_map_add_int(&ev, "epoch", (int64_t) epoch) != 0) {
        tn_val_free(&ev);
        return;
    }
    srv->olen = 0;
    if (tn_rpc_encode_notify("event", &ev, &srv->obuf, &srv->olen, &srv->ocap) == 0) {
        char *copy = malloc(srv->olen);
        size_t n = srv->olen;
        if (copy) {
            memcpy(copy, srv->obuf, n);
            for (tn_conn_t *c = srv->conns, *next; c; c = next) {
                next = c->next;
                if (c->subscribed && !c->closing)
                    tn_conn_send(c, copy, n);
            }
            free(copy);
        }
    }
    srv->olen = 0;
    tn_val_free(&ev);
}

/* ---- inline methods ---- */

static int64_t uptime_s(const tn_server_t *srv) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) (now.tv_sec - srv->started.tv_sec);
}

static void m_server_ping(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    (void) opts;
    tn_val_t v = TN_VAL_NIL;
    if (tn_val_set_str(&v, "pong") != 0)
        return reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
    tn_reply_result(c, msgid, &v, t0);
    tn_val_free(&v);
}

static int add_params(tn_val_t *item, const char *const *params) {
    tn_val_t *arr = tn_map_add(item, "params");
    if (arr == NULL || tn_val_set_arr(arr, 8) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; params[i]; i++)
        rc |= tn_arr_push_str(arr, params[i]);
    return rc;
}

static void m_server_methods(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    (void) opts;
    tn_val_t res = TN_VAL_NIL, items = TN_VAL_NIL;
    int rc = tn_val_set_map(&res, 1) | tn_val_set_arr(&items, NMETHODS);
    for (size_t i = 0; i < NMETHODS && rc == 0; i++) {
        const method_t *m = &methods[i];
        const tn_query_def_t *def = m->kind == M_QUERY ? tn_query_find(m->name) : NULL;
        tn_val_t it = TN_VAL_NIL;
        rc |= tn_val_set_map(&it, 4);
        rc |= tn_map_add_str(&it, "name", m->name);
        /* Methods open before auth (ping, auth) report the least role,
         * "read": the protocol's roles are read, write and admin. */
        rc |= tn_map_add_str(&it, "role", tn_role_name(m->role == ROLE_ANY ? ROLE_READ : m->role));
        rc |= add_params(&it, def ? def->params : m->params);
        rc |= tn_map_add_bool(&it, "slow", def != NULL && def->slow);
        rc |= tn_arr_push_take(&items, &it);
    }
    rc |= tn_map_add_take(&res, "items", &items);
    if (rc != 0)
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(c, msgid, &res, t0);
    tn_val_free(&res);
    tn_val_free(&items);
}

static void m_server_info(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    (void) opts;
    tn_server_t *srv = c->srv;
    tn_val_t res = TN_VAL_NIL;
    int rc = tn_val_set_map(&res, 8);
    rc |= tn_map_add_str(&res, "version", TN_VERSION);
    rc |= tn_map_add_int(&res, "uptime_s", uptime_s(srv));
    rc |= tn_map_add_int(&res, "epoch", (int64_t) srv->epoch);
    rc |= tn_map_add_str(&res, "home", tn_writer_home(srv->writer));
    rc |= tn_map_add_int(&res, "connections", (int64_t) srv->nconns);
    /* Without --data the server runs in memory: data_dir nil, fsync "none". */
    rc |= tn_map_add_str(&res, "data_dir", tn_writer_data_dir(srv->writer));
    rc |= tn_map_add_str(&res, "fsync", tn_writer_fsync(srv->writer));
    if (rc != 0)
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(c, msgid, &res, t0);
    tn_val_free(&res);
}

static void m_metrics_subscribe(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    (void) opts;
    c->subscribed = 1;
    tn_val_t res = TN_VAL_NIL;
    if (tn_val_set_map(&res, 1) != 0 || tn_map_add_bool(&res, "subscribed", 1) != 0)
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(c, msgid, &res, t0);
    tn_val_free(&res);
}


/* ---- auth ---- */

static void auth_reply_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_conn_t *c = arg;
    tn_error_t err = TN_ERROR_INIT;
    tn_error_set(&err, TN_ERR_UNAUTHORIZED, "invalid token");
    c->auth_pending = 0;
    tn_reply_error(c, c->auth_msgid, &err, c->auth_t0);
    if (c->auth_failures >= c->srv->cfg.max_auth_failures) {
        tn_log(TN_LOG_WARN, "closing %s after %d failed auth attempts", c->peer, c->auth_failures);
        tn_conn_close_after_flush(c);
        return;
    }
    tn_conn_resume(c);
}

static void m_auth(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    tn_server_t *srv = c->srv;
    const tn_val_t *tok = tn_map_get(opts, "token");
    if (tok == NULL || tok->type != TN_V_STR)
        return reply_code(c, msgid, t0, TN_ERR_INVALID_PARAMS, "%s", "token: a string is required");
    tn_val_t res = TN_VAL_NIL;
    if (srv->cfg.auth == NULL) {
        /* No token file: every loopback client already has every right. */
        if (tn_val_set_map(&res, 1) == 0 && tn_map_add_str(&res, "role", "admin") == 0)
            tn_reply_result(c, msgid, &res, t0);
        tn_val_free(&res);
        return;
    }
    const char *name;
    int role = tn_auth_check(srv->cfg.auth, tok->u.s.p, tok->u.s.len, &name);
    if (role == TN_ROLE_NONE) {
        /* Never log the token. Answer later, and later still after each
         * failure, with reading paused: guessing costs time per attempt. */
        c->auth_failures++;
        tn_log(TN_LOG_WARN, "auth failed from %s (attempt %d)", c->peer, c->auth_failures);
        int delay_ms = srv->cfg.auth_delay_ms << (c->auth_failures - 1);
        struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };
        c->auth_pending = 1;
        c->auth_msgid = msgid;
        c->auth_t0 = t0;
        tn_conn_pause(c);
        if (c->auth_timer == NULL)
            c->auth_timer = evtimer_new(srv->base, auth_reply_cb, c);
        if (c->auth_timer == NULL || evtimer_add(c->auth_timer, &tv) != 0)
            auth_reply_cb(-1, 0, c);
        return;
    }
    c->role = role;
    c->role_name = tn_role_name(role);
    snprintf(c->token_name, sizeof c->token_name, "%s", name);
    tn_log(TN_LOG_INFO, "%s authenticated as %s (%s)", c->peer, name, c->role_name);
    if (tn_val_set_map(&res, 1) == 0 && tn_map_add_str(&res, "role", c->role_name) == 0)
        tn_reply_result(c, msgid, &res, t0);
    tn_val_free(&res);
}

static void m_audit_list(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    tn_val_t res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    if (tn_writer_audit_list(c->srv->writer, opts, &res, &err) != TN_OK)
        tn_reply_error(c, msgid, &err, t0);
    else
        tn_reply_result(c, msgid, &res, t0);
    tn_val_free(&res);
    tn_error_clear(&err);
}

/* ---- changes ---- */

/* Who made a change, for the journal and the audit trail. */
static int audit_of(tn_conn_t *c, tn_val_t *out) {
    int rc = tn_val_set_map(out, 3);
    rc |= tn_map_add_str(out, "peer", c->peer);
    rc |= tn_map_add_str(out, "token", c->token_name[0] ? c->token_name : "-");
    rc |= tn_map_add_str(out, "role", c->role_name);
    return rc;
}

/* Queue a change (or a save) for the writer thread; 'opts' is taken. */
static void submit_write(tn_conn_t *c, uint32_t msgid, const char *method, tn_job_kind_t kind,
                         tn_val_t *opts, uint64_t t0) {
    tn_server_t *srv = c->srv;
    tn_job_t *job = calloc(1, sizeof *job);
    if (job == NULL || audit_of(c, &job->audit) != 0) {
        tn_job_free(job);
        tn_val_free(opts);
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
        return;
    }
    job->opts = *opts;
    *opts = TN_VAL_NIL;
    job->kind = kind;
    job->method = method;
    job->queue = TN_QUEUE_WRITE;
    job->conn_id = c->id;
    job->msgid = msgid;
    job->started_ns = t0;
    atomic_init(&job->stop, TN_RUN);
    if (tn_jobs_submit(srv->jobs, job) != 0) {
        tn_job_free(job);
        reply_code(c, msgid, t0, TN_ERR_BUSY, "%s", "too many changes waiting; try again shortly");
        return;
    }
    c->jobs_in_flight++;
}

static void do_change(tn_conn_t *c, uint32_t msgid, const method_t *m, const tn_val_t *opts,
                      uint64_t t0) {
    tn_val_t copy = TN_VAL_NIL;
    if (opts && tn_val_copy(&copy, opts) != 0) {
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
        return;
    }
    submit_write(c, msgid, m->name, TN_JOB_CHANGE, &copy, t0);
}

static void m_server_save(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    (void) opts;
    tn_val_t none = TN_VAL_NIL;
    submit_write(c, msgid, "server.save", TN_JOB_SAVE, &none, t0);
}


/* ---- streamed imports (PROTOCOL.md section 5) ----
 * Records are staged on the connection until commit, invisible to anyone;
 * commit hands the whole batch to the writer as one import.batch, so it is
 * atomic and durable like any batch. A dropped connection drops its
 * imports. Detail indices in a failed commit count records across all
 * chunks, in the order they arrived. */

#define MAX_IMPORTS_PER_CONN 4

typedef struct tn_import {
    struct tn_import *next;
    char token[33];
    tn_val_t nodes, pairs;          /* arrays, owned */
    tn_val_t mode, dry_run;         /* as given to import.begin (or nil) */
    int64_t total;                  /* announced record count, -1 unknown */
    int progress;
} tn_import_t;

static void import_free(tn_import_t *im) {
    tn_val_free(&im->nodes);
    tn_val_free(&im->pairs);
    tn_val_free(&im->mode);
    tn_val_free(&im->dry_run);
    free(im);
}

void tn_methods_conn_imports_free(tn_conn_t *c) {
    while (c->imports) {
        tn_import_t *im = c->imports;
        c->imports = im->next;
        import_free(im);
    }
    c->nimports = 0;
}

static tn_import_t *import_find(tn_conn_t *c, const tn_val_t *opts, uint32_t msgid, uint64_t t0) {
    const char *tok = tn_val_str(tn_map_get(opts, "import"));
    if (tok == NULL) {
        reply_code(c, msgid, t0, TN_ERR_INVALID_PARAMS, "%s", "import: the token from import.begin is required");
        return NULL;
    }
    for (tn_import_t *im = c->imports; im; im = im->next)
        if (strcmp(im->token, tok) == 0)
            return im;
    reply_code(c, msgid, t0, TN_ERR_NOT_FOUND, "no import %.40s on this connection", tok);
    return NULL;
}

static void random_token(char *out) {
    unsigned char raw[16];
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(raw, 1, sizeof raw, f) : 0;
    if (f)
        fclose(f);
    if (got != sizeof raw) {
        /* Tokens only name an import on its own connection: uniqueness,
         * not secrecy, is what matters here. */
        static uint64_t counter;
        uint64_t v = tn_now_ns() ^ ++counter;
        memcpy(raw, &v, sizeof v);
        memcpy(raw + 8, &counter, sizeof counter);
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

static void m_import_begin(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    if (c->nimports >= MAX_IMPORTS_PER_CONN)
        return reply_code(c, msgid, t0, TN_ERR_BUSY, "%s", "too many imports open on this connection");
    const tn_val_t *mode = tn_map_get(opts, "mode"), *dry = tn_map_get(opts, "dry_run");
    const tn_val_t *total = tn_map_get(opts, "total"), *prog = tn_map_get(opts, "progress");
    const char *ms = tn_val_str(mode);
    if (mode && mode->type != TN_V_NIL && (!ms || (strcmp(ms, "upsert") && strcmp(ms, "replace"))))
        return reply_code(c, msgid, t0, TN_ERR_INVALID_PARAMS, "%s", "mode: must be upsert or replace");
    if (dry && dry->type != TN_V_NIL && dry->type != TN_V_BOOL)
        return reply_code(c, msgid, t0, TN_ERR_INVALID_PARAMS, "%s", "dry_run: must be a boolean");
    if (prog && prog->type != TN_V_NIL && prog->type != TN_V_BOOL)
        return reply_code(c, msgid, t0, TN_ERR_INVALID_PARAMS, "%s", "progress: must be a boolean");
    int64_t tot = -1;
    if (total && total->type != TN_V_NIL && (!tn_val_as_int(total, &tot) || tot < 0))
        return reply_code(c, msgid, t0, TN_ERR_INVALID_PARAMS, "%s", "total: must be a count of records");
    tn_import_t *im = calloc(1, sizeof *im);
    if (im == NULL || tn_val_set_arr(&im->nodes, 0) != 0 || tn_val_set_arr(&im->pairs, 0) != 0
        || (mode && tn_val_copy(&im->mode, mode) != 0) || (dry && tn_val_copy(&im->dry_run, dry) != 0)) {
        if (im)
            import_free(im);
        return reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
    }
    im->total = tot;
    im->progress = prog && prog->type == TN_V_BOOL && prog->u.b;
    random_token(im->token);
    im->next = c->imports;
    c->imports = im;
    c->nimports++;
    tn_val_t res = TN_VAL_NIL;
    if (tn_val_set_map(&res, 1) != 0 || tn_map_add_str(&res, "import", im->token) != 0)
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(c, msgid, &res, t0);
    tn_val_free(&res);
}

static void m_import_chunk(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    tn_import_t *im = import_find(c, opts, msgid, t0);
    if (im == NULL)
        return;
    const char *names[2] = { "nodes", "pairs" };
    tn_val_t *dst[2] = { &im->nodes, &im->pairs };
    const tn_val_t *src[2];
    size_t add = 0;
    for (int k = 0; k < 2; k++) {
        src[k] = tn_map_get(opts, names[k]);
        if (src[k] && src[k]->type == TN_V_NIL)
            src[k] = NULL;
        if (src[k] && src[k]->type != TN_V_ARR)
            return reply_code(c, msgid, t0, TN_ERR_INVALID_PARAMS, "%s: must be an array of records", names[k]);
        add += src[k] ? src[k]->u.a.n : 0;
    }
    size_t have = im->nodes.u.a.n + im->pairs.u.a.n;
    if (have + add > c->srv->cfg.max_import_records)
        return reply_code(c, msgid, t0, TN_ERR_TOO_LARGE, "%s",
                          "the import would pass the server's limit on staged records");
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; src[k] && i < src[k]->u.a.n; i++) {
            tn_val_t copy;
            if (tn_val_copy(&copy, &src[k]->u.a.items[i]) != 0 || tn_arr_push_take(dst[k], &copy) != 0)
                return reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
        }
    if (im->progress) {
        tn_val_t p = TN_VAL_NIL;
        tn_server_t *srv = c->srv;
        if (tn_val_set_map(&p, 3) == 0 && tn_map_add_int(&p, "msgid", msgid) == 0
            && tn_map_add_int(&p, "done", (int64_t) (have + add)) == 0
            && (im->total >= 0 ? tn_map_add_int(&p, "total", im->total) : tn_map_add_nil(&p, "total")) == 0) {
            srv->olen = 0;
            if (tn_rpc_encode_notify("progress", &p, &srv->obuf, &srv->olen, &srv->ocap) == 0)
                tn_conn_send(c, srv->obuf, srv->olen);
            srv->olen = 0;
        }
        tn_val_free(&p);
    }
    tn_val_t res = TN_VAL_NIL;
    int rc = tn_val_set_map(&res, 3) | tn_map_add_str(&res, "import", im->token)
             | tn_map_add_int(&res, "nodes", (int64_t) im->nodes.u.a.n)
             | tn_map_add_int(&res, "pairs", (int64_t) im->pairs.u.a.n);
    if (rc != 0)
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(c, msgid, &res, t0);
    tn_val_free(&res);
}

static void import_unlink(tn_conn_t *c, tn_import_t *im) {
    for (tn_import_t **pp = &c->imports; *pp; pp = &(*pp)->next)
        if (*pp == im) {
            *pp = im->next;
            c->nimports--;
            return;
        }
}

static void m_import_commit(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    tn_import_t *im = import_find(c, opts, msgid, t0);
    if (im == NULL)
        return;
    import_unlink(c, im);
    tn_val_t batch = TN_VAL_NIL;
    int rc = tn_val_set_map(&batch, 4) | tn_map_add_take(&batch, "nodes", &im->nodes)
             | tn_map_add_take(&batch, "pairs", &im->pairs);
    if (im->mode.type != TN_V_NIL)
        rc |= tn_map_add_take(&batch, "mode", &im->mode);
    if (im->dry_run.type != TN_V_NIL)
        rc |= tn_map_add_take(&batch, "dry_run", &im->dry_run);
    import_free(im);
    if (rc != 0) {
        tn_val_free(&batch);
        return reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
    }
    /* Journalled as the import.batch it becomes. */
    submit_write(c, msgid, "import.batch", TN_JOB_CHANGE, &batch, t0);
}

static void m_import_abort(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    tn_import_t *im = import_find(c, opts, msgid, t0);
    if (im == NULL)
        return;
    import_unlink(c, im);
    import_free(im);
    tn_val_t res = TN_VAL_NIL;
    if (tn_val_set_map(&res, 1) != 0 || tn_map_add_bool(&res, "aborted", 1) != 0)
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(c, msgid, &res, t0);
    tn_val_free(&res);
}

/* ---- queries ---- */

static void deadline_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_job_t *job = arg;
    atomic_store(&job->stop, TN_STOP_DEADLINE);
}

/* The server section of metrics.get: live counters, never cached. */
static int add_server_metrics(tn_server_t *srv, tn_val_t *res) {
    tn_val_t s = TN_VAL_NIL, lat = TN_VAL_NIL;
    int rc = tn_val_set_map(&s, 5) | tn_val_set_map(&lat, 2);
    rc |= tn_map_add_int(&s, "uptime_s", uptime_s(srv));
    rc |= tn_map_add_int(&s, "connections", (int64_t) srv->nconns);
    rc |= tn_map_add_int(&s, "requests_total", (int64_t) srv->stats.requests_total);
    rc |= tn_map_add_int(&s, "errors_total", (int64_t) srv->stats.errors_total);
    rc |= tn_map_add_int(&lat, "p50", (int64_t) tn_stats_quantile(&srv->stats, 0.50));
    rc |= tn_map_add_int(&lat, "p99", (int64_t) tn_stats_quantile(&srv->stats, 0.99));
    rc |= tn_map_add_take(&s, "latency_us", &lat);
    rc |= tn_map_add_take(res, "server", &s);
    return rc;
}

static void reply_query(tn_conn_t *c, uint32_t msgid, const char *method, const tn_val_t *result,
                        uint64_t t0) {
    if (strcmp(method, "metrics.get") != 0) {
        tn_reply_result(c, msgid, result, t0);
        return;
    }
    tn_val_t copy;
    if (tn_val_copy(&copy, result) != 0 || add_server_metrics(c->srv, &copy) != 0) {
        tn_val_free(&copy);
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
        return;
    }
    tn_reply_result(c, msgid, &copy, t0);
    tn_val_free(&copy);
}

/* Options the service consumes itself, checked here; the query sees them
 * too (they are in its parameter list) and ignores them. */
static tn_code_t service_opts(tn_server_t *srv, const tn_val_t *opts, int *deadline_ms,
                              int *progress, tn_error_t *err) {
    *deadline_ms = srv->cfg.default_deadline_ms;
    *progress = 0;
    const tn_val_t *d = tn_map_get(opts, "deadline_ms"), *p = tn_map_get(opts, "progress");
    if (d && d->type != TN_V_NIL) {
        int64_t ms;
        if (!tn_val_as_int(d, &ms) || ms < 1 || ms > srv->cfg.max_deadline_ms)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                                "deadline_ms: must be an integer from 1 to %d", srv->cfg.max_deadline_ms);
        *deadline_ms = (int) ms;
    }
    if (p && p->type != TN_V_NIL) {
        if (p->type != TN_V_BOOL)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS, "progress: must be a boolean");
        *progress = p->u.b;
    }
    return TN_OK;
}

/* The cache key: method and options, less the options that do not change
 * the answer. JSON of a map keeps insertion order, so {a,b} and {b,a} are
 * two entries: harmless (a miss, never a wrong hit). */
static char *cache_key_of(const char *method, const tn_val_t *opts) {
    tn_val_t kept = TN_VAL_NIL;
    if (tn_val_set_map(&kept, 8) != 0)
        return NULL;
    if (opts && opts->type == TN_V_MAP)
        for (size_t i = 0; i < opts->u.m.n; i++) {
            const char *k = opts->u.m.kv[i].key;
            if (strcmp(k, "deadline_ms") == 0 || strcmp(k, "progress") == 0 || strcmp(k, "if_epoch") == 0)
                continue;
            tn_val_t v;
            if (tn_val_copy(&v, &opts->u.m.kv[i].val) != 0 || tn_map_add_take(&kept, k, &v) != 0) {
                tn_val_free(&kept);
                return NULL;
            }
        }
    char *json = tn_val_to_json(&kept);
    tn_val_free(&kept);
    if (json == NULL)
        return NULL;
    size_t n = strlen(method) + strlen(json) + 2;
    char *key = malloc(n);
    if (key)
        snprintf(key, n, "%s %s", method, json);
    free(json);
    return key;
}

static void live_add(tn_server_t *srv, tn_job_t *job) {
    job->live_prev = NULL;
    job->live_next = srv->live;
    if (srv->live)
        srv->live->live_prev = job;
    srv->live = job;
}

static void live_remove(tn_server_t *srv, tn_job_t *job) {
    if (job->live_prev)
        job->live_prev->live_next = job->live_next;
    else if (srv->live == job)
        srv->live = job->live_next;
    if (job->live_next)
        job->live_next->live_prev = job->live_prev;
    job->live_prev = job->live_next = NULL;
}

static void do_query(tn_conn_t *c, uint32_t msgid, const method_t *m, const tn_val_t *opts,
                     uint64_t t0) {
    tn_server_t *srv = c->srv;
    const tn_query_def_t *def = tn_query_find(m->name);
    tn_error_t err = TN_ERROR_INIT;
    int deadline_ms, progress;
    if (def == NULL) {
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s: no query behind this method", m->name);
        return;
    }
    if (service_opts(srv, opts, &deadline_ms, &progress, &err) != TN_OK) {
        tn_reply_error(c, msgid, &err, t0);
        tn_error_clear(&err);
        return;
    }
    uint64_t epoch = srv->epoch;
    if (strcmp(m->name, "metrics.get") == 0) {
        /* PROTOCOL.md section 5: if_epoch equal to the current epoch costs
         * one comparison. */
        const tn_val_t *ie = tn_map_get(opts, "if_epoch");
        int64_t want;
        if (ie && ie->type != TN_V_NIL && !tn_val_as_int(ie, &want)) {
            reply_code(c, msgid, t0, TN_ERR_INVALID_PARAMS, "%s", "if_epoch: must be an integer");
            return;
        }
        if (ie && ie->type != TN_V_NIL && want == (int64_t) epoch) {
            tn_val_t res = TN_VAL_NIL;
            int rc = tn_val_set_map(&res, 2) | tn_map_add_int(&res, "epoch", (int64_t) epoch)
                     | tn_map_add_bool(&res, "not_modified", 1);
            if (rc == 0)
                tn_reply_result(c, msgid, &res, t0);
            else
                reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
            tn_val_free(&res);
            return;
        }
    }
    char *key = cache_key_of(m->name, opts);
    const cache_entry_t *hit = key ? cache_get(srv, key) : NULL;
    if (hit != NULL) {
        reply_cached(c, msgid, m->name, hit, t0);
        free(key);
        return;
    }
    tn_job_t *job = calloc(1, sizeof *job);
    if (job == NULL || (opts && tn_val_copy(&job->opts, opts) != 0)) {
        free(job);
        free(key);
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
        return;
    }
    job->conn_id = c->id;
    job->msgid = msgid;
    job->kind = TN_JOB_QUERY;
    job->method = def->name;
    job->def = def;
    job->queue = def->uses_igraph ? TN_QUEUE_IGRAPH : TN_QUEUE_LIGHT;
    job->snap = tn_snap_retain(srv->snap);
    job->cache_key = key;
    job->want_progress = progress;
    job->started_ns = t0;
    atomic_init(&job->stop, TN_RUN);
    job->deadline = evtimer_new(srv->base, deadline_cb, job);
    struct timeval tv = { deadline_ms / 1000, (deadline_ms % 1000) * 1000 };
    if (job->deadline == NULL || evtimer_add(job->deadline, &tv) != 0) {
        tn_job_free(job);
        reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "cannot arm the deadline timer");
        return;
    }
    if (tn_jobs_submit(srv->jobs, job) != 0) {
        tn_job_free(job);
        reply_code(c, msgid, t0, TN_ERR_BUSY, "%s", "the query queue is full; try again shortly");
        return;
    }
    live_add(srv, job);
    c->jobs_in_flight++;
}

void tn_methods_progress_tick(tn_server_t *srv) {
    for (tn_job_t *j = srv->live; j; j = j->live_next) {
        if (!j->want_progress)
            continue;
        uint64_t total = atomic_load(&j->progress_total), done = atomic_load(&j->progress_done);
        if (total == 0 || done == j->progress_sent)
            continue;
        tn_conn_t *c = tn_conn_find(srv, j->conn_id);
        if (c == NULL || c->closing)
            continue;
        j->progress_sent = done;
        tn_val_t p = TN_VAL_NIL;
        if (tn_val_set_map(&p, 3) == 0 && tn_map_add_int(&p, "msgid", j->msgid) == 0
            && tn_map_add_int(&p, "done", (int64_t) done) == 0
            && tn_map_add_int(&p, "total", (int64_t) total) == 0) {
            srv->olen = 0;
            if (tn_rpc_encode_notify("progress", &p, &srv->obuf, &srv->olen, &srv->ocap) == 0)
                tn_conn_send(c, srv->obuf, srv->olen);
            srv->olen = 0;
        }
        tn_val_free(&p);
    }
}

/* After a job's answer: close a half-closed client that is owed nothing
 * more, or read again from one that was throttled. */
static void after_answer(tn_server_t *srv, tn_conn_t *c, uint64_t id) {
    if (tn_conn_find(srv, id) != c || c->closing)
        return;
    if (c->eof && c->jobs_in_flight == 0) {
        tn_conn_close_after_flush(c);
        return;
    }
    if (c->throttled && c->jobs_in_flight < srv->cfg.max_inflight) {
        c->throttled = 0;
        tn_conn_resume(c);
    }
}

void tn_methods_job_done(tn_job_t *job, void *arg) {
    tn_server_t *srv = arg;
    live_remove(srv, job);
    tn_conn_t *c = job->conn_id ? tn_conn_find(srv, job->conn_id) : NULL;
    if (job->kind != TN_JOB_QUERY) {
        int64_t epoch = 0;
        if (job->committed) {
            tn_val_as_int(tn_map_get(&job->result, "epoch"), &epoch);
            tn_server_epoch_changed(srv, (uint64_t) epoch);
            c = job->conn_id ? tn_conn_find(srv, job->conn_id) : NULL;
        }
        if (c != NULL) {
            c->jobs_in_flight--;
            if (job->rc == TN_OK)
                tn_reply_result(c, job->msgid, &job->result, job->started_ns);
            else
                tn_reply_error(c, job->msgid, &job->err, job->started_ns);
            after_answer(srv, c, job->conn_id);
        }
        tn_job_free(job);
        return;
    }
    const cache_entry_t *kept = NULL;
    if (job->rc == TN_OK && job->cache_key)
        kept = cache_put(srv, job->snap->epoch, job->cache_key, &job->result);
    if (c != NULL) {
        c->jobs_in_flight--;
        if (kept != NULL)
            reply_cached(c, job->msgid, job->def->name, kept, job->started_ns);
        else if (job->rc == TN_OK)
            reply_query(c, job->msgid, job->def->name, &job->result, job->started_ns);
        else
            tn_reply_error(c, job->msgid, &job->err, job->started_ns);
        after_answer(srv, c, job->conn_id);
    }
    tn_job_free(job);
}

void tn_methods_conn_gone(tn_server_t *srv, tn_conn_t *c) {
    /* Its jobs stop early; their results are dropped when they come back
     * (jobs name their connection by id, never by pointer). */
    for (tn_job_t *j = srv->live; j; j = j->live_next)
        if (j->conn_id == c->id)
            atomic_store(&j->stop, TN_STOP_CANCEL);
}

/* ---- dispatch ---- */

static void handle_cancel(tn_conn_t *c, const tn_val_t *opts) {
    int64_t msgid;
    if (!tn_val_as_int(tn_map_get(opts, "msgid"), &msgid))
        return;                      /* a malformed notification has no reply */
    for (tn_job_t *j = c->srv->live; j; j = j->live_next)
        if (j->conn_id == c->id && (int64_t) j->msgid == msgid)
            atomic_store(&j->stop, TN_STOP_CANCEL);
}

void tn_methods_dispatch(tn_conn_t *c, const tn_val_t *msgv, uint64_t t0) {
    tn_rpc_msg_t msg;
    tn_error_t err = TN_ERROR_INIT;
    int msgid_ok = 0;
    tn_code_t rc = tn_rpc_parse(msgv, &msg, &msgid_ok, &err);
    if (rc != TN_OK) {
        /* Notifications never get replies; requests get one with their
         * msgid when it could be read (else 0). */
        int is_notify = msgv->type == TN_V_ARR && msgv->u.a.n > 0
                        && msgv->u.a.items[0].type == TN_V_INT && msgv->u.a.items[0].u.i == 2;
        if (!is_notify)
            tn_reply_error(c, msgid_ok ? msg.msgid : 0, &err, t0);
        tn_error_clear(&err);
        return;
    }
    if (msg.type == TN_RPC_NOTIFY) {
        if (strcmp(msg.method, "cancel") == 0 && c->role != TN_ROLE_NONE)
            handle_cancel(c, msg.options);
        return;                      /* unknown notifications are ignored */
    }
    if (msg.type == TN_RPC_RESPONSE)
        return;                      /* we send no requests, so expect no responses */
    const method_t *m = find_method(msg.method);
    if (c->role == TN_ROLE_NONE && (m == NULL || m->role != ROLE_ANY)) {
        /* Before auth only server.ping and auth exist: say nothing about
         * which other methods there are. */
        reply_code(c, msg.msgid, t0, TN_ERR_UNAUTHORIZED, "%s",
                   "authenticate first: auth {\"token\": ...}");
        return;
    }
    if (m == NULL) {
        reply_code(c, msg.msgid, t0, TN_ERR_METHOD_NOT_FOUND, "no method %.64s", msg.method);
        return;
    }
    if (m->role != ROLE_ANY && c->role < m->role) {
        tn_error_t ferr = TN_ERROR_INIT;
        tn_error_set(&ferr, TN_ERR_FORBIDDEN, "%s needs the %s role; this connection has %s",
                     m->name, tn_role_name(m->role), tn_role_name(c->role));
        tn_reply_error(c, msg.msgid, &ferr, t0);
        return;
    }
    switch (m->kind) {
    case M_INLINE:
        if (tn_opts_check(msg.options, m->params, &err) != TN_OK) {
            tn_reply_error(c, msg.msgid, &err, t0);
            tn_error_clear(&err);
            return;
        }
        m->fn(c, msg.msgid, msg.options, t0);
        break;
    case M_CHANGE:
        do_change(c, msg.msgid, m, msg.options, t0);
        break;
    case M_QUERY:
        do_query(c, msg.msgid, m, msg.options, t0);
        break;
    }
}
