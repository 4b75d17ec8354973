/*
 * qwarm.h -- resident worker processes for query.centrality's scores.
 *
 * A child forked per query (qpool.h) pays for every page it writes: the
 * igraph graph, the metric's work arrays and the scores are all new to it,
 * and on this kind of virtual machine a page fault costs about 11 us, so a
 * cold pagerank on 100,000 pairs took twice as long in a child as on the
 * daemon's own thread. After a fork the daemon pays again, once for each
 * page it writes next, shared with the child until then. A resident worker
 * is started once per igraph-queue thread and kept: its memory is warm
 * after its first query, and the daemon is never forked with it (fork and
 * exec of this binary, so nothing is shared).
 *
 * What it runs: query.centrality's metrics that are not split over
 * processes (pagerank, eigenvector, constraint, cutoff and sampled path
 * metrics). The daemon sends the graph as a flat edge list (built from
 * the job's snapshot without igraph) and the metric's settings; the worker
 * builds the igraph graph, computes and sends back the raw scores and
 * degrees, which join the snapshot's score memo; the daemon ranks and
 * encodes from there (centrality.h). Exact path metrics keep the fork
 * (their parts split across processes, and they run long enough for a fork
 * not to matter); other queries keep it too.
 *
 * A deadline or cancel kills the worker at the next 20 ms poll; a worker
 * that dies (or is killed) is reaped and its request answered as a stopped
 * or `internal` one; the next query starts a new worker. Workers die with
 * their thread (PR_SET_PDEATHSIG), at the daemon's priority (qwarm.c). If
 * the binary cannot be executed again (no /proc, say), the whole metrics
 * fall back to the per-query fork, with a warning in the log.
 *
 * The pipe (a stream socket) carries, daemon to worker:
 *   'Q' metric:tn_cmetric_t fault:u8 n:u64 ne:u64 edges:2*ne*i64 (fault: tests)
 * and worker to daemon:
 *   'P' done:u64 total:u64                      progress
 *   'S' code:i32 then res:n*f64 deg:n*i64       (code TN_OK)
 *                or len:u64 message:len bytes   (an error)
 */
#ifndef TN_QWARM_H
#define TN_QWARM_H

#include "jobs.h"

/* The argument that makes twinnetd a resident worker (main.c). */
#define TN_QWARM_ARG "--query-worker"

/* Set once at start-up (tests): the program a worker executes instead
 * of this binary; NULL keeps this binary. */
void tn_qwarm_configure(const char *exe);

/* Start this thread's worker now rather than at its first query (each
 * igraph-queue thread calls it once, at its start). Best effort. */
void tn_qwarm_prestart(void);

/* A worker's answer: the raw scores of graph vertices, each the snapshot
 * vertex gv[i] (centrality.h, tn_cmemo_t). */
typedef struct tn_qwarm_scores {
    int64_t n;
    int64_t *gv;
    double *res;
    int64_t *deg;
} tn_qwarm_scores_t;

void tn_qwarm_scores_free(tn_qwarm_scores_t *sc);

/* Compute 'job' (query.centrality on an igraph-queue thread, its snapshot
 * built) in this thread's resident worker when it is one of the worker's
 * metrics: 1 computed (*out filled, to keep in the memo and rank), -1
 * failed or stopped (job->rc and job->err set), 0 not one of them, or no
 * worker can be started (nothing answered: the caller forks as before). 'test_fault' (tests): 1 the worker aborts, 2 it never
 * answers; 0 normally. */
int tn_qwarm_run(tn_job_t *job, const tn_qctx_t *ctx, int test_fault, tn_qwarm_scores_t *out);

/* The worker's main loop on descriptor 'fd' (its end of the stream);
 * leaves the process with _exit when the daemon closes the stream. */
int tn_qwarm_main(int fd);

#endif
