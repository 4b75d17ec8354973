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

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct tn_writer {
    tn_model_t *model;              /* write thread only */
    tn_store_t *store;              /* NULL: in memory */
    pthread_mutex_t lock;           /* guards 'published' */
    tn_snap_t *published;
    char *home;
};

static void publish(tn_writer_t *w) {
    tn_snap_t *s = tn_snap_new(w->model);
    if (s == NULL) {
        tn_log(TN_LOG_ERROR, "out of memory publishing epoch %llu; readers keep the previous one",
               (unsigned long long) tn_model_epoch(w->model));
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
    pthread_mutex_init(&w->lock, NULL);
    publish(w);
    if (w->published == NULL || w->home == NULL) {
        tn_snap_release(w->published);
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
    tn_model_free(w->model);
    pthread_mutex_destroy(&w->lock);
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

static void run_change(tn_writer_t *w, tn_job_t *job) {
    tn_change_t *c = NULL;
    job->rc = tn_change_prepare(w->model, job->method, &job->opts, &c, &job->err);
    if (job->rc != TN_OK)
        return;
    if (!tn_change_is_dry_run(c)) {
        if (w->store) {
            job->rc = tn_store_append(w->store, tn_model_epoch(w->model) + 1, job->method, &job->opts,
                                      job->audit.type == TN_V_MAP ? &job->audit : NULL, &job->err);
            if (job->rc != TN_OK) {
                tn_change_free(c);
                return;
            }
        }
        tn_change_commit(w->model, c);
        job->committed = 1;
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

void tn_writer_batch(tn_job_t *list, void *arg) {
    tn_writer_t *w = arg;
    int changed = 0;
    for (tn_job_t *j = list; j; j = j->next) {
        if (j->kind == TN_JOB_SAVE)
            run_save(w, j);
        else
            run_change(w, j);
        changed |= j->committed;
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
}
