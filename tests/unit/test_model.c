/*
 * test_model.c -- the live model: validation, atomic changes, deletes,
 * batches (upsert, replace, dry run) and the epoch rules.
 */
#include "model.h"
#include "test.h"

static tn_val_t node(const char *id, const char *kind, const char *country, const char *parent) {
    tn_val_t v = TN_VAL_NIL;
    tn_val_set_map(&v, 6);
    tn_map_add_str(&v, "id", id);
    tn_map_add_str(&v, "kind", kind);
    tn_map_add_str(&v, "name", id);
    if (country)
        tn_map_add_str(&v, "country", country);
    if (parent)
        tn_map_add_str(&v, "parent", parent);
    return v;
}

static tn_val_t pair(const char *a, const char *b, int since) {
    tn_val_t v = TN_VAL_NIL;
    tn_val_set_map(&v, 4);
    tn_map_add_str(&v, "a", a);
    tn_map_add_str(&v, "b", b);
    if (since)
        tn_map_add_int(&v, "since", since);
    return v;
}

/* {key: rec} for the single-record methods. */
static tn_code_t single(tn_model_t *m, tn_change_kind_t method, const char *key, tn_val_t rec,
                        tn_error_t *err) {
    tn_val_t opts = TN_VAL_NIL;
    tn_val_set_map(&opts, 1);
    tn_map_add_take(&opts, key, &rec);
    tn_error_clear(err);
    tn_code_t rc = tn_model_apply(m, method, &opts, NULL, err);
    tn_val_free(&opts);
    return rc;
}

static tn_model_t *small_model(void) {
    tn_model_t *m = tn_model_new(NULL);
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("CN", "country", NULL, NULL), &err), TN_OK);
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("JP", "country", NULL, NULL), &err), TN_OK);
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("CN-430000", "province", "CN", NULL), &err), TN_OK);
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("CN-430100", "city", "CN", "CN-430000"), &err), TN_OK);
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("JP-shiga", "province", "JP", NULL), &err), TN_OK);
    CHECK_EQ_INT(single(m, TN_CHANGE_PAIR_UPSERT, "pair", pair("CN-430000", "JP-shiga", 1983), &err), TN_OK);
    tn_error_clear(&err);
    return m;
}

static void test_basic_upserts(void) {
    tn_model_t *m = small_model();
    CHECK_EQ_INT(tn_model_epoch(m), 6);
    CHECK_EQ_INT(tn_model_node_count(m), 5);
    CHECK_EQ_INT(tn_model_pair_count(m), 1);
    const tn_pair_t *p = tn_model_pair(m, "JP-shiga", "CN-430000");   /* unordered */
    CHECK(p != NULL);
    CHECK_EQ_INT(p->since_year, 1983);
    CHECK_EQ_INT(p->confidence, TN_CONF_HIGH);
    tn_pair_t *const *ps;
    CHECK_EQ_INT(tn_model_node_pairs(m, "JP-shiga", &ps), 1);
    /* Upserting the same pair in the other order replaces, not duplicates. */
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(single(m, TN_CHANGE_PAIR_UPSERT, "pair", pair("JP-shiga", "CN-430000", 1984), &err), TN_OK);
    CHECK_EQ_INT(tn_model_pair_count(m), 1);
    CHECK_EQ_INT(tn_model_pair(m, "CN-430000", "JP-shiga")->since_year, 1984);
    CHECK_EQ_INT(tn_model_node_pairs(m, "CN-430000", &ps), 1);
    CHECK(ps[0] == tn_model_pair(m, "CN-430000", "JP-shiga"));
    tn_error_clear(&err);
    tn_model_free(m);
}

static void test_errors_change_nothing(void) {
    tn_model_t *m = small_model();
    tn_error_t err = TN_ERROR_INIT;
    uint64_t e = tn_model_epoch(m);
    CHECK_EQ_INT(single(m, TN_CHANGE_PAIR_UPSERT, "pair", pair("CN-430100", "XX-nowhere", 0), &err), TN_ERR_NOT_FOUND);
    CHECK_EQ_INT(single(m, TN_CHANGE_PAIR_UPSERT, "pair", pair("CN-430100", "JP", 0), &err), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(single(m, TN_CHANGE_PAIR_UPSERT, "pair", pair("CN-430100", "CN-430100", 0), &err), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("FR-paris", "city", "FR", NULL), &err), TN_ERR_NOT_FOUND);
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("Japan", "country", NULL, NULL), &err), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("JP-x", "city", "JP", "CN-430000"), &err), TN_ERR_CONFLICT);
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("JP-x", "town", "JP", NULL), &err), TN_ERR_INVALID_PARAMS);
    /* A parent cycle: the province under its own city. */
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("CN-430000", "province", "CN", "CN-430100"), &err), TN_ERR_CONFLICT);
    /* A country with provinces under it cannot stop being a country. */
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("JP", "province", "CN", NULL), &err), TN_ERR_CONFLICT);
    /* Bad dates and unknown fields. */
    tn_val_t p = pair("CN-430100", "JP-shiga", 0);
    tn_map_add_str(&p, "since", "2019-13");
    CHECK_EQ_INT(single(m, TN_CHANGE_PAIR_UPSERT, "pair", p, &err), TN_ERR_INVALID_PARAMS);
    p = pair("CN-430100", "JP-shiga", 0);
    tn_map_add_str(&p, "colour", "red");
    CHECK_EQ_INT(single(m, TN_CHANGE_PAIR_UPSERT, "pair", p, &err), TN_ERR_INVALID_PARAMS);
    p = pair("CN-430100", "JP-shiga", 0);
    tn_map_add_str(&p, "name", "\x01");
    CHECK_EQ_INT(single(m, TN_CHANGE_PAIR_UPSERT, "pair", p, &err), TN_ERR_INVALID_PARAMS);
    tn_val_t n = node("JP-y", "city", "JP", NULL);
    tn_map_add_str(&n, "name_zh", "\xc3\x28");   /* invalid UTF-8 */
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", n, &err), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(tn_model_epoch(m), e);
    CHECK_EQ_INT(tn_model_node_count(m), 5);
    CHECK_EQ_INT(tn_model_pair_count(m), 1);
    tn_error_clear(&err);
    tn_model_free(m);
}

static tn_code_t del(tn_model_t *m, tn_change_kind_t method, const char *k1, const char *v1,
                     const char *k2, const char *v2, int cascade, tn_error_t *err) {
    tn_val_t opts = TN_VAL_NIL;
    tn_val_set_map(&opts, 2);
    tn_map_add_str(&opts, k1, v1);
    if (k2)
        tn_map_add_str(&opts, k2, v2);
    if (cascade)
        tn_map_add_bool(&opts, "cascade", 1);
    tn_error_clear(err);
    tn_code_t rc = tn_model_apply(m, method, &opts, NULL, err);
    tn_val_free(&opts);
    return rc;
}

static void test_deletes(void) {
    tn_model_t *m = small_model();
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(del(m, TN_CHANGE_NODE_DELETE, "id", "JP-shiga", NULL, NULL, 0, &err), TN_ERR_CONFLICT);
    CHECK_EQ_INT(del(m, TN_CHANGE_NODE_DELETE, "id", "CN-430000", NULL, NULL, 1, &err), TN_ERR_CONFLICT); /* a parent */
    CHECK_EQ_INT(del(m, TN_CHANGE_NODE_DELETE, "id", "nope", NULL, NULL, 0, &err), TN_ERR_NOT_FOUND);
    CHECK_EQ_INT(del(m, TN_CHANGE_PAIR_DELETE, "a", "CN-430100", "b", "JP-shiga", 0, &err), TN_ERR_NOT_FOUND);
    CHECK_EQ_INT(tn_model_pair_count(m), 1);
    CHECK_EQ_INT(del(m, TN_CHANGE_NODE_DELETE, "id", "JP-shiga", NULL, NULL, 1, &err), TN_OK);
    CHECK_EQ_INT(tn_model_pair_count(m), 0);
    CHECK_EQ_INT(tn_model_node_count(m), 4);
    CHECK(tn_model_node(m, "JP-shiga") == NULL);
    tn_pair_t *const *ps;
    CHECK_EQ_INT(tn_model_node_pairs(m, "CN-430000", &ps), 0);
    CHECK(tn_model_node(m, "CN-430100") != NULL);   /* swap-removal kept the index right */
    CHECK(tn_model_node(m, "CN") != NULL);
    CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node("JP-kyoto", "city", "JP", NULL), &err), TN_OK);
    CHECK_EQ_INT(single(m, TN_CHANGE_PAIR_UPSERT, "pair", pair("JP-kyoto", "CN-430100", 0), &err), TN_OK);
    CHECK_EQ_INT(del(m, TN_CHANGE_PAIR_DELETE, "a", "CN-430100", "b", "JP-kyoto", 0, &err), TN_OK);
    CHECK_EQ_INT(tn_model_pair_count(m), 0);
    tn_error_clear(&err);
    tn_model_free(m);
}

static tn_code_t batch(tn_model_t *m, tn_val_t nodes, tn_val_t pairs, const char *mode, int dry,
                       tn_val_t *res, tn_error_t *err) {
    tn_val_t opts = TN_VAL_NIL;
    tn_val_set_map(&opts, 4);
    tn_map_add_take(&opts, "nodes", &nodes);
    tn_map_add_take(&opts, "pairs", &pairs);
    if (mode)
        tn_map_add_str(&opts, "mode", mode);
    if (dry)
        tn_map_add_bool(&opts, "dry_run", 1);
    tn_error_clear(err);
    tn_code_t rc = tn_model_apply(m, TN_CHANGE_BATCH, &opts, res, err);
    tn_val_free(&opts);
    return rc;
}

static int64_t geti(const tn_val_t *v, const char *k) {
    int64_t i = -1;
    tn_val_as_int(tn_map_get(v, k), &i);
    return i;
}

static void test_batch(void) {
    tn_model_t *m = small_model();
    tn_error_t err = TN_ERROR_INIT;
    tn_val_t res = TN_VAL_NIL, nodes = TN_VAL_NIL, pairs = TN_VAL_NIL;

    /* Pairs may reference nodes of the same batch; a parent may come later. */
    tn_val_set_arr(&nodes, 3);
    tn_val_t t = node("JP-otsu", "city", "JP", "JP-shiga2");
    tn_arr_push_take(&nodes, &t);
    t = node("JP-shiga2", "province", "JP", NULL);
    tn_arr_push_take(&nodes, &t);
    t = node("JP-shiga", "province", "JP", NULL);          /* unchanged */
    tn_arr_push_take(&nodes, &t);
    tn_val_set_arr(&pairs, 2);
    t = pair("CN-430100", "JP-otsu", 2001);
    tn_arr_push_take(&pairs, &t);
    t = pair("CN-430000", "JP-shiga", 1990);                /* updated */
    tn_arr_push_take(&pairs, &t);
    CHECK_EQ_INT(batch(m, nodes, pairs, NULL, 0, &res, &err), TN_OK);
    CHECK_EQ_INT(geti(&res, "nodes_added"), 2);
    CHECK_EQ_INT(geti(&res, "nodes_unchanged"), 1);
    CHECK_EQ_INT(geti(&res, "pairs_added"), 1);
    CHECK_EQ_INT(geti(&res, "pairs_updated"), 1);
    CHECK_EQ_INT(geti(&res, "epoch"), 7);
    CHECK_EQ_INT(tn_model_pair_count(m), 2);
    tn_pair_t *const *ps;
    CHECK_EQ_INT(tn_model_node_pairs(m, "JP-otsu", &ps), 1);
    tn_val_free(&res);

    /* One bad record: nothing applied, every bad record named. */
    tn_val_set_arr(&nodes, 2);
    t = node("JP-a", "city", "JP", NULL);
    tn_arr_push_take(&nodes, &t);
    t = node("JP-b", "city", "ZZ", NULL);
    tn_arr_push_take(&nodes, &t);
    tn_val_set_arr(&pairs, 3);
    t = pair("JP-a", "CN-430100", 0);
    tn_arr_push_take(&pairs, &t);
    t = pair("JP-a", "nowhere", 0);
    tn_arr_push_take(&pairs, &t);
    t = pair("CN-430100", "JP-a", 0);                       /* duplicate of [0] */
    tn_arr_push_take(&pairs, &t);
    CHECK_EQ_INT(batch(m, nodes, pairs, NULL, 0, &res, &err), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(err.data.type, TN_V_ARR);
    CHECK_EQ_INT(err.data.u.a.n, 3);
    CHECK_EQ_INT(geti(&err.data.u.a.items[0], "index"), 1);
    CHECK_EQ_STR(tn_val_str(tn_map_get(&err.data.u.a.items[0], "field")), "nodes.country");
    CHECK_EQ_STR(tn_val_str(tn_map_get(&err.data.u.a.items[1], "field")), "pairs.b");
    CHECK_EQ_INT(geti(&err.data.u.a.items[2], "index"), 2);
    CHECK(tn_model_node(m, "JP-a") == NULL);
    CHECK_EQ_INT(tn_model_epoch(m), 7);

    /* Indices name positions in the request, also after a record that
     * failed its own checks (and so was never staged). */
    tn_val_set_arr(&nodes, 2);
    t = node("JP-q1", "town", "JP", NULL);
    tn_arr_push_take(&nodes, &t);
    t = node("JP-q2", "city", "ZZ", NULL);
    tn_arr_push_take(&nodes, &t);
    tn_val_set_arr(&pairs, 0);
    CHECK_EQ_INT(batch(m, nodes, pairs, NULL, 0, &res, &err), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(err.data.u.a.n, 2);
    CHECK_EQ_INT(geti(&err.data.u.a.items[0], "index"), 0);
    CHECK_EQ_STR(tn_val_str(tn_map_get(&err.data.u.a.items[0], "field")), "nodes.kind");
    CHECK_EQ_INT(geti(&err.data.u.a.items[1], "index"), 1);
    CHECK_EQ_STR(tn_val_str(tn_map_get(&err.data.u.a.items[1], "field")), "nodes.country");

    /* Dry run: counts, no change, no epoch. */
    tn_val_set_arr(&nodes, 1);
    t = node("JP-c", "city", "JP", NULL);
    tn_arr_push_take(&nodes, &t);
    tn_val_set_arr(&pairs, 0);
    CHECK_EQ_INT(batch(m, nodes, pairs, NULL, 1, &res, &err), TN_OK);
    CHECK_EQ_INT(geti(&res, "nodes_added"), 1);
    CHECK_EQ_INT(geti(&res, "epoch"), 7);
    CHECK(tn_model_node(m, "JP-c") == NULL);
    tn_val_free(&res);

    /* Replace: the graph becomes exactly the batch. */
    tn_val_set_arr(&nodes, 3);
    t = node("CN", "country", NULL, NULL);
    tn_arr_push_take(&nodes, &t);
    t = node("CN-430000", "province", "CN", NULL);
    tn_arr_push_take(&nodes, &t);
    t = node("CN-440000", "province", "CN", NULL);
    tn_arr_push_take(&nodes, &t);
    tn_val_set_arr(&pairs, 1);
    t = pair("CN-430000", "CN-440000", 0);
    tn_arr_push_take(&pairs, &t);
    CHECK_EQ_INT(batch(m, nodes, pairs, "replace", 0, &res, &err), TN_OK);
    CHECK_EQ_INT(tn_model_node_count(m), 3);
    CHECK_EQ_INT(tn_model_pair_count(m), 1);
    CHECK_EQ_INT(geti(&res, "nodes_removed"), 5);
    CHECK_EQ_INT(geti(&res, "pairs_removed"), 2);
    CHECK(tn_model_node(m, "JP") == NULL);
    CHECK_EQ_INT(tn_model_node_pairs(m, "CN-440000", &ps), 1);
    CHECK_EQ_INT(tn_model_epoch(m), 8);
    tn_val_free(&res);
    tn_error_clear(&err);
    tn_model_free(m);
}

/* Many inserts and deletes keep hash, arrays and adjacency consistent. */
static void test_churn(void) {
    tn_model_t *m = small_model();
    tn_error_t err = TN_ERROR_INIT;
    char id[32];
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "JP-c%d", i);
        CHECK_EQ_INT(single(m, TN_CHANGE_NODE_UPSERT, "node", node(id, "city", "JP", NULL), &err), TN_OK);
        CHECK_EQ_INT(single(m, TN_CHANGE_PAIR_UPSERT, "pair", pair(id, "CN-430100", 0), &err), TN_OK);
    }
    for (int i = 0; i < 500; i += 2) {
        snprintf(id, sizeof id, "JP-c%d", i);
        CHECK_EQ_INT(del(m, TN_CHANGE_NODE_DELETE, "id", id, NULL, NULL, 1, &err), TN_OK);
    }
    tn_pair_t *const *ps;
    CHECK_EQ_INT(tn_model_node_pairs(m, "CN-430100", &ps), 250);
    CHECK_EQ_INT(tn_model_pair_count(m), 251);
    for (int i = 1; i < 500; i += 2) {
        snprintf(id, sizeof id, "JP-c%d", i);
        CHECK(tn_model_pair(m, id, "CN-430100") != NULL);
        CHECK_EQ_INT(tn_model_node_pairs(m, id, &ps), 1);
    }
    tn_error_clear(&err);
    tn_model_free(m);
}

int main(void) {
    RUN(test_basic_upserts);
    RUN(test_errors_change_nothing);
    RUN(test_deletes);
    RUN(test_batch);
    RUN(test_churn);
    return TEST_DONE();
}
