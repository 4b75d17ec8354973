/*
 * test_recommend.c -- query.recommend and query.plan on the hand-checked
 * world of data/small_world.h (scores worked out by hand from the formula
 * in graph/recommend.h), and on the built-in Hunan dataset with the China
 * peer data (datasets/china) imported on top.
 */
#include "data/small_world.h"
#include "dataset.h"
#include "csv.h"
#include "query_internal.h"
#include "test.h"

static tn_snap_t *S;

#define Q(name, opts) (tn_val_free(&r), sw_query(S, name, opts, NULL, &r, &err))
#define G(v, k) tn_map_get(v, k)
#define STR(v) tn_val_str(v)

static const tn_val_t *item_by(const tn_val_t *items, const char *key, const char *val) {
    for (size_t i = 0; i < sw_len(items); i++)
        if (STR(G(sw_at(items, i), key)) && strcmp(STR(G(sw_at(items, i), key)), val) == 0)
            return sw_at(items, i);
    return NULL;
}

static int has_reason(const tn_val_t *item, const char *text) {
    const tn_val_t *why = G(item, "reasons");
    for (size_t i = 0; i < sw_len(why); i++)
        if (strcmp(STR(sw_at(why, i)), text) == 0)
            return 1;
    return 0;
}

/* Changsha (a home unit): its own partners, Hunan's (its ancestor) and,
 * by default, every other Hunan unit's are left out. */
static void test_scores(void) {
    tn_val_t r = TN_VAL_NIL, again = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    /* CN's pairs abroad: JP 3, US 1, FR 2, KE 1 = 7; 7 country nodes. */
    double aff_ke = 1.1 / 7.7, aff_de = 0.1 / 7.7, aff_fr = 2.1 / 7.7;
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-430100\"}"), TN_OK);
    const tn_val_t *it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 2);
    CHECK_EQ_STR(STR(G(sw_at(it, 0), "id")), "KE-nairobi");
    /* RA 1/3 (Guangzhou, 3 partners) + 10 prior, gap x1.25, Belt and Road x1.1 */
    CHECK_NEAR(sw_num(G(sw_at(it, 0), "score")), (1.0 / 3 + 10 * aff_ke) * 1.25 * 1.1, 1e-12);
    CHECK_EQ_STR(STR(G(sw_at(it, 1), "id")), "DE-munich");
    CHECK_NEAR(sw_num(G(sw_at(it, 1), "score")), 10 * aff_de * 1.25, 1e-12);
    const tn_val_t *ke = sw_at(it, 0);
    CHECK(has_reason(ke, "partner of Guangzhou in China"));
    CHECK(has_reason(ke, "shares 1 partner with Changsha: Guangzhou"));
    CHECK(has_reason(ke, "Kenya: not yet covered by Hunan; 1 pair between China and Kenya "
                         "(14.3% of China's pairs abroad)"));
    CHECK(has_reason(ke, "Kenya is a Belt and Road partner"));
    CHECK_EQ_INT(sw_len(G(ke, "reasons")), 4);
    const tn_val_t *de = sw_at(it, 1);
    CHECK(has_reason(de, "Germany: not yet covered by Hunan; no pair between China and Germany yet"));
    CHECK_EQ_INT(sw_len(G(de, "reasons")), 2);   /* + "no link to the unit's network yet" */

    /* Deterministic. */
    CHECK_EQ_INT(sw_query(S, "query.recommend", "{\"unit\":\"CN-430100\"}", NULL, &again, &err),
                 TN_OK);
    CHECK(tn_val_equal(&r, &again));
    tn_val_free(&again);

    /* exclude_home false: Zhuzhou's partner Lyon comes back (and leads);
     * Hunan's partner Shiga and Changsha's own stay out. */
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-430100\",\"exclude_home\":false}"), TN_OK);
    it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 3);
    CHECK_EQ_STR(STR(G(sw_at(it, 0), "id")), "FR-lyon");
    CHECK_NEAR(sw_num(G(sw_at(it, 0), "score")), (1.0 / 3 + 10 * aff_fr) * 1.1, 1e-12);
    CHECK(has_reason(sw_at(it, 0), "partner of Zhuzhou and Guangzhou in China"));
    CHECK(has_reason(sw_at(it, 0), "France: Hunan has 1 pair there; 2 pairs between China and "
                                   "France (28.6% of China's pairs abroad)"));
    CHECK_EQ_STR(STR(G(sw_at(it, 1), "id")), "KE-nairobi");
    CHECK_EQ_STR(STR(G(sw_at(it, 2), "id")), "DE-munich");
    CHECK(item_by(it, "id", "JP-shiga") == NULL);
    CHECK(item_by(it, "id", "JP-otsu") == NULL);

    /* as_of 1989 keeps P1, P2 and the undated P4 only: Otsu is free again,
     * Nairobi and Munich rest on the (smoothed) country prior alone. */
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-430100\",\"as_of\":1989}"), TN_OK);
    it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 3);
    CHECK_EQ_STR(STR(G(sw_at(it, 0), "id")), "KE-nairobi");
    CHECK_NEAR(sw_num(G(sw_at(it, 0), "score")), 10 * (0.1 / 3.7) * 1.25 * 1.1, 1e-12);
    CHECK_EQ_STR(STR(G(sw_at(it, 1), "id")), "DE-munich");
    CHECK_NEAR(sw_num(G(sw_at(it, 1), "score")), 10 * (0.1 / 3.7) * 1.25, 1e-12);
    CHECK_EQ_STR(STR(G(sw_at(it, 2), "id")), "JP-otsu");
    CHECK_NEAR(sw_num(G(sw_at(it, 2), "score")), 10 * (1.1 / 3.7) * (0.01 / 1.12), 1e-12);
    tn_val_free(&r);
}

/* The family rule and the filters. */
static void test_filters(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    /* Hunan: every descendant's partner is out, with or without exclude_home. */
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-430000\",\"exclude_home\":false}"), TN_OK);
    const tn_val_t *it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 2);
    CHECK(item_by(it, "id", "KE-nairobi") != NULL);
    CHECK(item_by(it, "id", "DE-munich") != NULL);
    /* Yueyang: Hunan's partner Shiga (its ancestor's) is never offered. */
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-430600\",\"exclude_home\":false}"), TN_OK);
    CHECK(item_by(G(&r, "items"), "id", "JP-shiga") == NULL);
    CHECK(item_by(G(&r, "items"), "id", "FR-lyon") != NULL);
    /* Guangzhou is no home unit: exclude_home defaults to false. */
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-440100\"}"), TN_OK);
    it = G(&r, "items");
    CHECK_EQ_INT(sw_len(it), 4);                  /* Shiga, Otsu, Saint Paul, Munich */
    CHECK(item_by(it, "id", "JP-otsu") != NULL);
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-440100\",\"exclude_home\":true}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 4);      /* its home is Guangdong: nothing more */
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-440100\",\"kind\":\"province\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 1);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 0), "id")), "JP-shiga");
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-440100\",\"kind\":\"city\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 3);
    CHECK(item_by(G(&r, "items"), "id", "JP-shiga") == NULL);
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-440100\",\"tag\":\"EU\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 1);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 0), "id")), "DE-munich");
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-440100\",\"tag\":\"bri\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 0);      /* Lyon and Nairobi are its partners */
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-440100\",\"country\":\"jp\",\"top\":1}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 1);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 0), "country")), "JP");
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-440100\",\"region\":\"americas\"}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "items")), 1);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "items"), 0), "id")), "US-stpaul");
    /* A foreign unit gets Chinese candidates, never its own country's. */
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"KE-nairobi\",\"top\":100}"), TN_OK);
    it = G(&r, "items");
    CHECK(item_by(it, "id", "CN-430100") != NULL);
    CHECK(item_by(it, "id", "CN-440100") == NULL);
    for (size_t i = 0; i < sw_len(it); i++)
        CHECK(strcmp(STR(G(sw_at(it, i), "country")), "KE") != 0);

    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN\"}"), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"nowhere\"}"), TN_ERR_NOT_FOUND);
    CHECK_EQ_INT(Q("query.recommend", NULL), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-430100\",\"kind\":\"country\"}"),
                 TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-430100\",\"exclude_home\":1}"),
                 TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(Q("query.recommend", "{\"unit\":\"CN-430100\",\"tag\":7}"), TN_ERR_INVALID_PARAMS);
    tn_val_free(&r);
}

/* The plan of the header comment of graph/plan.c, worked by hand:
 * uncovered BR (no node), DE (Munich), KE (Nairobi, 1 peer pair). */
static void test_plan(void) {
    tn_val_t r = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(Q("query.plan", NULL), TN_OK);
    CHECK_EQ_STR(STR(G(&r, "unit")), "CN-430000");
    CHECK_EQ_STR(STR(G(&r, "target")), "all");
    CHECK_EQ_INT(sw_int(G(G(&r, "before"), "covered")), 3);
    CHECK_EQ_INT(sw_int(G(G(&r, "before"), "countries")), 6);
    CHECK_EQ_INT(sw_int(G(G(&r, "after"), "covered")), 5);
    CHECK_NEAR(sw_num(G(G(&r, "after"), "ratio")), 5.0 / 6, 1e-12);
    const tn_val_t *st = G(&r, "steps");
    CHECK_EQ_INT(sw_len(st), 3);                   /* budget 5, only 3 uncovered */
    /* 1: Kenya to idle Xiangtan (prior, gap, BRI, 1 peer pair). */
    CHECK_EQ_STR(STR(G(sw_at(st, 0), "country")), "KE");
    CHECK_EQ_STR(STR(G(sw_at(st, 0), "unit")), "CN-430300");
    CHECK_EQ_INT(sw_int(G(sw_at(st, 0), "peer_pairs")), 1);
    CHECK_EQ_STR(STR(G(sw_at(G(sw_at(st, 0), "candidates"), 0), "id")), "KE-nairobi");
    CHECK(has_reason(sw_at(st, 0), "Xiangtan has no partner abroad yet"));
    CHECK(has_reason(sw_at(st, 0), "Kenya is not yet covered by Hunan; 1 pair between China "
                                   "and Kenya outside it"));
    /* 2: Germany; every unit but Changsha now has load 1: lowest id wins. */
    CHECK_EQ_STR(STR(G(sw_at(st, 1), "country")), "DE");
    CHECK_EQ_STR(STR(G(sw_at(st, 1), "unit")), "CN-430000");
    /* 3: Brazil, where the data knows no city: no candidate, every value
     * 0, so the least loaded unit (Zhuzhou, Xiangtan, Yueyang: 1) by id. */
    CHECK_EQ_STR(STR(G(sw_at(st, 2), "country")), "BR");
    CHECK_EQ_STR(STR(G(sw_at(st, 2), "unit")), "CN-430200");
    CHECK(has_reason(sw_at(st, 2), "Zhuzhou has 1 pair abroad"));
    CHECK(has_reason(sw_at(st, 1), "Hunan has 1 pair abroad"));
    CHECK_EQ_INT(sw_len(G(sw_at(st, 2), "candidates")), 0);
    CHECK(has_reason(sw_at(st, 2), "no city or province of Brazil is known yet: look for one"));

    CHECK_EQ_INT(Q("query.plan", "{\"target\":\"bri\",\"budget\":1}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(G(&r, "before"), "covered")), 1);      /* FR of BR FR KE */
    CHECK_EQ_INT(sw_int(G(G(&r, "before"), "countries")), 3);
    CHECK_EQ_INT(sw_int(G(G(&r, "after"), "covered")), 2);
    CHECK_EQ_INT(sw_len(G(&r, "steps")), 1);
    CHECK_EQ_INT(Q("query.plan", "{\"target\":\"Western Europe\"}"), TN_OK);   /* a sub-region */
    CHECK_EQ_INT(sw_int(G(G(&r, "before"), "countries")), 2);
    CHECK_EQ_INT(sw_len(G(&r, "steps")), 1);
    CHECK_EQ_STR(STR(G(sw_at(G(&r, "steps"), 0), "unit")), "CN-430300");  /* idle first */
    CHECK_EQ_INT(Q("query.plan", "{\"target\":{\"countries\":[\"JP\",\"US\"]}}"), TN_OK);
    CHECK_EQ_INT(sw_len(G(&r, "steps")), 0);                      /* nothing uncovered */
    CHECK_EQ_INT(sw_int(G(G(&r, "after"), "covered")), 2);
    /* Another home: Changsha's units are Changsha alone. */
    CHECK_EQ_INT(Q("query.plan", "{\"unit\":\"CN-430100\",\"target\":\"europe\"}"), TN_OK);
    CHECK_EQ_INT(sw_int(G(G(&r, "before"), "covered")), 0);
    st = G(&r, "steps");
    CHECK_EQ_INT(sw_len(st), 2);
    for (size_t i = 0; i < sw_len(st); i++)
        CHECK_EQ_STR(STR(G(sw_at(st, i), "unit")), "CN-430100");

    static const char *const bad[] = {
        "{\"target\":\"nowhere\"}", "{\"target\":5}", "{\"target\":{\"countries\":[]}}",
        "{\"target\":{\"countries\":[\"XX\"]}}", "{\"target\":{\"countries\":[\"CN\"]}}",
        "{\"target\":{\"countries\":[\"KE\"],\"more\":1}}", "{\"target\":{\"countries\":[1]}}",
        "{\"budget\":0}", "{\"budget\":51}", "{\"unit\":\"JP\"}", "{\"kind\":\"sister\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(Q("query.plan", bad[i]), TN_ERR_INVALID_PARAMS);
        CHECK(r.type == TN_V_NIL);
    }
    CHECK_EQ_INT(Q("query.plan", "{\"unit\":\"nowhere\"}"), TN_ERR_NOT_FOUND);
    tn_val_free(&r);
}

/* "after" is what query.coverage reports once the steps' first candidates
 * are paired with their units. */
static void test_plan_after_is_coverage(void) {
    tn_val_t plan = TN_VAL_NIL, cov = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(sw_query(S, "query.plan", "{\"target\":\"bri\"}", NULL, &plan, &err), TN_OK);
    tn_model_t *m = tn_model_new(NULL);
    tn_val_t batch = sw_json(small_world_json), res = TN_VAL_NIL;
    CHECK_EQ_INT(tn_model_apply(m, TN_CHANGE_BATCH, &batch, &res, &err), TN_OK);
    tn_val_free(&batch);
    const tn_val_t *st = G(&plan, "steps");
    for (size_t i = 0; i < sw_len(st); i++) {
        const tn_val_t *c = sw_at(G(sw_at(st, i), "candidates"), 0);
        if (c == NULL)
            continue;
        char buf[256];
        snprintf(buf, sizeof buf, "{\"pair\":{\"a\":\"%s\",\"b\":\"%s\"}}",
                 STR(G(sw_at(st, i), "unit")), STR(G(c, "id")));
        tn_val_t p = sw_json(buf);
        tn_val_free(&res);
        CHECK_EQ_INT(tn_model_apply(m, TN_CHANGE_PAIR_UPSERT, &p, &res, &err), TN_OK);
        tn_val_free(&p);
    }
    tn_val_free(&res);
    tn_snap_t *after = tn_snap_new(m);
    CHECK(after != NULL && tn_snap_build(after, &err) == TN_OK);
    CHECK_EQ_INT(sw_query(after, "query.coverage", "{\"by\":\"tag\",\"tag\":\"bri\"}", NULL, &cov,
                          &err), TN_OK);
    const tn_val_t *g = sw_at(G(&cov, "items"), 0);
    CHECK_EQ_INT(sw_int(G(g, "covered")), sw_int(G(G(&plan, "after"), "covered")));
    CHECK_EQ_INT(sw_int(G(g, "countries")), sw_int(G(G(&plan, "after"), "countries")));
    tn_val_free(&cov);
    tn_val_free(&plan);
    tn_snap_release(after);
    tn_model_free(m);
    tn_error_clear(&err);
}

/* The whole of a small file, NUL-terminated; NULL when unreadable. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        buf = n >= 0 ? malloc((size_t) n + 1) : NULL;
        rewind(f);
        if (buf != NULL && fread(buf, 1, (size_t) n, f) == (size_t) n) {
            buf[n] = '\0';
            *len = (size_t) n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* Hunan with the other provinces' pairs: what a planner sees. */
static void test_hunan(void) {
    tn_error_t err = TN_ERROR_INIT;
    tn_model_t *m = tn_model_new(NULL);
    tn_val_t batch = TN_VAL_NIL, nodes = TN_VAL_NIL, pairs = TN_VAL_NIL, res = TN_VAL_NIL;
    size_t nl = 0, pl = 0;
    char *nb = slurp("../../datasets/china/nodes.csv", &nl), *pb = slurp("../../datasets/china/pairs.csv", &pl);
    CHECK(nb != NULL && pb != NULL);
    CHECK_EQ_INT(tn_dataset_load_builtin(m, &err), TN_OK);
    CHECK_EQ_INT(tn_csv_nodes(nb, nl, &nodes, &err), TN_OK);
    CHECK_EQ_INT(tn_csv_pairs(pb, pl, &pairs, &err), TN_OK);
    tn_val_set_map(&batch, 2);
    tn_map_add_take(&batch, "nodes", &nodes);
    tn_map_add_take(&batch, "pairs", &pairs);
    CHECK_EQ_INT(tn_model_apply(m, TN_CHANGE_BATCH, &batch, &res, &err), TN_OK);
    tn_val_free(&batch);
    tn_val_free(&res);
    free(nb);
    free(pb);
    tn_snap_t *s = tn_snap_new(m);
    CHECK(s != NULL && tn_snap_build(s, &err) == TN_OK);

    /* Hunan's partners (of any unit) are never offered to Hunan. */
    unsigned char *partner = calloc(s->nnodes, 1);
    for (size_t p = 0; p < s->npairs; p++) {
        if (s->is_unit[s->pa[p]])
            partner[s->pb[p]] = 1;
        if (s->is_unit[s->pb[p]])
            partner[s->pa[p]] = 1;
    }
    static const char *const units[] = { "CN-430000", "CN-430100", "CN-430681", "CN-431228" };
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        tn_val_t r = TN_VAL_NIL;
        char opts[96];
        snprintf(opts, sizeof opts, "{\"unit\":\"%s\",\"top\":10}", units[k]);
        CHECK_EQ_INT(sw_query(s, "query.recommend", opts, NULL, &r, &err), TN_OK);
        const tn_val_t *it = G(&r, "items");
        CHECK_EQ_INT(sw_len(it), 10);
        size_t distinct_scores = 0, reasons = 0, distinct_reasons = 0;
        for (size_t i = 0; i < sw_len(it); i++) {
            int64_t v = tn_snap_find(s, STR(G(sw_at(it, i), "id")));
            CHECK(v >= 0 && !partner[v]);
            CHECK(strcmp(STR(G(sw_at(it, i), "country")), "CN") != 0);
            double sc = sw_num(G(sw_at(it, i), "score"));
            if (i > 0) {
                double prev = sw_num(G(sw_at(it, i - 1), "score"));
                CHECK(prev >= sc);
                distinct_scores += prev != sc;
            }
            /* Reasons name evidence: no two items share all their reasons. */
            const tn_val_t *why = G(sw_at(it, i), "reasons");
            CHECK(sw_len(why) >= 2);
            for (size_t j = 0; j < sw_len(why); j++) {
                int seen = 0;
                for (size_t i2 = 0; i2 < i && !seen; i2++)
                    for (size_t j2 = 0; j2 < sw_len(G(sw_at(it, i2), "reasons")); j2++)
                        seen |= strcmp(STR(sw_at(why, j)),
                                       STR(sw_at(G(sw_at(it, i2), "reasons"), j2))) == 0;
                reasons++;
                distinct_reasons += !seen;
            }
        }
        CHECK(distinct_scores >= 8);                 /* scores separate the candidates */
        CHECK(distinct_reasons * 10 >= reasons * 7); /* at most 30% repeated lines */
        tn_val_free(&r);
    }
    /* A county-level city (Miluo, under Yueyang) is never offered Yueyang's
     * or Hunan's partners, even with exclude_home off. */
    tn_val_t r = TN_VAL_NIL;
    CHECK_EQ_INT(sw_query(s, "query.recommend", "{\"unit\":\"CN-430681\",\"top\":1000,"
                          "\"exclude_home\":false}", NULL, &r, &err), TN_OK);
    int64_t fam[] = { tn_snap_find(s, "CN-430681"), tn_snap_find(s, "CN-430600"),
                      tn_snap_find(s, "CN-430000") };
    for (size_t i = 0; i < sw_len(G(&r, "items")); i++) {
        int64_t v = tn_snap_find(s, STR(G(sw_at(G(&r, "items"), i), "id")));
        for (size_t p = s->adj_off[v]; p < s->adj_off[v + 1]; p++) {
            size_t q = s->adj_pair[p];
            for (int f = 0; f < 3; f++)
                CHECK(s->pa[q] != fam[f] && s->pb[q] != fam[f]);
        }
    }
    tn_val_free(&r);

    /* The BRI plan: distinct uncovered target countries, idle units first. */
    CHECK_EQ_INT(sw_query(s, "query.plan", "{\"target\":\"bri\",\"budget\":10}", NULL, &r, &err),
                 TN_OK);
    const tn_val_t *st = G(&r, "steps");
    CHECK_EQ_INT(sw_len(st), 10);
    tn_val_t cov = TN_VAL_NIL;
    CHECK_EQ_INT(sw_query(s, "query.coverage", "{\"by\":\"country\"}", NULL, &cov, &err), TN_OK);
    for (size_t i = 0; i < sw_len(st); i++) {
        const char *c = STR(G(sw_at(st, i), "country"));
        int64_t cv = tn_snap_find(s, c);
        CHECK(tn_q_has_tag(s->nodes[cv], "bri"));
        CHECK(item_by(G(&cov, "items"), "id", c) == NULL);          /* uncovered */
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(STR(G(sw_at(st, j), "country")), c) != 0);
        CHECK(sw_len(G(sw_at(st, i), "candidates")) <= 3);
        for (size_t k = 0; k < sw_len(G(sw_at(st, i), "candidates")); k++) {
            const tn_val_t *cd = sw_at(G(sw_at(st, i), "candidates"), k);
            int64_t v = tn_snap_find(s, STR(G(cd, "id")));
            CHECK(s->country_of[v] == cv);
        }
    }
    CHECK_EQ_INT(sw_int(G(G(&r, "after"), "covered")) - sw_int(G(G(&r, "before"), "covered")), 10);
    tn_val_free(&cov);
    tn_val_free(&r);
    free(partner);
    tn_snap_release(s);
    tn_model_free(m);
    tn_error_clear(&err);
}

int main(void) {
    S = sw_snap();
    if (S == NULL)
        return 1;
    RUN(test_scores);
    RUN(test_filters);
    RUN(test_plan);
    RUN(test_plan_after_is_coverage);
    RUN(test_hunan);
    tn_snap_release(S);
    return TEST_DONE();
}
