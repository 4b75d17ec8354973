/*
 * bench_ping.c -- server.ping round trips per second against a running
 * twinnetd, with 1 and 50 connections, one request at a time and pipelined
 * (64 in flight per connection). One thread per connection, each with its
 * own blocking tn_client (clients/c/tn_client.h). Prints one line per case.
 *
 *   bench_ping --port P [--host H] [--seconds S] [--conns 1,50] [--depths 1,64]
 *   bench_ping --daemon BUILD/service/twinnetd [...]   (starts its own, --empty)
 *
 * Not run by ctest: it prints figures (docs/benchmarks.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "tn_client.h"

#define MAX_CONNS 1024
#define MAX_SAMPLES 2000000

static const char *g_host = "127.0.0.1";
static int g_port = 0;
static double g_seconds = 3.0;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

typedef struct worker {
    pthread_t th;
    tn_client_t *c;
    int depth;
    pthread_barrier_t *start;
    double stop_at;            /* set after the barrier by each worker */
    long done;                 /* replies received in the window */
    long errors;
    double *lat;               /* depth 1: round-trip samples (seconds) */
    long nlat, caplat;
    char fail[256];
} worker_t;

/* One reply: 0 if it is a response without error. */
static int recv_one(worker_t *w, tn_error_t *err) {
    tn_val_t msg = TN_VAL_NIL;
    if (tn_client_recv(w->c, &msg, err) != TN_OK) {
        snprintf(w->fail, sizeof w->fail, "%s", err->message);
        return -1;
    }
    tn_rpc_msg_t m;
    tn_error_t perr = TN_ERROR_INIT;
    int ok = tn_rpc_parse(&msg, &m, NULL, &perr) == TN_OK && m.type == TN_RPC_RESPONSE
             && m.error != NULL && m.error->type == TN_V_NIL;
    tn_error_clear(&perr);
    tn_val_free(&msg);
    if (!ok)
        w->errors++;
    return 0;
}

static void *run_worker(void *arg) {
    worker_t *w = arg;
    tn_error_t err = TN_ERROR_INIT;
    uint32_t id;
    pthread_barrier_wait(w->start);
    double t_end = now_s() + g_seconds;
    if (w->depth <= 1) {
        while (now_s() < t_end) {
            double t0 = now_s();
            if (tn_client_send(w->c, "server.ping", NULL, &id, &err) != TN_OK || recv_one(w, &err) != 0)
                goto out;
            if (w->lat && w->nlat < w->caplat)
                w->lat[w->nlat++] = now_s() - t0;
            w->done++;
        }
    } else {
        int inflight = 0;
        for (; inflight < w->depth; inflight++)
            if (tn_client_send(w->c, "server.ping", NULL, &id, &err) != TN_OK)
                goto out;
        while (inflight > 0) {
            if (recv_one(w, &err) != 0)
                goto out;
            inflight--;
            w->done++;
            if (now_s() < t_end) {
                if (tn_client_send(w->c, "server.ping", NULL, &id, &err) != TN_OK)
                    goto out;
                inflight++;
            }
        }
    }
out:
    if (err.message[0] && !w->fail[0])
        snprintf(w->fail, sizeof w->fail, "%s", err.message);
    tn_error_clear(&err);
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static int run_case(int conns, int depth) {
    worker_t *ws = calloc((size_t) conns, sizeof *ws);
    pthread_barrier_t start;
    char why[256];
    if (ws == NULL)
        return -1;
    pthread_barrier_init(&start, NULL, (unsigned) conns + 1);
    for (int i = 0; i < conns; i++) {
        ws[i].c = tn_client_connect(g_host, g_port, 30000, why, sizeof why);
        if (ws[i].c == NULL) {
            fprintf(stderr, "bench_ping: %s\n", why);
            exit(1);
        }
        ws[i].depth = depth;
        ws[i].start = &start;
        if (depth <= 1) {
            ws[i].caplat = MAX_SAMPLES / conns;
            ws[i].lat = malloc(sizeof(double) * (size_t) ws[i].caplat);
            if (ws[i].lat == NULL)
                ws[i].caplat = 0;
        }
    }
    for (int i = 0; i < conns; i++)
        pthread_create(&ws[i].th, NULL, run_worker, &ws[i]);
    double t0 = now_s();
    pthread_barrier_wait(&start);
    long done = 0, errors = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(ws[i].th, NULL);
        done += ws[i].done;
        errors += ws[i].errors;
        if (ws[i].fail[0])
            fprintf(stderr, "bench_ping: connection %d: %s\n", i, ws[i].fail);
    }
    double el = now_s() - t0;
    printf("ping  conns=%-3d depth=%-3d  %10.0f req/s  (%ld replies in %.2f s, %ld errors)",
           conns, depth, (double) done / el, done, el, errors);
    if (depth <= 1) {
        long n = 0;
        for (int i = 0; i < conns; i++)
            n += ws[i].nlat;
        double *all = malloc(sizeof(double) * (size_t) (n ? n : 1));
        long k = 0;
        for (int i = 0; i < conns; i++)
            for (long j = 0; j < ws[i].nlat; j++)
                all[k++] = ws[i].lat[j];
        qsort(all, (size_t) n, sizeof *all, cmp_double);
        if (n > 0)
            printf("  rtt p50 %.0f us, p99 %.0f us", all[n / 2] * 1e6, all[(long) (n * 0.99)] * 1e6);
        free(all);
    }
    printf("\n");
    fflush(stdout);
    for (int i = 0; i < conns; i++) {
        tn_client_close(ws[i].c);
        free(ws[i].lat);
    }
    pthread_barrier_destroy(&start);
    free(ws);
    return errors ? 1 : 0;
}

/* Parse "1,50" into out[]; returns the count. */
static int parse_list(const char *s, int *out, int max) {
    int n = 0;
    char *copy = strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save)) {
        int v = atoi(t);
        if (v < 1 || v > MAX_CONNS) {
            fprintf(stderr, "bench_ping: bad number '%s' (1..%d)\n", t, MAX_CONNS);
            exit(2);
        }
        out[n++] = v;
    }
    free(copy);
    return n;
}

/* Start twinnetd --empty on a free port; returns its pid. */
static pid_t spawn_daemon(const char *path) {
    char pf[] = "/tmp/bench_ping_portXXXXXX";
    int fd = mkstemp(pf);
    if (fd < 0) {
        perror("mkstemp");
        exit(1);
    }
    close(fd);
    unlink(pf);
    pid_t pid = fork();
    if (pid == 0) {
        execl(path, path, "--listen", "127.0.0.1:0", "--port-file", pf, "--empty", "--log-level",
              "warn", (char *) NULL);
        perror(path);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(pf, "r");
        if (f) {
            int p = 0;
            if (fscanf(f, "%d", &p) == 1 && p > 0) {
                fclose(f);
                unlink(pf);
                g_port = p;
                usleep(20000);
                return pid;
            }
            fclose(f);
        }
        usleep(10000);
    }
    fprintf(stderr, "bench_ping: %s did not start\n", path);
    kill(pid, SIGKILL);
    exit(1);
}

int main(int argc, char **argv) {
    int conns[16] = { 1, 50 }, nconns = 2;
    int depths[16] = { 1, 64 }, ndepths = 2;
    const char *daemon = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && strcmp(a, "--host") == 0)
            g_host = v, i++;
        else if (v && strcmp(a, "--port") == 0)
            g_port = atoi(v), i++;
        else if (v && strcmp(a, "--seconds") == 0)
            g_seconds = atof(v), i++;
        else if (v && strcmp(a, "--conns") == 0)
            nconns = parse_list(v, conns, 16), i++;
        else if (v && strcmp(a, "--depths") == 0)
            ndepths = parse_list(v, depths, 16), i++;
        else if (v && strcmp(a, "--daemon") == 0)
            daemon = v, i++;
        else {
            fprintf(stderr, "usage: bench_ping (--port P | --daemon PATH) [--host H] [--seconds S] "
                            "[--conns 1,50] [--depths 1,64]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = daemon ? spawn_daemon(daemon) : 0;
    if (g_port <= 0 || g_seconds <= 0) {
        fprintf(stderr, "bench_ping: need --port P (or --daemon PATH) and --seconds > 0\n");
        return 2;
    }
    printf("server.ping against %s:%d, %.1f s per case\n", g_host, g_port, g_seconds);
    int rc = 0;
    for (int i = 0; i < nconns; i++)
        for (int j = 0; j < ndepths; j++)
            rc |= run_case(conns[i], depths[j]);
    if (pid > 0) {
        int st;
        kill(pid, SIGTERM);
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "bench_ping: twinnetd did not exit cleanly (status %d)\n", st);
            rc = 1;
        }
    }
    return rc;
}
