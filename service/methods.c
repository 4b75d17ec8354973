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
    { "import.begin",      M_INLINE, ROLE_WRITE, tn_m_import_begin,      p_ibegin },
    { "import.chunk",      M_INLINE, ROLE_WRITE, tn_m_import_chunk,      p_ichunk },
    { "import.commit",     M_INLINE, ROLE_WRITE, tn_m_import_commit,     p_itoken },
    { "import.abort",      M_INLINE, ROLE_WRITE, tn_m_import_abort,      p_itoken },
};

#define NMETHODS (sizeof methods / sizeof methods[0])

static const method_t *find_method(const char *name) {
    for (size_t i = 0; i < NMETHODS; i++)
        if (strcmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
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
            tn_cache_clear(srv);
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

static void m_server_ping(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    (void) opts;
    tn_val_t v = TN_VAL_NIL;
    if (tn_val_set_str(&v, "pong") != 0)
        return tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
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
        tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
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
    rc |= tn_map_add_int(&res, "uptime_s", tn_server_uptime_s(srv));
    rc |= tn_map_add_int(&res, "epoch", (int64_t) srv->epoch);
    rc |= tn_map_add_str(&res, "home", tn_writer_home(srv->writer));
    rc |= tn_map_add_int(&res, "connections", (int64_t) srv->nconns);
    /* Without --data the server runs in memory: data_dir nil, fsync "none". */
    rc |= tn_map_add_str(&res, "data_dir", tn_writer_data_dir(srv->writer));
    rc |= tn_map_add_str(&res, "fsync", tn_writer_fsync(srv->writer));
    if (rc != 0)
        tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(c, msgid, &res, t0);
    tn_val_free(&res);
}

static void m_metrics_subscribe(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    (void) opts;
    c->subscribed = 1;
    tn_val_t res = TN_VAL_NIL;
    if (tn_val_set_map(&res, 1) != 0 || tn_map_add_bool(&res, "subscribed", 1) != 0)
        tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
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
        return tn_reply_code(c, msgid, t0, TN_ERR_INVALID_PARAMS, "%s", "token: a string is required");
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
        int delay_ms = tn_auth_pace_ms(srv, c->peer, srv->cfg.auth_delay_ms << (c->auth_failures - 1));
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
void tn_methods_submit_write(tn_conn_t *c, uint32_t msgid, const char *method, tn_job_kind_t kind,
                         tn_val_t *opts, uint64_t t0) {
    tn_server_t *srv = c->srv;
    tn_job_t *job = calloc(1, sizeof *job);
    if (job == NULL || audit_of(c, &job->audit) != 0) {
        tn_job_free(job);
        tn_val_free(opts);
        tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
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
        tn_reply_code(c, msgid, t0, TN_ERR_BUSY, "%s", "too many changes waiting; try again shortly");
        return;
    }
    c->jobs_in_flight++;
}

static void do_change(tn_conn_t *c, uint32_t msgid, const method_t *m, const tn_val_t *opts,
                      uint64_t t0) {
    tn_val_t copy = TN_VAL_NIL;
    if (opts && tn_val_copy(&copy, opts) != 0) {
        tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
        return;
    }
    tn_methods_submit_write(c, msgid, m->name, TN_JOB_CHANGE, &copy, t0);
}

static void m_server_save(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0) {
    (void) opts;
    tn_val_t none = TN_VAL_NIL;
    tn_methods_submit_write(c, msgid, "server.save", TN_JOB_SAVE, &none, t0);
}


/* ---- queries ---- */

/* Stop a query: a running one sees the flag (igraph's interruption
 * handler, or the query's own polling); one still waiting in its queue is
 * taken out and answered at once, not after the queries ahead of it. */
static void stop_job(tn_server_t *srv, tn_job_t *job, int why) {
    atomic_store(&job->stop, why);
    if (tn_jobs_withdraw(srv->jobs, job)) {
        tn_qctx_t ctx = { &job->stop, NULL, NULL };
        job->rc = tn_query_stopped(&ctx, &job->err);
        tn_methods_job_done(job, srv);
    }
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_job_t *job = arg;
    stop_job(job->owner, job, TN_STOP_DEADLINE);
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
        tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s: no query behind this method", m->name);
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
            tn_reply_code(c, msgid, t0, TN_ERR_INVALID_PARAMS, "%s", "if_epoch: must be an integer");
            return;
        }
        if (ie && ie->type != TN_V_NIL && want == (int64_t) epoch) {
            tn_val_t res = TN_VAL_NIL;
            int rc = tn_val_set_map(&res, 2) | tn_map_add_int(&res, "epoch", (int64_t) epoch)
                     | tn_map_add_bool(&res, "not_modified", 1);
            if (rc == 0)
                tn_reply_result(c, msgid, &res, t0);
            else
                tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
            tn_val_free(&res);
            return;
        }
    }
    char *key = tn_cache_key(m->name, opts);
    const cache_entry_t *hit = key ? tn_cache_get(srv, key) : NULL;
    if (hit != NULL) {
        tn_reply_cached(c, msgid, m->name, hit, t0);
        free(key);
        return;
    }
    tn_job_t *job = calloc(1, sizeof *job);
    if (job == NULL || (opts && tn_val_copy(&job->opts, opts) != 0)) {
        free(job);
        free(key);
        tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
        return;
    }
    job->conn_id = c->id;
    job->msgid = msgid;
    job->kind = TN_JOB_QUERY;
    job->method = def->name;
    job->def = def;
    job->queue = def->uses_igraph ? TN_QUEUE_IGRAPH : TN_QUEUE_LIGHT;
    /* Degree is computed without igraph (graph/centrality.c), so the
     * dashboards' favourite never waits behind a planner's betweenness. */
    const char *metric = tn_val_str(tn_map_get(opts, "metric"));
    if (job->queue == TN_QUEUE_IGRAPH && strcmp(def->name, "query.centrality") == 0 && metric
        && strcmp(metric, "degree") == 0)
        job->queue = TN_QUEUE_LIGHT;
    job->snap = tn_snap_retain(srv->snap);
    job->cache_key = key;
    job->want_progress = progress;
    job->started_ns = t0;
    atomic_init(&job->stop, TN_RUN);
    job->owner = srv;
    job->deadline = evtimer_new(srv->base, deadline_cb, job);
    struct timeval tv = { deadline_ms / 1000, (deadline_ms % 1000) * 1000 };
    if (job->deadline == NULL || evtimer_add(job->deadline, &tv) != 0) {
        tn_job_free(job);
        tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "cannot arm the deadline timer");
        return;
    }
    if (tn_jobs_submit(srv->jobs, job) != 0) {
        tn_job_free(job);
        tn_reply_code(c, msgid, t0, TN_ERR_BUSY, "%s", "the query queue is full; try again shortly");
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
    if (c->throttled && c->jobs_in_flight < srv->cfg.max_inflight) {
        /* Requests still buffered are served before a half-closed
         * client is let go. */
        c->throttled = 0;
        tn_conn_resume(c);
        if (tn_conn_find(srv, id) != c || c->closing)
            return;
    }
    if (c->eof && c->jobs_in_flight == 0 && !c->throttled)
        tn_conn_close_after_flush(c);
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
        kept = tn_cache_put(srv, job->snap->epoch, job->cache_key, &job->result);
    if (c != NULL) {
        c->jobs_in_flight--;
        if (kept != NULL)
            tn_reply_cached(c, job->msgid, job->def->name, kept, job->started_ns);
        else if (job->rc == TN_OK)
            tn_reply_query(c, job->msgid, job->def->name, &job->result, job->started_ns);
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

/* Before auth only server.ping and auth exist: say nothing about which
 * other methods there are. A client that keeps calling them is not going
 * to authenticate: after a few it is let go, so an anonymous flood costs
 * neither log lines nor a connection slot. */
#define PREAUTH_MAX_REFUSED 3
static void refuse_before_auth(tn_conn_t *c, const tn_rpc_msg_t *msg, uint64_t t0) {
    tn_log(TN_LOG_INFO, "unauthorized: %s called %s before auth", c->peer,
           TN_CLIP(msg->method, 64));
    tn_reply_code(c, msg->msgid, t0, TN_ERR_UNAUTHORIZED, "%s",
                  "authenticate first: auth {\"token\": ...}");
    if (++c->preauth_refused >= PREAUTH_MAX_REFUSED) {
        tn_log(TN_LOG_INFO, "closing %s: %d calls before auth", c->peer, c->preauth_refused);
        tn_conn_close_after_flush(c);
    }
}

static void handle_cancel(tn_conn_t *c, const tn_val_t *opts) {
    int64_t msgid;
    if (!tn_val_as_int(tn_map_get(opts, "msgid"), &msgid))
        return;                      /* a malformed notification has no reply */
    for (tn_job_t *j = c->srv->live; j; j = j->live_next)
        if (j->conn_id == c->id && (int64_t) j->msgid == msgid) {
            stop_job(c->srv, j, TN_STOP_CANCEL);    /* may free j: stop looking */
            return;
        }
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
        refuse_before_auth(c, &msg, t0);
        return;
    }
    if (m == NULL) {
        tn_reply_code(c, msg.msgid, t0, TN_ERR_METHOD_NOT_FOUND, "no method %s",
                      TN_CLIP(msg.method, 64));
        return;
    }
    if (m->role != ROLE_ANY && c->role < m->role) {
        tn_error_t ferr = TN_ERROR_INIT;
        tn_error_set(&ferr, TN_ERR_FORBIDDEN, "%s needs the %s role; this connection has %s",
                     m->name, tn_role_name(m->role), tn_role_name(c->role));
        tn_log(TN_LOG_WARN, "forbidden: %s (token %s, role %s) called %s", c->peer,
               c->token_name[0] ? c->token_name : "-", c->role_name, m->name);
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
