/*
 * fuzz_csv.c -- the CSV reader and the nodes/pairs mappings on arbitrary
 * bytes, and what an import does with what they return.
 *
 * Input: byte 0 chooses nodes.csv (even) or pairs.csv (odd); the rest is
 * the file.
 *
 * Invariants checked:
 *  - the generic reader terminates (at most one record per input byte plus
 *    one), lines never go backwards, every field is NUL-terminated at its
 *    length, and there is no field past the last;
 *  - tn_csv_nodes/tn_csv_pairs either succeed with an array, or fail with
 *    invalid_params, a nil array and at most TN_ERROR_MAX_DETAILS details;
 *  - a successful result survives JSON text round trips unchanged, and an
 *    import.batch of it is either refused without touching the model or
 *    commits (on a fresh model) with the epoch advanced by one.
 */
#include "csv.h"
#include "fuzz.h"

static void read_all(const char *buf, size_t len) {
    tn_csv_reader_t r;
    tn_csv_reader_init(&r, buf, len);
    size_t records = 0;
    int64_t last_line = 0;
    for (;;) {
        tn_csv_status_t st = tn_csv_read(&r);
        if (st == TN_CSV_END)
            break;
        FZ_CHECK(st == TN_CSV_ROW || st == TN_CSV_BAD);
        FZ_CHECK(++records <= len + 1);
        FZ_CHECK(r.row_line >= last_line && r.row_line >= 1);
        last_line = r.row_line;
        if (st == TN_CSV_ROW) {
            size_t nf = tn_csv_nfields(&r);
            FZ_CHECK(nf >= 1);
            for (size_t i = 0; i < nf; i++) {
                size_t fl = (size_t) -1;
                const char *f = tn_csv_field(&r, i, &fl);
                FZ_CHECK(f != NULL && fl <= len && f[fl] == '\0');
            }
            FZ_CHECK(tn_csv_field(&r, nf, NULL) == NULL);
        } else {
            FZ_CHECK(r.why[0] != '\0');
        }
    }
    FZ_CHECK(tn_csv_read(&r) == TN_CSV_END);     /* stays at the end */
    tn_csv_reader_destroy(&r);
}

static void check_json_fixpoint(const tn_val_t *v) {
    char *a = fz_to_json(v);
    tn_val_t back = TN_VAL_NIL;
    char why[128];
    FZ_CHECK(tn_val_from_json(a, strlen(a), &back, why, sizeof why) == 0);
    char *b = fz_to_json(&back);
    FZ_CHECK(strcmp(a, b) == 0);
    free(a);
    free(b);
    tn_val_free(&back);
}

static void try_import(const char *key, tn_val_t *items, int on_world) {
    tn_model_t *m = on_world ? fz_world_model() : tn_model_new(NULL);
    FZ_CHECK(m != NULL);
    tn_val_t opts = TN_VAL_NIL;
    FZ_CHECK(tn_val_set_map(&opts, 1) == 0 && tn_map_add_take(&opts, key, items) == 0);
    uint64_t epoch = tn_model_epoch(m);
    size_t nn = tn_model_node_count(m), np = tn_model_pair_count(m);
    tn_change_t *c = NULL;
    tn_error_t err = TN_ERROR_INIT;
    tn_code_t rc = tn_change_prepare(m, TN_CHANGE_BATCH, &opts, &c, &err);
    FZ_CHECK(rc != TN_ERR_INTERNAL);
    FZ_CHECK(tn_model_epoch(m) == epoch && tn_model_node_count(m) == nn && tn_model_pair_count(m) == np);
    if (rc == TN_OK) {
        tn_change_commit(m, c);
        FZ_CHECK(tn_model_epoch(m) == epoch + 1);
        tn_change_free(c);
    } else {
        FZ_CHECK(c == NULL && err.code == rc);
    }
    tn_error_clear(&err);
    tn_val_free(&opts);
    tn_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    const char *buf = (const char *) data + 1;
    size_t len = size - 1;
    int pairs = data[0] & 1;
    read_all(buf, len);

    tn_val_t out = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_code_t rc = pairs ? tn_csv_pairs(buf, len, &out, &err) : tn_csv_nodes(buf, len, &out, &err);
    if (rc != TN_OK) {
        FZ_CHECK(rc == TN_ERR_INVALID_PARAMS);
        FZ_CHECK(out.type == TN_V_NIL);
        FZ_CHECK(err.code == rc && err.message[0] != '\0');
        FZ_CHECK(err.data.type == TN_V_NIL
                 || (err.data.type == TN_V_ARR && err.data.u.a.n <= TN_ERROR_MAX_DETAILS));
        tn_error_clear(&err);
        return 0;
    }
    FZ_CHECK(out.type == TN_V_ARR);
    for (size_t i = 0; i < out.u.a.n; i++)
        FZ_CHECK(out.u.a.items[i].type == TN_V_MAP);
    check_json_fixpoint(&out);
    /* Pairs refer to nodes, so they are imported into the world. */
    try_import(pairs ? "pairs" : "nodes", &out, pairs);
    return 0;
}
