/*
 * dataset.c -- the built-in datasets as one import.batch (see dataset.h).
 *
 * Everything here is parsed from the embedded bytes at call time; nothing
 * is cached, so a caller that frees what it got holds no dataset memory.
 * An embedded file that fails to parse is a build defect (the committed
 * files are checked by the dataset_up_to_date, china_dataset_up_to_date and
 * test_dataset tests), so it is reported as "internal", never as the
 * client's invalid_params.
 */
#include "dataset.h"

#include <stdio.h>
#include <string.h>

#include "csv.h"

/* One embedded dataset directory. Parts load in this order: china's pairs
 * reference hunan's nodes (countries, Hunan's partners). */
typedef struct part {
    const char *dir;
    const char *nodes;
    const size_t *nodes_len;
    const char *pairs;
    const size_t *pairs_len;
    const char *meta;
    const size_t *meta_len;
} part_t;

static const part_t parts[] = {
    { "hunan", tn_dataset_hunan_nodes_csv, &tn_dataset_hunan_nodes_csv_len,
      tn_dataset_hunan_pairs_csv, &tn_dataset_hunan_pairs_csv_len,
      tn_dataset_hunan_meta_json, &tn_dataset_hunan_meta_json_len },
    { "china", tn_dataset_china_nodes_csv, &tn_dataset_china_nodes_csv_len,
      tn_dataset_china_pairs_csv, &tn_dataset_china_pairs_csv_len,
      tn_dataset_china_meta_json, &tn_dataset_china_meta_json_len },
};

/* How many parts of 'parts' a dataset uses. */
static size_t nparts(tn_dataset_t which) {
    switch (which) {
    case TN_DATASET_HUNAN: return 1;
    case TN_DATASET_HUNAN_CHINA: return 2;
    default: return 0;
    }
}

int tn_dataset_parse(const char *name, tn_dataset_t *out) {
    if (name != NULL && strcmp(name, "hunan") == 0)
        *out = TN_DATASET_HUNAN;
    else if (name != NULL && strcmp(name, "hunan+china") == 0)
        *out = TN_DATASET_HUNAN_CHINA;
    else
        return -1;
    return 0;
}

const char *tn_dataset_name(tn_dataset_t which) {
    switch (which) {
    case TN_DATASET_HUNAN: return "hunan";
    case TN_DATASET_HUNAN_CHINA: return "hunan+china";
    default: return "empty";
    }
}

/* Turn a parse failure of an embedded file into an internal error whose
 * message keeps the parser's line and reason. */
static tn_code_t embedded_failure(tn_error_t *err, const char *dir, const char *file,
                                  tn_code_t rc) {
    if (err == NULL)
        return TN_ERR_INTERNAL;
    char why[sizeof err->message];
    snprintf(why, sizeof why, "%s", err->message);
    tn_error_clear(err);
    if (rc == TN_ERR_INTERNAL && strstr(why, "out of memory") != NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "%s", why);
    return tn_error_set(err, TN_ERR_INTERNAL, "built-in dataset %s/%s: %s", dir, file, why);
}

/* Move every item of array 'src' to the end of array 'dst'; src is freed.
 * 0, or -1 on out of memory (src freed, dst keeps what was moved). */
static int append_all(tn_val_t *dst, tn_val_t *src) {
    int rc = 0;
    for (size_t i = 0; i < src->u.a.n && rc == 0; i++)
        rc = tn_arr_push_take(dst, &src->u.a.items[i]);
    tn_val_free(src);
    return rc;
}

tn_code_t tn_dataset_batch(tn_dataset_t which, tn_val_t *opts_out, tn_error_t *err) {
    tn_val_t nodes = TN_VAL_NIL, pairs = TN_VAL_NIL;
    tn_code_t rc = TN_OK;

    tn_val_free(opts_out);
    if (tn_val_set_arr(&nodes, 0) != 0 || tn_val_set_arr(&pairs, 0) != 0) {
        tn_val_free(&nodes);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < nparts(which) && rc == TN_OK; i++) {
        const part_t *p = &parts[i];
        tn_val_t pn = TN_VAL_NIL, pp = TN_VAL_NIL;
        rc = tn_csv_nodes(p->nodes, *p->nodes_len, &pn, err);
        if (rc != TN_OK) {
            rc = embedded_failure(err, p->dir, "nodes.csv", rc);
            break;
        }
        rc = tn_csv_pairs(p->pairs, *p->pairs_len, &pp, err);
        if (rc != TN_OK) {
            tn_val_free(&pn);
            rc = embedded_failure(err, p->dir, "pairs.csv", rc);
            break;
        }
        if (append_all(&nodes, &pn) != 0 || append_all(&pairs, &pp) != 0) {
            tn_val_free(&pn);
            tn_val_free(&pp);
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        }
    }
    /* tn_map_add_take frees its source on failure, so nothing leaks. */
    if (rc == TN_OK
        && (tn_val_set_map(opts_out, 2) != 0
            || tn_map_add_take(opts_out, "nodes", &nodes) != 0
            || tn_map_add_take(opts_out, "pairs", &pairs) != 0))
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    tn_val_free(&nodes);
    tn_val_free(&pairs);
    if (rc != TN_OK)
        tn_val_free(opts_out);
    return rc;
}

/* One part's meta.json, parsed; it must be a JSON object. */
static tn_code_t part_meta(const part_t *p, tn_val_t *out, tn_error_t *err) {
    char why[200];
    if (tn_val_from_json(p->meta, *p->meta_len, out, why, sizeof why) != 0)
        return tn_error_set(err, TN_ERR_INTERNAL, "built-in dataset %s/meta.json: %s", p->dir,
                            why);
    if (out->type != TN_V_MAP) {
        tn_val_free(out);
        return tn_error_set(err, TN_ERR_INTERNAL, "built-in dataset %s/meta.json: not an object",
                            p->dir);
    }
    return TN_OK;
}

tn_code_t tn_dataset_meta(tn_dataset_t which, tn_val_t *meta_out, tn_error_t *err) {
    tn_val_t peer = TN_VAL_NIL, peers = TN_VAL_NIL;
    tn_code_t rc;

    tn_val_free(meta_out);
    if (nparts(which) == 0)
        return TN_OK;
    if ((rc = part_meta(&parts[0], meta_out, err)) != TN_OK || nparts(which) < 2)
        return rc;
    /* The peer data's summary, so graph.stats can say what else is loaded
     * (the Hunan figures and note are unchanged by it). */
    if ((rc = part_meta(&parts[1], &peer, err)) != TN_OK) {
        tn_val_free(meta_out);
        return rc;
    }
    static const char *const keys[] = { "dataset", "pairs", "source", "confidence" };
    int bad = tn_val_set_map(&peers, 4);
    for (size_t k = 0; k < 4 && !bad; k++) {
        const tn_val_t *v = tn_map_get(&peer, keys[k]);
        tn_val_t *slot = tn_map_add(&peers, keys[k]);
        bad = slot == NULL || (v != NULL && tn_val_copy(slot, v) != 0);
    }
    tn_val_free(&peer);
    if (bad || tn_map_add_take(meta_out, "peers", &peers) != 0) {
        tn_val_free(&peers);
        tn_val_free(meta_out);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    return TN_OK;
}

tn_code_t tn_dataset_load(tn_model_t *m, tn_dataset_t which, tn_error_t *err) {
    tn_val_t opts = TN_VAL_NIL, meta = TN_VAL_NIL, result = TN_VAL_NIL;
    tn_code_t rc;

    if (nparts(which) == 0)
        return TN_OK;
    /* Parse everything first, so a defect in any file leaves 'm' untouched. */
    rc = tn_dataset_batch(which, &opts, err);
    if (rc == TN_OK)
        rc = tn_dataset_meta(which, &meta, err);
    if (rc == TN_OK)
        rc = tn_model_apply(m, TN_CHANGE_BATCH, &opts, &result, err);
    if (rc == TN_OK && tn_model_set_meta(m, &meta) != 0)
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    tn_val_free(&opts);
    tn_val_free(&meta);
    tn_val_free(&result);
    return rc;
}

tn_code_t tn_dataset_builtin_batch(tn_val_t *opts_out, tn_error_t *err) {
    return tn_dataset_batch(TN_DATASET_HUNAN, opts_out, err);
}

tn_code_t tn_dataset_builtin_meta(tn_val_t *meta_out, tn_error_t *err) {
    return tn_dataset_meta(TN_DATASET_HUNAN, meta_out, err);
}

tn_code_t tn_dataset_load_builtin(tn_model_t *m, tn_error_t *err) {
    return tn_dataset_load(m, TN_DATASET_HUNAN, err);
}
