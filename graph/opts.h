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
