/*
 * jobs.h -- the worker threads that run work off the event loop.
 *
 * Three queues, one thread each (the igraph queue one per worker process):
 *  - TN_QUEUE_IGRAPH: centrality. With --workers 0 the only thread that
 *    ever calls igraph (Debian's build is not thread-safe:
 *    IGRAPH_THREAD_SAFE 0); with N workers, N threads that each run their
 *    query in a forked process (qpool.h) and never call igraph themselves;
 *  - TN_QUEUE_LIGHT: snapshot queries written in plain C (stats, coverage,
 *    gaps, lookups), so a 10-second betweenness never delays them;
 *  - TN_QUEUE_WRITE: the writer (writer.h), the only owner of the live
 *    model; it takes every waiting change at once (group commit).
 * A job is created and freed on the loop thread; a worker only runs it and
 * hands it back. The loop learns of finished jobs through an event that a
 * worker activates (event_active, made thread-safe by
 * evthread_use_pthreads()). Each queue is bounded: a full queue is "busy".
 */
#ifndef TN_JOBS_H
#define TN_JOBS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model.h"
#include "query.h"
#include "snap.h"
#include "value.h"

struct event_base;
struct tn_caller;
struct tn_method;

enum { TN_QUEUE_IGRAPH = 0, TN_QUEUE_LIGHT = 1, TN_QUEUE_WRITE = 2, TN_QUEUE_COUNT = 3 };

/* Most igraph worker processes (--workers; qpool.h). */
#define TN_MAX_WORKERS 64

typedef enum tn_job_kind {
    TN_JOB_QUERY = 0,               /* query (its parts) over snap */
    TN_JOB_CHANGE,                  /* method + opts through the writer */
    TN_JOB_SAVE                     /* server.save: compact the data directory */
} tn_job_kind_t;

typedef struct tn_job tn_job_t;
struct tn_job {
    tn_job_t *next;                 /* queue link (owned by whichever list holds it) */
    tn_job_t *live_prev, *live_next;/* the loop's index of queries in flight (not an owner) */
    struct tn_caller *caller;       /* who asked (a reference); NULL: internal job */
    uint32_t msgid;
    int queue;
    tn_job_kind_t kind;
    const char *method;             /* wire name (static storage; journalled for changes) */
    const struct tn_method *entry;  /* its registry entry (NULL: internal job) */
    const tn_query_def_t *query;    /* queries */
    tn_change_kind_t change;        /* changes */
    int encode;                     /* queries: encode the result on the worker */
    tn_val_t audit;                 /* changes: who, from where (journal and audit trail) */
    int committed;                  /* changes: applied (the epoch moved) */
    tn_snap_t *snap;                /* a reference, released on the loop */
    tn_val_t opts;                  /* owned copy of the options */
    char *cache_key;                /* NULL: do not cache */
    atomic_int stop;                /* TN_RUN, TN_STOP_DEADLINE, TN_STOP_CANCEL */
    struct event *deadline;         /* loop-thread timer */
    int want_progress;
    atomic_uint_fast64_t progress_done, progress_total;
    uint64_t progress_sent;         /* loop: the last 'done' reported */
    uint64_t started_ns;
    void *owner;                    /* the server (for timer callbacks) */
    /* Filled by the worker: */
    tn_code_t rc;
    tn_val_t result;
    char *enc;                      /* the result encoded (MessagePack), when 'encode' */
    size_t enc_len;
    tn_error_t err;
};

typedef struct tn_jobs tn_jobs_t;

/* Called on the loop thread for each finished job; takes ownership. */
typedef void tn_jobs_done_fn(tn_job_t *job, void *arg);

/* Run, on the write thread, every job of a list (linked by next) in order. */
typedef void tn_jobs_batch_fn(tn_job_t *list, void *arg);
/* Called on the write thread about once a second (fsync "everysec"). */
typedef void tn_jobs_tick_fn(void *arg);

/* Start the workers; finished jobs are delivered to 'done' on 'base'.
 * 'max_queued' bounds each queue. Write jobs go to 'batch' (with
 * 'writer_arg'), and 'tick' runs when the write thread is idle.
 * NULL on failure. */
tn_jobs_t *tn_jobs_start(struct event_base *base, size_t max_queued, tn_jobs_done_fn *done,
                         void *arg, tn_jobs_batch_fn *batch, tn_jobs_tick_fn *tick,
                         void *writer_arg);

/* Queue a job (loop thread). 0, or -1 when that queue is full (busy). */
int tn_jobs_submit(tn_jobs_t *jobs, tn_job_t *job);

/* Take a job out of its queue if no worker has started it (loop thread).
 * 1 if it was removed (the caller now owns it), 0 if it is running or
 * done. */
int tn_jobs_withdraw(tn_jobs_t *jobs, tn_job_t *job);

/* How many jobs of queue 'queue' wait and how many run (loop thread,
 * for GET /metrics): a momentary reading under the queue's lock. */
void tn_jobs_load(tn_jobs_t *jobs, int queue, size_t *waiting, size_t *running);

/* Stop the workers (after the current jobs) and free, exactly once, every
 * job not yet handed to 'done' or withdrawn: waiting ones (queries are
 * cancelled, changes still run), running ones and finished ones not yet
 * delivered. The loop must hold no other owning pointer to them. */
void tn_jobs_stop(tn_jobs_t *jobs);

/* Free a job and everything it owns (loop thread). */
void tn_job_free(tn_job_t *job);

#endif
