/*
 * test_centrality.c -- query.centrality: hand-checked scores on the small
 * world (both graphs, normalized, cutoff, filters, ties), tiny graphs
 * (n = 0, 1, 2), a stopped betweenness on a 3000-vertex ring (timeout or
 * cancelled, empty finally stack), bad options, and a cross-check of all
 * seven metrics against NetworkX/python-igraph values stored in
 * data/centrality_fixture.txt (gen_centrality_fixture.py).
 */
#include <igraph.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "data/small_world.h"
#include "test.h"

static tn_snap_t *S;

#define G(v, k) tn_map_get(v, k)
#define VSTR(v) tn_val_str(v)

/* Score of 'id' in a centrality result, or NAN when it is not listed. */
static double score_of(const tn_val_t *r, const char *id) {
    const tn_val_t *it = G(r, "items");
    for (size_t i = 0; i < sw_len(it); i++)
        if (strcmp(VSTR(G(sw_at(it, i), "id")), id) == 0)
            return sw_num(G(sw_at(it, i), "score"));
    return NAN;
}

static tn_code_t run(const tn_snap_t *s, const char *opts, tn_val_t *r) {
    tn_error_t err = TN_ERROR_INIT;
    tn_val_free(r);
    tn_code_t rc = sw_query(s, "query.centrality", opts, NULL, r, &err);
    if (rc != TN_OK)
        fprintf(stderr, "  centrality %s: %s\n", opts, err.message);
    tn_error_clear(&err);
    CHECK(IGRAPH_FINALLY_STACK_EMPTY);
    return rc;
}

/* Partnerships graph of the small world: 13 vertices; a tree of 8
 * (Changsha - St Paul, Guangzhou, Otsu; Otsu - Yueyang; Guangzhou - Lyon,
 * Nairobi; Lyon - Zhuzhou), the pair Hunan - Shiga, and three isolated
 * vertices (Xiangtan, Guangdong, Munich). */
static void test_degree_and_ties(void) {
    tn_val_t r = TN_VAL_NIL;
    CHECK_EQ_INT(run(S, "{\"metric\":\"degree\",\"top\":4}", &r), TN_OK);
    CHECK_EQ_STR(VSTR(G(&r, "metric")), "degree");
    CHECK_EQ_STR(VSTR(G(&r, "graph")), "partnerships");
    CHECK_EQ_INT(sw_int(G(&r, "epoch")), S->epoch);
    const tn_val_t *it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 4);
    /* 3, 3, 2, 2: ties by id ascending. */
    CHECK_EQ_STR(VSTR(G(sw_at(it, 0), "id")), "CN-430100");
    CHECK_EQ_STR(VSTR(G(sw_at(it, 0), "name")), "Changsha");
    CHECK_EQ_STR(VSTR(G(sw_at(it, 1), "id")), "CN-440100");
    CHECK_EQ_STR(VSTR(G(sw_at(it, 2), "id")), "FR-lyon");
    CHECK_EQ_STR(VSTR(G(sw_at(it, 3), "id")), "JP-otsu");
    CHECK_NEAR(sw_num(G(sw_at(it, 0), "score")), 3.0, 0);
    CHECK_EQ_INT(run(S, "{\"metric\":\"degree\",\"normalized\":true,\"top\":100}", &r), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 13);               /* no country in this graph */
    CHECK_NEAR(score_of(&r, "CN-430100"), 3.0 / 12.0, 1e-15);
    CHECK_NEAR(score_of(&r, "DE-munich"), 0.0, 0);
    CHECK(isnan(score_of(&r, "CN")));

    /* Filters on the report, not on the graph. */
    CHECK_EQ_INT(run(S, "{\"metric\":\"degree\",\"kind\":\"province\",\"top\":100}", &r), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 3);
    CHECK_EQ_INT(run(S, "{\"metric\":\"degree\",\"country\":\"jp\",\"top\":100}", &r), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 2);
    CHECK_NEAR(score_of(&r, "JP-otsu"), 2.0, 0);
    CHECK_EQ_INT(run(S, "{\"metric\":\"degree\",\"kind\":\"country\"}", &r), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 0);

    /* Pair filters change the graph: as_of 1990 keeps P1 P2 P4 P5. */
    CHECK_EQ_INT(run(S, "{\"metric\":\"degree\",\"as_of\":1990,\"top\":100}", &r), TN_OK);
    CHECK_NEAR(score_of(&r, "CN-430100"), 1.0, 0);
    CHECK_NEAR(score_of(&r, "FR-lyon"), 2.0, 0);
    CHECK_NEAR(score_of(&r, "JP-otsu"), 0.0, 0);
    /* min_confidence high drops P3 and P4. */
    CHECK_EQ_INT(run(S, "{\"metric\":\"degree\",\"min_confidence\":\"high\",\"top\":100}", &r),
                 TN_OK);
    CHECK_NEAR(score_of(&r, "FR-lyon"), 1.0, 0);
    CHECK_NEAR(score_of(&r, "JP-otsu"), 1.0, 0);
    CHECK_NEAR(score_of(&r, "CN-430600"), 0.0, 0);

    /* Full graph: 20 vertices, 21 edges; Hunan has Shiga, 4 cities and CN. */
    CHECK_EQ_INT(run(S, "{\"metric\":\"degree\",\"graph\":\"full\",\"top\":100}", &r), TN_OK);
    CHECK_EQ_STR(VSTR(G(&r, "graph")), "full");
    CHECK_EQ_INT(sw_len(G(&r, "items")), 20);
    CHECK_EQ_STR(VSTR(G(sw_at(G(&r, "items"), 0), "id")), "CN-430000");
    CHECK_NEAR(score_of(&r, "CN-430000"), 6.0, 0);
    CHECK_NEAR(score_of(&r, "CN-430100"), 4.0, 0);
    CHECK_NEAR(score_of(&r, "JP-shiga"), 3.0, 0);          /* Hunan, Otsu, JP */
    CHECK_NEAR(score_of(&r, "US-stpaul"), 2.0, 0);         /* Changsha, US (no parent) */
    CHECK_NEAR(score_of(&r, "CN"), 2.0, 0);
    CHECK_NEAR(score_of(&r, "BR"), 0.0, 0);                /* isolated vertices count */
    CHECK_EQ_INT(run(S, "{\"metric\":\"degree\",\"graph\":\"full\",\"kind\":\"country\",\"top\":100}",
                     &r), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 7);
    tn_val_free(&r);
}

static void test_paths(void) {
    tn_val_t r = TN_VAL_NIL;
    /* Betweenness in the tree: Changsha splits it 1/2/4 -> 2+4+8 = 14. */
    CHECK_EQ_INT(run(S, "{\"metric\":\"betweenness\",\"top\":100}", &r), TN_OK);
    CHECK_NEAR(score_of(&r, "CN-430100"), 14.0, 1e-12);
    CHECK_NEAR(score_of(&r, "CN-440100"), 14.0, 1e-12);
    CHECK_NEAR(score_of(&r, "JP-otsu"), 6.0, 1e-12);
    CHECK_NEAR(score_of(&r, "FR-lyon"), 6.0, 1e-12);
    CHECK_NEAR(score_of(&r, "US-stpaul"), 0.0, 0);
    CHECK_EQ_INT(run(S, "{\"metric\":\"betweenness\",\"normalized\":true,\"top\":100}", &r), TN_OK);
    CHECK_NEAR(score_of(&r, "CN-430100"), 14.0 / 66.0, 1e-12);
    /* Cutoff 2: only the length-2 paths through the centre count. */
    CHECK_EQ_INT(run(S, "{\"metric\":\"betweenness\",\"cutoff\":2,\"top\":100}", &r), TN_OK);
    CHECK_NEAR(score_of(&r, "CN-430100"), 3.0, 1e-12);
    CHECK_NEAR(score_of(&r, "JP-otsu"), 1.0, 1e-12);

    /* Closeness: (r-1)/sum over the reachable part; 0 when isolated. */
    CHECK_EQ_INT(run(S, "{\"metric\":\"closeness\",\"top\":100}", &r), TN_OK);
    CHECK_NEAR(score_of(&r, "CN-430100"), 7.0 / 12.0, 1e-12);
    CHECK_NEAR(score_of(&r, "CN-430200"), 7.0 / 22.0, 1e-12);
    CHECK_NEAR(score_of(&r, "CN-430000"), 1.0, 1e-12);
    CHECK_NEAR(score_of(&r, "DE-munich"), 0.0, 0);
    CHECK_EQ_STR(VSTR(G(sw_at(G(&r, "items"), 0), "id")), "CN-430000");   /* 1.0, by id */
    CHECK_EQ_STR(VSTR(G(sw_at(G(&r, "items"), 1), "id")), "JP-shiga");
    CHECK_EQ_INT(run(S, "{\"metric\":\"closeness\",\"normalized\":true,\"top\":100}", &r), TN_OK);
    CHECK_NEAR(score_of(&r, "CN-430100"), 7.0 / 12.0, 1e-12);   /* unchanged */
    CHECK_EQ_INT(run(S, "{\"metric\":\"closeness\",\"cutoff\":1,\"top\":100}", &r), TN_OK);
    CHECK_NEAR(score_of(&r, "CN-430100"), 1.0, 1e-12);
    CHECK_NEAR(score_of(&r, "CN-430200"), 1.0, 1e-12);

    /* Harmonic: Changsha 1+1+1 + 3/2 + 1/3. */
    CHECK_EQ_INT(run(S, "{\"metric\":\"harmonic\",\"top\":100}", &r), TN_OK);
    CHECK_NEAR(score_of(&r, "CN-430100"), 3.0 + 1.5 + 1.0 / 3.0, 1e-12);
    CHECK_NEAR(score_of(&r, "CN-430000"), 1.0, 1e-12);
    CHECK_NEAR(score_of(&r, "CN-430300"), 0.0, 0);
    CHECK_EQ_INT(run(S, "{\"metric\":\"harmonic\",\"normalized\":true,\"top\":100}", &r), TN_OK);
    CHECK_NEAR(score_of(&r, "CN-430100"), (3.0 + 1.5 + 1.0 / 3.0) / 12.0, 1e-12);
    CHECK_EQ_INT(run(S, "{\"metric\":\"harmonic\",\"cutoff\":1,\"top\":100}", &r), TN_OK);
    CHECK_NEAR(score_of(&r, "CN-430100"), 3.0, 1e-12);
    tn_val_free(&r);
}

static void test_spectral_and_constraint(void) {
    tn_val_t r = TN_VAL_NIL;
    CHECK_EQ_INT(run(S, "{\"metric\":\"eigenvector\",\"top\":100}", &r), TN_OK);
    CHECK_NEAR(sw_num(G(sw_at(G(&r, "items"), 0), "score")), 1.0, 1e-9);
    /* Changsha and Guangzhou are symmetric in the tree. */
    CHECK_NEAR(score_of(&r, "CN-430100"), score_of(&r, "CN-440100"), 1e-6);
    CHECK_NEAR(score_of(&r, "CN-430000"), 0.0, 0);       /* outside the dominant part */
    CHECK_NEAR(score_of(&r, "DE-munich"), 0.0, 0);

    CHECK_EQ_INT(run(S, "{\"metric\":\"pagerank\",\"top\":100}", &r), TN_OK);
    double sum = 0;
    for (size_t i = 0; i < sw_len(G(&r, "items")); i++)
        sum += sw_num(G(sw_at(G(&r, "items"), i), "score"));
    CHECK_NEAR(sum, 1.0, 1e-9);
    CHECK_NEAR(score_of(&r, "CN-430000"), score_of(&r, "JP-shiga"), 1e-12);
    /* An isolated vertex gets only the teleport and the dangling share. */
    CHECK(score_of(&r, "DE-munich") < score_of(&r, "CN-430000"));
    CHECK_EQ_INT(run(S, "{\"metric\":\"pagerank\",\"damping\":0.5,\"top\":100}", &r), TN_OK);
    CHECK(score_of(&r, "DE-munich") > 0);

    /* Constraint: one neighbour -> 1; three unconnected ones -> 3 (1/3)^2. */
    CHECK_EQ_INT(run(S, "{\"metric\":\"constraint\",\"top\":100}", &r), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 10);            /* 3 isolated left out */
    CHECK_NEAR(score_of(&r, "CN-430000"), 1.0, 1e-12);
    CHECK_NEAR(score_of(&r, "CN-430100"), 1.0 / 3.0, 1e-12);
    CHECK(isnan(score_of(&r, "DE-munich")));
    tn_val_free(&r);
}

/* n = 0, 1, 2 on both graphs: finite output, no division by zero. */
static void test_tiny(void) {
    static const char *const metrics[] = {
        "degree", "betweenness", "closeness", "harmonic", "eigenvector", "pagerank", "constraint"
    };
    static const char *const worlds[] = {
        "{}",
        "{\"nodes\":[{\"id\":\"ZZ\",\"kind\":\"country\",\"name\":\"Z\"},"
        "{\"id\":\"ZZ-a\",\"kind\":\"city\",\"name\":\"A\",\"country\":\"ZZ\"}]}",
        "{\"nodes\":[{\"id\":\"ZZ\",\"kind\":\"country\",\"name\":\"Z\"},"
        "{\"id\":\"ZZ-a\",\"kind\":\"city\",\"name\":\"A\",\"country\":\"ZZ\"},"
        "{\"id\":\"ZZ-b\",\"kind\":\"city\",\"name\":\"B\",\"country\":\"ZZ\"}],"
        "\"pairs\":[{\"a\":\"ZZ-a\",\"b\":\"ZZ-b\"}]}",
    };
    tn_val_t r = TN_VAL_NIL;
    char opts[160];
    for (size_t w = 0; w < 3; w++) {
        tn_snap_t *s = sw_snap_from(worlds[w], "ZZ-a", NULL);
        CHECK(s != NULL);
        for (size_t m = 0; s && m < 7; m++) {
            for (int g = 0; g < 2; g++) {
                for (int norm = 0; norm < 2; norm++) {
                    snprintf(opts, sizeof opts, "{\"metric\":\"%s\",\"graph\":\"%s\",\"normalized\":%s}",
                             metrics[m], g ? "full" : "partnerships", norm ? "true" : "false");
                    CHECK_EQ_INT(run(s, opts, &r), TN_OK);
                    const tn_val_t *it = G(&r, "items");
                    for (size_t i = 0; i < sw_len(it); i++)
                        CHECK(isfinite(sw_num(G(sw_at(it, i), "score"))));
                    if (w == 0)
                        CHECK_EQ_INT(sw_len(it), 0);
                }
            }
        }
        if (s && w == 1) {          /* a lone city */
            CHECK_EQ_INT(run(s, "{\"metric\":\"pagerank\"}", &r), TN_OK);
            CHECK_NEAR(score_of(&r, "ZZ-a"), 1.0, 1e-12);
            CHECK_EQ_INT(run(s, "{\"metric\":\"closeness\"}", &r), TN_OK);
            CHECK_NEAR(score_of(&r, "ZZ-a"), 0.0, 0);
            CHECK_EQ_INT(run(s, "{\"metric\":\"constraint\"}", &r), TN_OK);
            CHECK_EQ_INT(sw_len(G(&r, "items")), 0);
            CHECK_EQ_INT(run(s, "{\"metric\":\"degree\",\"graph\":\"full\"}", &r), TN_OK);
            CHECK_NEAR(score_of(&r, "ZZ"), 1.0, 0);            /* city -> its country */
        }
        if (s && w == 2) {          /* one pair */
            CHECK_EQ_INT(run(s, "{\"metric\":\"degree\",\"normalized\":true}", &r), TN_OK);
            CHECK_NEAR(score_of(&r, "ZZ-a"), 1.0, 0);
            CHECK_EQ_INT(run(s, "{\"metric\":\"betweenness\",\"normalized\":true}", &r), TN_OK);
            CHECK_NEAR(score_of(&r, "ZZ-a"), 0.0, 0);
            CHECK_EQ_INT(run(s, "{\"metric\":\"closeness\"}", &r), TN_OK);
            CHECK_NEAR(score_of(&r, "ZZ-b"), 1.0, 1e-12);
            CHECK_EQ_INT(run(s, "{\"metric\":\"eigenvector\"}", &r), TN_OK);
            CHECK_NEAR(score_of(&r, "ZZ-a"), 1.0, 1e-9);
            CHECK_NEAR(score_of(&r, "ZZ-b"), 1.0, 1e-9);
            CHECK_EQ_INT(run(s, "{\"metric\":\"pagerank\"}", &r), TN_OK);
            CHECK_NEAR(score_of(&r, "ZZ-a"), 0.5, 1e-12);
            CHECK_EQ_INT(run(s, "{\"metric\":\"harmonic\",\"graph\":\"full\",\"normalized\":true}",
                             &r), TN_OK);
            CHECK_NEAR(score_of(&r, "ZZ"), 1.0, 1e-12);        /* both cities at distance 1 */
        }
        tn_snap_release(s);
    }
    tn_val_free(&r);
}

/* Section 4: the graphs are simple. A city paired with its own parent
 * gives one edge in "full", not two. */
static void test_full_is_simple(void) {
    tn_snap_t *s = sw_snap_from(
        "{\"nodes\":[{\"id\":\"ZZ\",\"kind\":\"country\",\"name\":\"Z\"},"
        "{\"id\":\"ZZ-p\",\"kind\":\"province\",\"name\":\"P\",\"country\":\"ZZ\"},"
        "{\"id\":\"ZZ-c\",\"kind\":\"city\",\"name\":\"C\",\"country\":\"ZZ\",\"parent\":\"ZZ-p\"}],"
        "\"pairs\":[{\"a\":\"ZZ-c\",\"b\":\"ZZ-p\"}]}", NULL, NULL);
    tn_val_t r = TN_VAL_NIL;
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_EQ_INT(run(s, "{\"metric\":\"degree\",\"graph\":\"full\"}", &r), TN_OK);
    CHECK_NEAR(score_of(&r, "ZZ-c"), 1.0, 0);
    CHECK_NEAR(score_of(&r, "ZZ-p"), 2.0, 0);
    tn_val_free(&r);
    tn_snap_release(s);
}

/* A growing text buffer for generated datasets. */
typedef struct buf {
    char *p;
    size_t n, cap;
} buf_t;

static void put(buf_t *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (b->p && (size_t) k < b->cap - b->n) {
            b->n += (size_t) k;
            return;
        }
        b->cap = b->cap * 2 + (size_t) k + 64;
        b->p = realloc(b->p, b->cap);
    }
}

/* Cities v0000.. of country ZZ with the given edges. */
static tn_snap_t *graph_snap(int n, const int *eu, const int *ev, int m) {
    buf_t b = { NULL, 0, 0 };
    put(&b, "{\"nodes\":[{\"id\":\"ZZ\",\"kind\":\"country\",\"name\":\"Z\"}");
    for (int i = 0; i < n; i++)
        put(&b, ",{\"id\":\"v%04d\",\"kind\":\"city\",\"name\":\"v%04d\",\"country\":\"ZZ\"}", i, i);
    put(&b, "],\"pairs\":[");
    for (int i = 0; i < m; i++)
        put(&b, "%s{\"a\":\"v%04d\",\"b\":\"v%04d\"}", i ? "," : "", eu[i], ev[i]);
    put(&b, "]}");
    tn_snap_t *s = sw_snap_from(b.p, "ZZ", NULL);
    free(b.p);
    return s;
}

/* The progress callback stops the query once igraph is well under way. */
static void stop_on_progress(void *arg, uint64_t done, uint64_t total) {
    (void) total;
    if (done >= 10)
        atomic_store((atomic_int *) arg, atomic_load((atomic_int *) arg) == TN_RUN
                                         ? TN_STOP_DEADLINE : atomic_load((atomic_int *) arg));
}

static atomic_int cancel_flag;
static void cancel_on_progress(void *arg, uint64_t done, uint64_t total) {
    (void) arg;
    (void) total;
    if (done >= 10)
        atomic_store(&cancel_flag, TN_STOP_CANCEL);
}

static void test_stop(void) {
    enum { N = 3000 };
    static int eu[N], ev[N];
    for (int i = 0; i < N; i++) {
        eu[i] = i;
        ev[i] = (i + 1) % N;
    }
    tn_snap_t *s = graph_snap(N, eu, ev, N);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    atomic_int flag = TN_RUN;
    tn_qctx_t ctx = { &flag, stop_on_progress, &flag };
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;

    /* Stopped while igraph runs: the interruption handler unwinds. */
    CHECK_EQ_INT(sw_query(s, "query.centrality", "{\"metric\":\"betweenness\"}", &ctx, &r, &err),
                 TN_ERR_TIMEOUT);
    CHECK(r.type == TN_V_NIL);
    CHECK(IGRAPH_FINALLY_STACK_EMPTY);
    CHECK_EQ_INT(IGRAPH_FINALLY_STACK_SIZE(), 0);

    atomic_store(&cancel_flag, TN_RUN);
    tn_qctx_t cctx = { &cancel_flag, cancel_on_progress, NULL };
    CHECK_EQ_INT(sw_query(s, "query.centrality", "{\"metric\":\"closeness\",\"cutoff\":50}", &cctx,
                          &r, &err), TN_ERR_CANCELLED);
    CHECK(IGRAPH_FINALLY_STACK_EMPTY);

    /* Stopped before it starts. */
    atomic_store(&flag, TN_STOP_DEADLINE);
    tn_qctx_t plain = { &flag, NULL, NULL };
    CHECK_EQ_INT(sw_query(s, "query.centrality", "{\"metric\":\"harmonic\"}", &plain, &r, &err),
                 TN_ERR_TIMEOUT);
    CHECK(IGRAPH_FINALLY_STACK_EMPTY);

    /* And the next query runs normally: every ring vertex is alike. */
    atomic_store(&flag, TN_RUN);
    CHECK_EQ_INT(sw_query(s, "query.centrality", "{\"metric\":\"betweenness\",\"cutoff\":2,\"top\":3}",
                          &plain, &r, &err), TN_OK);
    CHECK_NEAR(sw_num(G(sw_at(G(&r, "items"), 0), "score")), 1.0, 1e-12);
    CHECK_EQ_STR(VSTR(G(sw_at(G(&r, "items"), 0), "id")), "v0000");
    CHECK(IGRAPH_FINALLY_STACK_EMPTY);
    tn_val_free(&r);
    tn_error_clear(&err);
    tn_snap_release(s);
}

static void test_invalid(void) {
    static const char *const bad[] = {
        NULL,
        "{}",
        "{\"metric\":\"katz\"}",
        "{\"metric\":\"degree\",\"graph\":\"social\"}",
        "{\"metric\":\"degree\",\"top\":0}",
        "{\"metric\":\"degree\",\"top\":100001}",
        "{\"metric\":\"degree\",\"normalized\":1}",
        "{\"metric\":\"degree\",\"kind\":\"town\"}",
        "{\"metric\":\"degree\",\"country\":5}",
        "{\"metric\":\"pagerank\",\"damping\":1}",
        "{\"metric\":\"pagerank\",\"damping\":-0.1}",
        "{\"metric\":\"pagerank\",\"damping\":\"high\"}",
        "{\"metric\":\"degree\",\"damping\":0.5}",
        "{\"metric\":\"betweenness\",\"cutoff\":-1}",
        "{\"metric\":\"eigenvector\",\"cutoff\":2}",
        "{\"metric\":\"degree\",\"as_of\":\"x\"}",
        "{\"metric\":\"degree\",\"min_confidence\":\"sure\"}",
        "{\"metric\":\"degree\",\"deadline_ms\":\"soon\"}",
        "{\"metric\":\"degree\",\"bogus\":1}",
        "[\"degree\"]",
    };
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tn_code_t rc = sw_query(S, "query.centrality", bad[i], NULL, &r, &err);
        if (rc != TN_ERR_INVALID_PARAMS)
            fprintf(stderr, "  %s -> %s\n", bad[i] ? bad[i] : "[]", tn_code_name(rc));
        CHECK_EQ_INT(rc, TN_ERR_INVALID_PARAMS);
        CHECK(r.type == TN_V_NIL);
    }
    CHECK_EQ_INT(sw_query(S, "query.centrality",
                          "{\"metric\":\"degree\",\"deadline_ms\":100,\"progress\":true}", NULL, &r,
                          &err), TN_OK);
    tn_val_free(&r);
    tn_error_clear(&err);
}

/* All seven metrics against NetworkX / python-igraph. */
static void test_fixture(void) {
    FILE *f = fopen("data/centrality_fixture.txt", "r");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    char line[256], name[64], metric[32];
    int n = 0, m = 0, cap = 1024, cases = 0;
    int *eu = malloc(cap * sizeof *eu), *ev = malloc(cap * sizeof *ev);
    tn_snap_t *s = NULL;
    tn_val_t r = TN_VAL_NIL;
    double tol = 1e-9;
    while (fgets(line, sizeof line, f)) {
        int a, b, norm;
        double cutoff, damping;
        char val[64];
        if (sscanf(line, "vertices %d", &a) == 1) {
            n = a;
        } else if (sscanf(line, "edge %d %d", &a, &b) == 2) {
            if (m == cap) {
                cap *= 2;
                eu = realloc(eu, cap * sizeof *eu);
                ev = realloc(ev, cap * sizeof *ev);
            }
            eu[m] = a;
            ev[m] = b;
            m++;
        } else if (sscanf(line, "case %63s %31s %d %lf %lf", name, metric, &norm, &cutoff,
                          &damping) == 5) {
            if (s == NULL)
                s = graph_snap(n, eu, ev, m);
            char opts[256];
            int k = snprintf(opts, sizeof opts, "{\"metric\":\"%s\",\"normalized\":%s,\"top\":100000",
                             metric, norm ? "true" : "false");
            if (cutoff >= 0)
                k += snprintf(opts + k, sizeof opts - (size_t) k, ",\"cutoff\":%g", cutoff);
            if (strcmp(metric, "pagerank") == 0)
                k += snprintf(opts + k, sizeof opts - (size_t) k, ",\"damping\":%.17g", damping);
            snprintf(opts + k, sizeof opts - (size_t) k, "}");
            CHECK_EQ_INT(run(s, opts, &r), TN_OK);
            tol = strcmp(metric, "eigenvector") == 0 || strcmp(metric, "pagerank") == 0 ? 1e-6 : 1e-9;
            cases++;
        } else if (sscanf(line, "score %d %63s", &a, val) == 2) {
            char id[16];
            snprintf(id, sizeof id, "v%04d", a);
            double got = score_of(&r, id);
            if (strcmp(val, "omit") == 0) {
                CHECK(isnan(got));
            } else {
                double want = strtod(val, NULL);
                int before = tn_test_failed;
                CHECK_NEAR(got, want, tol * fmax(1.0, fabs(want)));
                if (tn_test_failed != before)
                    fprintf(stderr, "  case %s vertex %s\n", name, id);
            }
        }
    }
    fclose(f);
    CHECK_EQ_INT(n, 300);
    CHECK_EQ_INT(cases, 15);
    free(eu);
    free(ev);
    tn_val_free(&r);
    tn_snap_release(s);
}

int main(void) {
    S = sw_snap();
    if (S == NULL)
        return 1;
    RUN(test_degree_and_ties);
    RUN(test_paths);
    RUN(test_spectral_and_constraint);
    RUN(test_tiny);
    RUN(test_full_is_simple);
    RUN(test_stop);
    RUN(test_invalid);
    RUN(test_fixture);
    tn_snap_release(S);
    return TEST_DONE();
}
