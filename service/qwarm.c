/*
 * qwarm.c -- resident worker processes for query.centrality's scores
 * (see qwarm.h for why and for the records on the stream).
 */
#define _GNU_SOURCE
#include "qwarm.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "centrality.h"
#include "igraph_bridge.h"
#include "log.h"
#include "qrec.h"

/* This thread's worker: pid 0 when there is none. Each igraph-queue thread
 * has its own, so no lock. */
static _Thread_local pid_t w_pid;
static _Thread_local int w_fd = -1;
/* Set once a worker could not be started: the per-query fork serves. */
static _Atomic int w_disabled;
/* What a worker executes: this binary (tests may name another). */
static const char *w_exe = "/proc/self/exe";

/* Its environment: ours, plus OMP_NUM_THREADS=1 unless it is set. Debian's
 * igraph runs PRPACK (pagerank) with OpenMP; N workers are already one per
 * core, and two OpenMP threads each on a busy machine wait for each other
 * at every iteration (a cold pagerank at 100,000 pairs took 350 ms instead
 * of 40 under a compiler's load). Made before any thread starts. */
static char **w_envp;

void tn_qwarm_configure(const char *exe) {
    extern char **environ;
    if (exe != NULL)
        w_exe = exe;
    size_t n = 0;
    int have = 0;
    for (char **e = environ; e && *e; e++, n++)
        have |= strncmp(*e, "OMP_NUM_THREADS=", 16) == 0;
    w_envp = calloc(n + 2, sizeof *w_envp);
    if (w_envp == NULL)
        return;                     /* execv below: our environment as it is */
    memcpy(w_envp, environ, n * sizeof *w_envp);
    if (!have)
        w_envp[n] = "OMP_NUM_THREADS=1";
}

/* ---- plumbing ---- */

/* Read exactly n bytes (blocking): 0, or -1 on EOF or error. */
static int recv_all(int fd, void *p, size_t n) {
    char *c = p;
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t) r;
    }
    return 0;
}

/* ---- the daemon's side ---- */

static void worker_kill(void) {
    if (w_pid > 0) {
        kill(w_pid, SIGKILL);
        while (waitpid(w_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (w_fd >= 0)
        close(w_fd);
    w_pid = 0;
    w_fd = -1;
}

/* Start this thread's worker: fork, then exec this very binary, so the
 * worker shares no page with the daemon. Between the two, only calls that
 * are safe in the child of a threaded process. 0, or -1 with errno. */
static int worker_start(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (dup2(sv[1], 3) != 3)
            _exit(127);
        close_range(4, ~0u, 0);
        char *argv[] = { "twinnetd", TN_QWARM_ARG, NULL };
        if (w_envp != NULL)
            execve(w_exe, argv, w_envp);
        else
            execv(w_exe, argv);
        _exit(127);
    }
    int saved = errno;
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        errno = saved;
        return -1;
    }
    w_pid = pid;
    w_fd = sv[0];
    return 0;
}

void tn_qwarm_prestart(void) {
    if (w_pid == 0 && !w_disabled && worker_start() != 0)
        tn_log(TN_LOG_WARN, "cannot start a resident query worker yet: %s", strerror(errno));
}

void tn_qwarm_scores_free(tn_qwarm_scores_t *sc) {
    free(sc->gv);
    free(sc->res);
    free(sc->deg);
    *sc = (tn_qwarm_scores_t){ 0 };
}

/* Wait for the worker's answer, forwarding progress and honouring the
 * job's stop flag. 1 scores read, -1 failed (job->rc set), 0 the worker
 * could not run at all (exec failed: exit status 127 before any byte). */
static int await(tn_job_t *job, const tn_qctx_t *ctx, tn_qwarm_scores_t *sc) {
    int heard = 0;
    for (;;) {
        struct pollfd pf = { .fd = w_fd, .events = POLLIN };
        int r = poll(&pf, 1, 20);
        if (atomic_load(&job->stop) != TN_RUN) {
            worker_kill();
            job->rc = tn_query_stopped(ctx, &job->err);
            return -1;
        }
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        char tag;
        if (recv_all(w_fd, &tag, 1) != 0)
            break;
        heard = 1;
        if (tag == 'P') {
            uint64_t pr[2];
            if (recv_all(w_fd, pr, sizeof pr) != 0)
                break;
            if (ctx->progress)
                ctx->progress(ctx->progress_arg, pr[0], pr[1]);
            continue;
        }
        int32_t code;
        if (tag != 'S' || recv_all(w_fd, &code, 4) != 0)
            break;
        if (code == TN_OK) {
            size_t n = (size_t) sc->n;
            if (recv_all(w_fd, sc->res, n * sizeof *sc->res) != 0
                || recv_all(w_fd, sc->deg, n * sizeof *sc->deg) != 0)
                break;
            return 1;
        }
        uint64_t len;
        char msg[512];
        if (recv_all(w_fd, &len, 8) != 0 || len >= sizeof msg || recv_all(w_fd, msg, len) != 0)
            break;
        msg[len] = '\0';
        job->rc = tn_error_set(&job->err, (tn_code_t) code, "%s", msg);
        return -1;
    }
    /* EOF, garbage or an error: the worker is gone or unusable. */
    int st = 0;
    pid_t pid = w_pid;
    kill(w_pid, SIGKILL);
    while (waitpid(w_pid, &st, 0) < 0 && errno == EINTR)
        ;
    close(w_fd);
    w_pid = 0;
    w_fd = -1;
    if (!heard && WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return 0;
    if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
        tn_log(TN_LOG_ERROR, "resident query worker %d (%s) died of signal %d", (int) pid,
               job->method ? job->method : "?", WTERMSIG(st));
    else
        tn_log(TN_LOG_ERROR, "resident query worker %d (%s) ended without an answer", (int) pid,
               job->method ? job->method : "?");
    job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL,
                           "the worker process running this query failed");
    return -1;
}

int tn_qwarm_run(tn_job_t *job, const tn_qctx_t *ctx, int test_fault, tn_qwarm_scores_t *out) {
    *out = (tn_qwarm_scores_t){ 0 };
    tn_centrality_opts_t co;
    tn_error_t perr = TN_ERROR_INIT;
    int ok = tn_centrality_parse(&job->opts, &co, &perr) == TN_OK;
    tn_error_clear(&perr);
    /* Options that do not parse are answered by the usual path (the same
     * error); degree needs no igraph; split metrics fork their parts. */
    if (!ok || !tn_centrality_whole(&co.m) || w_disabled)
        return 0;
    const tn_snap_t *s = job->snap;
    size_t k = s->nnodes ? s->nnodes : 1;
    int64_t *edges = NULL;
    size_t ne = 0;
    out->gv = malloc(k * sizeof *out->gv);
    out->n = out->gv ? tn_centrality_graph(s, &co, out->gv, &edges, &ne) : -1;
    if (out->n >= 0) {
        out->res = malloc(k * sizeof *out->res);
        out->deg = malloc(k * sizeof *out->deg);
    }
    if (out->n < 0 || out->res == NULL || out->deg == NULL) {
        free(edges);
        tn_qwarm_scores_free(out);
        job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL, "out of memory");
        return -1;
    }
    if (w_pid == 0 && worker_start() != 0) {
        free(edges);
        tn_qwarm_scores_free(out);
        job->rc = tn_error_set(&job->err, TN_ERR_INTERNAL, "cannot start a query worker: %s",
                               strerror(errno));
        return -1;
    }
    char head[1 + sizeof(tn_cmetric_t) + 1 + 16];
    uint64_t n64 = (uint64_t) out->n, ne64 = ne;
    head[0] = 'Q';
    memcpy(head + 1, &co.m, sizeof co.m);
    head[1 + sizeof co.m] = (char) test_fault;
    memcpy(head + 2 + sizeof co.m, &n64, 8);
    memcpy(head + 10 + sizeof co.m, &ne64, 8);
    /* A failed send (the worker is gone) is found by await as an EOF. */
    if (tn_qrec_write_all(w_fd, head, sizeof head) == 0)
        tn_qrec_write_all(w_fd, edges, 2 * ne * sizeof *edges);
    free(edges);
    int r = await(job, ctx, out);
    if (r == 0 && !w_disabled) {
        w_disabled = 1;
        tn_log(TN_LOG_WARN, "resident query workers cannot start (exec of this binary failed): "
               "whole metrics run in a process forked per query instead");
    }
    if (r <= 0)
        tn_qwarm_scores_free(out);
    return r;
}

/* ---- the worker's side ---- */

/* One request: read it, compute, answer. 0, or -1 when the stream is
 * done (the daemon closed it) or cannot be used any more. */
static int serve_one(int fd) {
    char head[1 + sizeof(tn_cmetric_t) + 1 + 16];
    tn_cmetric_t m;
    uint64_t n, ne;
    if (recv_all(fd, head, sizeof head) != 0 || head[0] != 'Q')
        return -1;
    memcpy(&m, head + 1, sizeof m);
    memcpy(&n, head + 2 + sizeof m, 8);
    memcpy(&ne, head + 10 + sizeof m, 8);
    if (head[1 + sizeof m] == 1)
        abort();                    /* tests: a worker that crashes mid-query */
    while (head[1 + sizeof m] == 2)
        pause();                    /* tests: a worker that never answers */
    if (n > ((uint64_t) 1 << 40) || ne > ((uint64_t) 1 << 40))
        return -1;
    int64_t *edges = malloc((ne ? 2 * ne : 1) * sizeof *edges);
    double *res = malloc((n ? n : 1) * sizeof *res);
    int64_t *deg = malloc((n ? n : 1) * sizeof *deg);
    if (edges == NULL || res == NULL || deg == NULL
        || recv_all(fd, edges, 2 * ne * sizeof *edges) != 0) {
        free(edges);
        free(res);
        free(deg);
        return -1;
    }
    atomic_int never = TN_RUN;      /* the daemon stops us by killing */
    tn_qrec_out_t po = { fd, 0 };
    tn_qctx_t ctx = { &never, tn_qrec_progress, &po };
    tn_error_t err = TN_ERROR_INIT;
    int32_t code = (int32_t) tn_centrality_scores((int64_t) n, edges, (size_t) ne, &m, &ctx, res,
                                                  deg, &err);
    int rc = tn_qrec_write_all(fd, "S", 1) == 0 && tn_qrec_write_all(fd, &code, 4) == 0 ? 0 : -1;
    if (rc == 0 && code == TN_OK) {
        rc = tn_qrec_write_all(fd, res, n * sizeof *res) == 0 && tn_qrec_write_all(fd, deg, n * sizeof *deg) == 0
                 ? 0 : -1;
    } else if (rc == 0) {
        uint64_t len = strnlen(err.message, 500);
        rc = tn_qrec_write_all(fd, &len, 8) == 0 && tn_qrec_write_all(fd, err.message, len) == 0 ? 0 : -1;
    }
    tn_error_clear(&err);
    free(edges);
    free(res);
    free(deg);
    return rc;
}

/* A resident worker runs at the daemon's own priority, unlike the
 * per-query children (qpool.c, nice +10): there is at most one per core,
 * so with the loop thread they oversubscribe the cores by one thread, and
 * bench/run table 7 ("2 slow whole queries") measured server.ping p99 at
 * 0.13 ms with both busy; at +10 the same whole metrics ran 25 to 30 %
 * slower even on an idle machine of this kind. */
int tn_qwarm_main(int fd) {
    /* Keep freed memory in the heap, so the next query's arrays land on
     * pages already faulted in: the point of a resident worker. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    signal(SIGPIPE, SIG_IGN);
    tn_igraph_setup();
    while (serve_one(fd) == 0)
        ;
    _exit(0);                       /* the daemon is gone: nothing to tidy */
}
