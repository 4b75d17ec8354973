/*
 * qpool.c -- igraph queries in forked worker processes (see qpool.h).
 *
 * The pipe from a query's child carries records:
 *   'P' done:u64 total:u64          progress (igraph's percentage)
 *   'M' n:u64 gv:n*i64 res:n*f64 deg:n*i64
 *                                   query.centrality's raw scores, before
 *                                   its answer (centrality.h, the memo)
 *   'R' code:i32 len:u64 bytes      the answer: a MessagePack value tree
 *                                   (code TN_OK) or an error message
 * A part's child (split) writes n doubles, then one status byte.
 *
 * The score memo lives in the daemon: a child's scores are kept in the
 * snapshot's memo there (under memo_lock, as N threads share it), and a
 * query the memo can answer (another "top", "kind", "country",
 * "normalized" at the same epoch) is ranked on the daemon's thread with
 * no fork and no igraph.
 *
 * Why fork per query rather than keep processes: a child forked after the
 * snapshot is built shares every page of it with the daemon, so there is
 * nothing to ship or rebuild, and a crash or a kill leaves no state
 * behind. Forking a daemon of a few hundred MB costs a few milliseconds
 * of page-table copying, but every page the child then writes is a page
 * fault (about 11 us on this kind of virtual machine), so queries of tens
 * of milliseconds go to a resident worker (qwarm.h); exact path metrics,
 * which run for seconds and split, and the other queries stay here.
 * A forked child has only the forking thread; it uses malloc (glibc makes
 * that safe across fork), igraph, its snapshot and the pipe, nothing that
 * another thread's lock could guard, and leaves with _exit.
 */
#define _GNU_SOURCE
#include "qpool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "centrality.h"
#include "codec.h"
#include "igraph_bridge.h"
#include "log.h"
#include "qrec.h"
#include "qwarm.h"
#include "split.h"

/* How much lower the children run than the daemon (nice increment). */
#define TN_QPOOL_NICE 10

static int g_workers;
static int g_test_hooks;
static int g_abort_part = -1;          /* child: the part that must abort (tests) */
static int g_attempt;                  /* child: which fork of its query it is */

/* A child with nothing written and no CPU used after this long is stuck
 * at its start (run_child); it is replaced at most this many times. */
#define STUCK_AFTER_MS 2000
#define STUCK_RETRIES 2
static const tn_query_def_t *g_memo_query;  /* the query with a score memo */
/* Every snapshot's memo, in the daemon: the igraph queue's N threads share
 * it (a child has its own copy and one thread). */
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

void tn_qpool_configure(int workers, int test_hooks) {
    g_workers = workers;
    g_test_hooks = test_hooks;
    tn_qwarm_configure(test_hooks ? getenv("TN_TEST_WORKER_EXEC") : NULL);
    g_memo_query = tn_query_find("query.centrality");
}

int tn_qpool_workers(void) {
    return g_workers;
}

/* ---- plumbing ---- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf_t;

/* Append what is readable now: 1 read something, 0 EOF, -1 error. */
static int read_some(int fd, buf_t *b) {
    if (b->cap - b->len < 65536) {
        size_t cap = b->cap ? b->cap * 2 : 131072;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    ssize_t r = read(fd, b->p + b->len, b->cap - b->len);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : -1;
    b->len += (size_t) r;
    return r > 0;
}

/* The child's first steps: its own process group (one kill stops it and
 * its parts), death with the daemon's thread that forked it, default
 * signal dispositions, and no descriptor but its pipe end. It also runs
 * below the daemon's priority (its parts inherit it): N CPU-bound
 * children at the daemon's own priority kept the loop thread waiting in
 * the run queue behind them (bench/run table 7). */
static void child_setup(int keep_fd) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    (void) nice(TN_QPOOL_NICE);     /* best effort: the query runs either way */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (keep_fd > 3)
        close_range(3, (unsigned) keep_fd - 1, 0);
    close_range((unsigned) keep_fd + 1, ~0u, 0);
}

static int test_abort_top(const char *var, const tn_val_t *opts) {
    const char *v = g_test_hooks ? getenv(var) : NULL;
    const tn_val_t *top = tn_map_get(opts, "top");
    int64_t t;
    return v != NULL && top != NULL && tn_val_as_int(top, &t) && t == atoll(v);
}

/* ---- parts of a split metric (in the query's child) ---- */

static igraph_error_t split_fork(const igraph_t *g, tn_split_metric_t m, igraph_vector_t *res,
                                 int *done) {
    int k = g_workers;
    igraph_integer_t n = igraph_vcount(g);
    *done = 0;
    if (k < 2 || n < 2 * k)
        return IGRAPH_SUCCESS;          /* not worth it: compute whole */
    pid_t pid[64];
    int fd[64];
    buf_t b[64];
    int failed = 0, started = 0;
    if (k > 64)
        k = 64;
    memset(b, 0, sizeof b);
    for (int i = 0; i < k; i++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) {
            failed = 1;
            break;
        }
        pid[i] = fork();
        if (pid[i] == 0) {
            close(p[0]);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (i == g_abort_part)
                abort();
            /* Part 0 speaks for all (the parts are the same size): the
             * others must not write progress into the shared pipe. */
            if (i != 0)
                tn_igraph_mute();
            igraph_vector_t part;
            char ok = 0;
            if (igraph_vector_init(&part, 0) == IGRAPH_SUCCESS
                && tn_split_part(g, m, i, k, &part) == IGRAPH_SUCCESS
                && tn_qrec_write_all(p[1], VECTOR(part), (size_t) n * sizeof(double)) == 0)
                ok = 1;
            tn_qrec_write_all(p[1], &ok, 1);
            _exit(ok ? 0 : 1);
        }
        close(p[1]);
        if (pid[i] < 0) {
            close(p[0]);
            failed = 1;
            break;
        }
        fd[i] = p[0];
        started++;
    }
    /* Read every part as it comes (a full pipe would stall its writer). */
    int open = started;
    while (open > 0 && !failed) {
        struct pollfd pf[64];
        int map[64], np = 0;
        for (int i = 0; i < started; i++)
            if (fd[i] >= 0) {
                pf[np] = (struct pollfd){ .fd = fd[i], .events = POLLIN };
                map[np++] = i;
            }
        if (poll(pf, (nfds_t) np, -1) < 0 && errno != EINTR)
            failed = 1;
        for (int j = 0; j < np && !failed; j++) {
            if (!(pf[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int i = map[j], r = read_some(fd[i], &b[i]);
            if (r < 0)
                failed = 1;
            else if (r == 0) {
                close(fd[i]);
                fd[i] = -1;
                open--;
            }
        }
    }
    for (int i = 0; i < started; i++) {
        int st = 0;
        if (fd[i] >= 0)
            close(fd[i]);
        if (failed)
            kill(pid[i], SIGKILL);
        waitpid(pid[i], &st, 0);
        size_t want = (size_t) n * sizeof(double) + 1;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || b[i].len != want || b[i].p[want - 1] != 1)
            failed = 1;
    }
    if (!failed && started == k && igraph_vector_resize(res, n) == IGRAPH_SUCCESS) {
        igraph_vector_null(res);
        for (int i = 0; i < k; i++) {
            const double *part = (const double *) (void *) b[i].p;
            for (igraph_integer_t v = 0; v < n; v++)
                VECTOR(*res)[v] += part[v];
        }
        *done = 1;
    } else {
        failed = 1;
    }
    for (int i = 0; i < k; i++)
        free(b[i].p);
    if (failed)
        IGRAPH_ERROR("a worker process computing part of the query failed", IGRAPH_FAILURE);
    return IGRAPH_SUCCESS;
}

/* ---- the query's child ---- */

static void child_main(tn_job_t *job, int wfd) {
    child_setup(wfd);
    tn_igraph_setup();              /* this process's own igraph handlers */
    tn_split_set(split_fork);
    if (test_abort_top("TN_TEST_WORKER_ABORT_TOP", &job->opts))
        abort();
    if (test_abort_top("TN_TEST_PART_ABORT_TOP", &job->opts))
        g_abort_part = 1;
    while (g_attempt == 0 && test_abort_top("TN_TEST_WORKER_STUCK_TOP", &job->opts))
        pause();                    /* tests: the first fork of this query never starts */
    atomic_int never = TN_RUN;      /* the daemon stops us by killing */
    tn_qrec_out_t out = { wfd, 0 };
    tn_qctx_t ctx = { &never, tn_qrec_progress, &out };
    tn_val_t result = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    /* The job is on the igraph queue, so tn_query_run brackets igraph. */
    tn_code_t rc = tn_query_run(job->query, job->snap, &job->opts, &ctx, &result, &err);
    char *enc = NULL;
    size_t len = 0, cap = 0;
    if (rc == TN_OK && tn_codec_encode(&result, &enc, &len, &cap) != 0)
        _exit(3);
    if (rc != TN_OK) {
        /* The message, a NUL, then the details (a value tree, maybe nil). */
        size_t ml = strlen(err.message) + 1;
        if ((enc = malloc(ml)) == NULL)
            _exit(3);
        memcpy(enc, err.message, ml);
        len = cap = ml;
        if (tn_codec_encode(&err.data, &enc, &len, &cap) != 0)
            _exit(3);
    }
    tn_cmemo_t m;
    if (rc == TN_OK && job->query == g_memo_query
        && tn_centrality_memo_export(job->snap, &job->opts, &m) == 1) {
        uint64_t n = (uint64_t) m.n;
        if (tn_qrec_write_all(wfd, "M", 1) != 0 || tn_qrec_write_all(wfd, &n, 8) != 0
            || tn_qrec_write_all(wfd, m.gv, n * 8) != 0 || tn_qrec_write_all(wfd, m.res, n * 8) != 0
            || tn_qrec_write_all(wfd, m.deg, n * 8) != 0)
            _exit(4);
    }
    char head[13];
    int32_t code = (int32_t) rc;
    uint64_t l = len;
    head[0] = 'R';
    memcpy(head + 1, &code, 4);
    memcpy(head + 5, &l, 8);
    if (tn_qrec_write_all(wfd, head, sizeof head) != 0 || tn_qrec_write_all(wfd, enc, len) != 0)
        _exit(4);
    _exit(0);
}

/* ---- the daemon's side ---- */

/* What the daemon has read of a child's records. */
typedef struct reading {
    buf_t b;
    size_t pos;                 /* the first record not yet taken */
    int have;                   /* the answer is complete */
    int32_t code;
    size_t ans;                 /* offset of the answer's bytes */
    uint64_t alen;
    size_t memo, memo_n;        /* offset of the 'M' arrays (0: none), their length */
} reading_t;

/* Take the records that are complete: progress goes to ctx, the scores
 * and the answer are noted in rd. */
static void take_records(reading_t *rd, const tn_qctx_t *ctx) {
    while (!rd->have && rd->pos < rd->b.len) {
        const char *r = rd->b.p + rd->pos;
        size_t left = rd->b.len - rd->pos;
        if (r[0] == 'P') {
            if (left < 17)
                return;
            uint64_t d, t;
            memcpy(&d, r + 1, 8);
            memcpy(&t, r + 9, 8);
            if (ctx->progress)
                ctx->progress(ctx->progress_arg, d, t);
            rd->pos += 17;
        } else if (r[0] == 'M') {
            uint64_t n;
            if (left < 9)
                return;
            memcpy(&n, r + 1, 8);
            if (n > (SIZE_MAX - 9) / 24 || left - 9 < n * 24)
                return;             /* more to come (or garbage: no answer at EOF) */
            rd->memo = rd->pos + 9;
            rd->memo_n = (size_t) n;
            rd->pos += 9 + (size_t) n * 24;
        } else if (r[0] == 'R') {
            if (left < 13)
                return;
            memcpy(&rd->code, r + 1, 4);
            memcpy(&rd->alen, r + 5, 8);
            if (left - 13 < rd->alen)
                return;
            rd->ans = rd->pos + 13;
            rd->have = 1;
        } else {
            rd->pos = rd->b.len;    /* garbage: treated as no answer */
            return;
        }
    }
}

/* Keep a child's scores in the daemon's memo of the job's snapshot (best
 * effort, like the memo itself). */
static void keep_scores(const tn_job_t *job, const reading_t *rd, pid_t pid) {
    size_t bytes = rd->memo_n * 8;
    char *a = malloc(bytes > 0 ? 3 * bytes : 1);    /* aligned copies of the arrays */
    if (a == NULL)
        return;
    memcpy(a, rd->b.p + rd->memo, 3 * bytes);
    tn_cmemo_t m = { (int64_t) rd->memo_n, (const int64_t *) (void *) a,
                     (const double *) (void *) (a + bytes),
                     (const int64_t *) (void *) (a + 2 * bytes) };
    pthread_mutex_lock(&memo_lock);
    int kept = tn_centrality_memo_import(job->snap, &job->opts, &m);
    uint64_t computed = tn_q_centrality_computed(job->snap);
    pthread_mutex_unlock(&memo_lock);
    free(a);
    tn_log(TN_LOG_DEBUG, "%s computed by worker %d; scores %s at epoch %llu (%llu computed)",
           job->method ? job->method : "?", (int) pid, kept == 1 ? "kept" : "not kept",
           (unsigned long long) job->snap->epoch, (unsigned long long) computed);
}

/* Answer from the daemon's memo when it can: 1 answered (job->rc, and
 * job->result on success), 0 a worker must compute. */
static int answer_from_memo(tn_job_t *job) {
    if (job->query != g_memo_query)
        return 0;
    pthread_mutex_lock(&memo_lock);
    int r = tn_centrality_memo_answer(job->snap, &job->opts, &job->result);
    pthread_mutex_unlock(&memo_lock);
    if (r == 0)
        return 0;
    if (r < 0) {
        job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL, "out of memory");
        return 1;
    }
    tn_log(TN_LOG_DEBUG, "%s answered from the memo at epoch %llu",
           job->method ? job->method : "?", (unsigned long long) job->snap->epoch);
    job->rc = TN_OK;
    return 1;
}

/* Scores from a resident worker (qwarm.h) join the memo, which then
 * answers. */
static void answer_warm(tn_job_t *job, tn_qwarm_scores_t *sc) {
    tn_cmemo_t m = { sc->n, sc->gv, sc->res, sc->deg };
    pthread_mutex_lock(&memo_lock);
    int kept = tn_centrality_memo_import(job->snap, &job->opts, &m);
    pthread_mutex_unlock(&memo_lock);
    tn_qwarm_scores_free(sc);
    if (kept != 1 || !answer_from_memo(job))
        job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL, "out of memory");
}

/* CPU time a process has used, in clock ticks; -1 when unknown. */
static long cpu_ticks(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *q = strrchr(buf, ')');  /* the name may hold spaces */
    unsigned long ut, stt;
    if (q == NULL || sscanf(q + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2)
        return -1;
    return (long) (ut + stt);
}

/* ... of a query's child and of its parts (a split metric's child waits
 * for its parts, which do the work). */
static long tree_ticks(pid_t pid) {
    long t = cpu_ticks(pid);
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) pid, (int) pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return t;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    for (char *q = buf, *end; *q; q = end) {
        long kid = strtol(q, &end, 10);
        if (end == q)
            break;
        long k = cpu_ticks((pid_t) kid);
        if (k > 0)
            t += k;
    }
    return t;
}

/* Fork the query's child and read it to the end (or kill it when the job
 * is stopped: *killed). 0 done, -1 no child (job->rc set), 1 the child
 * made no sign of life: nothing read and no CPU used by it or its parts
 * in STUCK_AFTER_MS (checked on the first attempts only). A child forked while another
 * thread of this process held a lock of the allocator's can wait on it
 * forever: glibc's malloc takes its locks across fork, but a sanitizer's
 * allocator does not, and a sanitizer build once hung a test that way.
 * A query child uses CPU from its first instant, so one that used none
 * for that long is stuck, and another is forked in its place. */
static int run_child(tn_job_t *job, const tn_qctx_t *ctx, int attempt, reading_t *rd,
                     pid_t *pid_out, int *st, int *killed) {
    *rd = (reading_t){ 0 };
    *killed = 0;
    *st = 0;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL, "cannot start a query worker: %s",
                               strerror(errno));
        return -1;
    }
    /* No thread is half way through changing a memo when the child's copy
     * is taken (the child reads its memo without the lock). */
    pthread_mutex_lock(&memo_lock);
    g_attempt = attempt;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        child_main(job, p[1]);
    }
    pthread_mutex_unlock(&memo_lock);
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL, "cannot start a query worker: %s",
                               strerror(errno));
        return -1;
    }
    *pid_out = pid;
    setpgid(pid, pid);              /* also done by the child: whichever is first */
    int eof = 0, stuck = 0, polls = 0;
    while (!eof) {
        struct pollfd pf = { .fd = p[0], .events = POLLIN };
        int r = poll(&pf, 1, 20);
        if (atomic_load(&job->stop) != TN_RUN) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            *killed = 1;
            break;
        }
        if (r > 0) {
            int got = read_some(p[0], &rd->b);
            if (got <= 0)
                eof = 1;
            take_records(rd, ctx);
        } else if (r < 0 && errno != EINTR) {
            break;
        } else if (r == 0 && attempt < STUCK_RETRIES && rd->b.len == 0
                   && ++polls == STUCK_AFTER_MS / 20 && tree_ticks(pid) == 0) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            stuck = 1;
            break;
        }
    }
    close(p[0]);
    while (waitpid(pid, st, 0) < 0 && errno == EINTR)
        ;
    kill(-pid, SIGKILL);            /* parts a dead child left behind */
    return stuck;
}

void tn_qpool_run(tn_job_t *job, const tn_qctx_t *ctx) {
    if (answer_from_memo(job))
        return;
    tn_qwarm_scores_t sc;
    if (job->query == g_memo_query) {
        int fault = test_abort_top("TN_TEST_WORKER_ABORT_TOP", &job->opts) ? 1
                    : test_abort_top("TN_TEST_WORKER_HANG_TOP", &job->opts) ? 2 : 0;
        int w = tn_qwarm_run(job, ctx, fault, &sc);
        if (w > 0)
            answer_warm(job, &sc);
        if (w != 0)
            return;
    }
    reading_t rd;
    pid_t pid;
    int st, killed;
    for (int attempt = 0;; attempt++) {
        int r = run_child(job, ctx, attempt, &rd, &pid, &st, &killed);
        if (r < 0)
            return;                 /* no child: job->rc says why */
        if (r == 0)
            break;
        tn_log(TN_LOG_WARN, "query worker %d (%s) used no CPU in its first %d ms: stuck at its "
               "start; starting another", (int) pid, job->method ? job->method : "?",
               STUCK_AFTER_MS);
        free(rd.b.p);
    }
    if (killed) {
        job->rc = tn_query_stopped(ctx, &job->err);
    } else if (!rd.have || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (WIFSIGNALED(st))
            tn_log(TN_LOG_ERROR, "query worker %d (%s) died of signal %d", (int) pid,
                   job->method ? job->method : "?", WTERMSIG(st));
        else
            tn_log(TN_LOG_ERROR, "query worker %d (%s) exited %d without an answer", (int) pid,
                   job->method ? job->method : "?", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL,
                               "the worker process running this query failed");
    } else if (rd.code != TN_OK) {
        const char *msg = rd.b.p + rd.ans;
        size_t ml = strnlen(msg, (size_t) rd.alen);
        job->rc = tn_error_set(&job->err, (tn_code_t) rd.code, "%.*s", (int) ml, msg);
        tn_error_t derr = TN_ERROR_INIT;
        if (ml + 1 < rd.alen
            && tn_codec_decode((const uint8_t *) msg + ml + 1, (size_t) rd.alen - ml - 1,
                               &job->err.data, &derr) != TN_OK)
            tn_val_free(&job->err.data);
        tn_error_clear(&derr);
    } else {
        if (rd.memo > 0)
            keep_scores(job, &rd, pid);
        if (job->encode) {
            /* The child's bytes are the answer: no decode and encode again.
             * Cut to size: the cache keeps this very block, and the scores
             * ahead of the answer took 24 bytes a vertex. */
            memmove(rd.b.p, rd.b.p + rd.ans, (size_t) rd.alen);
            char *fit = realloc(rd.b.p, rd.alen > 0 ? (size_t) rd.alen : 1);
            if (fit != NULL)
                rd.b.p = fit;
            job->enc = rd.b.p;
            job->enc_len = (size_t) rd.alen;
            rd.b.p = NULL;
            job->rc = TN_OK;
        } else {
            job->rc = tn_codec_decode((const uint8_t *) rd.b.p + rd.ans, (size_t) rd.alen,
                                      &job->result, &job->err);
        }
    }
    free(rd.b.p);
}
