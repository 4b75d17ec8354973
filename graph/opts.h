/*
 * opts.h -- typed reading of a request's options map, with the protocol's
 * error for every misuse: unknown keys, wrong types, out-of-range values
 * (docs/protocol.md, "Methods": "Unknown option keys are invalid_params").
 *
 * 'opts' is the params' options map, or NULL/nil when the request had [].
 * Getters leave *out untouched when the key is absent and not required,
 * so callers set defaults first. All return TN_OK or TN_ERR_INVALID_PARAMS
 * with a message naming the field.
 */
#ifndef TN_OPTS_H
#define TN_OPTS_H

#include <stdint.h>

#include "error.h"
#include "snap.h"
#include "value.h"

/* ---- Option schemas ----
 * A method's options, declared once in its registry entry: server.methods
 * reports them, and tn_opts_validate checks a request against them (unknown
 * keys, types, ranges, choices, required) with the same messages as the
 * typed getters below, in the order the entries are listed. */
typedef enum tn_opt_type {
    TN_OT_STR = 0, TN_OT_INT, TN_OT_NUM, TN_OT_BOOL, TN_OT_ENUM, TN_OT_MAP, TN_OT_ARR, TN_OT_ANY
} tn_opt_type_t;

/* Flags of an option. */
#define TN_OF_REQUIRED 1u   /* must be given (and not nil) */
#define TN_OF_SERVICE  2u   /* read by the service (deadline, progress, if_epoch): not
                               part of what the answer depends on, so not of the cache key */

typedef struct tn_opt_spec {
    const char *name;               /* NULL ends a schema */
    tn_opt_type_t type;
    unsigned flags;
    int64_t imin, imax;             /* TN_OT_INT */
    double nmin, nmax;              /* TN_OT_NUM */
    const char *const *choices;     /* TN_OT_ENUM: NULL-terminated */
    const char *dflt;               /* the default, as documentation (NULL: none) */
} tn_opt_spec_t;

/* Schema rows. */
#define TN_OPT_STR(n, f, d)          { (n), TN_OT_STR, (f), 0, 0, 0, 0, NULL, (d) }
#define TN_OPT_INT(n, f, lo, hi, d)  { (n), TN_OT_INT, (f), (lo), (hi), 0, 0, NULL, (d) }
#define TN_OPT_NUM(n, f, lo, hi, d)  { (n), TN_OT_NUM, (f), 0, 0, (lo), (hi), NULL, (d) }
#define TN_OPT_BOOL(n, f, d)         { (n), TN_OT_BOOL, (f), 0, 0, 0, 0, NULL, (d) }
#define TN_OPT_ENUM(n, f, ch, d)     { (n), TN_OT_ENUM, (f), 0, 0, 0, 0, (ch), (d) }
#define TN_OPT_MAP(n, f)             { (n), TN_OT_MAP, (f), 0, 0, 0, 0, NULL, NULL }
#define TN_OPT_ARR(n, f)             { (n), TN_OT_ARR, (f), 0, 0, 0, 0, NULL, NULL }
#define TN_OPT_ANY(n, f)             { (n), TN_OT_ANY, (f), 0, 0, 0, 0, NULL, NULL }
#define TN_OPT_END                   { NULL, TN_OT_ANY, 0, 0, 0, 0, 0, NULL, NULL }
/* The pair filters (tn_opt_filter), without and with "kind". */
extern const char *const tn_opt_conf_names[];
extern const char *const tn_opt_pair_kind_names[];
#define TN_OPT_FILTER \
    TN_OPT_INT("as_of", 0, 1, 9999, NULL), \
    TN_OPT_ENUM("min_confidence", 0, tn_opt_conf_names, "low")
#define TN_OPT_FILTER_KIND TN_OPT_FILTER, TN_OPT_ENUM("kind", 0, tn_opt_pair_kind_names, "any")
/* The options the service reads for slow queries. */
#define TN_OPT_SLOW \
    TN_OPT_INT("deadline_ms", TN_OF_SERVICE, 0, INT64_MAX, "10000"), \
    TN_OPT_BOOL("progress", TN_OF_SERVICE, "false")

/* Check 'opts' against 'schema': a map (or nil) of known keys, each once,
 * each of its declared type and range. TN_OK or TN_ERR_INVALID_PARAMS. */
tn_code_t tn_opts_validate(const tn_val_t *opts, const tn_opt_spec_t *schema, tn_error_t *err);

/* Is 'name' in 'schema'? The row, or NULL. */
const tn_opt_spec_t *tn_opt_spec_find(const tn_opt_spec_t *schema, const char *name);

/* server.methods' description of a schema: an array of {"name", "type",
 * "required", "default"?, "min"?, "max"?, "choices"?}, and the plain array of
 * names. 0, or -1 on out-of-memory. */
int tn_opt_schema_describe(const tn_opt_spec_t *schema, tn_val_t *out);
int tn_opt_schema_names(const tn_opt_spec_t *schema, tn_val_t *out);

/* 'allowed' is a NULL-terminated list. Also rejects a non-map 'opts'. */
tn_code_t tn_opts_check(const tn_val_t *opts, const char *const *allowed, tn_error_t *err);

tn_code_t tn_opt_str(const tn_val_t *opts, const char *key, int required,
                     const char **out, tn_error_t *err);
tn_code_t tn_opt_int(const tn_val_t *opts, const char *key, int required,
                     int64_t min, int64_t max, int64_t *out, tn_error_t *err);
tn_code_t tn_opt_num(const tn_val_t *opts, const char *key, int required,
                     double min, double max, double *out, tn_error_t *err);
tn_code_t tn_opt_bool(const tn_val_t *opts, const char *key, int required,
                      int *out, tn_error_t *err);
/* 'names' NULL-terminated; *out is the index of the match. */
tn_code_t tn_opt_enum(const tn_val_t *opts, const char *key, int required,
                      const char *const *names, int *out, tn_error_t *err);

/* The pair filters "as_of", "min_confidence" and, when with_kind, "kind"
 * ("sister" | "friendly" | "any"). Starts from TN_FILTER_ALL. */
tn_code_t tn_opt_filter(const tn_val_t *opts, int with_kind, tn_filter_t *f, tn_error_t *err);

#endif
