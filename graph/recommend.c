/*
 * recommend.c -- query.recommend: foreign cities and provinces a unit could
 * partner with next, ranked by the score of recommend.h and explained in
 * plain words (docs/recommend.md).
 *
 * Candidates come from the whole graph: every province or city of another
 * country that is not the unit, not paired with it, and not paired with
 * any of its ancestors or descendants (a partner of Hunan is no new partner
 * for Changsha, nor one of Changsha's for Hunan). With exclude_home
 * (default: true for a unit of the configured home) partners of any other
 * unit of the same home are left out too: they are not new partners for
 * the province. Options country, region, tag and kind narrow the list.
 */
#include "recommend.h"

#include <stdlib.h>
#include <string.h>

tn_code_t tn_recommend_parse(const tn_val_t *opts, tn_recommend_opts_t *o, tn_error_t *err) {
    int kind = -1;
    tn_code_t rc;
    memset(o, 0, sizeof *o);
    o->top = 10;
    o->rf.kind = -1;
    if ((rc = tn_opt_str(opts, "unit", 1, &o->unit, err)) != TN_OK
        || (rc = tn_opt_int(opts, "top", 0, 1, 1000, &o->top, err)) != TN_OK
        || (rc = tn_opt_str(opts, "country", 0, &o->rf.country, err)) != TN_OK
        || (rc = tn_opt_str(opts, "region", 0, &o->rf.region, err)) != TN_OK
        || (rc = tn_opt_str(opts, "tag", 0, &o->rf.tag, err)) != TN_OK
        || (rc = tn_opt_enum(opts, "kind", 0, tn_q_place_kind_names, &kind, err)) != TN_OK)
        return rc;
    if (opts != NULL && tn_map_get(opts, "exclude_home") != NULL
        && tn_map_get(opts, "exclude_home")->type != TN_V_NIL) {
        if ((rc = tn_opt_bool(opts, "exclude_home", 0, &o->rf.exclude_home, err)) != TN_OK)
            return rc;
        o->exclude_home_set = 1;
    }
    if ((rc = tn_opt_filter(opts, 0, &o->f, err)) != TN_OK
        || (rc = tn_q_slow_opts(opts, err)) != TN_OK)
        return rc;
    if (kind >= 0)
        o->rf.kind = kind == 0 ? TN_NODE_PROVINCE : TN_NODE_CITY;
    return TN_OK;
}

void tn_recommend_result_free(tn_recommend_result_t *r) {
    if (r == NULL)
        return;
    free(r->items);
    memset(r, 0, sizeof *r);
}

tn_code_t tn_recommend_compute(const tn_snap_t *s, const tn_recommend_opts_t *o,
                               const tn_qctx_t *ctx, tn_recommend_result_t *r, tn_error_t *err) {
    tn_rec_filter_t rf = o->rf;
    tn_rec_world_t w;
    tn_rec_unit_t ru;
    tn_code_t rc;

    memset(r, 0, sizeof *r);
    int64_t u = tn_snap_find(s, o->unit);
    if (u < 0)
        return tn_error_set(err, TN_ERR_NOT_FOUND, "no node '%s' (unit)", TN_CLIP(o->unit, 128));
    if (s->nodes[u]->kind == TN_NODE_COUNTRY)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                            "option 'unit' must be a province or city, not a country");
    if (!o->exclude_home_set)
        rf.exclude_home = s->is_unit[u] != 0;
    if ((rc = tn_rec_world_init(s, &o->f, &w, err)) != TN_OK)
        return rc;
    if ((rc = tn_rec_unit_init(&w, u, NULL, &rf, ctx, &ru, err)) != TN_OK) {
        tn_rec_world_destroy(&w);
        return rc;
    }
    tn_rec_item_t *all = malloc((s->nnodes ? s->nnodes : 1) * sizeof *all);
    size_t n = 0;
    if (all == NULL) {
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < s->nnodes; c++) {
        if (c % TN_Q_POLL == 0) {
            if (tn_query_should_stop(ctx)) {
                rc = tn_query_stopped(ctx, err);
                goto done;
            }
            if (ctx != NULL && ctx->progress != NULL)
                ctx->progress(ctx->progress_arg, c, s->nnodes);
        }
        if (tn_rec_is_candidate(&w, &ru, &rf, (int64_t) c))
            tn_rec_score(&w, &ru, (int64_t) c, &all[n++]);
    }
    qsort(all, n, sizeof *all, tn_rec_cmp);
    if ((int64_t) n > o->top)
        n = (size_t) o->top;
    for (size_t i = 0; i < n; i++)
        tn_rec_evidence(&w, &ru, &all[i]);
    r->unit = u;
    r->home = ru.home.idx;
    r->n = n;
    r->items = all;
    all = NULL;
done:
    free(all);
    tn_rec_unit_destroy(&ru);
    tn_rec_world_destroy(&w);
    return rc;
}

int tn_recommend_encode(const tn_snap_t *s, const tn_recommend_result_t *r, tn_val_t *out) {
    tn_val_t items = TN_VAL_NIL;
    int bad = tn_q_result_begin(out, s);
    bad |= tn_map_add_str(out, "unit", s->nodes[r->unit]->id);
    bad |= tn_val_set_arr(&items, r->n);
    for (size_t i = 0; i < r->n && !bad; i++) {
        const tn_node_t *nd = s->nodes[r->items[i].v];
        tn_val_t it = TN_VAL_NIL, why = TN_VAL_NIL;
        bad |= tn_q_node_item(&it, nd, 5);
        bad |= tn_map_add_str(&it, "country", nd->country);
        bad |= tn_map_add_float(&it, "score", r->items[i].score);
        bad |= tn_val_set_arr(&why, 4);
        bad |= tn_rec_reasons(s, r->unit, r->home, &r->items[i], &why);
        bad |= tn_map_add_take(&it, "reasons", &why);
        bad |= tn_arr_push_take(&items, &it);
    }
    bad |= tn_map_add_take(out, "items", &items);
    return bad ? -1 : 0;
}

/* query.recommend's parts, for the table of query.c. */
TN_Q_PARTS(tn_recommend);
