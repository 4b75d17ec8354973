/*
 * test_planning.c -- query.timeline, query.overlap, query.communities and
 * query.whatif on the hand-checked world of data/small_world.h (answers
 * worked out by hand in the comments), on a two-triangle graph whose
 * modularity is known in closed form, and on the built-in Hunan data.
 */
#include <stdatomic.h>

#include "data/small_world.h"
#include "dataset.h"
#include "planning.h"
#include "test.h"

static tn_snap_t *S;

#define Q(name, opts) (tn_val_free(&r), sw_query(S, name, opts, NULL, &r, &err))
#define G(v, k) tn_map_get(v, k)
#define STR(v) tn_val_str(v)

/* Year entry i of a "years" array: checks year, pairs, cumulative. */
static void check_year(const tn_val_t *years, size_t i, int year, int pairs, int cum) {
    const tn_val_t *y = sw_at(years, i);
    CHECK_EQ_INT(sw_int(G(y, "year")), year);
    CHECK_EQ_INT(sw_int(G(y, "pairs")), pairs);
    CHECK_EQ_INT(sw_int(G(y, "cumulative")), cum);
}

/* Home pairs of Hunan in the small world: 1983 shiga, 1988 stpaul,
 * 1995 otsu (Changsha), 2005 otsu (Yueyang, friendly, medium), undated
 * lyon (Zhuzhou, low). The domestic Changsha-Guangzhou pair is not one. */
static void test_timeline(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(Q("query.timeline", NULL), TN_OK);
    CHECK_EQ_STR(STR(G(&r, "unit")), "CN-430000");
    CHECK_EQ_INT(sw_int(G(&r, "epoch")), S->epoch);
    const tn_val_t *y = G(&r, "years");
    CHECK_EQ_INT(sw_len(y), 2005 - 1983 + 1);       /* every year, gaps as 0 */
    check_year(y, 0, 1983, 1, 1);
    check_year(y, 1, 1984, 0, 1);
    check_year(y, 5, 1988, 1, 2);
    check_year(y, 12, 1995, 1, 3);
    check_year(y, 22, 2005, 1, 4);
    CHECK_EQ_INT(sw_int(G(&r, "undated")), 1);
    CHECK(G(&r, "groups") == NULL);                  /* by none */

    CHECK_EQ_INT(Q("query.timeline", "{\"by\": \"region\"}"), TN_OK);
    const tn_val_t *g = G(&r, "groups");
    CHECK_EQ_INT(sw_len(g), 3);
    CHECK_EQ_STR(STR(G(sw_at(g, 0), "group")), "Americas");
    CHECK_EQ_STR(STR(G(sw_at(g, 1), "group")), "Asia");
    CHECK_EQ_STR(STR(G(sw_at(g, 2), "group")), "Europe");
    CHECK_EQ_INT(sw_len(G(sw_at(g, 0), "years")), 23);    /* the unit's range */
    check_year(G(sw_at(g, 1), "years"), 22, 2005, 1, 3);
    check_year(G(sw_at(g, 0), "years"), 22, 2005, 0, 1);
    CHECK_EQ_INT(sw_int(G(sw_at(g, 2), "undated")), 1);
    CHECK_EQ_INT(sw_int(G(sw_at(g, 1), "undated")), 0);

    CHECK_EQ_INT(Q("query.timeline", "{\"by\": \"unit\"}"), TN_OK);
    g = G(&r, "groups");
    CHECK_EQ_INT(sw_len(g), 4);                      /* Xiangtan has no pair */
    CHECK_EQ_STR(STR(G(sw_at(g, 0), "group")), "CN-430000");
    CHECK_EQ_STR(STR(G(sw_at(g, 1), "group")), "CN-430100");
    CHECK_EQ_STR(STR(G(sw_at(g, 2), "group")), "CN-430200");
    CHECK_EQ_STR(STR(G(sw_at(g, 3), "group")), "CN-430600");
    check_year(G(sw_at(g, 1), "years"), 22, 2005, 0, 2);

    /* A city as the unit; another province as the unit. */
    CHECK_EQ_INT(Q("query.timeline", "{\"unit\": \"CN-430100\"}"), TN_OK);
    CHECK_EQ_STR(STR(G(&r, "unit")), "CN-430100");
    CHECK_EQ_INT(sw_len(G(&r, "years")), 8);
    check_year(G(&r, "years"), 7, 1995, 1, 2);
    CHECK_EQ_INT(sw_int(G(&r, "undated")), 0);
    CHECK_EQ_INT(Q("query.timeline", "{\"unit\": \"CN-440000\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "years")), 21);
    check_year(G(&r, "years"), 0, 1990, 1, 1);
    check_year(G(&r, "years"), 20, 2010, 1, 2);
    CHECK_EQ_INT(Q("query.timeline", "{\"unit\": \"CN-430300\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "years")), 0);
    CHECK_EQ_INT(sw_int(G(&r, "undated")), 0);

    /* Pair filters. */
    CHECK_EQ_INT(Q("query.timeline", "{\"kind\": \"sister\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "years")), 13);
    CHECK_EQ_INT(Q("query.timeline", "{\"min_confidence\": \"medium\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "undated")), 0);
    CHECK_EQ_INT(Q("query.timeline", "{\"as_of\": 1990}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "years")), 6);
    CHECK_EQ_INT(sw_int(G(&r, "undated")), 1);

    /* Errors. */
    CHECK_EQ_INT(Q("query.timeline", "{\"unit\": \"XX-nowhere\"}"), TN_ERR_NOT_FOUND);
    CHECK_EQ_INT(Q("query.timeline", "{\"unit\": \"JP\"}"), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.timeline", "{\"by\": \"country\"}"), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.timeline", "{\"unit\": 7}"), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.timeline", "{\"bogus\": 1}"), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.timeline", "{\"deadline_ms\": \"soon\"}"), TN_ERR_INVALID_PARAMS);
    tn_val_free(&r);
    tn_error_clear(&err);
}

static const tn_val_t *find_by(const tn_val_t *arr, const char *key, const char *want) {
    for (size_t i = 0; arr && i < sw_len(arr); i++)
        if (STR(G(sw_at(arr, i), key)) && strcmp(STR(G(sw_at(arr, i), key)), want) == 0)
            return sw_at(arr, i);
    return NULL;
}

static void check_strs(const tn_val_t *arr, const char *const *want, size_t n) {
    CHECK_EQ_INT(sw_len(arr), n);
    for (size_t i = 0; i < n && i < sw_len(arr); i++)
        CHECK_EQ_STR(STR(sw_at(arr, i)), want[i]);
}

/* Hunan: partners shiga, stpaul, otsu, lyon in JP, US, FR (5 pairs).
 * Guangdong: lyon, nairobi in FR, KE (2 pairs). Shared: FR / lyon. */
static void test_overlap(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(Q("query.overlap", "{\"homes\": [\"CN-440000\", \"CN-430000\"]}"), TN_OK);
    const tn_val_t *h = G(&r, "homes");
    CHECK_EQ_INT(sw_len(h), 2);
    const tn_val_t *hn = sw_at(h, 0), *gd = sw_at(h, 1);   /* sorted by id */
    CHECK_EQ_STR(STR(G(hn, "id")), "CN-430000");
    CHECK_EQ_STR(STR(G(gd, "id")), "CN-440000");
    CHECK_EQ_INT(sw_int(G(hn, "pairs")), 5);
    CHECK_EQ_INT(sw_int(G(hn, "countries")), 3);
    CHECK_EQ_INT(sw_int(G(hn, "partners")), 4);
    CHECK_EQ_INT(sw_int(G(gd, "pairs")), 2);
    CHECK_EQ_INT(sw_int(G(gd, "countries")), 2);
    CHECK_EQ_INT(sw_int(G(gd, "partners")), 2);
    check_strs(G(hn, "only_countries"), (const char *[]){ "JP", "US" }, 2);
    check_strs(G(gd, "only_countries"), (const char *[]){ "KE" }, 1);
    check_strs(G(hn, "only_partners"), (const char *[]){ "JP-otsu", "JP-shiga", "US-stpaul" }, 3);
    check_strs(G(gd, "only_partners"), (const char *[]){ "KE-nairobi" }, 1);
    const tn_val_t *sc = G(&r, "shared_countries"), *sp = G(&r, "shared_partners");
    CHECK_EQ_INT(sw_len(sc), 1);
    CHECK_EQ_STR(STR(G(sw_at(sc, 0), "id")), "FR");
    check_strs(G(sw_at(sc, 0), "homes"), (const char *[]){ "CN-430000", "CN-440000" }, 2);
    CHECK_EQ_INT(sw_len(sp), 1);
    CHECK_EQ_STR(STR(G(sw_at(sp, 0), "id")), "FR-lyon");
    const tn_val_t *sim = G(&r, "similarity");
    CHECK_EQ_INT(sw_len(sim), 1);
    CHECK_EQ_STR(STR(G(sw_at(sim, 0), "a")), "CN-430000");
    CHECK_EQ_STR(STR(G(sw_at(sim, 0), "b")), "CN-440000");
    CHECK_NEAR(sw_num(G(sw_at(sim, 0), "jaccard")), 1.0 / 4.0, 1e-12);   /* {FR} / {JP,US,FR,KE} */

    /* The low-confidence lyon pair of Zhuzhou gone: nothing shared. */
    CHECK_EQ_INT(Q("query.overlap", "{\"homes\": [\"CN-430000\", \"CN-440000\"], \"min_confidence\": \"medium\"}"),
                 TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "shared_countries")), 0);
    CHECK_NEAR(sw_num(G(sw_at(G(&r, "similarity"), 0), "jaccard")), 0.0, 1e-12);

    /* Nested homes and an idle one; three homes give three similarities. */
    CHECK_EQ_INT(Q("query.overlap", "{\"homes\": [\"CN-430300\", \"CN-430100\", \"CN-430000\"]}"), TN_OK);
    h = G(&r, "homes");
    CHECK_EQ_STR(STR(G(sw_at(h, 2), "id")), "CN-430300");
    CHECK_EQ_INT(sw_int(G(sw_at(h, 2), "pairs")), 0);
    CHECK_EQ_INT(sw_len(G(sw_at(h, 2), "only_countries")), 0);
    sim = G(&r, "similarity");
    CHECK_EQ_INT(sw_len(sim), 3);
    CHECK_NEAR(sw_num(G(sw_at(sim, 0), "jaccard")), 2.0 / 3.0, 1e-12);   /* Hunan vs Changsha */
    CHECK_NEAR(sw_num(G(sw_at(sim, 1), "jaccard")), 0.0, 1e-12);
    CHECK_NEAR(sw_num(G(sw_at(sim, 2), "jaccard")), 0.0, 1e-12);
    const tn_val_t *jp = find_by(G(&r, "shared_countries"), "id", "JP");
    CHECK(jp != NULL);
    check_strs(G(jp, "homes"), (const char *[]){ "CN-430000", "CN-430100" }, 2);

    /* Errors. */
    CHECK_EQ_INT(Q("query.overlap", NULL), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.overlap", "{\"homes\": [\"CN-430000\"]}"), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.overlap", "{\"homes\": [\"CN-430000\", \"CN-430100\", \"CN-430200\", \"CN-430300\","
                                    " \"CN-430600\", \"CN-440000\", \"CN-440100\", \"JP-shiga\", \"JP-otsu\"]}"),
                 TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.overlap", "{\"homes\": [\"CN-430000\", \"CN-430100\", \"CN-430200\", \"CN-430300\","
                                    " \"CN-430600\", \"CN-440000\", \"CN-440100\", \"JP-shiga\"]}"),
                 TN_OK);
    CHECK_EQ_INT(Q("query.overlap", "{\"homes\": [\"CN-430000\", \"CN-430000\"]}"), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.overlap", "{\"homes\": [\"CN-430000\", \"XX-nowhere\"]}"), TN_ERR_NOT_FOUND);
    CHECK_EQ_INT(Q("query.overlap", "{\"homes\": [\"CN-430000\", \"JP\"]}"), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.overlap", "{\"homes\": [\"CN-430000\", 5]}"), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.overlap", "{\"homes\": \"CN-430000\"}"), TN_ERR_INVALID_PARAMS);
    tn_val_free(&r);
    tn_error_clear(&err);
}

/* Two triangles a1a2a3 and b1b2b3 joined by a1-b1, and an isolated c:
 * m = 7; the split {a},{b},{c} has modularity 2 * (3/7 - (7/14)^2) = 5/14. */
static const char triangles_json[] =
    "{\"nodes\": ["
    "{\"id\":\"JP\",\"kind\":\"country\",\"name\":\"Japan\",\"region\":\"Asia\"},"
    "{\"id\":\"US\",\"kind\":\"country\",\"name\":\"United States\",\"region\":\"Americas\"},"
    "{\"id\":\"JP-a1\",\"kind\":\"city\",\"name\":\"a1\",\"country\":\"JP\"},"
    "{\"id\":\"JP-a2\",\"kind\":\"city\",\"name\":\"a2\",\"country\":\"JP\"},"
    "{\"id\":\"US-a3\",\"kind\":\"city\",\"name\":\"a3\",\"country\":\"US\"},"
    "{\"id\":\"US-b1\",\"kind\":\"city\",\"name\":\"b1\",\"country\":\"US\"},"
    "{\"id\":\"US-b2\",\"kind\":\"city\",\"name\":\"b2\",\"country\":\"US\"},"
    "{\"id\":\"US-b3\",\"kind\":\"city\",\"name\":\"b3\",\"country\":\"US\"},"
    "{\"id\":\"US-c\",\"kind\":\"city\",\"name\":\"c\",\"country\":\"US\"}"
    "], \"pairs\": ["
    "{\"a\":\"JP-a1\",\"b\":\"JP-a2\"},{\"a\":\"JP-a2\",\"b\":\"US-a3\"},{\"a\":\"JP-a1\",\"b\":\"US-a3\"},"
    "{\"a\":\"US-b1\",\"b\":\"US-b2\"},{\"a\":\"US-b2\",\"b\":\"US-b3\"},{\"a\":\"US-b1\",\"b\":\"US-b3\"},"
    "{\"a\":\"JP-a1\",\"b\":\"US-b1\",\"since\":2010}"
    "]}";

static void test_communities_small(void) {
    tn_snap_t *t = sw_snap_from(triangles_json, "JP-a1", NULL);
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    CHECK(t != NULL);
    if (t == NULL)
        return;
    const char *algos[] = { "{\"members\": true}", "{\"members\": true, \"algorithm\": \"leiden\"}" };
    for (int k = 0; k < 2; k++) {
        CHECK_EQ_INT((tn_val_free(&r), sw_query(t, "query.communities", algos[k], NULL, &r, &err)), TN_OK);
        CHECK_EQ_STR(STR(G(&r, "algorithm")), k ? "leiden" : "multilevel");
        CHECK_EQ_STR(STR(G(&r, "graph")), "partnerships");
        CHECK_NEAR(sw_num(G(&r, "modularity")), 5.0 / 14.0, 1e-12);
        CHECK_EQ_INT(sw_int(G(&r, "count")), 3);
        const tn_val_t *it = G(&r, "items");
        CHECK_EQ_INT(sw_len(it), 3);
        /* Sizes 3, 3, 1; the a-triangle first (its first member JP-a1 sorts first). */
        CHECK_EQ_INT(sw_int(G(sw_at(it, 0), "community")), 0);
        CHECK_EQ_INT(sw_int(G(sw_at(it, 0), "size")), 3);
        check_strs(G(sw_at(it, 0), "top"), (const char *[]){ "JP-a1", "JP-a2", "US-a3" }, 3);
        check_strs(G(sw_at(it, 1), "top"), (const char *[]){ "US-b1", "US-b2", "US-b3" }, 3);
        CHECK_EQ_INT(sw_int(G(sw_at(it, 2), "size")), 1);
        const tn_val_t *c0 = G(sw_at(it, 0), "countries");
        CHECK_EQ_INT(sw_len(c0), 2);
        CHECK_EQ_STR(STR(G(sw_at(c0, 0), "id")), "JP");
        CHECK_EQ_INT(sw_int(G(sw_at(c0, 0), "nodes")), 2);
        CHECK_EQ_STR(STR(G(sw_at(c0, 1), "id")), "US");
        const tn_val_t *mem = G(&r, "membership");
        CHECK(mem != NULL && mem->type == TN_V_MAP && mem->u.m.n == 7);
        CHECK_EQ_INT(sw_int(G(mem, "US-a3")), 0);
        CHECK_EQ_INT(sw_int(G(mem, "US-b3")), 1);
        CHECK_EQ_INT(sw_int(G(mem, "US-c")), 2);
    }
    /* as_of before the bridge: two components, modularity 1 - 2*(1/2)^2 = 1/2. */
    CHECK_EQ_INT((tn_val_free(&r), sw_query(t, "query.communities", "{\"as_of\": 2000}", NULL, &r, &err)), TN_OK);
    CHECK_NEAR(sw_num(G(&r, "modularity")), 0.5, 1e-12);
    CHECK(G(&r, "membership") == NULL);
    /* top limits items, not count. */
    CHECK_EQ_INT((tn_val_free(&r), sw_query(t, "query.communities", "{\"top\": 1}", NULL, &r, &err)), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 1);
    CHECK_EQ_INT(sw_int(G(&r, "count")), 3);
    /* full graph: countries are vertices too. */
    CHECK_EQ_INT((tn_val_free(&r), sw_query(t, "query.communities", "{\"graph\": \"full\", \"members\": true}", NULL, &r, &err)),
                 TN_OK);
    CHECK_EQ_INT(G(&r, "membership")->u.m.n, 9);
    /* Errors. */
    CHECK_EQ_INT((tn_val_free(&r), sw_query(t, "query.communities", "{\"algorithm\": \"cpm\"}", NULL, &r, &err)),
                 TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT((tn_val_free(&r), sw_query(t, "query.communities", "{\"resolution\": 0}", NULL, &r, &err)), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT((tn_val_free(&r), sw_query(t, "query.communities", "{\"seed\": -1}", NULL, &r, &err)), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT((tn_val_free(&r), sw_query(t, "query.communities", "{\"top\": 0}", NULL, &r, &err)), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT((tn_val_free(&r), sw_query(t, "query.communities", "{\"members\": 1}", NULL, &r, &err)), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT((tn_val_free(&r), sw_query(t, "query.communities", "{\"graph\": \"road\"}", NULL, &r, &err)),
                 TN_ERR_INVALID_PARAMS);
    tn_val_free(&r);
    tn_error_clear(&err);
    tn_snap_release(t);
}

/* On the built-in data: deterministic for a seed, modularity in (0, 1),
 * sizes sum to the vertex count, and a stop flag is honoured. */
static void test_communities_hunan(void) {
    tn_model_t *m = tn_model_new(NULL);
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(tn_dataset_load_builtin(m, &err), TN_OK);
    tn_snap_t *h = tn_snap_new(m);
    CHECK_EQ_INT(tn_snap_build(h, &err), TN_OK);
    tn_val_t a = TN_VAL_NIL, b = TN_VAL_NIL;
    for (int alg = 0; alg < 2; alg++) {
        const char *o = alg ? "{\"algorithm\": \"leiden\", \"seed\": 7, \"top\": 100000}"
                            : "{\"seed\": 7, \"top\": 100000}";
        CHECK_EQ_INT(sw_query(h, "query.communities", o, NULL, &a, &err), TN_OK);
        CHECK_EQ_INT(sw_query(h, "query.communities", o, NULL, &b, &err), TN_OK);
        CHECK(tn_val_equal(&a, &b));
        double q = sw_num(G(&a, "modularity"));
        CHECK(q > 0.5 && q < 1.0);
        int64_t total = 0, prev = INT64_MAX;
        const tn_val_t *it = G(&a, "items");
        for (size_t i = 0; i < sw_len(it); i++) {
            int64_t sz = sw_int(G(sw_at(it, i), "size"));
            CHECK(sz <= prev);
            prev = sz;
            total += sz;
        }
        int64_t verts = 0;
        for (size_t v = 0; v < h->nnodes; v++)
            verts += h->nodes[v]->kind != TN_NODE_COUNTRY;
        CHECK_EQ_INT(total, verts);
        CHECK_EQ_INT(sw_int(G(&a, "count")), (int64_t) sw_len(it));
        tn_val_free(&a);
        tn_val_free(&b);
    }
    atomic_int stop = TN_STOP_CANCEL;
    tn_qctx_t ctx = { &stop, NULL, NULL };
    CHECK_EQ_INT(sw_query(h, "query.communities", NULL, &ctx, &a, &err), TN_ERR_CANCELLED);
    CHECK_EQ_INT(sw_query(h, "query.timeline", NULL, &ctx, &a, &err), TN_ERR_CANCELLED);
    CHECK_EQ_INT(sw_query(h, "query.overlap", "{\"homes\": [\"CN-430000\", \"CN-430100\"]}", &ctx, &a, &err),
                 TN_ERR_CANCELLED);
    CHECK_EQ_INT(sw_query(h, "query.whatif", "{\"queries\": [{\"method\": \"graph.stats\"}]}", &ctx, &a, &err),
                 TN_ERR_CANCELLED);

    /* The Hunan timeline: cumulative of the last year + undated = home pairs. */
    CHECK_EQ_INT(sw_query(h, "query.timeline", NULL, NULL, &a, &err), TN_OK);
    CHECK_EQ_INT(sw_query(h, "graph.stats", NULL, NULL, &b, &err), TN_OK);
    const tn_val_t *ys = G(&a, "years");
    CHECK(sw_len(ys) > 10);
    int64_t last = sw_int(G(sw_at(ys, sw_len(ys) - 1), "cumulative"));
    CHECK_EQ_INT(last + sw_int(G(&a, "undated")), sw_int(G(G(&b, "home"), "pairs")));
    for (size_t i = 1; i < sw_len(ys); i++)
        CHECK_EQ_INT(sw_int(G(sw_at(ys, i), "year")), sw_int(G(sw_at(ys, i - 1), "year")) + 1);
    tn_val_free(&a);
    tn_val_free(&b);
    tn_error_clear(&err);
    tn_snap_release(h);
    tn_model_free(m);
}

static const tn_val_t *result_of(const tn_val_t *r, size_t i, const char *side) {
    return G(sw_at(G(r, "results"), i), side);
}

static void test_whatif(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    size_t npairs = S->npairs, nnodes = S->nnodes;
    /* Xiangtan pairs with Munich (a new country, DE); Hunan's Shiga pair
     * is removed (JP stays covered through Otsu). */
    CHECK_EQ_INT(Q("query.whatif",
                   "{\"add\": [{\"a\": \"CN-430300\", \"b\": \"DE-munich\", \"since\": 2020}],"
                   " \"remove\": [{\"a\": \"JP-shiga\", \"b\": \"CN-430000\"}],"
                   " \"queries\": [{\"method\": \"graph.stats\"}, {\"method\": \"query.timeline\","
                   " \"options\": {\"by\": \"unit\"}}, {\"method\": \"query.centrality\", \"options\":"
                   " {\"metric\": \"closeness\"}}]}"),
                 TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "epoch")), S->epoch);
    CHECK_EQ_INT(sw_len(G(&r, "results")), 3);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "results"), 0), "method")), "graph.stats");
    const tn_val_t *b = result_of(&r, 0, "before"), *a = result_of(&r, 0, "after");
    CHECK_EQ_INT(sw_int(G(G(b, "home"), "pairs")), 5);
    CHECK_EQ_INT(sw_int(G(G(a, "home"), "pairs")), 5);
    CHECK_EQ_INT(sw_int(G(G(b, "home"), "countries")), 3);
    CHECK_EQ_INT(sw_int(G(G(a, "home"), "countries")), 4);
    CHECK_EQ_INT(sw_int(G(G(a, "pairs"), "total")), 8);
    CHECK_EQ_INT(sw_int(G(a, "epoch")), S->epoch);
    b = result_of(&r, 1, "before");
    a = result_of(&r, 1, "after");
    CHECK_EQ_INT(sw_len(G(b, "years")), 2005 - 1983 + 1);
    CHECK_EQ_INT(sw_len(G(a, "years")), 2020 - 1988 + 1);
    CHECK(find_by(G(a, "groups"), "group", "CN-430300") != NULL);
    CHECK(find_by(G(b, "groups"), "group", "CN-430300") == NULL);
    CHECK(!tn_val_equal(result_of(&r, 2, "before"), result_of(&r, 2, "after")));
    /* Nothing committed: the snapshot is untouched. */
    CHECK_EQ_INT(S->npairs, npairs);
    CHECK_EQ_INT(S->nnodes, nnodes);
    CHECK(tn_snap_find(S, "DE-berlin") < 0);

    /* New nodes, and the request's pair filters passed down. */
    CHECK_EQ_INT(Q("query.whatif",
                   "{\"nodes\": [{\"id\": \"DE-berlin\", \"kind\": \"city\", \"name\": \"Berlin\", \"country\": \"DE\"}],"
                   " \"add\": [{\"a\": \"CN-430300\", \"b\": \"DE-berlin\"}], \"min_confidence\": \"medium\","
                   " \"queries\": [{\"method\": \"query.coverage\", \"options\": {\"by\": \"country\"}}]}"),
                 TN_OK);
    b = result_of(&r, 0, "before");
    a = result_of(&r, 0, "after");
    CHECK_EQ_INT(sw_int(G(G(b, "total"), "covered")), 2);   /* lyon's low pair filtered out */
    CHECK_EQ_INT(sw_int(G(G(a, "total"), "covered")), 3);
    CHECK(find_by(G(a, "items"), "id", "DE") != NULL);
    CHECK(tn_snap_find(S, "DE-berlin") < 0);

    /* Records are checked as import.batch checks them. */
    CHECK_EQ_INT(Q("query.whatif", "{\"add\": [{\"a\": \"CN-430300\", \"b\": \"XX-nowhere\"}],"
                                   " \"queries\": [{\"method\": \"graph.stats\"}]}"),
                 TN_ERR_INVALID_PARAMS);
    CHECK(err.data.type == TN_V_ARR && err.data.u.a.n == 1);
    CHECK_EQ_STR(STR(G(sw_at(&err.data, 0), "field")), "add.b");
    CHECK_EQ_INT(sw_int(G(sw_at(&err.data, 0), "index")), 0);
    CHECK_EQ_INT(Q("query.whatif", "{\"nodes\": [{\"id\": \"DE-x\", \"kind\": \"town\"}],"
                                   " \"queries\": [{\"method\": \"graph.stats\"}]}"),
                 TN_ERR_INVALID_PARAMS);
    CHECK(err.data.type == TN_V_ARR && err.data.u.a.n >= 1);
    CHECK_EQ_INT(Q("query.whatif", "{\"add\": [{\"a\": \"CN-430300\", \"b\": \"DE\"}],"
                                   " \"queries\": [{\"method\": \"graph.stats\"}]}"),
                 TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.whatif", "{\"remove\": [{\"a\": \"CN-430300\", \"b\": \"DE-munich\"}],"
                                   " \"queries\": [{\"method\": \"graph.stats\"}]}"),
                 TN_ERR_NOT_FOUND);
    CHECK_EQ_INT(Q("query.whatif", "{\"remove\": [{\"a\": \"CN-430300\"}], \"queries\": [{\"method\": \"graph.stats\"}]}"),
                 TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.whatif", "{\"queries\": []}"), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.whatif", "{}"), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.whatif", "{\"queries\": [{\"method\": \"graph.stats\"}, {\"method\": \"graph.stats\"},"
                                   "{\"method\": \"graph.stats\"}, {\"method\": \"graph.stats\"},"
                                   "{\"method\": \"graph.stats\"}, {\"method\": \"graph.stats\"},"
                                   "{\"method\": \"graph.stats\"}, {\"method\": \"graph.stats\"},"
                                   "{\"method\": \"graph.stats\"}]}"),
                 TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.whatif", "{\"queries\": [{\"method\": \"query.whatif\", \"options\": {}}]}"),
                 TN_ERR_INVALID_PARAMS);
    CHECK(strstr(err.message, "nested") != NULL);
    CHECK_EQ_INT(Q("query.whatif", "{\"queries\": [{\"method\": \"node.get\", \"options\": {\"id\": \"JP\"}}]}"),
                 TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.whatif", "{\"queries\": [{\"method\": \"graph.stats\", \"bogus\": 1}]}"),
                 TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.whatif", "{\"queries\": [{\"method\": \"graph.stats\", \"options\": 3}]}"),
                 TN_ERR_INVALID_PARAMS);
    /* A sub-query's own error comes back with its code, naming it. */
    CHECK_EQ_INT(Q("query.whatif", "{\"queries\": [{\"method\": \"query.timeline\", \"options\": {\"unit\": \"XX\"}}]}"),
                 TN_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "queries[0] (query.timeline)") != NULL);
    CHECK_EQ_INT(S->npairs, npairs);
    tn_val_free(&r);
    tn_error_clear(&err);
}

/* Progress of whatif: one step per run, both sides. */
static uint64_t last_done, last_total;
static void on_progress(void *arg, uint64_t done, uint64_t total) {
    (void) arg;
    last_done = done;
    last_total = total;
}

static void test_whatif_progress(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    atomic_int stop = TN_RUN;
    tn_qctx_t ctx = { &stop, on_progress, NULL };
    CHECK_EQ_INT(sw_query(S, "query.whatif", "{\"queries\": [{\"method\": \"graph.stats\"}, {\"method\": \"query.gaps\"}]}",
                          &ctx, &r, &err),
                 TN_OK);
    CHECK_EQ_INT(last_done, 4);
    CHECK_EQ_INT(last_total, 4);
    /* Without changes, before and after are the same. */
    CHECK(tn_val_equal(result_of(&r, 1, "before"), result_of(&r, 1, "after")));
    tn_val_free(&r);
    tn_error_clear(&err);
}

/* The table lists the four methods, slow, with igraph where needed. */
static void test_table(void) {
    const tn_query_def_t *d = tn_query_find("query.communities");
    CHECK(d != NULL && (d->flags & TN_QF_IGRAPH) && (d->flags & TN_QF_SLOW));
    d = tn_query_find("query.whatif");
    CHECK(d != NULL && (d->flags & TN_QF_IGRAPH) && (d->flags & TN_QF_SLOW));
    d = tn_query_find("query.timeline");
    CHECK(d != NULL && !(d->flags & TN_QF_IGRAPH) && (d->flags & TN_QF_SLOW));
    d = tn_query_find("query.overlap");
    CHECK(d != NULL && !(d->flags & TN_QF_IGRAPH) && (d->flags & TN_QF_SLOW));
}

int main(void) {
    S = sw_snap();
    CHECK(S != NULL);
    if (S == NULL)
        return TEST_DONE();
    RUN(test_timeline);
    RUN(test_overlap);
    RUN(test_communities_small);
    RUN(test_communities_hunan);
    RUN(test_whatif);
    RUN(test_whatif_progress);
    RUN(test_table);
    tn_snap_release(S);
    return TEST_DONE();
}
