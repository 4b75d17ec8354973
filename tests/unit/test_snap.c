/*
 * test_snap.c -- snapshots (order, index, units, adjacency, filters), the
 * option helpers of opts.h, the query table, and the igraph bridge's
 * handling of interruption and errors.
 */
#include <igraph.h>
#include <stdatomic.h>

#include "data/small_world.h"
#include "igraph_bridge.h"
#include "opts.h"
#include "test.h"

static void test_build_orders_and_indexes(void) {
    tn_snap_t *s = sw_snap();
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_EQ_INT(s->nnodes, 20);
    CHECK_EQ_INT(s->npairs, 8);
    for (size_t v = 1; v < s->nnodes; v++)
        CHECK(strcmp(s->nodes[v - 1]->id, s->nodes[v]->id) < 0);
    for (size_t p = 1; p < s->npairs; p++)
        CHECK(strcmp(s->pairs[p - 1]->key, s->pairs[p]->key) < 0);
    for (size_t v = 0; v < s->nnodes; v++)
        CHECK_EQ_INT(tn_snap_find(s, s->nodes[v]->id), v);
    CHECK_EQ_INT(tn_snap_find(s, "XX-nowhere"), -1);
    CHECK_EQ_INT(tn_snap_find(s, ""), -1);
    CHECK_EQ_STR(s->nodes[s->home_idx]->id, "CN-430000");

    /* Units: Hunan and its four cities; Guangzhou is not one. */
    int units = 0;
    for (size_t v = 0; v < s->nnodes; v++)
        units += s->is_unit[v];
    CHECK_EQ_INT(units, 5);
    CHECK(s->is_unit[tn_snap_find(s, "CN-430600")]);
    CHECK(!s->is_unit[tn_snap_find(s, "CN-440100")]);
    CHECK(!s->is_unit[tn_snap_find(s, "CN")]);

    /* country_of: a country maps to itself, a city to its country node. */
    int64_t jp = tn_snap_find(s, "JP");
    CHECK_EQ_INT(s->country_of[jp], jp);
    CHECK_EQ_INT(s->country_of[tn_snap_find(s, "JP-otsu")], jp);

    /* Adjacency: Changsha has P2, P7, P8; each list is in pair-key order. */
    int64_t cs = tn_snap_find(s, "CN-430100");
    CHECK_EQ_INT(s->adj_off[cs + 1] - s->adj_off[cs], 3);
    for (size_t i = s->adj_off[cs] + 1; i < s->adj_off[cs + 1]; i++)
        CHECK(s->adj_pair[i - 1] < s->adj_pair[i]);
    size_t total = 0;
    for (size_t v = 0; v < s->nnodes; v++)
        total += s->adj_off[v + 1] - s->adj_off[v];
    CHECK_EQ_INT(total, 2 * s->npairs);

    /* Build is idempotent; retain/release balance. */
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(tn_snap_build(s, &err), TN_OK);
    CHECK(tn_snap_retain(s) == s);
    tn_snap_release(s);
    tn_snap_release(s);
}

static void test_empty_and_homeless(void) {
    tn_snap_t *s = sw_snap_from("{}", NULL, NULL);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ_INT(s->nnodes, 0);
        CHECK_EQ_INT(s->home_idx, -1);
        CHECK_EQ_INT(tn_snap_find(s, "CN"), -1);
        tn_snap_release(s);
    }
    /* A home that names no node: no units, nothing breaks. */
    s = sw_snap_from(small_world_json, "CN-999999", NULL);
    CHECK(s != NULL);
    if (s) {
        int units = 0;
        for (size_t v = 0; v < s->nnodes; v++)
            units += s->is_unit[v];
        CHECK_EQ_INT(units, 0);
        CHECK_EQ_INT(s->home_idx, -1);
        tn_snap_release(s);
    }
}

static void test_filter_keep(void) {
    tn_snap_t *s = sw_snap();
    if (s == NULL)
        return;
    tn_filter_t f = TN_FILTER_ALL;
    int kept = 0;
    for (size_t p = 0; p < s->npairs; p++)
        kept += tn_filter_keep(&f, s->pairs[p]);
    CHECK_EQ_INT(kept, 8);
    f.as_of = 1990;                 /* P1, P2, P4 (undated), P5 */
    kept = 0;
    for (size_t p = 0; p < s->npairs; p++)
        kept += tn_filter_keep(&f, s->pairs[p]);
    CHECK_EQ_INT(kept, 4);
    f = TN_FILTER_ALL;
    f.min_conf = TN_CONF_HIGH;      /* drops P3 (medium) and P4 (low) */
    kept = 0;
    for (size_t p = 0; p < s->npairs; p++)
        kept += tn_filter_keep(&f, s->pairs[p]);
    CHECK_EQ_INT(kept, 6);
    f = TN_FILTER_ALL;
    f.kinds = 1 << TN_PAIR_FRIENDLY;
    kept = 0;
    for (size_t p = 0; p < s->npairs; p++)
        kept += tn_filter_keep(&f, s->pairs[p]);
    CHECK_EQ_INT(kept, 2);
    tn_snap_release(s);
}

static void test_opts(void) {
    static const char *const allowed[] = { "a", "n", "b", "e", NULL };
    static const char *const names[] = { "x", "y", NULL };
    tn_val_t o = sw_json("{\"a\":\"s\",\"n\":3.0,\"b\":true,\"e\":\"y\"}");
    tn_val_t bad = sw_json("{\"a\":1,\"zz\":1}");
    tn_val_t nil = sw_json("{\"a\":null}");
    tn_val_t arr = sw_json("[1]");
    tn_error_t err = TN_ERROR_INIT;
    const char *str = NULL;
    int64_t i = -1;
    double d = -1;
    int b = -1, e = -1;

    CHECK_EQ_INT(tn_opts_check(&o, allowed, &err), TN_OK);
    CHECK_EQ_INT(tn_opts_check(NULL, allowed, &err), TN_OK);
    CHECK_EQ_INT(tn_opts_check(&bad, allowed, &err), TN_ERR_INVALID_PARAMS);
    CHECK(strstr(err.message, "zz") != NULL);
    tn_error_clear(&err);
    CHECK_EQ_INT(tn_opts_check(&arr, allowed, &err), TN_ERR_INVALID_PARAMS);
    tn_error_clear(&err);

    CHECK_EQ_INT(tn_opt_str(&o, "a", 1, &str, &err), TN_OK);
    CHECK_EQ_STR(str, "s");
    CHECK_EQ_INT(tn_opt_int(&o, "n", 1, 0, 10, &i, &err), TN_OK);
    CHECK_EQ_INT(i, 3);
    CHECK_EQ_INT(tn_opt_int(&o, "n", 1, 4, 10, &i, &err), TN_ERR_INVALID_PARAMS);
    tn_error_clear(&err);
    CHECK_EQ_INT(tn_opt_num(&o, "n", 1, 0, 10, &d, &err), TN_OK);
    CHECK_NEAR(d, 3.0, 0);
    CHECK_EQ_INT(tn_opt_bool(&o, "b", 1, &b, &err), TN_OK);
    CHECK_EQ_INT(b, 1);
    CHECK_EQ_INT(tn_opt_bool(&o, "n", 1, &b, &err), TN_ERR_INVALID_PARAMS);
    tn_error_clear(&err);
    CHECK_EQ_INT(tn_opt_enum(&o, "e", 1, names, &e, &err), TN_OK);
    CHECK_EQ_INT(e, 1);
    CHECK_EQ_INT(tn_opt_enum(&o, "a", 1, names, &e, &err), TN_ERR_INVALID_PARAMS);
    tn_error_clear(&err);
    CHECK_EQ_INT(tn_opt_str(&bad, "a", 1, &str, &err), TN_ERR_INVALID_PARAMS);
    tn_error_clear(&err);
    /* Missing: untouched unless required. */
    i = 42;
    CHECK_EQ_INT(tn_opt_int(&o, "missing", 0, 0, 1, &i, &err), TN_OK);
    CHECK_EQ_INT(i, 42);
    CHECK_EQ_INT(tn_opt_int(&o, "missing", 1, 0, 1, &i, &err), TN_ERR_INVALID_PARAMS);
    tn_error_clear(&err);
    /* nil counts as absent. */
    str = "keep";
    CHECK_EQ_INT(tn_opt_str(&nil, "a", 0, &str, &err), TN_OK);
    CHECK_EQ_STR(str, "keep");

    tn_filter_t f;
    tn_val_t fo = sw_json("{\"as_of\":2000,\"min_confidence\":\"medium\",\"kind\":\"friendly\"}");
    CHECK_EQ_INT(tn_opt_filter(&fo, 1, &f, &err), TN_OK);
    CHECK_EQ_INT(f.as_of, 2000);
    CHECK_EQ_INT(f.min_conf, TN_CONF_MEDIUM);
    CHECK_EQ_INT(f.kinds, 1 << TN_PAIR_FRIENDLY);
    tn_val_t fb = sw_json("{\"as_of\":\"2000\"}");
    CHECK_EQ_INT(tn_opt_filter(&fb, 1, &f, &err), TN_ERR_INVALID_PARAMS);
    tn_error_clear(&err);
    tn_val_free(&fb);
    fb = sw_json("{\"min_confidence\":\"certain\"}");
    CHECK_EQ_INT(tn_opt_filter(&fb, 1, &f, &err), TN_ERR_INVALID_PARAMS);
    tn_error_clear(&err);
    tn_val_free(&fb);

    tn_val_free(&o);
    tn_val_free(&bad);
    tn_val_free(&nil);
    tn_val_free(&arr);
    tn_val_free(&fo);
}

static void test_query_table(void) {
    size_t n = 0;
    const tn_query_def_t *all = tn_query_all(&n);
    CHECK_EQ_INT(n, 16);                  /* eleven read methods, four planning queries and query.plan */
    for (size_t i = 0; i < n; i++) {
        CHECK(tn_query_find(all[i].name) == &all[i]);
        int has_deadline = tn_opt_spec_find(all[i].opts, "deadline_ms") != NULL;
        CHECK_EQ_INT(has_deadline, (all[i].flags & TN_QF_SLOW) != 0);  /* slow <=> deadline_ms */
        CHECK(all[i].description != NULL && all[i].description[0] != '\0');
    }
    CHECK(tn_query_find("query.centrality")->flags & TN_QF_IGRAPH);
    CHECK(!(tn_query_find("query.recommend")->flags & TN_QF_IGRAPH));
    /* Degree is answered without igraph; other metrics need it. */
    tn_val_t deg = TN_VAL_NIL, btw = TN_VAL_NIL;
    tn_val_set_map(&deg, 1);
    tn_map_add_str(&deg, "metric", "degree");
    tn_val_set_map(&btw, 1);
    tn_map_add_str(&btw, "metric", "betweenness");
    CHECK(!tn_query_needs_igraph(tn_query_find("query.centrality"), &deg));
    CHECK(tn_query_needs_igraph(tn_query_find("query.centrality"), &btw));
    tn_val_free(&deg);
    tn_val_free(&btw);
    CHECK(tn_query_find("nope") == NULL);
    CHECK(tn_query_find(NULL) == NULL);

    atomic_int flag = TN_RUN;
    tn_qctx_t ctx = { &flag, NULL, NULL };
    tn_error_t err = TN_ERROR_INIT;
    CHECK(!tn_query_should_stop(&ctx));
    CHECK(!tn_query_should_stop(NULL));
    atomic_store(&flag, TN_STOP_CANCEL);
    CHECK(tn_query_should_stop(&ctx));
    CHECK_EQ_INT(tn_query_stopped(&ctx, &err), TN_ERR_CANCELLED);
    tn_error_clear(&err);
    atomic_store(&flag, TN_STOP_DEADLINE);
    CHECK_EQ_INT(tn_query_stopped(&ctx, &err), TN_ERR_TIMEOUT);
    tn_error_clear(&err);
}

/* igraph style: the caller of a failing igraph call returns at once. */
static igraph_error_t ring_betweenness(igraph_integer_t n, igraph_vector_t *res) {
    igraph_t g;
    IGRAPH_CHECK(igraph_ring(&g, n, IGRAPH_UNDIRECTED, false, true));
    IGRAPH_FINALLY(igraph_destroy, &g);
    IGRAPH_CHECK(igraph_betweenness(&g, res, igraph_vss_all(), false, NULL));
    igraph_destroy(&g);
    IGRAPH_FINALLY_CLEAN(1);
    return IGRAPH_SUCCESS;
}

/* A stopped igraph call unwinds cleanly (igraph leaves the interrupted
 * function's locals on its finally stack; the bridge must free them). */
static void test_bridge_interrupt(void) {
    atomic_int flag = TN_STOP_DEADLINE;
    tn_qctx_t ctx = { &flag, NULL, NULL };
    tn_error_t err = TN_ERROR_INIT;
    igraph_vector_t res;

    CHECK(igraph_vector_init(&res, 0) == IGRAPH_SUCCESS);
    tn_igraph_begin(&ctx);
    igraph_error_t rc = ring_betweenness(3000, &res);
    CHECK_EQ_INT(rc, IGRAPH_INTERRUPTED);
    CHECK_EQ_INT(tn_igraph_fail(rc, &err), TN_ERR_TIMEOUT);
    CHECK(IGRAPH_FINALLY_STACK_EMPTY);
    tn_igraph_end();
    tn_error_clear(&err);

    atomic_store(&flag, TN_STOP_CANCEL);
    tn_igraph_begin(&ctx);
    rc = ring_betweenness(3000, &res);
    tn_igraph_end();                       /* fail still knows why */
    CHECK_EQ_INT(tn_igraph_fail(rc, &err), TN_ERR_CANCELLED);
    CHECK(IGRAPH_FINALLY_STACK_EMPTY);
    tn_error_clear(&err);

    /* Not stopped: runs to the end (a ring: every vertex alike). */
    atomic_store(&flag, TN_RUN);
    tn_igraph_begin(&ctx);
    rc = ring_betweenness(50, &res);
    tn_igraph_end();
    CHECK_EQ_INT(rc, IGRAPH_SUCCESS);
    CHECK_EQ_INT(igraph_vector_size(&res), 50);
    CHECK(IGRAPH_FINALLY_STACK_EMPTY);
    igraph_vector_destroy(&res);
}

/* An igraph error (not an interruption) becomes internal with a reason and
 * never aborts the process. */
static void test_bridge_error(void) {
    tn_error_t err = TN_ERROR_INIT;
    igraph_t g;
    igraph_vector_int_t edges;
    tn_igraph_begin(NULL);
    CHECK(igraph_vector_int_init(&edges, 2) == IGRAPH_SUCCESS);
    VECTOR(edges)[0] = 0;
    VECTOR(edges)[1] = -5;                 /* invalid vertex id */
    igraph_error_t rc = igraph_create(&g, &edges, 3, IGRAPH_UNDIRECTED);
    CHECK(rc != IGRAPH_SUCCESS);
    CHECK_EQ_INT(tn_igraph_fail(rc, &err), TN_ERR_INTERNAL);
    CHECK(strstr(err.message, "igraph") != NULL);
    CHECK(IGRAPH_FINALLY_STACK_EMPTY);
    tn_igraph_end();
    igraph_vector_int_destroy(&edges);
    tn_error_clear(&err);
}

int main(void) {
    RUN(test_build_orders_and_indexes);
    RUN(test_empty_and_homeless);
    RUN(test_filter_keep);
    RUN(test_opts);
    RUN(test_query_table);
    RUN(test_bridge_interrupt);
    RUN(test_bridge_error);
    return TEST_DONE();
}
