/*
 * writer.c -- changes in order, durable before they are answered (see
 * writer.h).
 *
 * If fsync fails after changes were applied in memory, they cannot be
 * taken back and their durability is unknown: like Redis under
 * "appendfsync always", the process logs and exits rather than answer
 * anything; recovery then replays exactly what reached the disk. A failed
 * append (disk full, I/O error) is different: the record is cut off, that
 * change is answered "unavailable" and never applied.
 */
#include "writer.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "opts.h"

struct tn_writer {
    tn_model_t *model;              /* write thread only */
    tn_store_t *store;              /* NULL: in memory */
    tn_snap_line_t *line;           /* write thread only: derives each epoch's snapshot */
    pthread_mutex_t lock;           /* guards 'published' */
    tn_snap_t *published;
    char *home;
    size_t imported;                /* records imported since the heap was last trimmed */
    uint64_t last_import_ns;        /* when the last of them came */
    pthread_mutex_t audit_lock;     /* guards 'audit' */
    tn_val_t audit;                 /* array of entries, oldest first */
};

#define AUDIT_MAX_IDS 1000

static void publish(tn_writer_t *w) {
    tn_error_t err = TN_ERROR_INIT;
    tn_snap_t *s = tn_snap_line_publish(w->line, &err);
    if (s == NULL) {
        tn_log(TN_LOG_ERROR, "%s at epoch %llu; readers keep the previous one", err.message,
               (unsigned long long) tn_model_epoch(w->model));
        tn_error_clear(&err);
        return;
    }
    pthread_mutex_lock(&w->lock);
    tn_snap_t *old = w->published;
    w->published = s;
    pthread_mutex_unlock(&w->lock);
    tn_snap_release(old);
}

tn_writer_t *tn_writer_new(tn_model_t *model, tn_store_t *store) {
    tn_writer_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->model = model;
    w->store = store;
    w->home = strdup(tn_model_home(model));
    w->line = tn_snap_line_new(model);
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_init(&w->audit_lock, NULL);
    tn_val_set_arr(&w->audit, 0);
    if (w->line != NULL)
        publish(w);
    if (w->published == NULL || w->home == NULL) {
        /* The model stays the caller's, so it must stop being followed:
         * nothing was dropped yet, so the line holds no record. */
        tn_snap_release(w->published);
        if (w->line != NULL)
            tn_model_follow(model, NULL, NULL);
        tn_snap_line_free(w->line);
        free(w->home);
        free(w);
        return NULL;
    }
    return w;
}

void tn_writer_free(tn_writer_t *w) {
    if (w == NULL)
        return;
    tn_snap_release(w->published);
    tn_store_close(w->store);
    tn_model_free(w->model);        /* its records go to the line's era... */
    tn_snap_line_free(w->line);     /* ...which frees them when no snapshot is left */
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->audit_lock);
    tn_val_free(&w->audit);
    free(w->home);
    free(w);
}

tn_snap_t *tn_writer_snapshot(tn_writer_t *w) {
    pthread_mutex_lock(&w->lock);
    tn_snap_t *s = tn_snap_retain(w->published);
    pthread_mutex_unlock(&w->lock);
    return s;
}

uint64_t tn_writer_epoch(tn_writer_t *w) {
    pthread_mutex_lock(&w->lock);
    uint64_t e = w->published->epoch;
    pthread_mutex_unlock(&w->lock);
    return e;
}

const char *tn_writer_home(tn_writer_t *w) { return w->home; }
const char *tn_writer_data_dir(tn_writer_t *w) { return w->store ? tn_store_dir(w->store) : NULL; }
const char *tn_writer_fsync(tn_writer_t *w) {
    return w->store ? tn_fsync_name(tn_store_policy(w->store)) : "none";
}

/* The node ids a change touches, for filtering the audit trail by node. */
static int add_ids(tn_val_t *ids, int *truncated, const tn_val_t *rec, const char *const *keys) {
    int rc = 0;
    for (size_t k = 0; keys[k]; k++) {
        const char *id = tn_val_str(tn_map_get(rec, keys[k]));
        if (id == NULL)
            continue;
        if (ids->u.a.n >= AUDIT_MAX_IDS) {
            *truncated = 1;
            return rc;
        }
        rc |= tn_arr_push_str(ids, id);
    }
    return rc;
}

static int audit_entry(const tn_job_t *job, uint64_t epoch, tn_val_t *out) {
    static const char *const node_keys[] = { "id", NULL };
    static const char *const pair_keys[] = { "a", "b", NULL };
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    tn_val_t ids = TN_VAL_NIL;
    int truncated = 0;
    int rc = tn_val_set_map(out, 9) | tn_val_set_arr(&ids, 4);
    rc |= tn_map_add_int(out, "time_ms", (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000);
    rc |= tn_map_add_int(out, "epoch", (int64_t) epoch);
    rc |= tn_map_add_str(out, "method", job->method);
    const char *who[3] = { "token", "role", "peer" };
    for (int i = 0; i < 3; i++)
        rc |= tn_map_add_str(out, who[i], tn_val_str(tn_map_get(&job->audit, who[i])));
    const tn_val_t *o = &job->opts;
    rc |= add_ids(&ids, &truncated, o, node_keys);          /* node.delete */
    rc |= add_ids(&ids, &truncated, o, pair_keys);          /* pair.delete */
    rc |= add_ids(&ids, &truncated, tn_map_get(o, "node"), node_keys);
    rc |= add_ids(&ids, &truncated, tn_map_get(o, "pair"), pair_keys);
    const tn_val_t *arrs[2] = { tn_map_get(o, "nodes"), tn_map_get(o, "pairs") };
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; arrs[k] && arrs[k]->type == TN_V_ARR && i < arrs[k]->u.a.n && !truncated; i++)
            rc |= add_ids(&ids, &truncated, &arrs[k]->u.a.items[i], k == 0 ? node_keys : pair_keys);
    rc |= tn_map_add_take(out, "nodes", &ids);
    rc |= tn_map_add_bool(out, "nodes_truncated", truncated);
    if (rc != 0)
        tn_val_free(out);
    return rc ? -1 : 0;
}

static void audit_keep(tn_val_t *entry, void *arg) {
    tn_writer_t *w = arg;
    pthread_mutex_lock(&w->audit_lock);
    tn_arr_push_take(&w->audit, entry);
    pthread_mutex_unlock(&w->audit_lock);
}

tn_code_t tn_writer_load_audit(tn_writer_t *w, tn_error_t *err) {
    return w->store ? tn_store_audit_load(w->store, audit_keep, w, err) : TN_OK;
}

static void run_change(tn_writer_t *w, tn_job_t *job) {
    tn_change_t *c = NULL;
    job->rc = tn_change_prepare(w->model, job->change, &job->opts, &c, &job->err);
    if (job->rc != TN_OK)
        return;
    if (!tn_change_is_dry_run(c)) {
        uint64_t epoch = tn_model_epoch(w->model) + 1;
        tn_val_t entry = TN_VAL_NIL;
        if (audit_entry(job, epoch, &entry) != 0) {
            job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL, "out of memory");
            tn_change_free(c);
            return;
        }
        if (w->store) {
            /* Journal first, then the audit trail; if the second fails the
             * first is taken back, so a change is in both or in neither. */
            job->rc = tn_store_append(w->store, epoch, job->method, &job->opts,
                                      job->audit.type == TN_V_MAP ? &job->audit : NULL, &job->err);
            if (job->rc == TN_OK && (job->rc = tn_store_audit_append(w->store, &entry, &job->err)) != TN_OK)
                tn_store_unappend(w->store);
            if (job->rc != TN_OK) {
                tn_val_free(&entry);
                tn_change_free(c);
                return;
            }
        }
        tn_change_commit(w->model, c);
        job->committed = 1;
        audit_keep(&entry, w);
    }
    if (tn_change_result(w->model, c, &job->result) != 0)
        job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL, "out of memory building the reply");
    tn_change_free(c);
}

static void run_save(tn_writer_t *w, tn_job_t *job) {
    if (w->store == NULL) {
        job->rc = tn_error_set(&job->err, TN_ERR_INVALID_REQUEST,
                               "the server runs in memory (no --data directory): nothing to save");
        return;
    }
    job->rc = tn_store_compact(w->store, w->model, &job->err);
    if (job->rc == TN_OK && (tn_val_set_map(&job->result, 2) != 0
                             || tn_map_add_int(&job->result, "epoch", (int64_t) tn_model_epoch(w->model)) != 0
                             || tn_map_add_bool(&job->result, "saved", 1) != 0))
        job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL, "out of memory");
}

/* Records a committed import brought (its nodes and pairs arrays). */
static size_t import_records(const tn_job_t *j) {
    if (!j->committed || j->change != TN_CHANGE_BATCH)
        return 0;
    size_t n = 0;
    const tn_val_t *a = tn_map_get(&j->opts, "nodes"), *b = tn_map_get(&j->opts, "pairs");
    n += a && a->type == TN_V_ARR ? a->u.a.n : 0;
    n += b && b->type == TN_V_ARR ? b->u.a.n : 0;
    return n;
}

/* After a large import, give the kernel back the heap's free pages: the
 * decoded requests and the replaced snapshots leave a few hundred bytes a
 * record of free space that malloc would otherwise keep (main.c keeps
 * freed memory on purpose, for the small changes that follow). Done from
 * the idle tick a second after the last import, once the loop thread has
 * freed those requests and the old snapshot. */
#define TRIM_AFTER_RECORDS 10000

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

void tn_writer_batch(tn_job_t *list, void *arg) {
    tn_writer_t *w = arg;
    int changed = 0;
    size_t imported = 0;
    for (tn_job_t *j = list; j; j = j->next) {
        if (j->kind == TN_JOB_SAVE)
            run_save(w, j);
        else
            run_change(w, j);
        changed |= j->committed;
        imported += import_records(j);
    }
    if (!changed)
        return;
    if (w->store) {
        tn_error_t err = TN_ERROR_INIT;
        if (tn_store_sync(w->store, &err) != TN_OK) {
            tn_log(TN_LOG_ERROR, "%s; the applied changes may not be durable and cannot be taken "
                   "back: exiting without answering them (restart recovers what reached the disk)",
                   err.message);
            _Exit(70);
        }
    }
    publish(w);
    w->imported += imported;
    if (imported > 0)
        w->last_import_ns = now_ns();
    if (w->store && tn_store_wants_compact(w->store)) {
        tn_error_t err = TN_ERROR_INIT;
        if (tn_store_compact(w->store, w->model, &err) != TN_OK) {
            /* The journal still holds everything: nothing is lost, the next
             * change tries again. */
            tn_log(TN_LOG_WARN, "compaction failed: %s", err.message);
            tn_error_clear(&err);
        }
    }
}

void tn_writer_tick(void *arg) {
    tn_writer_t *w = arg;
    if (w->store)
        tn_store_tick(w->store);
    if (w->imported >= TRIM_AFTER_RECORDS && now_ns() - w->last_import_ns >= 1000000000u) {
        w->imported = 0;
        malloc_trim(0);
    }
}

static int entry_matches(const tn_val_t *e, int64_t from, int64_t to, const char *node,
                         const char *method, const char *token) {
    int64_t t = 0;
    tn_val_as_int(tn_map_get(e, "time_ms"), &t);
    if ((from >= 0 && t < from) || (to >= 0 && t > to))
        return 0;
    if (method && (!tn_val_str(tn_map_get(e, "method")) || strcmp(tn_val_str(tn_map_get(e, "method")), method)))
        return 0;
    if (token && (!tn_val_str(tn_map_get(e, "token")) || strcmp(tn_val_str(tn_map_get(e, "token")), token)))
        return 0;
    if (node) {
        const tn_val_t *ids = tn_map_get(e, "nodes");
        for (size_t i = 0; ids && ids->type == TN_V_ARR && i < ids->u.a.n; i++)
            if (tn_val_str(&ids->u.a.items[i]) && strcmp(tn_val_str(&ids->u.a.items[i]), node) == 0)
                return 1;
        return 0;
    }
    return 1;
}

tn_code_t tn_writer_audit_list(tn_writer_t *w, const tn_val_t *opts, tn_val_t *out, tn_error_t *err) {
    static const char *const keys[] = { "from_ms", "to_ms", "node", "method", "token", "limit",
                                        "offset", NULL };
    int64_t from = -1, to = -1, limit = 100, offset = 0;
    const char *node = NULL, *method = NULL, *token = NULL;
    if (tn_opts_check(opts, keys, err) != TN_OK
        || tn_opt_int(opts, "from_ms", 0, 0, INT64_MAX, &from, err) != TN_OK
        || tn_opt_int(opts, "to_ms", 0, 0, INT64_MAX, &to, err) != TN_OK
        || tn_opt_int(opts, "limit", 0, 1, 10000, &limit, err) != TN_OK
        || tn_opt_int(opts, "offset", 0, 0, INT64_MAX, &offset, err) != TN_OK
        || tn_opt_str(opts, "node", 0, &node, err) != TN_OK
        || tn_opt_str(opts, "method", 0, &method, err) != TN_OK
        || tn_opt_str(opts, "token", 0, &token, err) != TN_OK)
        return err->code;
    tn_val_t items = TN_VAL_NIL;
    int rc = tn_val_set_map(out, 2) | tn_val_set_arr(&items, 16);
    int64_t total = 0;
    pthread_mutex_lock(&w->audit_lock);
    for (size_t k = w->audit.u.a.n; k-- > 0 && rc == 0;) {       /* newest first */
        const tn_val_t *e = &w->audit.u.a.items[k];
        if (!entry_matches(e, from, to, node, method, token))
            continue;
        if (total >= offset && total < offset + limit) {
            tn_val_t copy;
            rc |= tn_val_copy(&copy, e) | tn_arr_push_take(&items, &copy);
        }
        total++;
    }
    pthread_mutex_unlock(&w->audit_lock);
    rc |= tn_map_add_int(out, "total", total);
    rc |= tn_map_add_take(out, "items", &items);
    if (rc != 0) {
        tn_val_free(out);
        tn_val_free(&items);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    return TN_OK;
}
