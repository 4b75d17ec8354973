/*
 * dataset.c -- the built-in dataset as an import.batch (see dataset.h).
 *
 * Everything here is parsed from the embedded bytes at call time; nothing
 * is cached, so a caller that frees what it got holds no dataset memory.
 * An embedded file that fails to parse is a build defect (the committed
 * files are checked by the dataset_up_to_date and test_dataset tests), so it
 * is reported as "internal", never as the client's invalid_params.
 */
#include "dataset.h"

#include <stdio.h>
#include <string.h>

#include "csv.h"

/* Turn a parse failure of an embedded file into an internal error whose
 * message keeps the parser's line and reason. */
static tn_code_t embedded_failure(tn_error_t *err, const char *file, tn_code_t rc) {
    if (err == NULL)
        return TN_ERR_INTERNAL;
    char why[sizeof err->message];
    snprintf(why, sizeof why, "%s", err->message);
    tn_error_clear(err);
    if (rc == TN_ERR_INTERNAL && strstr(why, "out of memory") != NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "%s", why);
    return tn_error_set(err, TN_ERR_INTERNAL, "built-in dataset %s: %s", file, why);
}

tn_code_t tn_dataset_builtin_batch(tn_val_t *opts_out, tn_error_t *err) {
    tn_val_t nodes = TN_VAL_NIL, pairs = TN_VAL_NIL;
    tn_code_t rc;

    tn_val_free(opts_out);
    rc = tn_csv_nodes(tn_dataset_nodes_csv, tn_dataset_nodes_csv_len, &nodes, err);
    if (rc != TN_OK)
        return embedded_failure(err, "nodes.csv", rc);
    rc = tn_csv_pairs(tn_dataset_pairs_csv, tn_dataset_pairs_csv_len, &pairs, err);
    if (rc != TN_OK) {
        tn_val_free(&nodes);
        return embedded_failure(err, "pairs.csv", rc);
    }
    /* tn_map_add_take frees its source on failure, so nothing leaks. */
    if (tn_val_set_map(opts_out, 2) != 0
        || tn_map_add_take(opts_out, "nodes", &nodes) != 0
        || tn_map_add_take(opts_out, "pairs", &pairs) != 0) {
        tn_val_free(&nodes);
        tn_val_free(&pairs);
        tn_val_free(opts_out);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    return TN_OK;
}

tn_code_t tn_dataset_builtin_meta(tn_val_t *meta_out, tn_error_t *err) {
    char why[200];
    tn_val_free(meta_out);
    if (tn_val_from_json(tn_dataset_meta_json, tn_dataset_meta_json_len, meta_out,
                         why, sizeof why) != 0)
        return tn_error_set(err, TN_ERR_INTERNAL, "built-in dataset meta.json: %s", why);
    if (meta_out->type != TN_V_MAP) {
        tn_val_free(meta_out);
        return tn_error_set(err, TN_ERR_INTERNAL, "built-in dataset meta.json: not an object");
    }
    return TN_OK;
}

tn_code_t tn_dataset_load_builtin(tn_model_t *m, tn_error_t *err) {
    tn_val_t opts = TN_VAL_NIL, meta = TN_VAL_NIL, result = TN_VAL_NIL;
    tn_code_t rc;

    /* Parse everything first, so a defect in any file leaves 'm' untouched. */
    rc = tn_dataset_builtin_batch(&opts, err);
    if (rc == TN_OK)
        rc = tn_dataset_builtin_meta(&meta, err);
    if (rc == TN_OK)
        rc = tn_model_apply(m, TN_CHANGE_BATCH, &opts, &result, err);
    if (rc == TN_OK && tn_model_set_meta(m, &meta) != 0)
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    tn_val_free(&opts);
    tn_val_free(&meta);
    tn_val_free(&result);
    return rc;
}
