/*
 * test_snap_line.c -- a line of published snapshots (snap.h): every
 * derived snapshot must equal the one a full build of the same model
 * gives, field by field; old snapshots must stay readable while changes
 * go on (AddressSanitizer runs this too, so a record freed too early is
 * a failure); dropped records must be freed once no snapshot can read
 * them; and a replace import or a lost log must rebuild.
 */
#include <stdint.h>

#include "data/small_world.h"
#include "test.h"

static uint64_t rng = 88172645463325252ULL;

static unsigned rnd(unsigned n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned) (rng % n);
}

/* Compare a published snapshot with a fresh full build of the model. */
static void check_same_as_full_build(const tn_snap_t *s, const tn_model_t *m) {
    tn_error_t err = TN_ERROR_INIT;
    tn_snap_t *f = tn_snap_new(m);
    CHECK(f != NULL && tn_snap_build(f, &err) == TN_OK);
    if (f == NULL || !f->built)
        return;
    CHECK(s->built);
    CHECK_EQ_INT(s->epoch, f->epoch);
    CHECK_EQ_INT(s->nnodes, f->nnodes);
    CHECK_EQ_INT(s->npairs, f->npairs);
    CHECK_EQ_INT(s->home_idx, f->home_idx);
    if (s->nnodes != f->nnodes || s->npairs != f->npairs) {
        tn_snap_release(f);
        return;
    }
    int nodes_same = 1, pairs_same = 1, ends_same = 1, csr_same = 1, index_same = 1;
    for (size_t v = 0; v < s->nnodes; v++) {
        nodes_same &= s->nodes[v] == f->nodes[v] && s->country_of[v] == f->country_of[v]
                      && s->is_unit[v] == f->is_unit[v];
        index_same &= tn_snap_find(s, f->nodes[v]->id) == (int64_t) v;
    }
    for (size_t i = 0; i < s->npairs; i++) {
        pairs_same &= s->pairs[i] == f->pairs[i];
        ends_same &= s->pa[i] == f->pa[i] && s->pb[i] == f->pb[i];
    }
    for (size_t v = 0; v <= s->nnodes; v++)
        csr_same &= s->adj_off[v] == f->adj_off[v];
    for (size_t k = 0; k < 2 * s->npairs; k++)
        csr_same &= s->adj_pair[k] == f->adj_pair[k];
    CHECK(nodes_same);
    CHECK(index_same);
    CHECK(pairs_same);
    CHECK(ends_same);
    CHECK(csr_same);
    CHECK_EQ_INT(tn_snap_find(s, "XX-nowhere"), -1);
    tn_snap_release(f);
}

/* What a kept snapshot held when it was published, to read it again
 * later: every id and key must still be there, byte for byte. */
typedef struct kept {
    tn_snap_t *s;
    char **text;
    size_t n;
} kept_t;

static void keep(kept_t *k, tn_snap_t *s) {
    k->s = tn_snap_retain(s);
    k->n = s->nnodes + s->npairs;
    k->text = calloc(k->n ? k->n : 1, sizeof *k->text);
    for (size_t v = 0; v < s->nnodes; v++)
        k->text[v] = strdup(s->nodes[v]->name ? s->nodes[v]->name : s->nodes[v]->id);
    for (size_t i = 0; i < s->npairs; i++)
        k->text[s->nnodes + i] = strdup(s->pairs[i]->key);
}

static int still_readable(const kept_t *k) {
    const tn_snap_t *s = k->s;
    int ok = 1;
    for (size_t v = 0; v < s->nnodes; v++)
        ok &= strcmp(k->text[v], s->nodes[v]->name ? s->nodes[v]->name : s->nodes[v]->id) == 0;
    for (size_t i = 0; i < s->npairs; i++)
        ok &= strcmp(k->text[s->nnodes + i], s->pairs[i]->key) == 0;
    return ok;
}

static void unkeep(kept_t *k) {
    for (size_t i = 0; i < k->n; i++)
        free(k->text[i]);
    free(k->text);
    tn_snap_release(k->s);
    k->s = NULL;
}

#define NCITY 60

static const char *const countries[] = { "AA", "BB", "CC", "DD" };

/* One random change (it may be refused: a delete of a node still paired
 * without cascade, a parent that does not exist yet). */
static void random_change(tn_model_t *m) {
    char buf[512];
    tn_change_kind_t kind;
    int c = rnd(4), x = rnd(NCITY), y = rnd(NCITY), op = rnd(10);
    if (op < 4) {
        kind = TN_CHANGE_PAIR_UPSERT;
        snprintf(buf, sizeof buf,
                 "{\"pair\":{\"a\":\"C%02d\",\"b\":\"C%02d\",\"kind\":\"%s\",\"since\":%d}}", x, y,
                 rnd(2) ? "sister" : "friendly", 1980 + (int) rnd(40));
    } else if (op < 6) {
        kind = TN_CHANGE_PAIR_DELETE;
        snprintf(buf, sizeof buf, "{\"a\":\"C%02d\",\"b\":\"C%02d\"}", x, y);
    } else if (op < 8) {
        kind = TN_CHANGE_NODE_UPSERT;
        /* Names change, countries move, parents come and go: the unit
         * marks and country indices must follow. */
        if (rnd(3) == 0)
            snprintf(buf, sizeof buf,
                     "{\"node\":{\"id\":\"C%02d\",\"kind\":\"city\",\"name\":\"city %d v%u\","
                     "\"country\":\"%s\",\"parent\":\"P%s\"}}", x, x, rnd(100), countries[c],
                     countries[c]);
        else
            snprintf(buf, sizeof buf,
                     "{\"node\":{\"id\":\"C%02d\",\"kind\":\"city\",\"name\":\"city %d v%u\","
                     "\"country\":\"%s\"}}", x, x, rnd(100), countries[c]);
    } else if (op < 9) {
        kind = TN_CHANGE_NODE_DELETE;
        snprintf(buf, sizeof buf, "{\"id\":\"C%02d\",\"cascade\":true}", x);
    } else {
        kind = TN_CHANGE_BATCH;
        snprintf(buf, sizeof buf,
                 "{\"nodes\":[{\"id\":\"C%02d\",\"kind\":\"city\",\"name\":\"c\",\"country\":\"%s\"}],"
                 "\"pairs\":[{\"a\":\"C%02d\",\"b\":\"C%02d\"},{\"a\":\"C%02d\",\"b\":\"P%s\"}]}",
                 y, countries[c], x, y, y, countries[rnd(4)]);
    }
    tn_val_t opts = sw_json(buf), res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_model_apply(m, kind, &opts, &res, &err);
    tn_val_free(&opts);
    tn_val_free(&res);
    tn_error_clear(&err);
}

static tn_model_t *base_model(void) {
    tn_model_t *m = tn_model_new("PAA");
    char buf[256];
    for (int c = 0; c < 4; c++) {
        snprintf(buf, sizeof buf,
                 "{\"nodes\":[{\"id\":\"%s\",\"kind\":\"country\",\"name\":\"%s\"},"
                 "{\"id\":\"P%s\",\"kind\":\"province\",\"name\":\"p\",\"country\":\"%s\"}]}",
                 countries[c], countries[c], countries[c], countries[c]);
        tn_val_t b = sw_json(buf), res = TN_VAL_NIL;
        tn_error_t err = TN_ERROR_INIT;
        CHECK_EQ_INT(tn_model_apply(m, TN_CHANGE_BATCH, &b, &res, &err), TN_OK);
        if (err.code != TN_OK)
            fprintf(stderr, "  %s\n", err.message);
        tn_error_clear(&err);
        tn_val_free(&b);
        tn_val_free(&res);
    }
    return m;
}

static void test_derived_equals_full_build(void) {
    tn_model_t *m = base_model();
    tn_snap_line_t *l = tn_snap_line_new(m);
    CHECK(l != NULL);
    tn_error_t err = TN_ERROR_INIT;
    kept_t kept[8] = { { 0 } };
    tn_snap_t *s = tn_snap_line_publish(l, &err);
    CHECK(s != NULL);
    int readable = 1;
    for (int round = 0; round < 600 && s != NULL; round++) {
        int changes = 1 + (int) rnd(round % 7 == 0 ? 12 : 2);
        for (int i = 0; i < changes; i++)
            random_change(m);
        tn_snap_release(s);
        s = tn_snap_line_publish(l, &err);
        CHECK(s != NULL);
        if (s == NULL)
            break;
        check_same_as_full_build(s, m);
        /* Keep some snapshots for a while, as long queries do. */
        kept_t *k = &kept[rnd(8)];
        if (k->s != NULL) {
            readable &= still_readable(k);
            unkeep(k);
        }
        if (rnd(3) == 0)
            keep(k, s);
    }
    CHECK(readable);
    tn_snap_line_stats_t st;
    tn_snap_line_stats(l, &st);
    CHECK(st.derived > 500);        /* only the first publish needs a full build */
    CHECK_EQ_INT(st.rebuilt, 1);
    CHECK(st.retired > 100);
    CHECK_EQ_INT(st.leaked, 0);
    fprintf(stderr, "  %llu derived, %llu rebuilt, %llu records retired, %zu nodes, %zu pairs\n",
            (unsigned long long) st.derived, (unsigned long long) st.rebuilt,
            (unsigned long long) st.retired, tn_model_node_count(m), tn_model_pair_count(m));
    for (int i = 0; i < 8; i++)
        if (kept[i].s != NULL) {
            CHECK(still_readable(&kept[i]));
            unkeep(&kept[i]);
        }
    tn_snap_release(s);
    tn_model_free(m);
    tn_snap_line_free(l);
}

/* A record the model dropped is freed as soon as the last snapshot that
 * could read it goes, and not before. The reference count shows it: a
 * record held by the model (one reference) and by a test (one more). */
static void test_dropped_records_freed_after_last_reader(void) {
    tn_model_t *m = base_model();
    tn_snap_line_t *l = tn_snap_line_new(m);
    tn_error_t err = TN_ERROR_INIT;
    tn_val_t res = TN_VAL_NIL, opts = sw_json("{\"node\":{\"id\":\"C01\",\"kind\":\"city\",\"name\":\"c\",\"country\":\"AA\"}}");
    CHECK_EQ_INT(tn_model_apply(m, TN_CHANGE_NODE_UPSERT, &opts, &res, &err), TN_OK);
    tn_val_free(&opts);
    tn_val_free(&res);
    tn_snap_t *s1 = tn_snap_line_publish(l, &err);
    tn_node_t *old = tn_node_retain((tn_node_t *) tn_model_node(m, "C01"));
    CHECK_EQ_INT(atomic_load(&old->refs), 2);     /* the model and us: no per-snapshot ref */

    /* Replace it: the model drops it; s1 still reads it. */
    opts = sw_json("{\"node\":{\"id\":\"C01\",\"kind\":\"city\",\"country\":\"BB\",\"name\":\"x\"}}");
    CHECK_EQ_INT(tn_model_apply(m, TN_CHANGE_NODE_UPSERT, &opts, &res, &err), TN_OK);
    tn_val_free(&opts);
    tn_val_free(&res);
    tn_snap_t *s2 = tn_snap_line_publish(l, &err);
    CHECK_EQ_INT(atomic_load(&old->refs), 2);     /* the era holds the model's reference */
    CHECK(s1->nodes[tn_snap_find(s1, "C01")] == old);
    CHECK(s2->nodes[tn_snap_find(s2, "C01")] != old);
    CHECK_EQ_STR(s2->nodes[tn_snap_find(s2, "C01")]->country, "BB");

    /* More epochs while s1 lives: still held. */
    for (int i = 0; i < 3; i++) {
        opts = sw_json("{\"pair\":{\"a\":\"C01\",\"b\":\"PAA\"}}");
        tn_model_apply(m, i % 2 ? TN_CHANGE_PAIR_DELETE : TN_CHANGE_PAIR_UPSERT, &opts, &res, &err);
        tn_val_free(&opts);
        tn_val_free(&res);
        tn_error_clear(&err);
        tn_snap_release(tn_snap_line_publish(l, &err));
    }
    CHECK_EQ_INT(atomic_load(&old->refs), 2);
    tn_snap_release(s2);
    CHECK_EQ_INT(atomic_load(&old->refs), 2);     /* s1 is older than s2: it still counts */
    tn_snap_release(s1);
    CHECK_EQ_INT(atomic_load(&old->refs), 1);     /* only ours is left */
    tn_node_release(old);
    tn_model_free(m);
    tn_snap_line_free(l);
}

static void test_replace_rebuilds(void) {
    tn_model_t *m = base_model();
    tn_snap_line_t *l = tn_snap_line_new(m);
    tn_error_t err = TN_ERROR_INIT;
    tn_snap_t *s1 = tn_snap_line_publish(l, &err);
    tn_val_t res = TN_VAL_NIL, opts = sw_json(
        "{\"mode\":\"replace\",\"nodes\":[{\"id\":\"ZZ\",\"kind\":\"country\",\"name\":\"z\"},"
        "{\"id\":\"Z1\",\"kind\":\"city\",\"name\":\"z1\",\"country\":\"ZZ\"},"
        "{\"id\":\"Z2\",\"kind\":\"city\",\"name\":\"z2\",\"country\":\"ZZ\"}],"
        "\"pairs\":[{\"a\":\"Z1\",\"b\":\"Z2\"}]}");
    CHECK_EQ_INT(tn_model_apply(m, TN_CHANGE_BATCH, &opts, &res, &err), TN_OK);
    tn_val_free(&opts);
    tn_val_free(&res);
    tn_snap_t *s2 = tn_snap_line_publish(l, &err);
    CHECK(s2 != NULL);
    if (s2 != NULL) {
        check_same_as_full_build(s2, m);
        CHECK_EQ_INT(s2->nnodes, 3);
    }
    /* The old graph is still whole in s1. */
    CHECK_EQ_INT(s1->nnodes, 8);
    CHECK(tn_snap_find(s1, "PDD") >= 0 && strcmp(s1->nodes[tn_snap_find(s1, "PDD")]->id, "PDD") == 0);
    tn_snap_line_stats_t st;
    tn_snap_line_stats(l, &st);
    CHECK_EQ_INT(st.rebuilt, 2);
    CHECK_EQ_INT(st.derived, 0);
    tn_snap_release(s1);
    tn_snap_release(s2);
    tn_model_free(m);
    tn_snap_line_free(l);
}

int main(void) {
    RUN(test_derived_equals_full_build);
    RUN(test_dropped_records_freed_after_last_reader);
    RUN(test_replace_rebuilds);
    return TEST_DONE();
}
