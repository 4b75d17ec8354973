/*
 * whatif.c -- query.whatif: run read queries on the current graph and on a
 * hypothetical one (the current records plus "nodes" and "add", minus
 * "remove"), side by side, without committing anything.
 *
 * The hypothetical graph is a private model built from the snapshot's
 * records (shared by reference, not copied), changed through the same
 * prepare/commit as import.batch and pair.delete, then snapshotted. So a
 * record is valid here exactly when import.batch would accept it, with
 * the same codes and per-record details (fields "nodes.*" and "add.*"),
 * and the live model, its epoch and its subscribers never see it. Both
 * snapshots carry the current epoch.
 *
 * The queries run by name through the query table, each with its own
 * options; the request's pair filters (as_of, min_confidence, kind) are
 * passed to a query that accepts them and did not set them itself.
 * Only read methods that describe the graph are allowed; query.whatif
 * itself is refused (no nesting). Runs on the igraph thread, since a
 * listed query may be query.centrality.
 */
#include "planning.h"
#include "query_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The read methods whatif may run (those absent from the table are
 * refused as unknown). */
static const char *const allowed[] = {
    "graph.stats", "query.coverage", "query.gaps", "query.centrality", "query.recommend",
    "query.timeline", "query.overlap", "query.plan", NULL
};

static const char *const filter_keys[] = { "as_of", "min_confidence", "kind", NULL };

static int is_allowed(const char *m) {
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(allowed[i], m) == 0)
            return 1;
    return 0;
}

static tn_code_t parse_array(const tn_val_t *opts, const char *key, const tn_val_t **out, tn_error_t *err) {
    const tn_val_t *v = tn_map_get(opts, key);
    *out = NULL;
    if (v == NULL || v->type == TN_V_NIL)
        return TN_OK;
    if (v->type != TN_V_ARR)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "%s: must be an array", key);
    *out = v;
    return TN_OK;
}

/* Item i of the request's array 'what' must be a map holding only 'keys';
 * 'shape' says so when it is not a map at all. */
static tn_code_t check_item(const tn_val_t *item, const char *what, size_t i,
                            const char *const *keys, const char *shape, tn_error_t *err) {
    tn_error_t sub = TN_ERROR_INIT;
    if (item->type == TN_V_MAP && tn_opts_check(item, keys, &sub) == TN_OK)
        return TN_OK;
    tn_error_set(err, TN_ERR_INVALID_PARAMS, "%s[%zu]: %s", what, i,
                 item->type != TN_V_MAP ? shape : sub.message);
    tn_error_clear(&sub);
    return TN_ERR_INVALID_PARAMS;
}

static tn_code_t parse_queries(const tn_val_t *opts, tn_whatif_opts_t *o, tn_error_t *err) {
    const tn_val_t *qs = tn_map_get(opts, "queries");
    if (qs == NULL || qs->type != TN_V_ARR)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "queries: an array of 1 to %d {method, options} maps is required",
                            TN_WHATIF_MAX_QUERIES);
    if (qs->u.a.n < 1 || qs->u.a.n > TN_WHATIF_MAX_QUERIES)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "queries: %zu given; 1 to %d are allowed",
                            qs->u.a.n, TN_WHATIF_MAX_QUERIES);
    static const char *const qkeys[] = { "method", "options", NULL };
    for (size_t i = 0; i < qs->u.a.n; i++) {
        const tn_val_t *q = &qs->u.a.items[i];
        if (check_item(q, "queries", i, qkeys, "must be a map {method, options}", err) != TN_OK)
            return TN_ERR_INVALID_PARAMS;
        const char *m = tn_val_str(tn_map_get(q, "method"));
        const tn_val_t *qo = tn_map_get(q, "options");
        if (m == NULL)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS, "queries[%zu].method: a string is required", i);
        if (strcmp(m, "query.whatif") == 0)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                                "queries[%zu].method: query.whatif cannot be nested", i);
        const tn_query_def_t *def = is_allowed(m) ? tn_query_find(m) : NULL;
        if (def == NULL)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                                "queries[%zu].method: '%s' is not a read method whatif can run", i,
                                TN_CLIP(m, 64));
        if (qo != NULL && qo->type == TN_V_NIL)
            qo = NULL;
        if (qo != NULL && qo->type != TN_V_MAP)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS, "queries[%zu].options: must be a map", i);
        o->q[o->nq++] = (tn_whatif_query_t){ def, qo };
    }
    return TN_OK;
}

tn_code_t tn_whatif_parse(const tn_val_t *opts, tn_whatif_opts_t *o, tn_error_t *err) {
    tn_filter_t f;
    tn_code_t rc;
    memset(o, 0, sizeof *o);
    o->filters = opts;
    if ((rc = tn_opts_validate(opts, tn_query_find("query.whatif")->opts, err)) != TN_OK
        || (rc = parse_array(opts, "nodes", &o->nodes, err)) != TN_OK
        || (rc = parse_array(opts, "add", &o->add, err)) != TN_OK
        || (rc = parse_array(opts, "remove", &o->remove, err)) != TN_OK
        || (rc = parse_queries(opts, o, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 1, &f, err)) != TN_OK)
        return rc;
    return tn_q_slow_opts(opts, err);
}

/* import.batch names pair records "pairs.<field>"; here they came as "add". */
static void rename_details(tn_error_t *err) {
    if (err->data.type != TN_V_ARR)
        return;
    for (size_t i = 0; i < err->data.u.a.n; i++) {
        tn_val_t *d = &err->data.u.a.items[i];
        const char *f = tn_val_str(tn_map_get(d, "field"));
        if (f == NULL || strncmp(f, "pairs", 5) != 0)
            continue;
        char *renamed = malloc(strlen(f) + 1);
        if (renamed == NULL)
            continue;
        sprintf(renamed, "add%s", f + 5);
        for (size_t k = 0; k < d->u.m.n; k++)
            if (strcmp(d->u.m.kv[k].key, "field") == 0) {
                tn_val_free(&d->u.m.kv[k].val);
                tn_val_set_str(&d->u.m.kv[k].val, renamed);
            }
        free(renamed);
    }
}

/* Apply nodes and add as one import.batch on m. */
static tn_code_t apply_batch(tn_model_t *m, const tn_whatif_opts_t *o, tn_error_t *err) {
    tn_val_t batch = TN_VAL_NIL, nodes = TN_VAL_NIL, pairs = TN_VAL_NIL;
    tn_change_t *ch = NULL;
    int bad = tn_val_set_map(&batch, 2);
    if (o->nodes) {
        bad |= tn_val_copy(&nodes, o->nodes);
        bad |= tn_map_add_take(&batch, "nodes", &nodes);
    }
    if (o->add) {
        bad |= tn_val_copy(&pairs, o->add);
        bad |= tn_map_add_take(&batch, "pairs", &pairs);
    }
    if (bad) {
        tn_val_free(&batch);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    tn_code_t rc = tn_change_prepare(m, TN_CHANGE_BATCH, &batch, &ch, err);
    if (rc == TN_OK)
        tn_change_commit(m, ch);
    else
        rename_details(err);
    tn_change_free(ch);
    tn_val_free(&batch);
    return rc;
}

static tn_code_t apply_removes(tn_model_t *m, const tn_val_t *remove, tn_error_t *err) {
    static const char *const keys[] = { "a", "b", NULL };
    for (size_t i = 0; remove && i < remove->u.a.n; i++) {
        const tn_val_t *r = &remove->u.a.items[i];
        if (check_item(r, "remove", i, keys, "must be a map {a, b}", err) != TN_OK)
            return TN_ERR_INVALID_PARAMS;
        const char *a = tn_val_str(tn_map_get(r, "a")), *b = tn_val_str(tn_map_get(r, "b"));
        if (a == NULL || b == NULL)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS, "remove[%zu]: a and b must be strings", i);
        if (tn_model_pair(m, a, b) == NULL)
            return tn_error_set(err, TN_ERR_NOT_FOUND, "remove[%zu]: no pair '%s' - '%s'", i, TN_CLIP(a, 128),
                                TN_CLIP(b, 128));
        tn_change_t *ch = NULL;
        tn_code_t rc = tn_change_prepare(m, TN_CHANGE_PAIR_DELETE, r, &ch, err);
        if (rc == TN_OK)
            tn_change_commit(m, ch);
        tn_change_free(ch);
        if (rc != TN_OK)
            return rc;
    }
    return TN_OK;
}

tn_code_t tn_whatif_snapshot(const tn_snap_t *s, const tn_whatif_opts_t *o, tn_snap_t **out,
                             tn_error_t *err) {
    *out = NULL;
    tn_model_t *m = tn_model_from_records(s->home, s->epoch, s->nodes, s->nnodes, s->pairs, s->npairs);
    if (m == NULL || tn_model_set_meta(m, &s->meta) != 0) {
        tn_model_free(m);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    tn_code_t rc = TN_OK;
    if ((o->nodes && o->nodes->u.a.n) || (o->add && o->add->u.a.n))
        rc = apply_batch(m, o, err);
    if (rc == TN_OK)
        rc = apply_removes(m, o->remove, err);
    if (rc == TN_OK) {
        tn_model_set_epoch(m, s->epoch);
        tn_snap_t *h = tn_snap_new(m);
        if (h == NULL)
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        else if ((rc = tn_snap_build(h, err)) != TN_OK)
            tn_snap_release(h);
        else
            *out = h;
    }
    tn_model_free(m);
    return rc;
}

/* The options of query q: its own, plus the request's pair filters it
 * accepts and did not set. -1 on OOM. */
static int query_opts(const tn_whatif_opts_t *o, const tn_whatif_query_t *q, tn_val_t *out) {
    int bad = q->options ? tn_val_copy(out, q->options) : tn_val_set_map(out, 4);
    for (size_t k = 0; filter_keys[k] && !bad; k++) {
        const tn_val_t *v = tn_map_get(o->filters, filter_keys[k]);
        if (v == NULL || v->type == TN_V_NIL || tn_map_get(out, filter_keys[k]) != NULL)
            continue;
        if (tn_opt_spec_find(q->def->opts, filter_keys[k]) == NULL)
            continue;           /* the method does not take this filter */
        tn_val_t copy = TN_VAL_NIL;
        bad |= tn_val_copy(&copy, v);
        bad |= tn_map_add_take(out, filter_keys[k], &copy);
    }
    return bad ? -1 : 0;
}

/* Run query i on snapshot s into *res; its errors name it. */
static tn_code_t run_one(const tn_snap_t *s, const tn_whatif_opts_t *o, size_t i, const tn_val_t *qo,
                         const tn_qctx_t *ctx, tn_val_t *res, tn_error_t *err) {
    tn_qctx_t sub = { ctx ? ctx->stop : NULL, NULL, NULL };
    tn_code_t rc = tn_query_run(o->q[i].def, s, qo, &sub, res, err);
    if (rc != TN_OK && rc != TN_ERR_TIMEOUT && rc != TN_ERR_CANCELLED) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "queries[%zu] (%.24s): %.200s", i, o->q[i].def->name, err->message);
        memcpy(err->message, msg, sizeof msg);
    }
    return rc;
}

tn_code_t tn_whatif_compute(const tn_snap_t *s, const tn_whatif_opts_t *o, const tn_qctx_t *ctx,
                            tn_whatif_result_t *r, tn_error_t *err) {
    tn_snap_t *h = NULL;
    tn_code_t rc;
    memset(r, 0, sizeof *r);
    r->epoch = s->epoch;
    if ((rc = tn_whatif_snapshot(s, o, &h, err)) != TN_OK)
        return rc;
    uint64_t total = 2 * (uint64_t) o->nq, done = 0;
    for (size_t i = 0; i < o->nq && rc == TN_OK; i++) {
        tn_val_t qo = TN_VAL_NIL;
        r->method[i] = o->q[i].def->name;
        r->nq = i + 1;
        if (query_opts(o, &o->q[i], &qo) != 0) {
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
            break;
        }
        if (tn_query_should_stop(ctx))
            rc = tn_query_stopped(ctx, err);
        if (rc == TN_OK)
            rc = run_one(s, o, i, &qo, ctx, &r->before[i], err);
        if (rc == TN_OK && ctx && ctx->progress)
            ctx->progress(ctx->progress_arg, ++done, total);
        if (rc == TN_OK)
            rc = run_one(h, o, i, &qo, ctx, &r->after[i], err);
        if (rc == TN_OK && ctx && ctx->progress)
            ctx->progress(ctx->progress_arg, ++done, total);
        tn_val_free(&qo);
    }
    tn_snap_release(h);
    if (rc != TN_OK)
        tn_whatif_result_free(r);
    return rc;
}

int tn_whatif_encode(const tn_snap_t *s, const tn_whatif_result_t *r, tn_val_t *out) {
    tn_val_t items = TN_VAL_NIL;
    int bad = tn_q_result_begin(out, s);
    bad |= tn_val_set_arr(&items, r->nq);
    for (size_t i = 0; i < r->nq && !bad; i++) {
        tn_val_t it = TN_VAL_NIL, b = TN_VAL_NIL, a = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 3);
        bad |= tn_map_add_str(&it, "method", r->method[i]);
        bad |= tn_val_copy(&b, &r->before[i]);
        bad |= tn_map_add_take(&it, "before", &b);
        bad |= tn_val_copy(&a, &r->after[i]);
        bad |= tn_map_add_take(&it, "after", &a);
        bad |= tn_arr_push_take(&items, &it);
    }
    bad |= tn_map_add_take(out, "results", &items);
    return bad ? -1 : 0;
}

void tn_whatif_result_free(tn_whatif_result_t *r) {
    if (r == NULL)
        return;
    for (size_t i = 0; i < TN_WHATIF_MAX_QUERIES; i++) {
        tn_val_free(&r->before[i]);
        tn_val_free(&r->after[i]);
    }
    r->nq = 0;
}

TN_Q_PARTS(tn_whatif);
