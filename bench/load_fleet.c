/*
 * load_fleet.c -- a dashboard fleet against a running twinnetd (the load
 * figures of docs/security.md).
 *
 *   load_fleet --port P [--host 127.0.0.1] [--conns 200] [--rate 400]
 *              [--seconds 60] [--pid PID | --pid-file FILE]
 *              [--no-planner] [--no-importer] [--import-nodes 1000]
 *              [--import-every 2]
 *
 * - The fleet: --conns connections on one thread (poll), sending at a fixed
 *   total --rate (req/s), each connection on its own fixed schedule (open
 *   loop). Two requests in three are metrics.get, half of the connections
 *   with if_epoch (the last epoch they saw); the third is graph.stats,
 *   query.coverage or node.get of a random node. Latency is measured from
 *   the time a request was *scheduled*, so a stalled server cannot hide
 *   behind requests that were never sent (coordinated omission).
 * - The planner: one connection running query.centrality betweenness and
 *   closeness on the full graph in a loop (a different 'top' each time, so
 *   the per-epoch cache never answers).
 * - The importer: one connection streaming an import (import.begin, chunks
 *   of 250 records, import.commit) of generated cities and pairs every
 *   --import-every seconds; the same ids each time with new names, so the
 *   graph stops growing after the first import and RSS drift means leaks,
 *   not data.
 * - With the daemon's pid: its VmRSS at start, at end and at most, and its
 *   CPU use over the run.
 *
 * With a token file on the server, set TWINNET_TOKEN (a write token: the
 * importer writes) as for the twinnet CLI; never on the command line.
 * Everything is bounded: --seconds <= 3600, --conns <= 1000, every wait
 * has a timeout. Not run by ctest: it prints figures (docs/security.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "frame.h"
#include "tn_client.h"

#define MAX_CONNS 1000
#define SLOTS 64                 /* requests in flight per fleet connection */
#define MAX_CODES 16
#define CHUNK_RECORDS 250

enum { K_METRICS_IFE, K_METRICS, K_STATS, K_COVERAGE, K_NODE_GET, NKINDS };
static const char *const kind_name[NKINDS] = {
    "metrics.get if_epoch", "metrics.get", "graph.stats", "query.coverage", "node.get",
};

/* ---- options ---- */

static const char *g_host = "127.0.0.1";
static int g_port = 0;
static int g_conns = 200;
static double g_rate = 400.0;
static double g_seconds = 60.0;
static int g_pid = 0;
static int g_planner = 1, g_importer = 1;
static int g_import_nodes = 1000;
static double g_import_every = 2.0;
static const char *g_token = NULL;

static atomic_int g_stop;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
    if (s <= 0)
        return;
    struct timespec ts = { (time_t) s, (long) ((s - (double) (time_t) s) * 1e9) };
    nanosleep(&ts, NULL);
}

/* ---- samples and error counts ---- */

typedef struct samples {
    double *v;
    size_t n, cap;
} samples_t;

static void add_sample(samples_t *s, double x) {
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 4096;
        double *p = realloc(s->v, ncap * sizeof *p);
        if (p == NULL)
            return;                /* drop the sample rather than die */
        s->v = p;
        s->cap = ncap;
    }
    s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double pct(samples_t *s, double q) {
    if (s->n == 0)
        return 0.0;
    size_t k = (size_t) (q * (double) (s->n - 1) + 0.5);
    return s->v[k < s->n ? k : s->n - 1];
}

typedef struct codes {
    char name[MAX_CODES][32];
    long count[MAX_CODES];
    int n;
} codes_t;

static void count_code(codes_t *c, const char *name) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->name[i], name) == 0) {
            c->count[i]++;
            return;
        }
    if (c->n < MAX_CODES) {
        snprintf(c->name[c->n], sizeof c->name[0], "%s", name);
        c->count[c->n++] = 1;
    }
}

static void print_codes(const char *what, const codes_t *c) {
    printf("%s", what);
    if (c->n == 0)
        printf(" none");
    for (int i = 0; i < c->n; i++)
        printf("%s %s %ld", i ? "," : "", c->name[i], c->count[i]);
    printf("\n");
}

/* ---- /proc ---- */

static long proc_rss_kb(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

static double proc_cpu_s(int pid) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    /* After ") ": field 3 (state) ... utime is field 14, stime 15. */
    unsigned long long ut = 0, st = 0;
    int field = 3;
    for (char *tok = strtok(p + 2, " "); tok; tok = strtok(NULL, " "), field++) {
        if (field == 14)
            ut = strtoull(tok, NULL, 10);
        else if (field == 15) {
            st = strtoull(tok, NULL, 10);
            break;
        }
    }
    return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

/* ---- setup through the blocking client ---- */

static tn_client_t *open_client(int timeout_ms) {
    char err[256];
    tn_client_t *c = tn_client_connect(g_host, g_port, timeout_ms, err, sizeof err);
    if (c == NULL) {
        fprintf(stderr, "load_fleet: %s\n", err);
        return NULL;
    }
    if (g_token) {
        tn_val_t opts = TN_VAL_NIL, res = TN_VAL_NIL;
        tn_error_t e = TN_ERROR_INIT;
        tn_val_set_map(&opts, 1);
        tn_map_add_str(&opts, "token", g_token);
        tn_code_t rc = tn_client_call(c, "auth", &opts, &res, &e);
        tn_val_free(&opts);
        tn_val_free(&res);
        if (rc != TN_OK) {
            fprintf(stderr, "load_fleet: auth: %s: %s\n", tn_code_name(rc), e.message);
            tn_error_clear(&e);
            tn_client_close(c);
            return NULL;
        }
    }
    return c;
}

typedef struct strlist {
    char **s;
    size_t n, cap;
} strlist_t;

static void strlist_add(strlist_t *l, const char *s) {
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 256;
        char **p = realloc(l->s, ncap * sizeof *p);
        if (p == NULL)
            return;
        l->s = p;
        l->cap = ncap;
    }
    char *d = strdup(s);
    if (d)
        l->s[l->n++] = d;
}

static strlist_t g_node_ids, g_countries, g_home_units;

/* node.list pages: every id (for node.get), countries and the CN units. */
static int load_ids(tn_client_t *c) {
    for (int64_t offset = 0; offset < 1000000;) {
        tn_val_t opts = TN_VAL_NIL, res = TN_VAL_NIL;
        tn_error_t e = TN_ERROR_INIT;
        tn_val_set_map(&opts, 2);
        tn_map_add_int(&opts, "limit", 10000);
        tn_map_add_int(&opts, "offset", offset);
        tn_code_t rc = tn_client_call(c, "node.list", &opts, &res, &e);
        tn_val_free(&opts);
        if (rc != TN_OK) {
            fprintf(stderr, "load_fleet: node.list: %s: %s\n", tn_code_name(rc), e.message);
            tn_error_clear(&e);
            return -1;
        }
        const tn_val_t *items = tn_map_get(&res, "items");
        size_t n = items && items->type == TN_V_ARR ? items->u.a.n : 0;
        for (size_t i = 0; i < n; i++) {
            const tn_val_t *it = &items->u.a.items[i];
            const char *id = tn_val_str(tn_map_get(it, "id"));
            const char *kind = tn_val_str(tn_map_get(it, "kind"));
            const char *country = tn_val_str(tn_map_get(it, "country"));
            if (id == NULL || kind == NULL)
                continue;
            if (strncmp(id, "LF-", 3) != 0)      /* not our own generated ones */
                strlist_add(&g_node_ids, id);
            if (strcmp(kind, "country") == 0 && strcmp(id, "CN") != 0)
                strlist_add(&g_countries, id);
            else if (country && strcmp(country, "CN") == 0 && strncmp(id, "LF-", 3) != 0)
                strlist_add(&g_home_units, id);
        }
        tn_val_free(&res);
        if (n < 10000)
            break;
        offset += (int64_t) n;
    }
    return g_node_ids.n > 0 ? 0 : -1;
}

/* ---- the fleet: raw non-blocking sockets on one thread ---- */

typedef struct slot {
    int used;
    int kind;
    uint32_t msgid;
    double sched;
} slot_t;

typedef struct fconn {
    int fd;
    int dead;
    int if_epoch;
    int64_t epoch;               /* last epoch seen, for if_epoch */
    uint8_t *in;
    size_t ilen, icap;
    tn_frame_t frame;
    char *out;
    size_t opos, olen, ocap;
    uint32_t next_msgid;
    slot_t slot[SLOTS];
    int inflight;
    long seq;
    double next_at;
} fconn_t;

typedef struct fleet_stats {
    samples_t all, kind[NKINDS];
    codes_t errors;
    long sent, answered, not_modified, skipped_backlog, late, dead;
} fleet_stats_t;

static tn_frame_limits_t g_reply_limits;

static int raw_connect(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t) g_port);
    if (inet_pton(AF_INET, g_host, &sa.sin_addr) != 1) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Take whole messages out of c->in; call fn for each decoded envelope.
 * -1 on a framing error. */
typedef void msg_fn(fconn_t *c, const tn_rpc_msg_t *m, fleet_stats_t *st);

static int take_messages(fconn_t *c, msg_fn *fn, fleet_stats_t *st) {
    size_t start = 0;
    int rc = 0;
    while (start < c->ilen) {
        tn_frame_status_t fs = tn_frame_scan(&c->frame, c->in + start, c->ilen - start, &g_reply_limits);
        if (fs == TN_FRAME_MORE)
            break;
        if (fs == TN_FRAME_INVALID) {
            rc = -1;
            break;
        }
        size_t n = c->frame.pos;
        tn_val_t v = TN_VAL_NIL;
        tn_error_t e = TN_ERROR_INIT;
        if (tn_codec_decode(c->in + start, n, &v, &e) == TN_OK) {
            tn_rpc_msg_t m;
            int ok_id = 0;
            if (tn_rpc_parse(&v, &m, &ok_id, &e) == TN_OK)
                fn(c, &m, st);
        }
        tn_error_clear(&e);
        tn_val_free(&v);
        start += n;
        tn_frame_reset(&c->frame);
    }
    memmove(c->in, c->in + start, c->ilen - start);
    c->ilen -= start;
    return rc;
}

static int read_some(fconn_t *c) {
    if (c->icap - c->ilen < 65536) {
        size_t ncap = c->icap ? c->icap * 2 : 131072;
        uint8_t *p = realloc(c->in, ncap);
        if (p == NULL)
            return -1;
        c->in = p;
        c->icap = ncap;
    }
    ssize_t r = recv(c->fd, c->in + c->ilen, c->icap - c->ilen, 0);
    if (r > 0) {
        c->ilen += (size_t) r;
        return 1;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    return -1;
}

static int flush_some(fconn_t *c) {
    while (c->opos < c->olen) {
        ssize_t w = send(c->fd, c->out + c->opos, c->olen - c->opos, MSG_NOSIGNAL);
        if (w > 0) {
            c->opos += (size_t) w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        return -1;
    }
    c->opos = c->olen = 0;
    return 0;
}

/* Setup: a synchronous request on a still-blocking fleet socket. */
static void setup_msg(fconn_t *c, const tn_rpc_msg_t *m, fleet_stats_t *st) {
    (void) st;
    if (m->type == TN_RPC_RESPONSE && m->msgid == c->next_msgid - 1)
        c->seq = m->error && m->error->type != TN_V_NIL ? -2 : -1;   /* done: -1 ok, -2 error */
}

static int sync_auth(fconn_t *c) {
    tn_val_t opts = TN_VAL_NIL;
    tn_val_set_map(&opts, 1);
    tn_map_add_str(&opts, "token", g_token);
    int rc = tn_rpc_encode_request(c->next_msgid++, "auth", &opts, &c->out, &c->olen, &c->ocap);
    tn_val_free(&opts);
    if (rc != 0 || flush_some(c) != 0)
        return -1;
    c->seq = 0;
    double deadline = now_s() + 10;
    while (c->seq == 0 && now_s() < deadline) {
        if (read_some(c) <= 0)
            return -1;
        if (take_messages(c, setup_msg, NULL) != 0)
            return -1;
    }
    int ok = c->seq == -1;
    c->seq = 0;
    return ok ? 0 : -1;
}

static void fleet_msg(fconn_t *c, const tn_rpc_msg_t *m, fleet_stats_t *st) {
    if (m->type != TN_RPC_RESPONSE)
        return;                  /* notifications: none expected */
    slot_t *s = &c->slot[m->msgid % SLOTS];
    if (!s->used || s->msgid != m->msgid)
        return;
    double lat = now_s() - s->sched;
    s->used = 0;
    c->inflight--;
    st->answered++;
    add_sample(&st->all, lat);
    add_sample(&st->kind[s->kind], lat);
    if (m->error && m->error->type == TN_V_MAP) {
        const char *code = tn_val_str(tn_map_get(m->error, "code"));
        count_code(&st->errors, code ? code : "?");
        return;
    }
    if (s->kind == K_METRICS_IFE || s->kind == K_METRICS) {
        int64_t ep;
        if (tn_val_as_int(tn_map_get(m->result, "epoch"), &ep))
            c->epoch = ep;
        const tn_val_t *nm = tn_map_get(m->result, "not_modified");
        if (nm && nm->type == TN_V_BOOL && nm->u.b)
            st->not_modified++;
    }
}

static unsigned long long g_rng = 0x9E3779B97F4A7C15ULL;

static unsigned long long rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Queue one request on c for its scheduled time 'sched'. */
static void fleet_send(fconn_t *c, double sched, fleet_stats_t *st) {
    if (c->inflight >= SLOTS) {
        st->skipped_backlog++;
        return;
    }
    uint32_t id = c->next_msgid++;
    if (c->slot[id % SLOTS].used) {
        st->skipped_backlog++;
        return;
    }
    int kind;
    if (c->seq % 3 != 2)
        kind = c->if_epoch ? K_METRICS_IFE : K_METRICS;
    else
        kind = K_STATS + (int) ((c->seq / 3 + (long) c->fd) % 3);
    c->seq++;
    tn_val_t opts = TN_VAL_NIL;
    const char *method = "metrics.get";
    tn_val_set_map(&opts, 2);
    switch (kind) {
    case K_METRICS_IFE:
        if (c->epoch > 0)
            tn_map_add_int(&opts, "if_epoch", c->epoch);
        break;
    case K_STATS:
        method = "graph.stats";
        break;
    case K_COVERAGE:
        method = "query.coverage";
        tn_map_add_str(&opts, "by", "region");
        break;
    case K_NODE_GET:
        method = "node.get";
        tn_map_add_str(&opts, "id", g_node_ids.s[rnd() % g_node_ids.n]);
        break;
    default:
        break;
    }
    int rc = tn_rpc_encode_request(id, method, &opts, &c->out, &c->olen, &c->ocap);
    tn_val_free(&opts);
    if (rc != 0)
        return;
    c->slot[id % SLOTS] = (slot_t){ 1, kind, id, sched };
    c->inflight++;
    st->sent++;
}

/* ---- planner and importer threads ---- */

typedef struct side {
    pthread_t th;
    samples_t lat;
    codes_t errors;
    long ok, runs[2];
    long records;
    char fail[256];
} side_t;

static void *planner_main(void *arg) {
    side_t *p = arg;
    tn_client_t *c = open_client(60000);
    if (c == NULL) {
        snprintf(p->fail, sizeof p->fail, "cannot connect");
        return NULL;
    }
    static const char *const metric[2] = { "betweenness", "closeness" };
    for (long k = 0; !atomic_load(&g_stop) && k < 1000000; k++) {
        tn_val_t opts = TN_VAL_NIL, res = TN_VAL_NIL;
        tn_error_t e = TN_ERROR_INIT;
        tn_val_set_map(&opts, 5);
        tn_map_add_str(&opts, "metric", metric[k % 2]);
        tn_map_add_str(&opts, "graph", "full");
        tn_map_add_int(&opts, "top", 10 + (k / 2) % 500);
        /* A fresh as_of (later than every pair: the same graph) so neither
         * the result cache nor the centrality score memo answers. */
        tn_map_add_int(&opts, "as_of", 9999 - (k / 2) % 5000);
        tn_map_add_int(&opts, "deadline_ms", 10000);
        double t0 = now_s();
        tn_code_t rc = tn_client_call(c, "query.centrality", &opts, &res, &e);
        add_sample(&p->lat, now_s() - t0);
        p->runs[k % 2]++;
        if (rc == TN_OK)
            p->ok++;
        else
            count_code(&p->errors, tn_code_name(rc));
        tn_val_free(&opts);
        tn_val_free(&res);
        tn_error_clear(&e);
        if (tn_client_broken(c))
            break;
    }
    tn_client_close(c);
    return NULL;
}

static int call_simple(tn_client_t *c, const char *method, tn_val_t *opts, tn_val_t *res,
                       codes_t *errors) {
    tn_error_t e = TN_ERROR_INIT;
    tn_code_t rc = tn_client_call(c, method, opts, res, &e);
    if (rc != TN_OK) {
        count_code(errors, tn_code_name(rc));
        fprintf(stderr, "load_fleet: importer: %s: %s: %s\n", method, tn_code_name(rc), e.message);
    }
    tn_error_clear(&e);
    return rc == TN_OK ? 0 : -1;
}

/* Generated records: n cities "LF-city-<i>" in existing countries, pairs
 * between neighbours (a ring) and every tenth one with a home unit. */
static void gen_chunk(tn_val_t *nodes, tn_val_t *pairs, int from, int to, int n, long version) {
    char id[64], other[64], name[96];
    for (int i = from; i < to; i++) {
        tn_val_t *nd = tn_arr_push(nodes);
        if (nd == NULL)
            return;
        snprintf(id, sizeof id, "LF-city-%d", i);
        snprintf(name, sizeof name, "Fleet city %d (v%ld)", i, version);
        tn_val_set_map(nd, 4);
        tn_map_add_str(nd, "id", id);
        tn_map_add_str(nd, "kind", "city");
        tn_map_add_str(nd, "name", name);
        tn_map_add_str(nd, "country", g_countries.s[(size_t) i % g_countries.n]);
    }
    /* Pairs reference nodes of earlier chunks or this one: ring i-1 -- i. */
    for (int i = from; i < to; i++) {
        if (i > 0) {
            tn_val_t *pr = tn_arr_push(pairs);
            snprintf(id, sizeof id, "LF-city-%d", i - 1);
            snprintf(other, sizeof other, "LF-city-%d", i);
            tn_val_set_map(pr, 3);
            tn_map_add_str(pr, "a", id);
            tn_map_add_str(pr, "b", other);
            tn_map_add_int(pr, "since", 1990 + (int) ((i + version) % 30));
        }
        if (i % 10 == 0 && g_home_units.n > 0) {
            tn_val_t *pr = tn_arr_push(pairs);
            snprintf(id, sizeof id, "LF-city-%d", i);
            tn_val_set_map(pr, 3);
            tn_map_add_str(pr, "a", id);
            tn_map_add_str(pr, "b", g_home_units.s[(size_t) (i / 10) % g_home_units.n]);
            tn_map_add_str(pr, "kind", "friendly");
        }
    }
    (void) n;
}

static void *importer_main(void *arg) {
    side_t *p = arg;
    tn_client_t *c = open_client(60000);
    if (c == NULL) {
        snprintf(p->fail, sizeof p->fail, "cannot connect");
        return NULL;
    }
    double next = now_s();
    for (long v = 1; !atomic_load(&g_stop) && v < 1000000; v++) {
        sleep_s(next - now_s());
        next += g_import_every;
        if (atomic_load(&g_stop))
            break;
        double t0 = now_s();
        tn_val_t res = TN_VAL_NIL, opts = TN_VAL_NIL;
        tn_val_set_map(&opts, 1);
        tn_map_add_int(&opts, "total", 2L * g_import_nodes);
        int bad = call_simple(c, "import.begin", &opts, &res, &p->errors);
        tn_val_free(&opts);
        char tok[80] = "";
        if (!bad)
            snprintf(tok, sizeof tok, "%s", tn_val_str(tn_map_get(&res, "import")) ? tn_val_str(tn_map_get(&res, "import")) : "");
        tn_val_free(&res);
        for (int from = 0; !bad && from < g_import_nodes; from += CHUNK_RECORDS) {
            int to = from + CHUNK_RECORDS < g_import_nodes ? from + CHUNK_RECORDS : g_import_nodes;
            tn_val_t nodes = TN_VAL_NIL, pairs = TN_VAL_NIL;
            tn_val_set_arr(&nodes, (size_t) (to - from));
            tn_val_set_arr(&pairs, (size_t) (to - from));
            gen_chunk(&nodes, &pairs, from, to, g_import_nodes, v);
            p->records += (long) (nodes.u.a.n + pairs.u.a.n);
            tn_val_set_map(&opts, 3);
            tn_map_add_str(&opts, "import", tok);
            tn_map_add_take(&opts, "nodes", &nodes);
            tn_map_add_take(&opts, "pairs", &pairs);
            bad = call_simple(c, "import.chunk", &opts, &res, &p->errors);
            tn_val_free(&opts);
            tn_val_free(&res);
        }
        if (!bad) {
            tn_val_set_map(&opts, 1);
            tn_map_add_str(&opts, "import", tok);
            bad = call_simple(c, "import.commit", &opts, &res, &p->errors);
            tn_val_free(&opts);
            tn_val_free(&res);
        }
        add_sample(&p->lat, now_s() - t0);
        if (!bad)
            p->ok++;
        p->runs[0]++;
        if (tn_client_broken(c))
            break;
    }
    tn_client_close(c);
    return NULL;
}

/* ---- main ---- */

static void usage(FILE *out) {
    fprintf(out,
            "usage: load_fleet --port P [--host 127.0.0.1] [--conns 200] [--rate 400]\n"
            "                  [--seconds 60] [--pid PID | --pid-file FILE]\n"
            "                  [--no-planner] [--no-importer] [--import-nodes 1000]\n"
            "                  [--import-every 2]\n"
            "environment: TWINNET_TOKEN, if set, authenticates every connection (the\n"
            "importer needs the write role).\n");
}

static int read_pid_file(const char *path) {
    FILE *f = fopen(path, "r");
    int pid = 0;
    if (f == NULL || fscanf(f, "%d", &pid) != 1)
        pid = 0;
    if (f)
        fclose(f);
    return pid;
}

static void print_lat(const char *what, samples_t *s) {
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    printf("  %-22s n %7zu  p50 %8.2f ms  p99 %8.2f ms  p99.9 %8.2f ms  max %8.2f ms\n", what, s->n,
           pct(s, 0.50) * 1e3, pct(s, 0.99) * 1e3, pct(s, 0.999) * 1e3,
           s->n ? s->v[s->n - 1] * 1e3 : 0.0);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL() do { if (v == NULL) { usage(stderr); return 2; } i++; } while (0)
        if (strcmp(a, "--host") == 0) { VAL(); g_host = v; }
        else if (strcmp(a, "--port") == 0) { VAL(); g_port = atoi(v); }
        else if (strcmp(a, "--conns") == 0) { VAL(); g_conns = atoi(v); }
        else if (strcmp(a, "--rate") == 0) { VAL(); g_rate = atof(v); }
        else if (strcmp(a, "--seconds") == 0) { VAL(); g_seconds = atof(v); }
        else if (strcmp(a, "--pid") == 0) { VAL(); g_pid = atoi(v); }
        else if (strcmp(a, "--pid-file") == 0) { VAL(); g_pid = read_pid_file(v); }
        else if (strcmp(a, "--import-nodes") == 0) { VAL(); g_import_nodes = atoi(v); }
        else if (strcmp(a, "--import-every") == 0) { VAL(); g_import_every = atof(v); }
        else if (strcmp(a, "--no-planner") == 0) g_planner = 0;
        else if (strcmp(a, "--no-importer") == 0) g_importer = 0;
        else if (strcmp(a, "--help") == 0) { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
#undef VAL
    }
    if (g_port <= 0 || g_port > 65535 || g_conns < 1 || g_conns > MAX_CONNS || g_rate <= 0
        || g_rate > 100000 || g_seconds <= 0 || g_seconds > 3600 || g_import_nodes < 1
        || g_import_nodes > 100000 || g_import_every < 0.1) {
        fprintf(stderr, "load_fleet: bad arguments (conns 1..%d, rate <= 100000, seconds <= 3600)\n",
                MAX_CONNS);
        usage(stderr);
        return 2;
    }
    g_token = getenv("TWINNET_TOKEN");
    if (g_token && !g_token[0])
        g_token = NULL;
    g_reply_limits = (tn_frame_limits_t){ (size_t) 256 << 20, TN_FRAME_MAX_DEPTH, 1u << 24, 64u << 20 };

    tn_client_t *setup = open_client(30000);
    if (setup == NULL || load_ids(setup) != 0) {
        fprintf(stderr, "load_fleet: setup failed (node.list)\n");
        return 1;
    }
    tn_client_close(setup);
    if (g_countries.n == 0) {
        g_importer = 0;
        fprintf(stderr, "load_fleet: no country nodes: importer off\n");
    }

    fconn_t *conns = calloc((size_t) g_conns, sizeof *conns);
    struct pollfd *pfd = calloc((size_t) g_conns, sizeof *pfd);
    fleet_stats_t st;
    memset(&st, 0, sizeof st);
    if (conns == NULL || pfd == NULL)
        return 1;
    for (int i = 0; i < g_conns; i++) {
        fconn_t *c = &conns[i];
        c->next_msgid = 1;
        tn_frame_reset(&c->frame);
        c->fd = raw_connect();
        if (c->fd < 0) {
            fprintf(stderr, "load_fleet: connection %d: %s\n", i, strerror(errno));
            return 1;
        }
        if (g_token && sync_auth(c) != 0) {
            fprintf(stderr, "load_fleet: connection %d: auth failed\n", i);
            return 1;
        }
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        c->if_epoch = i % 2 == 0;
    }

    long rss0 = g_pid ? proc_rss_kb(g_pid) : -1, rss_max = rss0;
    double cpu0 = g_pid ? proc_cpu_s(g_pid) : -1;
    side_t planner, importer;
    memset(&planner, 0, sizeof planner);
    memset(&importer, 0, sizeof importer);
    if (g_planner)
        pthread_create(&planner.th, NULL, planner_main, &planner);
    if (g_importer)
        pthread_create(&importer.th, NULL, importer_main, &importer);

    double period = (double) g_conns / g_rate;   /* per connection */
    double t_start = now_s(), t_end = t_start + g_seconds, next_rss = t_start + 1.0;
    /* After the first quarter of the run (the first import has grown the
     * graph, caches are warm): drift is measured from there too. */
    double t_warm = t_start + g_seconds / 4;
    long rss_warm = -1;
    for (int i = 0; i < g_conns; i++)
        conns[i].next_at = t_start + period * (double) i / (double) g_conns;
    printf("load_fleet: %d connections, %.0f req/s offered for %.0f s against %s:%d%s%s%s\n",
           g_conns, g_rate, g_seconds, g_host, g_port, g_planner ? ", planner" : "",
           g_importer ? ", importer" : "", g_token ? ", authenticated" : "");
    fflush(stdout);

    /* The loop: send what is due, poll, read. After t_end, only drain (at
     * most 10 s). */
    for (;;) {
        double t = now_s();
        int sending = t < t_end;
        long outstanding = 0;
        double next_due = t + 0.05;
        for (int i = 0; i < g_conns; i++) {
            fconn_t *c = &conns[i];
            if (c->dead)
                continue;
            while (sending && c->next_at <= t) {
                if (t - c->next_at > 0.010)
                    st.late++;
                fleet_send(c, c->next_at, &st);
                c->next_at += period;
            }
            if (c->olen > c->opos && flush_some(c) != 0) {
                c->dead = 1;
                st.dead++;
                continue;
            }
            if (sending && c->next_at < next_due)
                next_due = c->next_at;
            outstanding += c->inflight;
        }
        if (!sending && (outstanding == 0 || t > t_end + 10.0))
            break;
        if (g_pid && t >= next_rss) {
            long r = proc_rss_kb(g_pid);
            if (r > rss_max)
                rss_max = r;
            if (rss_warm < 0 && t >= t_warm)
                rss_warm = r;
            next_rss += 1.0;
        }
        int nfds = 0;
        for (int i = 0; i < g_conns; i++) {
            if (conns[i].dead)
                continue;
            pfd[nfds].fd = conns[i].fd;
            pfd[nfds].events = POLLIN | (conns[i].olen > conns[i].opos ? POLLOUT : 0);
            pfd[nfds].revents = 0;
            nfds++;
        }
        int ms = (int) ((next_due - now_s()) * 1000.0);
        if (ms < 0)
            ms = 0;
        if (!sending)
            ms = 50;
        int n = poll(pfd, (nfds_t) nfds, ms);
        if (n < 0 && errno != EINTR) {
            perror("load_fleet: poll");
            break;
        }
        for (int k = 0, i = 0; n > 0 && k < nfds; k++) {
            while (conns[i].dead || conns[i].fd != pfd[k].fd)
                i++;
            fconn_t *c = &conns[i];
            if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
                int r;
                while ((r = read_some(c)) > 0)
                    if (take_messages(c, fleet_msg, &st) != 0) {
                        r = -1;
                        break;
                    }
                if (r < 0) {
                    c->dead = 1;
                    st.dead++;
                }
            }
        }
    }
    double t_stop = now_s();
    atomic_store(&g_stop, 1);
    if (g_planner)
        pthread_join(planner.th, NULL);
    if (g_importer)
        pthread_join(importer.th, NULL);
    long lost = 0;
    for (int i = 0; i < g_conns; i++) {
        lost += conns[i].inflight;
        close(conns[i].fd);
        free(conns[i].in);
        free(conns[i].out);
    }
    sleep_s(1.0);
    long rss1 = g_pid ? proc_rss_kb(g_pid) : -1;
    double cpu1 = g_pid ? proc_cpu_s(g_pid) : -1;
    if (rss1 > rss_max)
        rss_max = rss1;

    double wall = t_stop - t_start;
    printf("fleet: sent %ld, answered %ld (%.1f/s), unanswered %ld, not_modified %ld, "
           "skipped (64 in flight) %ld, sends >10 ms late %ld, connections lost %ld\n",
           st.sent, st.answered, (double) st.answered / g_seconds, lost, st.not_modified,
           st.skipped_backlog, st.late, st.dead);
    printf("latency from the scheduled send time:\n");
    print_lat("all", &st.all);
    for (int k = 0; k < NKINDS; k++)
        print_lat(kind_name[k], &st.kind[k]);
    print_codes("fleet errors by code:", &st.errors);
    if (g_planner) {
        printf("planner: %ld queries (betweenness %ld, closeness %ld), %ld ok%s%s\n",
               planner.runs[0] + planner.runs[1], planner.runs[0], planner.runs[1], planner.ok,
               planner.fail[0] ? "; " : "", planner.fail);
        print_lat("query.centrality", &planner.lat);
        print_codes("planner errors by code:", &planner.errors);
    }
    if (g_importer) {
        printf("importer: %ld streamed imports (%d nodes + their pairs each), %ld committed, "
               "%ld records sent%s%s\n", importer.runs[0], g_import_nodes, importer.ok,
               importer.records, importer.fail[0] ? "; " : "", importer.fail);
        print_lat("import begin..commit", &importer.lat);
        print_codes("importer errors by code:", &importer.errors);
    }
    if (g_pid) {
        printf("server pid %d: VmRSS start %ld KiB, after warm-up (%.0f s) %ld KiB, end %ld KiB, "
               "max %ld KiB; drift from start %+ld KiB (%+.1f%%), from warm-up %+ld KiB (%+.1f%%); "
               "CPU %.1f s over %.1f s (%.0f%% of one core)\n",
               g_pid, rss0, t_warm - t_start, rss_warm, rss1, rss_max, rss1 - rss0,
               rss0 > 0 ? 100.0 * (double) (rss1 - rss0) / (double) rss0 : 0.0,
               rss1 - rss_warm, rss_warm > 0 ? 100.0 * (double) (rss1 - rss_warm) / (double) rss_warm : 0.0,
               cpu1 - cpu0, wall, 100.0 * (cpu1 - cpu0) / wall);
    }
    free(conns);
    free(pfd);
    int failed = st.dead > 0 || lost > 0;
    return failed ? 1 : 0;
}
