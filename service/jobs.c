/*
 * jobs.c -- worker threads and their queues (see jobs.h).
 *
 * Locking: each queue has a mutex and a condition variable; the done list
 * has its own mutex. A job's snapshot is the writer's, built when it was
 * published (graph/snap.h, a line), so workers only read it. Nothing here
 * touches a connection: results travel back to the loop, which owns every
 * socket.
 */
#include "jobs.h"

#include <assert.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "caller.h"
#include "codec.h"
#include "igraph_bridge.h"
#include "log.h"
#include "qpool.h"
#include "qwarm.h"

typedef struct queue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    tn_job_t *head, *tail;
    size_t n;                   /* waiting + running */
    pthread_t thread[TN_MAX_WORKERS];
    tn_job_t *running[TN_MAX_WORKERS];  /* each thread's job, under lock: stop cancels them */
    atomic_int slots;           /* threads that took their running[] slot */
    int started;                /* threads running */
    struct tn_jobs *owner;
    int index;
} queue_t;

struct tn_jobs {
    queue_t q[TN_QUEUE_COUNT];
    size_t max_queued;
    atomic_int stopping;
    pthread_mutex_t done_lock;
    tn_job_t *done_head, *done_tail;
    struct event *done_ev;
    tn_jobs_done_fn *done;
    void *done_arg;
    tn_jobs_batch_fn *batch;
    tn_jobs_tick_fn *tick;
    void *writer_arg;
};

void tn_job_free(tn_job_t *job) {
    if (job == NULL)
        return;
    if (job->deadline)
        event_free(job->deadline);
    tn_snap_release(job->snap);
    tn_val_free(&job->opts);
    tn_val_free(&job->audit);
    tn_val_free(&job->result);
    free(job->enc);
    tn_error_clear(&job->err);
    free(job->cache_key);
    tn_caller_release(job->caller);
    free(job);
}

static void report_progress(void *arg, uint64_t done, uint64_t total) {
    tn_job_t *job = arg;
    atomic_store(&job->progress_total, total);
    atomic_store(&job->progress_done, done);
}

static void run_job(tn_job_t *job) {
    tn_qctx_t ctx = { &job->stop, report_progress, job };
    if (atomic_load(&job->stop) != TN_RUN) {
        job->rc = tn_query_stopped(&ctx, &job->err);
        return;
    }
    if (!job->snap->built) {        /* published snapshots always are */
        job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL, "snapshot not built");
        return;
    }
    if (job->queue == TN_QUEUE_IGRAPH && tn_qpool_workers() > 0) {
        /* In a child process (sets enc or result), or from the memo. */
        tn_qpool_run(job, &ctx);
    } else {
        /* The queue was chosen by the same predicate tn_query_run brackets
         * igraph with, so igraph work only ever runs on the igraph thread. */
        job->rc = tn_query_run(job->query, job->snap, &job->opts, &ctx, &job->result, &job->err);
    }
    if (job->rc != TN_OK) {
        tn_val_free(&job->result);
        return;
    }
    if (job->enc != NULL)
        return;                     /* a worker process's bytes */
    /* Encoded here, once, so the loop only copies bytes (and the cache
     * keeps these very bytes). */
    size_t cap = 0;
    if (job->encode && tn_codec_encode(&job->result, &job->enc, &job->enc_len, &cap) != 0) {
        free(job->enc);
        job->enc = NULL;
        job->enc_len = 0;
        tn_val_free(&job->result);
        job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL, "out of memory encoding the result");
    }
    if (job->encode)
        tn_val_free(&job->result);  /* the bytes are the answer now */
}

static void deliver(tn_jobs_t *jobs, tn_job_t *first, tn_job_t *last) {
    pthread_mutex_lock(&jobs->done_lock);
    if (jobs->done_tail)
        jobs->done_tail->next = first;
    else
        jobs->done_head = first;
    jobs->done_tail = last;
    pthread_mutex_unlock(&jobs->done_lock);
    event_active(jobs->done_ev, EV_READ, 0);
}

/* The write thread: take everything waiting, run it as one group (one
 * fsync for all), hand it all back; tick once a second when idle. */
static void *writer_main(void *arg) {
    queue_t *q = arg;
    tn_jobs_t *jobs = q->owner;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        while (q->head == NULL && !jobs->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            if (pthread_cond_timedwait(&q->cond, &q->lock, &until) != 0 && q->head == NULL) {
                pthread_mutex_unlock(&q->lock);
                jobs->tick(jobs->writer_arg);
                pthread_mutex_lock(&q->lock);
            }
        }
        tn_job_t *list = q->head, *last = q->tail;
        size_t n = 0;
        for (tn_job_t *j = list; j; j = j->next)
            n++;
        q->head = q->tail = NULL;
        pthread_mutex_unlock(&q->lock);
        if (list == NULL)
            break;                   /* stopping, nothing left */
        jobs->batch(list, jobs->writer_arg);
        /* Under a steady stream the thread is never idle: tick here too, so
         * "everysec" syncs once a second whatever the load. */
        jobs->tick(jobs->writer_arg);
        pthread_mutex_lock(&q->lock);
        assert(q->n >= n);          /* n counts waiting and running jobs */
        q->n -= n;
        pthread_mutex_unlock(&q->lock);
        deliver(jobs, list, last);
    }
    return NULL;
}

static void *worker_main(void *arg) {
    queue_t *q = arg;
    tn_jobs_t *jobs = q->owner;
    int slot = atomic_fetch_add(&q->slots, 1);
    assert(slot < TN_MAX_WORKERS);
    if (q->index == TN_QUEUE_IGRAPH && tn_qpool_workers() == 0)
        tn_igraph_setup();          /* handlers are global: installed by their only user */
    if (q->index == TN_QUEUE_IGRAPH && tn_qpool_workers() > 0)
        tn_qwarm_prestart();        /* its resident worker: tied to this thread's life */
    for (;;) {
        pthread_mutex_lock(&q->lock);
        while (q->head == NULL && !jobs->stopping)
            pthread_cond_wait(&q->cond, &q->lock);
        if (q->head == NULL) {
            pthread_mutex_unlock(&q->lock);
            break;
        }
        tn_job_t *job = q->head;
        q->head = job->next;
        if (q->head == NULL)
            q->tail = NULL;
        /* A job taken after the stop began is stopped like a queued one. */
        if (jobs->stopping)
            atomic_store(&job->stop, TN_STOP_CANCEL);
        q->running[slot] = job;
        pthread_mutex_unlock(&q->lock);

        job->next = NULL;
        run_job(job);

        pthread_mutex_lock(&q->lock);
        q->running[slot] = NULL;
        assert(q->n > 0);           /* this job is still counted as running */
        q->n--;
        pthread_mutex_unlock(&q->lock);

        deliver(jobs, job, job);
    }
    return NULL;
}

/* Loop thread: hand every finished job to the server. */
static void done_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_jobs_t *jobs = arg;
    pthread_mutex_lock(&jobs->done_lock);
    tn_job_t *list = jobs->done_head;
    jobs->done_head = jobs->done_tail = NULL;
    pthread_mutex_unlock(&jobs->done_lock);
    while (list) {
        tn_job_t *next = list->next;
        list->next = NULL;
        jobs->done(list, jobs->done_arg);
        list = next;
    }
}

tn_jobs_t *tn_jobs_start(struct event_base *base, size_t max_queued, tn_jobs_done_fn *done,
                         void *arg, tn_jobs_batch_fn *batch, tn_jobs_tick_fn *tick,
                         void *writer_arg) {
    tn_jobs_t *jobs = calloc(1, sizeof *jobs);
    if (jobs == NULL)
        return NULL;
    jobs->max_queued = max_queued;
    jobs->done = done;
    jobs->done_arg = arg;
    jobs->batch = batch;
    jobs->tick = tick;
    jobs->writer_arg = writer_arg;
    pthread_mutex_init(&jobs->done_lock, NULL);
    jobs->done_ev = event_new(base, -1, EV_PERSIST, done_cb, jobs);
    if (jobs->done_ev == NULL) {
        free(jobs);
        return NULL;
    }
    for (int i = 0; i < TN_QUEUE_COUNT; i++) {
        queue_t *q = &jobs->q[i];
        pthread_mutex_init(&q->lock, NULL);
        pthread_cond_init(&q->cond, NULL);
        q->owner = jobs;
        q->index = i;
        /* With worker processes, one igraph-queue thread per process. */
        int threads = i == TN_QUEUE_IGRAPH && tn_qpool_workers() > 0 ? tn_qpool_workers() : 1;
        for (int t = 0; t < threads; t++) {
            if (pthread_create(&q->thread[t], NULL, i == TN_QUEUE_WRITE ? writer_main : worker_main,
                               q) != 0) {
                tn_log(TN_LOG_ERROR, "cannot start a worker thread");
                tn_jobs_stop(jobs);
                return NULL;
            }
            q->started++;
        }
    }
    return jobs;
}

int tn_jobs_submit(tn_jobs_t *jobs, tn_job_t *job) {
    assert((unsigned) job->queue < TN_QUEUE_COUNT);
    queue_t *q = &jobs->q[job->queue];
    pthread_mutex_lock(&q->lock);
    if (q->n >= jobs->max_queued) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    job->next = NULL;
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
    q->n++;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int tn_jobs_withdraw(tn_jobs_t *jobs, tn_job_t *job) {
    queue_t *q = &jobs->q[job->queue];
    int found = 0;
    pthread_mutex_lock(&q->lock);
    tn_job_t *prev = NULL;
    for (tn_job_t *j = q->head; j; prev = j, j = j->next)
        if (j == job) {
            if (prev)
                prev->next = j->next;
            else
                q->head = j->next;
            if (q->tail == j)
                q->tail = prev;
            assert(q->n > 0);
            q->n--;
            found = 1;
            break;
        }
    pthread_mutex_unlock(&q->lock);
    if (found)
        job->next = NULL;
    return found;
}

void tn_jobs_load(tn_jobs_t *jobs, int queue, size_t *waiting, size_t *running) {
    queue_t *q = &jobs->q[queue];
    size_t w = 0;
    pthread_mutex_lock(&q->lock);
    for (tn_job_t *j = q->head; j; j = j->next)
        w++;
    /* n counts waiting and running jobs; the writer takes its whole list
     * at once, so its "running" is the group being committed. */
    *waiting = w;
    *running = q->n - w;
    pthread_mutex_unlock(&q->lock);
}

void tn_jobs_stop(tn_jobs_t *jobs) {
    if (jobs == NULL)
        return;
    for (int i = 0; i < TN_QUEUE_COUNT; i++) {
        queue_t *q = &jobs->q[i];
        pthread_mutex_lock(&q->lock);
        jobs->stopping = 1;
        /* Queued and running queries will not be answered: ask them to
         * stop so workers drain fast (a running one's deadline timer lives
         * on the loop, which has stopped: without this a worker process
         * that never answered would hold the shutdown). Queued changes
         * still run: they may be in flight to the journal already from the
         * client's point of view; the writer never looks at 'stop'. */
        for (tn_job_t *j = q->head; j; j = j->next)
            atomic_store(&j->stop, TN_STOP_CANCEL);
        for (int t = 0; t < TN_MAX_WORKERS; t++)
            if (q->running[t] != NULL)
                atomic_store(&q->running[t]->stop, TN_STOP_CANCEL);
        pthread_cond_broadcast(&q->cond);
        pthread_mutex_unlock(&q->lock);
    }
    for (int i = 0; i < TN_QUEUE_COUNT; i++)
        for (int t = 0; t < jobs->q[i].started; t++)
            pthread_join(jobs->q[i].thread[t], NULL);
    tn_job_t *list = jobs->done_head;
    while (list) {
        tn_job_t *next = list->next;
        tn_job_free(list);
        list = next;
    }
    if (jobs->done_ev)
        event_free(jobs->done_ev);
    free(jobs);
}
