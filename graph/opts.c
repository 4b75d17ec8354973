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

const char *const tn_opt_conf_names[] = { "low", "medium", "high", NULL };
const char *const tn_opt_pair_kind_names[] = { "sister", "friendly", "any", NULL };

/* as_of (a year, 1..9999), min_confidence and, when with_kind, kind. */
tn_code_t tn_opt_filter(const tn_val_t *opts, int with_kind, tn_filter_t *f, tn_error_t *err) {
    const char *const *confs = tn_opt_conf_names, *const *kinds = tn_opt_pair_kind_names;
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

/* ---- schemas ---- */

const tn_opt_spec_t *tn_opt_spec_find(const tn_opt_spec_t *schema, const char *name) {
    for (; schema != NULL && schema->name != NULL; schema++)
        if (strcmp(schema->name, name) == 0)
            return schema;
    return NULL;
}

/* One option against its row, through the getter that states its type. */
static tn_code_t check_one(const tn_val_t *opts, const tn_opt_spec_t *o, tn_error_t *err) {
    int required = (o->flags & TN_OF_REQUIRED) != 0;
    const char *s;
    int64_t i;
    double d;
    int b;
    const tn_val_t *v;
    switch (o->type) {
    case TN_OT_STR:
        return tn_opt_str(opts, o->name, required, &s, err);
    case TN_OT_INT:
        return tn_opt_int(opts, o->name, required, o->imin, o->imax, &i, err);
    case TN_OT_NUM:
        return tn_opt_num(opts, o->name, required, o->nmin, o->nmax, &d, err);
    case TN_OT_BOOL:
        return tn_opt_bool(opts, o->name, required, &b, err);
    case TN_OT_ENUM:
        return tn_opt_enum(opts, o->name, required, o->choices, &b, err);
    case TN_OT_MAP:
    case TN_OT_ARR:
    case TN_OT_ANY:
        v = get(opts, o->name);
        if (v == NULL)
            return required ? missing(o->name, err) : TN_OK;
        if (o->type == TN_OT_MAP && v->type != TN_V_MAP)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' must be a map", o->name);
        if (o->type == TN_OT_ARR && v->type != TN_V_ARR)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' must be an array", o->name);
        return TN_OK;
    }
    return TN_OK;
}

tn_code_t tn_opts_validate(const tn_val_t *opts, const tn_opt_spec_t *schema, tn_error_t *err) {
    if (opts == NULL || opts->type == TN_V_NIL)
        opts = NULL;
    else if (opts->type != TN_V_MAP)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "options must be a map");
    for (size_t i = 0; opts != NULL && i < opts->u.m.n; i++) {
        const char *key = opts->u.m.kv[i].key;
        if (tn_opt_spec_find(schema, key) == NULL)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS, "unknown option '%s'", TN_CLIP(key, 64));
        for (size_t j = 0; j < i; j++)
            if (strcmp(opts->u.m.kv[j].key, key) == 0)
                return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option '%s' given twice", TN_CLIP(key, 64));
    }
    for (; schema != NULL && schema->name != NULL; schema++) {
        tn_code_t rc = check_one(opts, schema, err);
        if (rc != TN_OK)
            return rc;
    }
    return TN_OK;
}

static const char *const type_names[] = { "string", "integer", "number", "boolean", "enum",
                                          "map", "array", "any" };

int tn_opt_schema_describe(const tn_opt_spec_t *schema, tn_val_t *out) {
    int rc = tn_val_set_arr(out, 8);
    for (; rc == 0 && schema != NULL && schema->name != NULL; schema++) {
        const tn_opt_spec_t *o = schema;
        tn_val_t it = TN_VAL_NIL, ch = TN_VAL_NIL;
        rc |= tn_val_set_map(&it, 6);
        rc |= tn_map_add_str(&it, "name", o->name);
        rc |= tn_map_add_str(&it, "type", type_names[o->type]);
        rc |= tn_map_add_bool(&it, "required", (o->flags & TN_OF_REQUIRED) != 0);
        if (o->dflt != NULL)
            rc |= tn_map_add_str(&it, "default", o->dflt);
        if (o->type == TN_OT_INT) {
            rc |= tn_map_add_int(&it, "min", o->imin);
            rc |= tn_map_add_int(&it, "max", o->imax);
        } else if (o->type == TN_OT_NUM) {
            rc |= tn_map_add_float(&it, "min", o->nmin);
            rc |= tn_map_add_float(&it, "max", o->nmax);
        } else if (o->type == TN_OT_ENUM) {
            rc |= tn_val_set_arr(&ch, 4);
            for (size_t i = 0; o->choices[i] != NULL; i++)
                rc |= tn_arr_push_str(&ch, o->choices[i]);
            rc |= tn_map_add_take(&it, "choices", &ch);
        }
        rc |= tn_arr_push_take(out, &it);
        tn_val_free(&it);
        tn_val_free(&ch);
    }
    if (rc != 0)
        tn_val_free(out);
    return rc ? -1 : 0;
}

int tn_opt_schema_names(const tn_opt_spec_t *schema, tn_val_t *out) {
    int rc = tn_val_set_arr(out, 8);
    for (; rc == 0 && schema != NULL && schema->name != NULL; schema++)
        rc |= tn_arr_push_str(out, schema->name);
    if (rc != 0)
        tn_val_free(out);
    return rc ? -1 : 0;
}
