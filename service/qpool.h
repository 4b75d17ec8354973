/*
 * qpool.h -- igraph queries in worker processes, one core each.
 *
 * Debian's igraph is not thread-safe, so one process can run one igraph
 * computation at a time. With --workers N (N > 0) the igraph queue gets N
 * threads, and each runs its query in a child forked for it: the child
 * inherits the job's snapshot (already built; copy-on-write, nothing is
 * copied up front), calls the query and writes the value tree, encoded as
 * MessagePack, to a pipe. The daemon never calls igraph itself then, so N
 * independent queries run on N cores, and an exact betweenness, closeness
 * or harmonic splits its source vertices over N more children
 * (graph/split.h) whose parts the query's child adds up.
 *
 * query.centrality's score memo stays in the daemon: the child sends its
 * raw scores with the answer, and a re-rank at the same epoch (another
 * "top", "kind", "country", "normalized") is answered without a child.
 *
 * query.centrality's whole metrics go to a resident worker instead
 * (qwarm.h): a per-query child pays a page fault for every page it writes.
 *
 * A child that neither writes nor uses CPU in its first 2 s (stuck at its
 * start: see run_child in qpool.c) is killed and forked again, twice at
 * most. A deadline or cancel kills the child and its parts (one process group)
 * at the next 20 ms poll; a child that dies without an answer is reaped
 * and its request answered `internal`, never the daemon. With --workers 0
 * the single igraph thread of jobs.c runs queries in the daemon as before.
 */
#ifndef TN_QPOOL_H
#define TN_QPOOL_H

#include "jobs.h"

/* Set once at start-up (main). 'test_hooks': honour the TN_TEST_* crash
 * variables below (the --test-hooks flag; tests only):
 *   TN_TEST_WORKER_ABORT_TOP=K  a query whose "top" is K aborts in its child;
 *   TN_TEST_PART_ABORT_TOP=K    ... part 1 of its split aborts instead;
 *   TN_TEST_WORKER_HANG_TOP=K   a whole metric with "top" K never gets an
 *                               answer from its resident worker (qwarm.h);
 *   TN_TEST_WORKER_STUCK_TOP=K  the first child forked for a query with
 *                               "top" K waits forever before it starts (it
 *                               is replaced: run_child in qpool.c);
 *   TN_TEST_WORKER_EXEC=PATH    resident workers execute PATH instead of
 *                               this binary (one that cannot run: the
 *                               fallback to per-query children). */
void tn_qpool_configure(int workers, int test_hooks);

/* The --workers setting (0: queries run on the daemon's igraph thread). */
int tn_qpool_workers(void);

/* Run a query job (its snapshot built): answered from the daemon's score
 * memo when it can be (job->result, a value tree even when job->encode:
 * the caller encodes it), else in a child process (job->enc, the child's
 * MessagePack bytes, when job->encode, else job->result), whose scores
 * then join the memo. Sets job->rc and job->err; reports progress through
 * ctx. Any number of threads may call it at once. */
void tn_qpool_run(tn_job_t *job, const tn_qctx_t *ctx);

#endif
