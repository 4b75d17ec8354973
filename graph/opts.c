/*
 * opts.c -- typed reading of a request's options map (opts.h), with the
 * protocol's invalid_params for every misuse.
 *
 * One decision applies to every getter: an option whose value is nil is
 * treated as absent, because clients that build maps from optional
 * arguments (Python's None) send nil for "not given". Nothing here
 * allocates; messages name the field so the client can fix the request.
 */
#include "opts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const tn_val_t *get(const tn_val_t *opts, const char *key) {
    if (opts == NULL || opts->type != TN_V_MAP)
        return NULL;
    const tn_val_t *v = tn_map_get(opts, key);
    return v == NULL || v->type == TN_V_NIL ? NULL : v;
}

static tn_code_t missing(const char *key, tn_error_t *err) {
    return tn_error_set(err, TN_ERR_INVALID_PARAMS, "missing required option '%s'", key);
}

/* Reject a non-map and any key not in 'allowed' (NULL-terminated). */
tn_code_t tn_opts_check(const tn_val_t *opts, const char *const *allowed, tn_error_t *err) {
    if (opts == NULL || opts->type == TN_V_NIL)
        return TN_OK;
    if (opts->type != TN_V_MAP)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "options must be a map");
    for (size_t i = 0; i < opts->u.m.n; i++) {
        const char *key = opts->u.m.kv[i].key;
        int ok = 0;
        for (size_t j = 0; allowed != NULL && allowed[j] != NULL && !ok; j++)
            ok = strcmp(allowed[j], key) == 0;
        if (!ok)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS, "unknown option '%s'",
                                TN_CLIP(key, 64));
        for (size_t j = 0; j < i; j++)
            if (strcmp(opts->u.m.kv[j].key, key) == 0)
                return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' given twice",
                                    TN_CLIP(key, 64));
    }
    return TN_OK;
}

/* A string option; *out borrows from 'opts'. */
tn_code_t tn_opt_str(const tn_val_t *opts, const char *key, int required,
                     const char **out, tn_error_t *err) {
    const tn_val_t *v = get(opts, key);
    if (v == NULL)
        return required ? missing(key, err) : TN_OK;
    if (v->type != TN_V_STR)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' must be a string", key);
    if (strlen(v->u.s.p) != v->u.s.len)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' contains a NUL byte", key);
    *out = v->u.s.p;
    return TN_OK;
}

/* An integer option in [min, max]; floats with no fraction are accepted. */
tn_code_t tn_opt_int(const tn_val_t *opts, const char *key, int required,
                     int64_t min, int64_t max, int64_t *out, tn_error_t *err) {
    const tn_val_t *v = get(opts, key);
    int64_t i;
    if (v == NULL)
        return required ? missing(key, err) : TN_OK;
    if (v->type == TN_V_BOOL || !tn_val_as_int(v, &i))
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' must be an integer", key);
    if (i < min || i > max)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' must be in %lld..%lld",
                            key, (long long) min, (long long) max);
    *out = i;
    return TN_OK;
}

/* A finite number in [min, max]. */
tn_code_t tn_opt_num(const tn_val_t *opts, const char *key, int required,
                     double min, double max, double *out, tn_error_t *err) {
    const tn_val_t *v = get(opts, key);
    double d;
    if (v == NULL)
        return required ? missing(key, err) : TN_OK;
    if (v->type == TN_V_BOOL || !tn_val_as_num(v, &d) || !isfinite(d))
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' must be a number", key);
    if (d < min || d > max)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' must be in %g..%g",
                            key, min, max);
    *out = d;
    return TN_OK;
}

/* A boolean (true/false only: 0 and 1 are not booleans on the wire). */
tn_code_t tn_opt_bool(const tn_val_t *opts, const char *key, int required,
                      int *out, tn_error_t *err) {
    const tn_val_t *v = get(opts, key);
    if (v == NULL)
        return required ? missing(key, err) : TN_OK;
    if (v->type != TN_V_BOOL)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' must be true or false", key);
    *out = v->u.b != 0;
    return TN_OK;
}

/* One of 'names' (exact, case-sensitive: these are protocol words). */
tn_code_t tn_opt_enum(const tn_val_t *opts, const char *key, int required,
                      const char *const *names, int *out, tn_error_t *err) {
    const char *s = NULL;
    tn_code_t rc = tn_opt_str(opts, key, required, &s, err);
    if (rc != TN_OK || s == NULL)
        return rc;
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return TN_OK;
        }
    }
    char list[160] = "";
    for (int i = 0; names[i] != NULL; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
    }
    return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' must be one of %s", key, list);
}

/* as_of (a year, 1..9999), min_confidence and, when with_kind, kind. */
tn_code_t tn_opt_filter(const tn_val_t *opts, int with_kind, tn_filter_t *f, tn_error_t *err) {
    static const char *const confs[] = { "low", "medium", "high", NULL };
    static const char *const kinds[] = { "sister", "friendly", "any", NULL };
    int64_t as_of = 0;
    int conf = 0, kind = 2;
    tn_code_t rc;

    *f = TN_FILTER_ALL;
    if ((rc = tn_opt_int(opts, "as_of", 0, 1, 9999, &as_of, err)) != TN_OK)
        return rc;
    if ((rc = tn_opt_enum(opts, "min_confidence", 0, confs, &conf, err)) != TN_OK)
        return rc;
    if (with_kind && (rc = tn_opt_enum(opts, "kind", 0, kinds, &kind, err)) != TN_OK)
        return rc;
    f->as_of = (int) as_of;
    f->min_conf = (tn_conf_t) (TN_CONF_LOW + conf);
    f->kinds = kind == 2 ? 3 : 1 << kind;
    return TN_OK;
}
