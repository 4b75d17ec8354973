/*
 * test_alloc_fail.c -- allocation failures over each request path, in the
 * manner of SQLite's malloc tests: fail the N-th allocation for N = 1, 2,
 * ... until the operation completes without reaching N, once with a single
 * failure and once with every allocation from the N-th on failing.
 *
 * The executable is linked with -Wl,--wrap=malloc,calloc,realloc,strdup,
 * free (tests/fuzz/CMakeLists.txt), so every allocation made by our static
 * libraries -- and by msgpack-c, linked statically here for that reason --
 * goes through the __wrap_* functions below. Shared libraries (libc
 * internals, libevent, igraph) allocate around the shim, so queries that
 * run igraph are not covered here; the paths below do not call it.
 *
 * For every N it asserts:
 *  - no crash (ASan/UBSan in the sanitizer build turn misuse into one);
 *  - the result is success or "internal" (out of memory), nothing else;
 *  - a success after an injected failure is the same as the reference
 *    (no silently dropped item);
 *  - on failure the model is unchanged (epoch, counts and every record),
 *    the journal is as long as before, a query's result is nil;
 *  - no leak: every allocation made through the shim is freed once the
 *    operation's outputs are released (counted here, so the plain build
 *    checks it too; LeakSanitizer checks again in the sanitizer build).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "fuzz.h"
#include "log.h"
#include "query.h"
#include "registry.h"
#include "store.h"

/* ---- the shim ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

static long fail_at;            /* fail the fail_at-th allocation from arming (0: never) */
static int fail_persist;        /* and every one after it */
static long n_allocs;           /* allocations seen since arming */
static long n_failed;           /* allocations refused since arming */
static long live;               /* blocks allocated through the shim and not yet freed */

static int should_fail(void) {
    if (fail_at == 0)
        return 0;
    n_allocs++;
    if (n_allocs == fail_at || (fail_persist && n_allocs > fail_at)) {
        n_failed++;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n) {
    if (should_fail())
        return NULL;
    void *p = __real_malloc(n);
    if (p)
        live++;
    return p;
}

void *__wrap_calloc(size_t k, size_t n) {
    if (should_fail())
        return NULL;
    void *p = __real_calloc(k, n);
    if (p)
        live++;
    return p;
}

void *__wrap_realloc(void *old, size_t n) {
    if (should_fail())
        return NULL;
    void *p = __real_realloc(old, n);
    if (p && old == NULL)
        live++;
    return p;
}

char *__wrap_strdup(const char *s) {
    if (should_fail())
        return NULL;
    char *p = __real_strdup(s);
    if (p)
        live++;
    return p;
}

void __wrap_free(void *p) {
    if (p)
        live--;
    __real_free(p);
}

static void arm(long n, int persist) {
    n_allocs = n_failed = 0;
    fail_persist = persist;
    fail_at = n;
}

static void disarm(void) {
    fail_at = 0;
}

/* ---- checks ---- */

static int failures;
static long misreported;         /* out of memory reported as another code (see below) */

/* graph/record.c reports some allocation failures while validating a
 * record as a bad field (code invalid_params, with "out of memory" as the
 * detail's reason, or no detail at all when that allocation fails too),
 * and store.c reports a failed load as an unreadable or damaged file. The
 * inputs here are valid by construction (each path's reference run
 * succeeds), so any other code after an injected failure is such a
 * misreport: wrong codes, not crashes or leaks. They are counted and
 * printed, treated as "internal", and every other check still applies. */
static tn_code_t oom_code(tn_code_t rc, const tn_error_t *err, const char *what) {
    if (rc != TN_OK && rc != TN_ERR_INTERNAL && n_failed > 0) {
        if (misreported++ < 4)
            fprintf(stderr, "  note: %s reported out of memory as %s: %s\n", what, tn_code_name(rc),
                    err->message);
        return TN_ERR_INTERNAL;
    }
    return rc;
}

#define EXPECT(cond, ...) do { if (!(cond)) { failures++; \
    fprintf(stderr, "%s:%d: %s failed: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* Every record of the model, its epoch and counts, as one string. */
static char *model_print(const tn_model_t *m) {
    tn_val_t all = TN_VAL_NIL, nodes = TN_VAL_NIL, pairs = TN_VAL_NIL;
    size_t nn, np;
    tn_node_t *const *ns = tn_model_nodes(m, &nn);
    tn_pair_t *const *ps = tn_model_pairs(m, &np);
    int rc = tn_val_set_map(&all, 3) | tn_val_set_arr(&nodes, nn) | tn_val_set_arr(&pairs, np);
    for (size_t i = 0; i < nn; i++) {
        tn_val_t r = TN_VAL_NIL;
        rc |= tn_node_to_val(ns[i], &r) | tn_arr_push_take(&nodes, &r);
    }
    for (size_t i = 0; i < np; i++) {
        tn_val_t r = TN_VAL_NIL;
        rc |= tn_pair_to_val(ps[i], &r) | tn_arr_push_take(&pairs, &r);
    }
    rc |= tn_map_add_int(&all, "epoch", (int64_t) tn_model_epoch(m));
    rc |= tn_map_add_take(&all, "nodes", &nodes) | tn_map_add_take(&all, "pairs", &pairs);
    FZ_CHECK(rc == 0);
    char *s = fz_to_json(&all);
    tn_val_free(&all);
    return s;
}

/* One operation under test: run it armed; 'check' runs disarmed and
 * returns 1 when the operation completed. */
typedef struct path {
    const char *name;
    void *(*setup)(void);                       /* disarmed */
    tn_code_t (*run)(void *state);              /* armed */
    void (*check)(void *state, tn_code_t rc, long n, int injected);   /* disarmed */
    void (*teardown)(void *state);              /* disarmed */
} path_t;

/* Run 'p' for N = 1, 2, ... in both modes; returns the N that completed. */
static long run_path(const path_t *p, int persist) {
    long n, mis0 = misreported;
    for (n = 1; n < 200000; n++) {
        long live0 = live;
        void *st = p->setup();
        arm(n, persist);
        tn_code_t rc = p->run(st);
        long injected = n_failed, seen = n_allocs;
        disarm();
        EXPECT(rc == TN_OK || rc == TN_ERR_INTERNAL, "%s N=%ld%s: code %s", p->name, n,
               persist ? " (persistent)" : "", tn_code_name(rc));
        p->check(st, rc, n, injected > 0);
        p->teardown(st);
        EXPECT(live == live0, "%s N=%ld%s: %ld blocks leaked", p->name, n,
               persist ? " (persistent)" : "", live - live0);
        if (failures > 20) {
            fprintf(stderr, "too many failures, stopping\n");
            exit(1);
        }
        if (seen < n) {
            EXPECT(rc == TN_OK, "%s: completed without a failure but returned %s", p->name,
                   tn_code_name(rc));
            break;
        }
    }
    fprintf(stderr, "%-22s %s: %4ld allocations, each failed in turn; %ld misreported\n", p->name,
            persist ? "persistent" : "once      ", n - 1, misreported - mis0);
    return n;
}

/* ---- path 1: decode + envelope of a request ---- */

typedef struct dec_state {
    char *wire;
    size_t len;
    char *want;                 /* JSON of the decoded reference */
    tn_val_t v;
    tn_error_t err;
} dec_state_t;

static const char *dec_requests[] = {
    fz_world_json,                                              /* import.batch options */
    "{\"metric\":\"pagerank\",\"top\":5,\"damping\":0.85,\"normalized\":true,\"graph\":\"full\"}",
    "{\"\":[[],{},\"\",null,-1,18446744073709551615,1.5]}",
};
static int dec_which;

static void *dec_setup(void) {
    dec_state_t *s = calloc(1, sizeof *s);
    FZ_CHECK(s != NULL);
    tn_val_t opts = fz_json(dec_requests[dec_which]);
    size_t cap = 0;
    FZ_CHECK(tn_rpc_encode_request(42, "import.batch", &opts, &s->wire, &s->len, &cap) == 0);
    tn_val_t ref = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    FZ_CHECK(tn_codec_decode((const uint8_t *) s->wire, s->len, &ref, &err) == TN_OK);
    s->want = fz_to_json(&ref);
    tn_val_free(&ref);
    tn_val_free(&opts);
    s->err = (tn_error_t) TN_ERROR_INIT;
    return s;
}

static tn_code_t dec_run(void *arg) {
    dec_state_t *s = arg;
    tn_code_t rc = tn_codec_decode((const uint8_t *) s->wire, s->len, &s->v, &s->err);
    if (rc != TN_OK)
        return rc;
    tn_rpc_msg_t msg;
    int ok = 0;
    return tn_rpc_parse(&s->v, &msg, &ok, &s->err);
}

static void dec_check(void *arg, tn_code_t rc, long n, int injected) {
    dec_state_t *s = arg;
    (void) injected;
    if (rc == TN_OK) {
        char *got = fz_to_json(&s->v);
        EXPECT(strcmp(got, s->want) == 0, "decode N=%ld: a different value after a failure", n);
        free(got);
    } else {
        EXPECT(s->v.type == TN_V_NIL, "decode N=%ld: output not nil after an error", n);
    }
}

static void dec_teardown(void *arg) {
    dec_state_t *s = arg;
    tn_val_free(&s->v);
    tn_error_clear(&s->err);
    free(s->wire);
    free(s->want);
    free(s);
}

/* ---- path 2: a change (prepare, commit, result) ---- */

typedef struct chg_state {
    tn_model_t *m;
    char *before;               /* the model before */
    tn_val_t opts;
    tn_val_t res;
    tn_error_t err;
} chg_state_t;

typedef struct chg_case {
    const char *method;
    const char *opts;
} chg_case_t;

static const chg_case_t chg_cases[] = {
    { "import.batch",
      "{\"nodes\":[{\"id\":\"CL\",\"kind\":\"country\",\"name\":\"Chile\",\"region\":\"Americas\","
      "\"subregion\":\"South America\",\"tags\":[\"apec\",\"bri\"]},"
      "{\"id\":\"CL-valparaiso\",\"kind\":\"city\",\"name\":\"Valparaiso\",\"country\":\"CL\"},"
      "{\"id\":\"CN-430400\",\"kind\":\"city\",\"name\":\"Hengyang City\",\"country\":\"CN\","
      "\"parent\":\"CN-430000\"}],"
      "\"pairs\":[{\"a\":\"CN-430400\",\"b\":\"CL-valparaiso\",\"since\":2018,\"source\":\"test\"},"
      "{\"a\":\"CN-430000\",\"b\":\"IT-umbria\",\"since\":1996,\"confidence\":\"high\"}]}" },
    { "import.batch",
      "{\"mode\":\"replace\",\"nodes\":[{\"id\":\"CN\",\"kind\":\"country\",\"name\":\"China\"},"
      "{\"id\":\"CN-430000\",\"kind\":\"province\",\"name\":\"Hunan\",\"country\":\"CN\"},"
      "{\"id\":\"FJ\",\"kind\":\"country\",\"name\":\"Fiji\"},"
      "{\"id\":\"FJ-suva\",\"kind\":\"city\",\"name\":\"Suva\",\"country\":\"FJ\"}],"
      "\"pairs\":[{\"a\":\"CN-430000\",\"b\":\"FJ-suva\",\"kind\":\"friendly\"}]}" },
    { "node.delete", "{\"id\":\"PE-cusco\",\"cascade\":true}" },
    { "pair.upsert", "{\"pair\":{\"a\":\"NZ-nelson\",\"b\":\"CN-430700\",\"since\":\"2001-09\"}}" },
};
static int chg_which;
static char *chg_want_model, *chg_want_res;

static void *chg_setup(void) {
    chg_state_t *s = calloc(1, sizeof *s);
    FZ_CHECK(s != NULL);
    s->m = fz_world_model();
    s->before = model_print(s->m);
    s->opts = fz_json(chg_cases[chg_which].opts);
    s->err = (tn_error_t) TN_ERROR_INIT;
    return s;
}

static tn_code_t chg_run(void *arg) {
    chg_state_t *s = arg;
    tn_change_t *c = NULL;
    tn_change_kind_t kind = TN_CHANGE_BATCH;
    FZ_CHECK(tn_registry_change_kind(chg_cases[chg_which].method, &kind) == 0);
    tn_code_t rc = tn_change_prepare(s->m, kind, &s->opts, &c, &s->err);
    if (rc != TN_OK)
        return oom_code(rc, &s->err, chg_cases[chg_which].method);
    tn_change_commit(s->m, c);
    /* The reply is built after the commit; failing to build it must not
     * undo the commit, it only turns the reply into an error. */
    if (tn_change_result(s->m, c, &s->res) != 0)
        rc = tn_error_set(&s->err, TN_ERR_INTERNAL, "out of memory building the reply");
    tn_change_free(c);
    return rc;
}

static void chg_check(void *arg, tn_code_t rc, long n, int injected) {
    chg_state_t *s = arg;
    (void) injected;
    char *now = model_print(s->m);
    if (rc == TN_OK) {
        char *res = fz_to_json(&s->res);
        if (chg_want_model == NULL) {           /* the reference run */
            chg_want_model = now;
            chg_want_res = res;
            return;
        }
        EXPECT(strcmp(now, chg_want_model) == 0, "%s N=%ld: a different model after a failure",
               chg_cases[chg_which].method, n);
        EXPECT(strcmp(res, chg_want_res) == 0, "%s N=%ld: a different reply after a failure",
               chg_cases[chg_which].method, n);
        free(res);
    } else if (strcmp(now, s->before) != 0) {
        /* Only the reply may fail after the commit; then the model must be
         * exactly the committed one. */
        EXPECT(chg_want_model != NULL && strcmp(now, chg_want_model) == 0,
               "%s N=%ld: the model changed although the change failed", chg_cases[chg_which].method, n);
    }
    free(now);
}

static void chg_teardown(void *arg) {
    chg_state_t *s = arg;
    tn_model_free(s->m);
    free(s->before);
    tn_val_free(&s->opts);
    tn_val_free(&s->res);
    tn_error_clear(&s->err);
    free(s);
}

/* ---- path 3: queries on a snapshot, and building one ---- */

typedef struct q_state {
    tn_model_t *m;
    tn_snap_t *snap;
    tn_val_t opts;
    tn_val_t out;
    tn_error_t err;
} q_state_t;

typedef struct q_case {
    const char *name;
    const char *opts;           /* NULL: [] */
} q_case_t;

static const q_case_t q_cases[] = {
    { "graph.stats", NULL },
    { "graph.stats", "{\"as_of\":2005,\"min_confidence\":\"medium\"}" },
    { "query.coverage", NULL },
    { "query.coverage", "{\"by\":\"tag\",\"tag\":\"bri\"}" },
    { "query.coverage", "{\"by\":\"unit\",\"kind\":\"sister\"}" },
    { "query.gaps", "{\"region\":\"Americas\",\"limit\":5}" },
    { "query.recommend", "{\"unit\":\"CN-430400\",\"top\":3}" },
    { "query.recommend", "{\"unit\":\"CN-430400\",\"top\":3,\"exclude_home\":false}" },
    { "query.plan", "{\"target\":\"all\",\"budget\":3}" },
    { "pair.list", "{\"limit\":3,\"offset\":1}" },
    { "node.find", "{\"q\":\"an\"}" },
    { "node.neighbors", "{\"id\":\"CN-430700\"}" },
    { "metrics.get", NULL },
};
static int q_which;
static char *q_want;

static void *q_setup(void) {
    q_state_t *s = calloc(1, sizeof *s);
    FZ_CHECK(s != NULL);
    s->m = fz_world_model();
    s->snap = fz_snapshot(s->m);
    if (q_cases[q_which].opts)
        s->opts = fz_json(q_cases[q_which].opts);
    s->err = (tn_error_t) TN_ERROR_INIT;
    return s;
}

static tn_code_t q_run(void *arg) {
    q_state_t *s = arg;
    const q_case_t *qc = &q_cases[q_which];
    atomic_int stop;
    atomic_init(&stop, TN_RUN);
    tn_qctx_t ctx = { &stop, NULL, NULL };
    return tn_query_run(tn_query_find(qc->name), s->snap, qc->opts ? &s->opts : NULL, &ctx, &s->out, &s->err);
}

static void q_check(void *arg, tn_code_t rc, long n, int injected) {
    q_state_t *s = arg;
    (void) injected;
    if (rc == TN_OK) {
        char *got = fz_to_json(&s->out);
        if (q_want == NULL) {
            q_want = got;
            return;
        }
        EXPECT(strcmp(got, q_want) == 0, "%s N=%ld: a different result after a failure:\n  %s\n  %s",
               q_cases[q_which].name, n, got, q_want);
        free(got);
    } else {
        EXPECT(s->out.type == TN_V_NIL, "%s N=%ld: result not nil after an error", q_cases[q_which].name, n);
    }
}

static void q_teardown(void *arg) {
    q_state_t *s = arg;
    tn_val_free(&s->out);
    tn_val_free(&s->opts);
    tn_error_clear(&s->err);
    tn_snap_release(s->snap);
    tn_model_free(s->m);
    free(s);
}

/* Building a snapshot from scratch (query.whatif's, and a line's first). */
typedef struct sb_state {
    tn_model_t *m;
    tn_snap_t *snap;
    tn_error_t err;
} sb_state_t;

static void *sb_setup(void) {
    sb_state_t *s = calloc(1, sizeof *s);
    FZ_CHECK(s != NULL);
    s->m = fz_world_model();
    s->err = (tn_error_t) TN_ERROR_INIT;
    return s;
}

static tn_code_t sb_run(void *arg) {
    sb_state_t *s = arg;
    s->snap = tn_snap_new(s->m);
    if (s->snap == NULL)
        return TN_ERR_INTERNAL;
    return tn_snap_build(s->snap, &s->err);
}

static void sb_check(void *arg, tn_code_t rc, long n, int injected) {
    sb_state_t *s = arg;
    (void) injected;
    if (rc == TN_OK) {
        EXPECT(s->snap->built && s->snap->nnodes == tn_model_node_count(s->m)
               && tn_snap_find(s->snap, "PE-cusco") >= 0, "snapshot N=%ld: incomplete after a failure", n);
    } else if (s->snap != NULL) {
        /* A failed build may be retried: it is idempotent. */
        tn_error_t err = TN_ERROR_INIT;
        EXPECT(tn_snap_build(s->snap, &err) == TN_OK, "snapshot N=%ld: cannot build after a failure", n);
        EXPECT(tn_snap_find(s->snap, "PE-cusco") >= 0, "snapshot N=%ld: wrong after a retried build", n);
        tn_error_clear(&err);
    }
}

static void sb_teardown(void *arg) {
    sb_state_t *s = arg;
    if (s->snap)
        tn_snap_release(s->snap);
    tn_error_clear(&s->err);
    tn_model_free(s->m);
    free(s);
}

/* Publishing through a line (what the writer does after every commit):
 * the snapshot after a change is derived from the last one. A failure
 * returns NULL and leaves the line able to publish (it rebuilds); either
 * way the snapshot equals a full build of the model. */
typedef struct sp_state {
    tn_model_t *m;
    tn_snap_line_t *line;
    tn_snap_t *snap;
    tn_error_t err;
} sp_state_t;

static void *sp_setup(void) {
    sp_state_t *s = calloc(1, sizeof *s);
    FZ_CHECK(s != NULL);
    s->m = fz_world_model();
    s->line = tn_snap_line_new(s->m);
    FZ_CHECK(s->line != NULL);
    s->err = (tn_error_t) TN_ERROR_INIT;
    tn_snap_t *first = tn_snap_line_publish(s->line, &s->err);
    FZ_CHECK(first != NULL);
    tn_snap_release(first);
    /* One node and one pair change, and a pair removed. */
    tn_val_t batch = fz_json(chg_cases[0].opts), res = TN_VAL_NIL;
    FZ_CHECK(tn_model_apply(s->m, TN_CHANGE_BATCH, &batch, &res, &s->err) == TN_OK);
    tn_val_free(&batch);
    tn_val_free(&res);
    tn_pair_t *const *pairs;
    size_t np;
    pairs = tn_model_pairs(s->m, &np);
    FZ_CHECK(np > 0);
    char del[256];
    snprintf(del, sizeof del, "{\"a\":\"%s\",\"b\":\"%s\"}", pairs[0]->a, pairs[0]->b);
    tn_val_t d = fz_json(del);
    FZ_CHECK(tn_model_apply(s->m, TN_CHANGE_PAIR_DELETE, &d, &res, &s->err) == TN_OK);
    tn_val_free(&d);
    tn_val_free(&res);
    return s;
}

static tn_code_t sp_run(void *arg) {
    sp_state_t *s = arg;
    s->snap = tn_snap_line_publish(s->line, &s->err);
    return s->snap != NULL ? TN_OK : s->err.code;
}

/* The published snapshot against a full build of the model. */
static int sp_same(const tn_snap_t *p, const tn_model_t *m) {
    tn_error_t err = TN_ERROR_INIT;
    tn_snap_t *f = tn_snap_new(m);
    int same = f != NULL && tn_snap_build(f, &err) == TN_OK && p->built
               && p->nnodes == f->nnodes && p->npairs == f->npairs && p->home_idx == f->home_idx;
    for (size_t v = 0; same && v < p->nnodes; v++)
        same = p->nodes[v] == f->nodes[v] && p->is_unit[v] == f->is_unit[v]
               && p->country_of[v] == f->country_of[v];
    for (size_t i = 0; same && i < p->npairs; i++)
        same = p->pairs[i] == f->pairs[i] && p->pa[i] == f->pa[i] && p->pb[i] == f->pb[i];
    for (size_t k = 0; same && k < 2 * p->npairs; k++)
        same = p->adj_pair[k] == f->adj_pair[k];
    tn_snap_release(f);
    tn_error_clear(&err);
    return same;
}

static void sp_check(void *arg, tn_code_t rc, long n, int injected) {
    sp_state_t *s = arg;
    (void) injected;
    if (rc == TN_OK) {
        EXPECT(sp_same(s->snap, s->m), "publish N=%ld: not the model's snapshot", n);
    } else {
        EXPECT(s->snap == NULL, "publish N=%ld: a snapshot and an error", n);
        tn_error_t err = TN_ERROR_INIT;
        s->snap = tn_snap_line_publish(s->line, &err);
        EXPECT(s->snap != NULL, "publish N=%ld: cannot publish after a failure", n);
        if (s->snap != NULL)
            EXPECT(sp_same(s->snap, s->m), "publish N=%ld: wrong after a failure", n);
        tn_error_clear(&err);
    }
}

static void sp_teardown(void *arg) {
    sp_state_t *s = arg;
    tn_snap_release(s->snap);
    tn_error_clear(&s->err);
    tn_model_free(s->m);
    tn_snap_line_free(s->line);
    free(s);
}

/* ---- path 4: tn_store_append, and recovery ---- */

static char store_dir[256];
static tn_store_t *store;
static tn_model_t *store_model;
static uint64_t appended;        /* records appended successfully */

static void rm_store_dir(void) {
    DIR *d = opendir(store_dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", store_dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(store_dir);
}

static off_t journal_size(void) {
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/journal.tnj", store_dir);
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

typedef struct ap_state {
    tn_val_t params, audit;
    off_t before;
    tn_error_t err;
} ap_state_t;

static void *ap_setup(void) {
    ap_state_t *s = calloc(1, sizeof *s);
    FZ_CHECK(s != NULL);
    s->params = fz_json(fz_world_json);
    s->audit = fz_json("{\"peer\":\"127.0.0.1:40000\",\"token\":\"ops\",\"role\":\"write\"}");
    s->before = journal_size();
    s->err = (tn_error_t) TN_ERROR_INIT;
    return s;
}

static tn_code_t ap_run(void *arg) {
    ap_state_t *s = arg;
    return tn_store_append(store, appended + 1, "import.batch", &s->params, &s->audit, &s->err);
}

static void ap_check(void *arg, tn_code_t rc, long n, int injected) {
    ap_state_t *s = arg;
    (void) injected;
    off_t now = journal_size();
    if (rc == TN_OK) {
        appended++;
        EXPECT(now > s->before && (uint64_t) now == tn_store_journal_bytes(store),
               "append N=%ld: journal %lld -> %lld bytes", n, (long long) s->before, (long long) now);
    } else {
        EXPECT(now == s->before, "append N=%ld: a failed append changed the journal (%lld -> %lld)", n,
               (long long) s->before, (long long) now);
    }
}

static void ap_teardown(void *arg) {
    ap_state_t *s = arg;
    tn_val_free(&s->params);
    tn_val_free(&s->audit);
    tn_error_clear(&s->err);
    free(s);
}

/* Recovery of what was appended: tn_store_open under failures. */
typedef struct op_state {
    tn_store_t *st;
    tn_model_t *m;
    tn_error_t err;
} op_state_t;

static void *op_setup(void) {
    op_state_t *s = calloc(1, sizeof *s);
    FZ_CHECK(s != NULL);
    s->err = (tn_error_t) TN_ERROR_INIT;
    return s;
}

static tn_code_t op_run(void *arg) {
    op_state_t *s = arg;
    tn_store_opts_t opts = { TN_FSYNC_NO, 0, 0, tn_registry_change_kind, 0 };
    tn_code_t rc = tn_store_open(store_dir, &opts, NULL, &s->st, &s->m, &s->err);
    /* The directory is valid and readable, so any failure here is the
     * injected one (oom_code). */
    rc = oom_code(rc, &s->err, "tn_store_open");
    return rc;
}

static off_t journal_at_open;

static void op_check(void *arg, tn_code_t rc, long n, int injected) {
    op_state_t *s = arg;
    (void) injected;
    if (rc == TN_OK) {
        EXPECT(tn_model_epoch(s->m) == appended, "open N=%ld: epoch %llu, %llu records appended", n,
               (unsigned long long) tn_model_epoch(s->m), (unsigned long long) appended);
        EXPECT(tn_model_node_count(s->m) == (appended ? 14u : 0u), "open N=%ld: %zu nodes", n,
               tn_model_node_count(s->m));
    } else {
        EXPECT(s->st == NULL && s->m == NULL, "open N=%ld: outputs set on failure", n);
        if (rc != TN_ERR_INTERNAL)
            fprintf(stderr, "open N=%ld: %s\n", n, s->err.message);
    }
    EXPECT(journal_size() == journal_at_open, "open N=%ld: the journal changed on a failed load", n);
}

static void op_teardown(void *arg) {
    op_state_t *s = arg;
    tn_store_close(s->st);
    tn_model_free(s->m);
    tn_error_clear(&s->err);
    free(s);
}

int main(void) {
    tn_log_set_level(TN_LOG_ERROR);             /* the failures are expected */
    static const path_t dec = { "decode+envelope", dec_setup, dec_run, dec_check, dec_teardown };
    static const path_t chg = { "change", chg_setup, chg_run, chg_check, chg_teardown };
    static const path_t q = { "query", q_setup, q_run, q_check, q_teardown };
    static const path_t sb = { "snapshot build", sb_setup, sb_run, sb_check, sb_teardown };
    static const path_t sp = { "snapshot publish (derived)", sp_setup, sp_run, sp_check, sp_teardown };
    static const path_t ap = { "store append", ap_setup, ap_run, ap_check, ap_teardown };
    static const path_t op = { "store open (recovery)", op_setup, op_run, op_check, op_teardown };

    for (int persist = 0; persist < 2; persist++) {
        for (dec_which = 0; dec_which < (int) (sizeof dec_requests / sizeof *dec_requests); dec_which++)
            run_path(&dec, persist);
        for (chg_which = 0; chg_which < (int) (sizeof chg_cases / sizeof *chg_cases); chg_which++) {
            /* The reference: one unarmed run (N beyond any allocation). */
            void *st = chg.setup();
            tn_code_t rc0 = chg.run(st);
            if (rc0 != TN_OK)
                fprintf(stderr, "reference %s: %s %s\n", chg_cases[chg_which].method,
                        ((chg_state_t *) st)->err.message, fz_to_json(&((chg_state_t *) st)->err.data));
            FZ_CHECK(rc0 == TN_OK);
            chg.check(st, TN_OK, 0, 0);
            chg.teardown(st);
            fprintf(stderr, "  %s:\n", chg_cases[chg_which].method);
            run_path(&chg, persist);
            free(chg_want_model);
            free(chg_want_res);
            chg_want_model = chg_want_res = NULL;
        }
        for (q_which = 0; q_which < (int) (sizeof q_cases / sizeof *q_cases); q_which++) {
            void *st = q.setup();
            FZ_CHECK(q.run(st) == TN_OK);
            q.check(st, TN_OK, 0, 0);
            q.teardown(st);
            fprintf(stderr, "  %s %s:\n", q_cases[q_which].name, q_cases[q_which].opts ? q_cases[q_which].opts : "[]");
            run_path(&q, persist);
            free(q_want);
            q_want = NULL;
        }
        run_path(&sb, persist);
        run_path(&sp, persist);
    }

    /* The data directory: appends under failures, then recovery of them. */
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(store_dir, sizeof store_dir, "%s/tn-alloc-fail-%ld", tmp, (long) getpid());
    rm_store_dir();
    tn_store_opts_t opts = { TN_FSYNC_NO, 0, 0, tn_registry_change_kind, 0 };
    tn_error_t err = TN_ERROR_INIT;
    FZ_CHECK(tn_store_open(store_dir, &opts, NULL, &store, &store_model, &err) == TN_OK);
    for (int persist = 0; persist < 2; persist++)
        run_path(&ap, persist);
    tn_store_close(store);
    tn_model_free(store_model);
    EXPECT(appended >= 2, "only %llu appends succeeded", (unsigned long long) appended);
    journal_at_open = journal_size();
    for (int persist = 0; persist < 2; persist++)
        run_path(&op, persist);
    rm_store_dir();

    fprintf(stderr, "%s: %d failed checks; %ld out-of-memory failures reported under another code\n",
            failures ? "FAIL" : "ok", failures, misreported);
    return failures ? 1 : 0;
}
