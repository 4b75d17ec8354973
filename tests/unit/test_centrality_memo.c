/*
 * test_centrality_memo.c -- query.centrality reuses raw scores across
 * report options (top, kind, country, normalized) but never across
 * snapshots, metric options or pair filters; and the memo carried from
 * one process's snapshot to another's (tn_centrality_memo_*), as the
 * service's worker processes do.
 */
#include <stdio.h>

#include "centrality.h"
#include "igraph_bridge.h"
#include "model.h"
#include "query.h"
#include "snap.h"
#include "test.h"

static void add(tn_model_t *m, tn_change_kind_t method, const char *key, tn_val_t rec) {
    tn_val_t opts = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_val_set_map(&opts, 1);
    tn_map_add_take(&opts, key, &rec);
    CHECK_EQ_INT(tn_model_apply(m, method, &opts, NULL, &err), TN_OK);
    tn_val_free(&opts);
}

static void japan(tn_model_t *m) {
    tn_val_t v = TN_VAL_NIL;
    tn_val_set_map(&v, 3);
    tn_map_add_str(&v, "id", "JP");
    tn_map_add_str(&v, "kind", "country");
    tn_map_add_str(&v, "name", "Japan");
    add(m, TN_CHANGE_NODE_UPSERT, "node", v);
}

static void city(tn_model_t *m, const char *id) {
    tn_val_t v = TN_VAL_NIL;
    tn_val_set_map(&v, 4);
    tn_map_add_str(&v, "id", id);
    tn_map_add_str(&v, "kind", "city");
    tn_map_add_str(&v, "name", id);
    tn_map_add_str(&v, "country", "JP");
    add(m, TN_CHANGE_NODE_UPSERT, "node", v);
}

/* A model with Japan and the cities JP-<letter> (igraph ready). */
static tn_model_t *japan_cities(const char *letters) {
    tn_igraph_setup();
    tn_model_t *m = tn_model_new(NULL);
    japan(m);
    for (const char *l = letters; *l; l++) {
        char id[8] = "JP-";
        id[3] = *l;
        city(m, id);
    }
    return m;
}

static void pair(tn_model_t *m, const char *a, const char *b, int since) {
    tn_val_t v = TN_VAL_NIL;
    tn_val_set_map(&v, 3);
    tn_map_add_str(&v, "a", a);
    tn_map_add_str(&v, "b", b);
    if (since)
        tn_map_add_int(&v, "since", since);
    add(m, TN_CHANGE_PAIR_UPSERT, "pair", v);
}

static tn_snap_t *snap_of(tn_model_t *m) {
    tn_error_t err = TN_ERROR_INIT;
    tn_snap_t *s = tn_snap_new(m);
    CHECK(s != NULL);
    CHECK_EQ_INT(tn_snap_build(s, &err), TN_OK);
    return s;
}

static tn_val_t copts(const char *metric, int top, int as_of, int normalized) {
    tn_val_t opts = TN_VAL_NIL;
    tn_val_set_map(&opts, 4);
    tn_map_add_str(&opts, "metric", metric);
    tn_map_add_int(&opts, "top", top);
    if (as_of)
        tn_map_add_int(&opts, "as_of", as_of);
    if (normalized)
        tn_map_add_bool(&opts, "normalized", 1);
    return opts;
}

/* The score of 'id' in a betweenness query with the given extra options. */
static double score(tn_snap_t *s, const char *id, int top, int as_of, int normalized) {
    tn_val_t opts = copts("betweenness", top, as_of, normalized), out = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_qctx_t ctx = { NULL, NULL, NULL };
    CHECK_EQ_INT(tn_query_run(tn_query_find("query.centrality"), s, &opts, &ctx, &out, &err), TN_OK);
    double sc = -1;
    const tn_val_t *items = tn_map_get(&out, "items");
    for (size_t i = 0; items && i < items->u.a.n; i++)
        if (tn_val_str(tn_map_get(&items->u.a.items[i], "id"))
            && !strcmp(tn_val_str(tn_map_get(&items->u.a.items[i], "id")), id))
            tn_val_as_num(tn_map_get(&items->u.a.items[i], "score"), &sc);
    tn_val_free(&opts);
    tn_val_free(&out);
    return sc;
}

static void test_memo(void) {
    /* A path a - b - c - d; b and c carry the paths. */
    tn_model_t *m = japan_cities("abcd");
    pair(m, "JP-a", "JP-b", 2000);
    pair(m, "JP-b", "JP-c", 2000);
    pair(m, "JP-c", "JP-d", 2010);
    tn_snap_t *s1 = snap_of(m);
    CHECK_EQ_INT(tn_q_centrality_computed(s1), 0);
    CHECK_NEAR(score(s1, "JP-b", 20, 0, 0), 2.0, 1e-12);
    CHECK_EQ_INT(tn_q_centrality_computed(s1), 1);
    /* Report options reuse the scores (no new computation) and still
     * shape the answer. */
    CHECK_NEAR(score(s1, "JP-b", 1, 0, 0), 2.0, 1e-12);
    CHECK_NEAR(score(s1, "JP-b", 20, 0, 1), 2.0 / 3.0, 1e-12);   /* (n-1)(n-2)/2 = 3 */
    CHECK_EQ_INT(tn_q_centrality_computed(s1), 1);
    /* A pair filter is part of the key: without the 2010 pair, c is a leaf. */
    CHECK_NEAR(score(s1, "JP-c", 20, 2005, 0), 0.0, 1e-12);
    CHECK_EQ_INT(tn_q_centrality_computed(s1), 2);
    CHECK_NEAR(score(s1, "JP-c", 20, 0, 0), 2.0, 1e-12);
    CHECK_NEAR(score(s1, "JP-c", 20, 2005, 1), 0.0, 1e-12);
    CHECK_EQ_INT(tn_q_centrality_computed(s1), 2);
    /* A new snapshot is never answered from an old one's scores: the memo
     * belongs to its snapshot. */
    pair(m, "JP-a", "JP-d", 0);                                  /* a ring: all equal */
    tn_snap_t *s2 = snap_of(m);
    CHECK_NEAR(score(s2, "JP-b", 20, 0, 0), 0.5, 1e-12);
    CHECK_EQ_INT(tn_q_centrality_computed(s2), 1);
    CHECK_NEAR(score(s1, "JP-b", 20, 0, 0), 2.0, 1e-12);
    CHECK_EQ_INT(tn_q_centrality_computed(s1), 2);
    tn_snap_release(s1);
    tn_snap_release(s2);
    tn_model_free(m);
}

/* Scores computed on one snapshot (a worker's copy) and imported into
 * another of the same model state (the daemon's) answer every report
 * option there exactly as computing would, and count as one computation. */
static void test_memo_across_processes(void) {
    tn_model_t *m = japan_cities("abc");
    pair(m, "JP-a", "JP-b", 2000);
    pair(m, "JP-b", "JP-c", 2010);
    tn_snap_t *worker = snap_of(m), *daemon = snap_of(m);
    tn_val_t o20 = copts("betweenness", 20, 0, 0), o1n = copts("betweenness", 1, 0, 1);
    tn_val_t o2005 = copts("betweenness", 20, 2005, 0), deg = copts("degree", 20, 0, 0);
    tn_val_t out = TN_VAL_NIL, want = TN_VAL_NIL;
    tn_cmemo_t e;

    CHECK_EQ_INT(tn_centrality_memo_answer(daemon, &o20, &out), 0);     /* nothing kept */
    CHECK_EQ_INT(tn_centrality_memo_export(worker, &o20, &e), 0);
    CHECK_NEAR(score(worker, "JP-b", 20, 0, 0), 1.0, 1e-12);
    CHECK_EQ_INT(tn_centrality_memo_export(worker, &o20, &e), 1);
    CHECK_EQ_INT(e.n, 3);
    CHECK_EQ_INT(tn_centrality_memo_import(daemon, &o20, &e), 1);
    CHECK_EQ_INT(tn_q_centrality_computed(daemon), 1);

    /* Another top and normalized: the same answer tn_query_run gives. */
    tn_error_t err = TN_ERROR_INIT;
    tn_qctx_t ctx = { NULL, NULL, NULL };
    CHECK_EQ_INT(tn_centrality_memo_answer(daemon, &o1n, &out), 1);
    CHECK_EQ_INT(tn_query_run(tn_query_find("query.centrality"), worker, &o1n, &ctx, &want, &err),
                 TN_OK);
    CHECK(tn_val_equal(&out, &want));
    CHECK_EQ_INT(tn_q_centrality_computed(daemon), 1);
    /* A pair filter is part of the key; degree has no memo. */
    tn_val_free(&out);
    CHECK_EQ_INT(tn_centrality_memo_answer(daemon, &o2005, &out), 0);
    CHECK_EQ_INT(tn_centrality_memo_export(worker, &deg, &e), 0);
    /* Vertices that are not the snapshot's are refused. */
    CHECK_EQ_INT(tn_centrality_memo_export(worker, &o20, &e), 1);
    int64_t bad[3] = { 0, 1, 99 };
    e.gv = bad;
    CHECK_EQ_INT(tn_centrality_memo_import(daemon, &o2005, &e), -1);
    CHECK_EQ_INT(tn_centrality_memo_answer(daemon, &o2005, &out), 0);

    tn_val_free(&deg);
    tn_val_free(&out);
    tn_val_free(&want);
    tn_val_free(&o20);
    tn_val_free(&o1n);
    tn_val_free(&o2005);
    tn_snap_release(worker);
    tn_snap_release(daemon);
    tn_model_free(m);
}

int main(void) {
    RUN(test_memo);
    RUN(test_memo_across_processes);
    return TEST_DONE();
}
