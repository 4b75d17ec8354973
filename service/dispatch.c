/*
 * dispatch.c -- every request is served here (dispatch.h), in the order of
 * Neovim's channel: envelope (codec), look-up, role, options, run, answer.
 * What a method is, who may call it and which options it takes all come
 * from its registry entry (registry.h); this file knows no method by name.
 *
 *  - inline and import methods run on the loop at once (constant time);
 *  - a change is queued for the writer (writes.h), which bumps the epoch;
 *  - a query runs as a job on a worker (jobs.h) over the epoch's snapshot,
 *    with a deadline timer, cancel, progress, and the per-epoch cache.
 *
 * Jobs hold a reference on their caller: when the caller has gone, the
 * answer is dropped and the reference released; nothing is looked up again.
 */
#include "dispatch.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "codec.h"
#include "handlers.h"
#include "imports.h"
#include "http.h"
#include "live.h"
#include "log.h"
#include "registry.h"
#include "reply.h"
#include "writes.h"

static tn_call_t call_of(tn_server_t *srv, tn_caller_t *c, uint32_t msgid, uint64_t t0,
                         const char *method) {
    tn_call_t call = { c, msgid, t0, &srv->stats, method };
    return call;
}

/* After a change: pick up the writer's new snapshot (published after the
 * fsync, so a client reads its own writes) and tell every subscriber. */
static void epoch_changed(tn_server_t *srv, uint64_t epoch) {
    if (tn_writer_epoch(srv->writer) != srv->epoch) {
        tn_snap_t *s = tn_writer_snapshot(srv->writer);
        if (s != NULL) {
            tn_snap_release(srv->snap);
            srv->snap = s;
            srv->epoch = s->epoch;
            tn_cache_reset(&srv->cache, srv->epoch);
        }
    }
    tn_val_t ev = TN_VAL_NIL;
    if (tn_val_set_map(&ev, 2) != 0 || tn_map_add_str(&ev, "type", "epoch") != 0
        || tn_map_add_int(&ev, "epoch", (int64_t) epoch) != 0) {
        tn_val_free(&ev);
        return;
    }
    /* A notification may close a slow subscriber; hold each meanwhile. */
    for (size_t i = 0; i < srv->nsubs;) {
        tn_caller_t *c = srv->subs[i];
        if (c->closed) {
            tn_m_unsubscribe(srv, c);
            continue;
        }
        tn_caller_retain(c);
        tn_notify(c, "event", &ev);
        tn_caller_release(c);
        i++;
    }
    tn_val_free(&ev);
    tn_http_epoch_changed(srv->http, epoch);
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
        tn_dispatch_job_done(job, srv);
    }
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_job_t *job = arg;
    stop_job(job->owner, job, TN_STOP_DEADLINE);
}

/* The options the service reads itself, with the server's own bounds. */
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

/* A live answer: the cached part plus the server's figures of now;
 * spliced into the encoded bytes when there are some (live.h). */
static void reply_live(tn_server_t *srv, const tn_call_t *call, const tn_val_t *result,
                       const char *enc, size_t enc_len) {
    if (tn_live_reply(srv, call, enc, enc_len) == 0)
        return;
    tn_val_t copy;
    if (tn_val_copy(&copy, result) != 0 || tn_m_live_figures(srv, &copy) != 0) {
        tn_val_free(&copy);
        tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
        return;
    }
    tn_reply_result(call, &copy);
    tn_val_free(&copy);
}

/* if_epoch equal to the current epoch costs one comparison. */
static int answer_not_modified(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    int64_t want;
    const tn_val_t *ie = tn_map_get(opts, "if_epoch");
    if (ie == NULL || !tn_val_as_int(ie, &want) || want != (int64_t) srv->epoch)
        return 0;
    tn_val_t res = TN_VAL_NIL;
    int rc = tn_val_set_map(&res, 2) | tn_map_add_int(&res, "epoch", (int64_t) srv->epoch)
             | tn_map_add_bool(&res, "not_modified", 1);
    if (rc == 0)
        tn_reply_result(call, &res);
    else
        tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
    tn_val_free(&res);
    return 1;
}

static void do_query(tn_server_t *srv, const tn_call_t *call, const tn_method_t *m,
                     const tn_val_t *opts) {
    int live = (m->flags & TN_MF_LIVE) != 0;
    if (live && answer_not_modified(srv, call, opts))
        return;
    char *key = NULL;
    if (m->flags & TN_MF_CACHE) {
        /* A call without options of its own is looked up without
         * building its key; only a miss keeps a copy for the job. */
        char plain[TN_CACHE_PLAIN_MAX];
        int is_plain = tn_cache_key_plain(m->name, m->opts, opts, plain, sizeof plain);
        const char *k = is_plain ? plain : (key = tn_cache_key(m->name, m->opts, opts));
        const tn_cache_entry_t *hit = k ? tn_cache_get(&srv->cache, srv->epoch, k) : NULL;
        if (hit != NULL)
            srv->cache_hits++;
        else
            srv->cache_misses++;
        if (hit != NULL) {
            if (live)
                reply_live(srv, call, &hit->result, hit->enc, hit->enc_len);
            else
                tn_reply_encoded(call, hit->enc, hit->enc_len);
            free(key);
            return;
        }
        if (is_plain)
            key = strdup(plain);      /* NULL: the answer is simply not kept */
    }
    int deadline_ms, progress;
    tn_error_t err = TN_ERROR_INIT;
    if (service_opts(srv, opts, &deadline_ms, &progress, &err) != TN_OK) {
        free(key);
        tn_reply_error(call, &err);
        tn_error_clear(&err);
        return;
    }
    tn_job_t *job = calloc(1, sizeof *job);
    if (job == NULL || (opts && tn_val_copy(&job->opts, opts) != 0)) {
        free(job);
        free(key);
        tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
        return;
    }
    job->msgid = call->msgid;
    job->kind = TN_JOB_QUERY;
    job->method = m->name;
    job->entry = m;
    job->query = m->query;
    job->encode = !live;          /* a live answer is added to, then encoded */
    job->queue = tn_registry_needs_igraph(m, opts) ? TN_QUEUE_IGRAPH : TN_QUEUE_LIGHT;
    job->snap = tn_snap_retain(srv->snap);
    job->cache_key = key;
    job->want_progress = progress;
    job->started_ns = call->t0;
    atomic_init(&job->stop, TN_RUN);
    job->owner = srv;
    job->caller = call->caller;
    tn_caller_retain(call->caller);
    job->deadline = evtimer_new(srv->base, deadline_cb, job);
    struct timeval tv = { deadline_ms / 1000, (deadline_ms % 1000) * 1000 };
    if (job->deadline == NULL || evtimer_add(job->deadline, &tv) != 0) {
        tn_job_free(job);
        tn_reply_code(call, TN_ERR_INTERNAL, "%s", "cannot arm the deadline timer");
        return;
    }
    if (tn_jobs_submit(srv->jobs, job) != 0) {
        tn_job_free(job);
        tn_reply_code(call, TN_ERR_BUSY, "%s", "the query queue is full; try again shortly");
        return;
    }
    live_add(srv, job);
    call->caller->jobs_in_flight++;
}

void tn_dispatch_progress_tick(tn_server_t *srv) {
    for (tn_job_t *j = srv->live; j; j = j->live_next) {
        if (!j->want_progress || j->caller == NULL || j->caller->closed)
            continue;
        uint64_t total = atomic_load(&j->progress_total), done = atomic_load(&j->progress_done);
        /* A job past a second reports at every tick (200 ms), moved or not,
         * so a client can tell a slow query from a stuck connection. */
        int beat = tn_now_ns() - j->started_ns > 1000000000ull;
        if (total == 0 || (done == j->progress_sent && !beat))
            continue;
        j->progress_sent = done;
        tn_val_t p = TN_VAL_NIL;
        if (tn_val_set_map(&p, 3) == 0 && tn_map_add_int(&p, "msgid", j->msgid) == 0
            && tn_map_add_int(&p, "done", (int64_t) done) == 0
            && tn_map_add_int(&p, "total", (int64_t) total) == 0)
            tn_notify(j->caller, "progress", &p);
        tn_val_free(&p);
    }
}

/* The answer of a query job: kept in the cache when its entry says so,
 * then sent as the bytes the worker encoded. */
static void answer_query(tn_server_t *srv, tn_job_t *job, const tn_call_t *call) {
    const tn_method_t *m = job->entry;
    int live = (m->flags & TN_MF_LIVE) != 0;
    const tn_cache_entry_t *kept = NULL;
    if (job->rc != TN_OK) {
        if (call)
            tn_reply_error(call, &job->err);
        return;
    }
    size_t cap = 0;
    if (live && job->enc == NULL && tn_codec_encode(&job->result, &job->enc, &job->enc_len, &cap) != 0) {
        free(job->enc);             /* no bytes: answered from the tree */
        job->enc = NULL;
        job->enc_len = 0;
    }
    if (job->cache_key)
        kept = tn_cache_put(&srv->cache, job->snap->epoch, job->cache_key, job->enc, job->enc_len,
                            &job->result, live);
    if (kept != NULL)
        job->enc = NULL;          /* the cache owns the bytes now */
    if (call == NULL)
        return;
    if (live)
        reply_live(srv, call, kept ? &kept->result : &job->result, kept ? kept->enc : job->enc,
                   kept ? kept->enc_len : job->enc_len);
    else
        tn_reply_encoded(call, kept ? kept->enc : job->enc, kept ? kept->enc_len : job->enc_len);
}

void tn_dispatch_job_done(tn_job_t *job, void *arg) {
    tn_server_t *srv = arg;
    live_remove(srv, job);
    tn_caller_t *c = job->caller;
    tn_call_t call = call_of(srv, c, job->msgid, job->started_ns, job->method);
    const tn_call_t *to = c != NULL && !c->closed ? &call : NULL;
    if (job->kind != TN_JOB_QUERY && job->committed) {
        int64_t epoch = 0;
        tn_val_as_int(tn_map_get(&job->result, "epoch"), &epoch);
        epoch_changed(srv, (uint64_t) epoch);
        to = c != NULL && !c->closed ? &call : NULL;
    }
    if (c != NULL)
        c->jobs_in_flight--;
    if (job->kind == TN_JOB_QUERY)
        answer_query(srv, job, to);
    else if (to != NULL && job->rc == TN_OK)
        tn_reply_result(to, &job->result);
    else if (to != NULL)
        tn_reply_error(to, &job->err);
    if (c != NULL && !c->closed && c->ops->answered)
        c->ops->answered(c);
    tn_job_free(job);             /* releases the caller */
}

void tn_dispatch_caller_gone(tn_server_t *srv, tn_caller_t *c) {
    /* Its jobs stop early; their answers are dropped when they come back. */
    for (tn_job_t *j = srv->live; j; j = j->live_next)
        if (j->caller == c)
            atomic_store(&j->stop, TN_STOP_CANCEL);
    if (c->subscribed)
        tn_m_unsubscribe(srv, c);
}

/* ---- dispatch ---- */

static void handle_cancel(tn_server_t *srv, tn_caller_t *c, const tn_val_t *opts) {
    int64_t msgid;
    if (!tn_val_as_int(tn_map_get(opts, "msgid"), &msgid))
        return;                      /* a malformed notification has no reply */
    for (tn_job_t *j = srv->live; j; j = j->live_next)
        if (j->caller == c && (int64_t) j->msgid == msgid) {
            stop_job(srv, j, TN_STOP_CANCEL);    /* may free j: stop looking */
            return;
        }
}

/* Before auth only server.ping and auth exist: say nothing about which
 * other methods there are. A client that keeps calling them is not going
 * to authenticate: after a few it is let go, so an anonymous flood costs
 * neither log lines nor a connection slot. */
#define PREAUTH_MAX_REFUSED 3
static void refuse_before_auth(tn_caller_t *c, const tn_call_t *call, const char *method) {
    tn_log(TN_LOG_INFO, "unauthorized: %s called %s before auth", c->peer, TN_CLIP(method, 64));
    tn_reply_code(call, TN_ERR_UNAUTHORIZED, "%s", "authenticate first: auth {\"token\": ...}");
    if (++c->preauth_refused >= PREAUTH_MAX_REFUSED && c->ops->hang_up) {
        tn_log(TN_LOG_INFO, "closing %s: %d calls before auth", c->peer, c->preauth_refused);
        c->ops->hang_up(c);
    }
}

/* Clients call the same method over and over (pings, a dashboard's
 * reads): the last one found is tried first, one comparison instead of a
 * walk of the registry. Loop thread only. */
static const tn_method_t *find_method(const char *name) {
    static const tn_method_t *last;
    if (last != NULL && name != NULL && strcmp(last->name, name) == 0)
        return last;
    const tn_method_t *m = tn_registry_find(name);
    if (m != NULL)
        last = m;
    return m;
}

void tn_dispatch_call(tn_server_t *srv, tn_caller_t *c, uint32_t msgid, const char *method,
                      const tn_val_t *opts, uint64_t t0) {
    const tn_method_t *m = find_method(method);
    tn_call_t call = call_of(srv, c, msgid, t0, m ? m->name : NULL);
    tn_error_t err = TN_ERROR_INIT;
    if (c->role == TN_ROLE_NONE && (m == NULL || m->role != TN_ROLE_NONE)) {
        refuse_before_auth(c, &call, method);
        return;
    }
    if (m == NULL) {
        tn_reply_code(&call, TN_ERR_METHOD_NOT_FOUND, "no method %s", TN_CLIP(method, 64));
        return;
    }
    if (m->role != TN_ROLE_NONE && c->role < m->role) {
        tn_error_set(&err, TN_ERR_FORBIDDEN, "%s needs the %s role; this connection has %s",
                     m->name, tn_role_name(m->role), tn_role_name(c->role));
        tn_log(TN_LOG_WARN, "forbidden: %s (token %s, role %s) called %s", c->peer,
               c->token_name[0] ? c->token_name : "-", c->role_name, m->name);
        tn_reply_error(&call, &err);
        tn_error_clear(&err);
        return;
    }
    /* The service's own bounds on deadline_ms come first (as they always
     * have), then the entry's schema. */
    int deadline_ms, progress;
    if ((m->flags & TN_MF_SLOW) && service_opts(srv, opts, &deadline_ms, &progress, &err) != TN_OK) {
        tn_reply_error(&call, &err);
        tn_error_clear(&err);
        return;
    }
    if (tn_registry_validate(m, opts, &err) != TN_OK) {
        tn_reply_error(&call, &err);
        tn_error_clear(&err);
        return;
    }
    tn_val_t copy = TN_VAL_NIL;
    switch (m->kind) {
    case TN_MK_INLINE:
    case TN_MK_IMPORT:
        m->fn(srv, &call, opts);
        break;
    case TN_MK_CHANGE:
        if (opts && tn_val_copy(&copy, opts) != 0) {
            tn_reply_code(&call, TN_ERR_INTERNAL, "%s", "out of memory");
            return;
        }
        tn_writes_submit(srv, &call, m->name, TN_JOB_CHANGE, m->change, &copy);
        break;
    case TN_MK_QUERY:
        do_query(srv, &call, m, opts);
        break;
    }
}

/* The cancel notification is part of the envelope protocol, not a method. */
static const char cancel_notification[] = "cancel";

void tn_dispatch_message(tn_server_t *srv, tn_caller_t *c, const tn_val_t *msgv, uint64_t t0) {
    tn_rpc_msg_t msg;
    tn_error_t err = TN_ERROR_INIT;
    int msgid_ok = 0;
    tn_code_t rc = tn_rpc_parse(msgv, &msg, &msgid_ok, &err);
    if (rc != TN_OK) {
        /* Notifications never get replies; requests get one with their
         * msgid when it could be read (else 0). */
        int is_notify = msgv->type == TN_V_ARR && msgv->u.a.n > 0
                        && msgv->u.a.items[0].type == TN_V_INT && msgv->u.a.items[0].u.i == 2;
        tn_call_t call = call_of(srv, c, msgid_ok ? msg.msgid : 0, t0, NULL);
        if (!is_notify)
            tn_reply_error(&call, &err);
        tn_error_clear(&err);
        return;
    }
    if (msg.type == TN_RPC_NOTIFY) {
        if (strcmp(msg.method, cancel_notification) == 0 && c->role != TN_ROLE_NONE)
            handle_cancel(srv, c, msg.options);
        return;                      /* unknown notifications are ignored */
    }
    if (msg.type == TN_RPC_RESPONSE)
        return;                      /* we send no requests, so expect no responses */
    tn_dispatch_call(srv, c, msg.msgid, msg.method, msg.options, t0);
}
