/*
 * test_queries.c -- graph.stats, node.*, pair.list, query.coverage,
 * query.gaps and metrics.get on the hand-checked world of
 * data/small_world.h, with every filter, and every bad option rejected.
 */
#include <stdatomic.h>

#include "data/small_world.h"
#include "test.h"

static tn_snap_t *S;

#define Q(name, opts) (tn_val_free(&r), sw_query(S, name, opts, NULL, &r, &err))
#define G(v, k) tn_map_get(v, k)
#define STR(v) tn_val_str(v)

static void test_stats(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(Q("graph.stats", NULL), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "epoch")), S->epoch);
    CHECK_EQ_INT(sw_int(G(G(&r, "nodes"), "country")), 7);
    CHECK_EQ_INT(sw_int(G(G(&r, "nodes"), "province")), 3);
    CHECK_EQ_INT(sw_int(G(G(&r, "nodes"), "city")), 10);
    CHECK_EQ_INT(sw_int(G(G(&r, "pairs"), "total")), 8);
    CHECK_EQ_INT(sw_int(G(G(&r, "pairs"), "sister")), 6);
    CHECK_EQ_INT(sw_int(G(G(&r, "pairs"), "friendly")), 2);
    const tn_val_t *h = G(&r, "home");
    CHECK_EQ_STR(STR(G(h, "id")), "CN-430000");
    CHECK_EQ_INT(sw_int(G(h, "units")), 5);
    CHECK_EQ_INT(sw_int(G(h, "pairs")), 5);          /* P1 P2 P3 P4 P8; P7 is domestic */
    CHECK_EQ_INT(sw_int(G(h, "countries")), 3);      /* JP US FR */
    CHECK(G(h, "reference") == NULL);                /* no dataset notes here */

    CHECK_EQ_INT(Q("graph.stats", "{\"as_of\":1990}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(G(&r, "pairs"), "total")), 4);
    CHECK_EQ_INT(sw_int(G(G(&r, "pairs"), "friendly")), 0);
    CHECK_EQ_INT(sw_int(G(G(&r, "home"), "pairs")), 3);
    CHECK_EQ_INT(sw_int(G(G(&r, "home"), "countries")), 3);
    CHECK_EQ_INT(sw_int(G(G(&r, "nodes"), "city")), 10);   /* filters drop pairs only */

    CHECK_EQ_INT(Q("graph.stats", "{\"min_confidence\":\"high\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(G(&r, "pairs"), "total")), 6);
    CHECK_EQ_INT(sw_int(G(G(&r, "pairs"), "sister")), 5);
    CHECK_EQ_INT(sw_int(G(G(&r, "home"), "pairs")), 3);
    CHECK_EQ_INT(sw_int(G(G(&r, "home"), "countries")), 2);

    CHECK_EQ_INT(Q("graph.stats", "{\"min_confidence\":\"medium\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(G(&r, "home"), "pairs")), 4);
    CHECK_EQ_INT(sw_int(G(G(&r, "home"), "countries")), 2);

    /* The dataset's reference figures are reported beside the verified ones. */
    tn_snap_t *m = sw_snap_from(small_world_json, NULL,
        "{\"dataset\":\"t\",\"reference\":{\"pairs\":101,\"countries\":37,\"as_of\":\"2021-03\"},"
        "\"note\":\"verified figures fall short\"}");
    tn_val_free(&r);
    CHECK_EQ_INT(sw_query(m, "graph.stats", NULL, NULL, &r, &err), TN_OK);
    h = G(&r, "home");
    CHECK_EQ_INT(sw_int(G(G(h, "reference"), "pairs")), 101);
    CHECK_EQ_INT(sw_int(G(G(h, "reference"), "countries")), 37);
    CHECK_EQ_STR(STR(G(h, "note")), "verified figures fall short");
    tn_snap_release(m);

    /* Another home. */
    m = sw_snap_from(small_world_json, "CN-440000", NULL);
    tn_val_free(&r);
    CHECK_EQ_INT(sw_query(m, "graph.stats", NULL, NULL, &r, &err), TN_OK);
    CHECK_EQ_INT(sw_int(G(G(&r, "home"), "units")), 2);
    CHECK_EQ_INT(sw_int(G(G(&r, "home"), "pairs")), 2);
    tn_snap_release(m);
    tn_val_free(&r);
}

static void test_nodes(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(Q("node.get", "{\"id\":\"CN-430100\"}"), TN_OK);
    CHECK_EQ_STR(STR(G(&r, "name")), "Changsha");
    CHECK_EQ_STR(STR(G(&r, "parent")), "CN-430000");
    CHECK_EQ_INT(sw_int(G(&r, "degree")), 3);
    CHECK_EQ_INT(sw_int(G(&r, "epoch")), S->epoch);
    CHECK_EQ_INT(Q("node.get", "{\"id\":\"JP\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "degree")), 0);
    CHECK_EQ_INT(Q("node.get", "{\"id\":\"XX-none\"}"), TN_ERR_NOT_FOUND);
    CHECK(r.type == TN_V_NIL);

    CHECK_EQ_INT(Q("node.find", "{\"q\":\"cn-43\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 5);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 0), "id")), "CN-430000");
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 4), "id")), "CN-430600");
    CHECK_EQ_INT(Q("node.find", "{\"q\":\"SHA\"}"), TN_OK);        /* name, any case */
    CHECK_EQ_INT(sw_len(G(&r, "items")), 1);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 0), "id")), "CN-430100");
    CHECK_EQ_INT(Q("node.find", "{\"q\":\"\xe9\x95\xbf\xe6\xb2\x99\"}"), TN_OK);   /* name_zh */
    CHECK_EQ_INT(sw_len(G(&r, "items")), 1);
    CHECK_EQ_INT(Q("node.find", "{\"q\":\"o\",\"kind\":\"city\",\"country\":\"jp\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 1);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 0), "id")), "JP-otsu");
    CHECK_EQ_INT(Q("node.find", "{\"q\":\"\",\"limit\":2}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 2);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 0), "id")), "BR");
    CHECK_EQ_INT(Q("node.find", "{\"q\":\"zzz\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 0);

    CHECK_EQ_INT(Q("node.neighbors", "{\"id\":\"CN-430100\"}"), TN_OK);
    const tn_val_t *it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 3);
    CHECK_EQ_STR(STR(G(G(sw_at(it, 0), "node"), "id")), "CN-440100");
    CHECK_EQ_STR(STR(G(G(sw_at(it, 1), "node"), "id")), "JP-otsu");
    CHECK_EQ_STR(STR(G(G(sw_at(it, 2), "node"), "id")), "US-stpaul");
    CHECK_EQ_STR(STR(G(G(sw_at(it, 1), "pair"), "since")), "1995-06");
    CHECK_EQ_INT(Q("node.neighbors", "{\"id\":\"CN-430100\",\"kind\":\"friendly\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 0);
    CHECK_EQ_INT(Q("node.neighbors", "{\"id\":\"CN-430600\",\"kind\":\"friendly\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 1);
    CHECK_EQ_INT(Q("node.neighbors", "{\"id\":\"nowhere\"}"), TN_ERR_NOT_FOUND);
    tn_val_free(&r);
}

static void test_pair_list(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(Q("pair.list", NULL), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "total")), 8);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 8);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 0), "b")), "JP-shiga");       /* P1 first by key */
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 7), "b")), "KE-nairobi");     /* P6 last */
    CHECK_EQ_INT(Q("pair.list", "{\"limit\":2,\"offset\":1}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "total")), 8);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 2);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 0), "b")), "CN-440100");      /* P7 */
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 1), "a")), "JP-otsu");        /* P8 */
    CHECK_EQ_INT(Q("pair.list", "{\"limit\":0}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "total")), 8);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 0);
    CHECK_EQ_INT(Q("pair.list", "{\"offset\":100}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 0);
    CHECK_EQ_INT(Q("pair.list", "{\"unit\":\"CN-430100\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "total")), 3);
    CHECK_EQ_INT(Q("pair.list", "{\"unit\":\"nowhere\"}"), TN_ERR_NOT_FOUND);
    CHECK_EQ_INT(Q("pair.list", "{\"country\":\"jp\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "total")), 3);
    CHECK_EQ_INT(Q("pair.list", "{\"region\":\"Europe\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "total")), 2);
    CHECK_EQ_INT(Q("pair.list", "{\"region\":\"Asia\"}"), TN_OK);   /* CN ends are in Asia too */
    CHECK_EQ_INT(sw_int(G(&r, "total")), 8);
    CHECK_EQ_INT(Q("pair.list", "{\"since_from\":1990}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "total")), 5);
    CHECK_EQ_INT(Q("pair.list", "{\"since_to\":1989}"), TN_OK);     /* undated P4 excluded */
    CHECK_EQ_INT(sw_int(G(&r, "total")), 2);
    CHECK_EQ_INT(Q("pair.list", "{\"since_from\":1990,\"since_to\":1995}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "total")), 2);
    CHECK_EQ_INT(Q("pair.list", "{\"kind\":\"friendly\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "total")), 2);
    CHECK_EQ_INT(Q("pair.list", "{\"as_of\":1990,\"min_confidence\":\"medium\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "total")), 3);                        /* P1 P2 P5 */
    CHECK_EQ_INT(Q("pair.list", "{\"unit\":\"CN-430100\",\"country\":\"JP\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "total")), 1);
    tn_val_free(&r);
}

static const tn_val_t *item_by(const tn_val_t *items, const char *key, const char *want) {
    for (size_t i = 0; i < sw_len(items); i++)
        if (STR(G(sw_at(items, i), key)) && strcmp(STR(G(sw_at(items, i), key)), want) == 0)
            return sw_at(items, i);
    return NULL;
}

static void check_group(const tn_val_t *g, int countries, int covered, double ratio, int pairs,
                        int units) {
    CHECK(g != NULL);
    if (g == NULL)
        return;
    CHECK_EQ_INT(sw_int(G(g, "countries")), countries);
    CHECK_EQ_INT(sw_int(G(g, "covered")), covered);
    CHECK_NEAR(sw_num(G(g, "ratio")), ratio, 1e-12);
    CHECK_EQ_INT(sw_int(G(g, "pairs")), pairs);
    CHECK_EQ_INT(sw_int(G(g, "units")), units);
}

static void test_coverage(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(Q("query.coverage", NULL), TN_OK);
    CHECK_EQ_STR(STR(G(&r, "home")), "CN-430000");
    CHECK_EQ_INT(sw_int(G(G(&r, "total"), "countries")), 6);      /* CN itself left out */
    CHECK_EQ_INT(sw_int(G(G(&r, "total"), "covered")), 3);
    CHECK_EQ_INT(sw_int(G(G(&r, "total"), "pairs")), 5);
    const tn_val_t *it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 4);
    CHECK_EQ_STR(STR(G(sw_at(it, 0), "group")), "Africa");         /* by name */
    check_group(item_by(it, "group", "Africa"), 1, 0, 0.0, 0, 0);
    check_group(item_by(it, "group", "Americas"), 2, 1, 0.5, 1, 1);
    check_group(item_by(it, "group", "Asia"), 1, 1, 1.0, 3, 3);
    check_group(item_by(it, "group", "Europe"), 2, 1, 0.5, 1, 1);

    CHECK_EQ_INT(Q("query.coverage", "{\"by\":\"subregion\"}"), TN_OK);
    it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 5);
    check_group(item_by(it, "group", "Western Europe"), 2, 1, 0.5, 1, 1);
    check_group(item_by(it, "group", "Eastern Asia"), 1, 1, 1.0, 3, 3);
    check_group(item_by(it, "group", "South America"), 1, 0, 0.0, 0, 0);

    CHECK_EQ_INT(Q("query.coverage", "{\"by\":\"tag\"}"), TN_OK);   /* default tag: bri */
    it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 1);
    check_group(item_by(it, "group", "bri"), 3, 1, 1.0 / 3.0, 1, 1);
    CHECK_EQ_INT(Q("query.coverage", "{\"by\":\"tag\",\"tag\":\"eu\"}"), TN_OK);
    check_group(item_by(G(&r, "items"), "group", "eu"), 2, 1, 0.5, 1, 1);
    CHECK_EQ_INT(Q("query.coverage", "{\"by\":\"tag\",\"tag\":\"nato\"}"), TN_OK);
    check_group(item_by(G(&r, "items"), "group", "nato"), 0, 0, 0.0, 0, 0);
    CHECK_EQ_INT(Q("query.coverage", "{\"tag\":\"eu\"}"), TN_ERR_INVALID_PARAMS);

    CHECK_EQ_INT(Q("query.coverage", "{\"by\":\"country\"}"), TN_OK);
    it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 3);
    CHECK_EQ_STR(STR(G(sw_at(it, 0), "id")), "JP");
    CHECK_EQ_STR(STR(G(sw_at(it, 0), "region")), "Asia");
    CHECK_EQ_INT(sw_int(G(sw_at(it, 0), "pairs")), 3);
    CHECK_EQ_INT(sw_int(G(sw_at(it, 0), "units")), 3);
    CHECK_EQ_STR(STR(G(sw_at(it, 1), "id")), "FR");              /* ties by id */
    CHECK_EQ_STR(STR(G(sw_at(it, 2), "id")), "US");

    CHECK_EQ_INT(Q("query.coverage", "{\"by\":\"unit\"}"), TN_OK);
    it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 5);                                   /* idle Xiangtan too */
    CHECK_EQ_STR(STR(G(sw_at(it, 0), "id")), "CN-430100");
    CHECK_EQ_INT(sw_int(G(sw_at(it, 0), "pairs")), 2);
    CHECK_EQ_INT(sw_int(G(sw_at(it, 0), "countries")), 2);
    CHECK_EQ_INT(sw_int(G(sw_at(it, 0), "regions")), 2);
    CHECK_EQ_STR(STR(G(sw_at(it, 1), "id")), "CN-430000");
    CHECK_EQ_STR(STR(G(sw_at(it, 4), "id")), "CN-430300");
    CHECK_EQ_INT(sw_int(G(sw_at(it, 4), "pairs")), 0);

    CHECK_EQ_INT(Q("query.coverage", "{\"kind\":\"sister\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(G(&r, "total"), "pairs")), 4);
    check_group(item_by(G(&r, "items"), "group", "Asia"), 1, 1, 1.0, 2, 2);
    CHECK_EQ_INT(Q("query.coverage", "{\"kind\":\"friendly\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(G(&r, "total"), "pairs")), 1);
    CHECK_EQ_INT(sw_int(G(G(&r, "total"), "covered")), 1);
    CHECK_EQ_INT(Q("query.coverage", "{\"as_of\":1990}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(G(&r, "total"), "pairs")), 3);
    CHECK_EQ_INT(sw_int(G(G(&r, "total"), "covered")), 3);
    CHECK_EQ_INT(Q("query.coverage", "{\"min_confidence\":\"high\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(G(&r, "total"), "covered")), 2);
    check_group(item_by(G(&r, "items"), "group", "Europe"), 2, 0, 0.0, 0, 0);

    CHECK_EQ_INT(Q("query.coverage", "{\"home\":\"CN-440000\",\"by\":\"region\"}"), TN_OK);
    CHECK_EQ_STR(STR(G(&r, "home")), "CN-440000");
    CHECK_EQ_INT(sw_int(G(G(&r, "total"), "pairs")), 2);
    check_group(item_by(G(&r, "items"), "group", "Africa"), 1, 1, 1.0, 1, 1);
    CHECK_EQ_INT(Q("query.coverage", "{\"home\":\"nowhere\"}"), TN_ERR_NOT_FOUND);
    tn_val_free(&r);
}

static void test_gaps(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(Q("query.gaps", NULL), TN_OK);
    const tn_val_t *u = G(&r, "uncovered");
    CHECK_EQ_INT(sw_len(u), 3);
    CHECK_EQ_STR(STR(G(sw_at(u, 0), "id")), "KE");                 /* Guangzhou-Nairobi */
    CHECK_EQ_INT(sw_int(G(sw_at(u, 0), "peer_pairs")), 1);
    CHECK_EQ_STR(STR(G(sw_at(u, 0), "subregion")), "Eastern Africa");
    CHECK_EQ_STR(STR(sw_at(G(sw_at(u, 0), "tags"), 0)), "bri");
    CHECK_EQ_STR(STR(G(sw_at(u, 1), "id")), "BR");
    CHECK_EQ_STR(STR(G(sw_at(u, 2), "id")), "DE");
    CHECK_EQ_INT(sw_len(G(&r, "idle_units")), 1);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "idle_units"), 0), "id")), "CN-430300");
    const tn_val_t *uc = G(&r, "under_covered");
    CHECK_EQ_INT(sw_len(uc), 1);
    CHECK_EQ_STR(STR(G(sw_at(uc, 0), "group")), "Africa");
    CHECK_NEAR(sw_num(G(sw_at(uc, 0), "ratio")), 0.0, 0);
    CHECK_NEAR(sw_num(G(sw_at(uc, 0), "overall")), 0.5, 1e-12);

    CHECK_EQ_INT(Q("query.gaps", "{\"region\":\"europe\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "uncovered")), 1);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "uncovered"), 0), "id")), "DE");
    CHECK_EQ_INT(sw_len(G(&r, "under_covered")), 0);
    CHECK_EQ_INT(Q("query.gaps", "{\"subregion\":\"South America\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "uncovered")), 1);
    CHECK_EQ_INT(Q("query.gaps", "{\"tag\":\"bri\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "uncovered")), 2);
    uc = G(&r, "under_covered");
    CHECK_EQ_INT(sw_len(uc), 2);
    CHECK_EQ_STR(STR(G(sw_at(uc, 0), "group")), "Africa");
    CHECK_EQ_STR(STR(G(sw_at(uc, 1), "group")), "Americas");
    CHECK_EQ_INT(Q("query.gaps", "{\"limit\":1}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "uncovered")), 1);
    CHECK_EQ_INT(sw_len(G(&r, "idle_units")), 1);

    CHECK_EQ_INT(Q("query.gaps", "{\"home\":\"CN-440000\"}"), TN_OK);
    u = G(&r, "uncovered");
    CHECK_EQ_INT(sw_len(u), 4);
    CHECK_EQ_STR(STR(G(sw_at(u, 0), "id")), "JP");                 /* Hunan's three */
    CHECK_EQ_INT(sw_int(G(sw_at(u, 0), "peer_pairs")), 3);
    CHECK_EQ_STR(STR(G(sw_at(u, 1), "id")), "US");
    CHECK_EQ_STR(STR(G(sw_at(u, 2), "id")), "BR");
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "idle_units"), 0), "id")), "CN-440000");

    CHECK_EQ_INT(Q("query.gaps", "{\"min_confidence\":\"high\"}"), TN_OK);
    u = G(&r, "uncovered");
    CHECK_EQ_INT(sw_len(u), 4);
    CHECK_EQ_STR(STR(G(sw_at(u, 0), "id")), "FR");
    CHECK_EQ_STR(STR(G(sw_at(u, 1), "id")), "KE");
    CHECK_EQ_INT(sw_len(G(&r, "idle_units")), 3);
    CHECK_EQ_INT(Q("query.gaps", "{\"home\":\"nowhere\"}"), TN_ERR_NOT_FOUND);
    tn_val_free(&r);
}

static void test_metrics(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(Q("metrics.get", NULL), TN_OK);
    CHECK_EQ_INT(sw_int(G(&r, "epoch")), S->epoch);
    CHECK_EQ_INT(sw_int(G(G(G(&r, "graph"), "home"), "pairs")), 5);
    CHECK_EQ_INT(sw_len(G(G(&r, "coverage"), "items")), 4);
    const tn_val_t *t = G(&r, "timeline");
    CHECK_EQ_INT(sw_len(t), 4);
    static const int years[] = { 1983, 1988, 1995, 2005 };
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ_INT(sw_int(G(sw_at(t, i), "year")), years[i]);
        CHECK_EQ_INT(sw_int(G(sw_at(t, i), "pairs")), 1);
        CHECK_EQ_INT(sw_int(G(sw_at(t, i), "cumulative")), (int) i + 1);
    }
    CHECK_EQ_INT(sw_int(G(&r, "undated")), 1);                     /* P4 */
    CHECK_EQ_INT(Q("metrics.get", "{\"if_epoch\":1}"), TN_OK);
    tn_val_free(&r);
}

static void test_stop(void) {
    atomic_int flag = TN_STOP_DEADLINE;
    tn_qctx_t ctx = { &flag, NULL, NULL };
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    static const char *const slow[][2] = {
        { "query.coverage", NULL },
        { "query.gaps", NULL },
        { "query.recommend", "{\"unit\":\"CN-430100\"}" },
    };
    for (size_t i = 0; i < 3; i++) {
        atomic_store(&flag, TN_STOP_DEADLINE);
        CHECK_EQ_INT(sw_query(S, slow[i][0], slow[i][1], &ctx, &r, &err), TN_ERR_TIMEOUT);
        CHECK(r.type == TN_V_NIL);
        atomic_store(&flag, TN_STOP_CANCEL);
        CHECK_EQ_INT(sw_query(S, slow[i][0], slow[i][1], &ctx, &r, &err), TN_ERR_CANCELLED);
        atomic_store(&flag, TN_RUN);
        CHECK_EQ_INT(sw_query(S, slow[i][0], slow[i][1], &ctx, &r, &err), TN_OK);
        tn_val_free(&r);
    }
    tn_error_clear(&err);
}

/* Every query rejects unknown keys and ill-typed or out-of-range values. */
static void test_invalid_options(void) {
    static const char *const bad[][2] = {
        { "graph.stats", "{\"bogus\":1}" },
        { "graph.stats", "{\"as_of\":\"1990\"}" },
        { "graph.stats", "{\"as_of\":0}" },
        { "graph.stats", "{\"min_confidence\":\"certain\"}" },
        { "graph.stats", "{\"kind\":\"sister\"}" },
        { "graph.stats", "[1]" },
        { "node.get", NULL },
        { "node.get", "{\"id\":5}" },
        { "node.get", "{\"id\":\"CN\",\"x\":1}" },
        { "node.find", NULL },
        { "node.find", "{\"q\":\"a\",\"limit\":0}" },
        { "node.find", "{\"q\":\"a\",\"limit\":1001}" },
        { "node.find", "{\"q\":\"a\",\"kind\":\"town\"}" },
        { "node.find", "{\"q\":\"a\",\"limit\":2.5}" },
        { "node.neighbors", "{\"id\":\"CN\",\"kind\":\"all\"}" },
        { "node.neighbors", "{}" },
        { "pair.list", "{\"limit\":10001}" },
        { "pair.list", "{\"offset\":-1}" },
        { "pair.list", "{\"since_from\":\"x\"}" },
        { "pair.list", "{\"since_from\":2000,\"since_to\":1990}" },
        { "pair.list", "{\"kind\":\"any\",\"bogus\":true}" },
        { "pair.list", "{\"unit\":true}" },
        { "query.coverage", "{\"by\":\"planet\"}" },
        { "query.coverage", "{\"kind\":\"both\"}" },
        { "query.coverage", "{\"home\":1}" },
        { "query.coverage", "{\"deadline_ms\":-1}" },
        { "query.coverage", "{\"progress\":\"yes\"}" },
        { "query.gaps", "{\"limit\":0}" },
        { "query.gaps", "{\"region\":[]}" },
        { "query.gaps", "{\"by\":\"region\"}" },
        { "query.recommend", "{\"unit\":\"CN-430100\",\"top\":0}" },
        { "query.recommend", "{\"unit\":\"CN-430100\",\"kind\":\"sister\"}" },
        { "query.recommend", "{\"unit\":\"CN-430100\",\"as_of\":true}" },
        { "metrics.get", "{\"if_epoch\":\"x\"}" },
        { "metrics.get", "{\"as_of\":1990}" },
    };
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tn_code_t rc = sw_query(S, bad[i][0], bad[i][1], NULL, &r, &err);
        if (rc != TN_ERR_INVALID_PARAMS)
            fprintf(stderr, "  %s %s -> %s\n", bad[i][0], bad[i][1] ? bad[i][1] : "[]",
                    tn_code_name(rc));
        CHECK_EQ_INT(rc, TN_ERR_INVALID_PARAMS);
        CHECK(r.type == TN_V_NIL);
        CHECK(err.message[0] != '\0');
        tn_val_free(&r);
    }
    /* The slow queries accept (and ignore) what the service consumes. */
    CHECK_EQ_INT(sw_query(S, "query.gaps", "{\"deadline_ms\":500,\"progress\":true}", NULL, &r,
                          &err), TN_OK);
    tn_val_free(&r);
    tn_error_clear(&err);
}

/* An empty snapshot: every query answers without dividing by zero. */
static void test_empty(void) {
    tn_snap_t *e = sw_snap_from("{}", NULL, NULL);
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    static const char *const all[][2] = {
        { "graph.stats", NULL }, { "node.find", "{\"q\":\"\"}" }, { "pair.list", NULL },
        { "query.coverage", NULL }, { "query.coverage", "{\"by\":\"unit\"}" },
        { "query.gaps", NULL }, { "metrics.get", NULL },
    };
    for (size_t i = 0; e && i < sizeof all / sizeof all[0]; i++) {
        CHECK_EQ_INT(sw_query(e, all[i][0], all[i][1], NULL, &r, &err), TN_OK);
        tn_val_free(&r);
    }
    tn_snap_release(e);
}

int main(void) {
    S = sw_snap();
    if (S == NULL)
        return 1;
    RUN(test_stats);
    RUN(test_nodes);
    RUN(test_pair_list);
    RUN(test_coverage);
    RUN(test_gaps);
    RUN(test_metrics);
    RUN(test_stop);
    RUN(test_invalid_options);
    RUN(test_empty);
    tn_snap_release(S);
    return TEST_DONE();
}
