/*
 * dataset.h -- the built-in datasets, compiled into the binaries so that
 * twinnetd answers with real data on first start and needs no data files
 * to do so: datasets/hunan/ (the verified Hunan pairs, the countries and
 * Hunan's units) and datasets/china/ (the other Chinese provinces' pairs,
 * which reference hunan's nodes and never touch a Hunan unit).
 *
 * The bytes come from datasets/embed.cmake (generated at build time from
 * the committed nodes.csv, pairs.csv and meta.json); this module turns them
 * into an import.batch request with graph/base/csv.c and applies it. It reads no
 * files and holds no state of its own.
 */
#ifndef TN_DATASET_H
#define TN_DATASET_H

#include <stddef.h>

#include "error.h"
#include "model.h"
#include "value.h"

/* The embedded files, each followed by a NUL that _len does not count. */
extern const char tn_dataset_hunan_nodes_csv[];
extern const size_t tn_dataset_hunan_nodes_csv_len;
extern const char tn_dataset_hunan_pairs_csv[];
extern const size_t tn_dataset_hunan_pairs_csv_len;
extern const char tn_dataset_hunan_meta_json[];
extern const size_t tn_dataset_hunan_meta_json_len;
extern const char tn_dataset_china_nodes_csv[];
extern const size_t tn_dataset_china_nodes_csv_len;
extern const char tn_dataset_china_pairs_csv[];
extern const size_t tn_dataset_china_pairs_csv_len;
extern const char tn_dataset_china_meta_json[];
extern const size_t tn_dataset_china_meta_json_len;

/* What a daemon starts from (twinnetd --dataset, --empty). */
typedef enum tn_dataset {
    TN_DATASET_NONE = 0,        /* an empty graph */
    TN_DATASET_HUNAN = 1,       /* "hunan": the verified Hunan dataset alone */
    TN_DATASET_HUNAN_CHINA = 2, /* "hunan+china": plus the peer provinces (default) */
} tn_dataset_t;

#define TN_DATASET_DEFAULT TN_DATASET_HUNAN_CHINA

/* "hunan" or "hunan+china" -> *out; 0, or -1 for any other name. */
int tn_dataset_parse(const char *name, tn_dataset_t *out);
/* The name tn_dataset_parse accepts ("empty" for TN_DATASET_NONE). */
const char *tn_dataset_name(tn_dataset_t which);

/* 'which' as one import.batch's options (nodes and pairs of every part, in
 * load order) and its notes: the Hunan meta.json, plus, with china, a
 * "peers" map {"dataset", "pairs", "source", "confidence"} from china's
 * meta.json. Same contracts as the _builtin_ functions below; NONE gives
 * empty arrays and a nil meta. */
tn_code_t tn_dataset_batch(tn_dataset_t which, tn_val_t *opts_out, tn_error_t *err);
tn_code_t tn_dataset_meta(tn_dataset_t which, tn_val_t *meta_out, tn_error_t *err);

/* Load 'which' into 'm' with one atomic import.batch (mode upsert), then
 * set the model's meta; as tn_dataset_load_builtin. NONE changes nothing. */
tn_code_t tn_dataset_load(tn_model_t *m, tn_dataset_t which, tn_error_t *err);

/* The Hunan dataset alone as import.batch options: {"nodes": [...], "pairs":
 * [...]} with the maps of tn_csv_nodes / tn_csv_pairs. 'opts_out' is the
 * caller's storage; it is cleared, then filled, and left nil on error.
 * Returns TN_OK, TN_ERR_INTERNAL (out of memory, or an embedded file that
 * does not parse: a build defect, named in err->message). Used by the
 * service to seed an empty data directory through its journal. */
tn_code_t tn_dataset_builtin_batch(tn_val_t *opts_out, tn_error_t *err);

/* The dataset's notes (meta.json parsed: {"dataset", "reference",
 * "verified", "note", ...}) into 'meta_out', cleared then filled, nil on
 * error. TN_OK or TN_ERR_INTERNAL. */
tn_code_t tn_dataset_builtin_meta(tn_val_t *meta_out, tn_error_t *err);

/* Load the built-in dataset into 'm' with one atomic import.batch (mode
 * upsert, so it may be applied to a model that already has other records),
 * then set the model's meta from meta.json. On error nothing is applied and
 * the meta is unchanged (save one case: out of memory while copying the
 * meta after the batch was committed, reported as internal). Returns TN_OK; TN_ERR_INTERNAL as above; or the
 * code of tn_model_apply (invalid_params with per-record details when a
 * record breaks the model's rules, which the dataset test guards against). */
tn_code_t tn_dataset_load_builtin(tn_model_t *m, tn_error_t *err);

#endif
