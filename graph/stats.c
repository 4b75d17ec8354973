/*
 * stats.c -- graph.stats (docs/protocol.md): node counts by kind, pair
 * counts by kind under the pair filters, and the home's figures.
 *
 * Node counts ignore the filters (filters remove pairs, not nodes). The
 * home's figures are computed exactly like query.coverage (coverage.c), so
 * the two can never disagree. When the dataset's notes (snap->meta) carry
 * "reference", "note" and/or "peers", they are copied into "home" so a
 * client sees at once that the verified figures fall short of the official
 * totals, and which peer data is loaded beside them. A replace import drops
 * the notes (model.c), so they never describe data that is gone.
 */
#include "query_internal.h"

/* The graph.stats map; shared with metrics.get. */
tn_code_t tn_q_stats_build(const tn_snap_t *s, const tn_filter_t *f, const tn_qctx_t *ctx,
                           tn_val_t *out, tn_error_t *err) {
    int64_t kinds[3] = { 0, 0, 0 }, pk[2] = { 0, 0 };
    tn_val_t nodes = TN_VAL_NIL, pairs = TN_VAL_NIL, home = TN_VAL_NIL;
    tn_q_home_t h;
    tn_q_cover_t c;
    tn_code_t code;
    int rc = 0;

    *out = TN_VAL_NIL;
    for (size_t v = 0; v < s->nnodes; v++)
        kinds[s->nodes[v]->kind]++;
    for (size_t p = 0; p < s->npairs; p++)
        if (tn_filter_keep(f, s->pairs[p]))
            pk[s->pairs[p]->kind]++;
    if ((code = tn_q_home_init(s, NULL, &h, err)) != TN_OK)
        return code;
    if ((code = tn_q_cover_init(s, &h, f, ctx, &c, err)) != TN_OK) {
        tn_q_home_destroy(&h);
        return code;
    }
    rc |= tn_q_result_begin(out, s);
    rc |= tn_val_set_map(&nodes, 3);
    rc |= tn_map_add_int(&nodes, "country", kinds[TN_NODE_COUNTRY]);
    rc |= tn_map_add_int(&nodes, "province", kinds[TN_NODE_PROVINCE]);
    rc |= tn_map_add_int(&nodes, "city", kinds[TN_NODE_CITY]);
    rc |= tn_map_add_take(out, "nodes", &nodes);
    rc |= tn_val_set_map(&pairs, 3);
    rc |= tn_map_add_int(&pairs, "total", pk[0] + pk[1]);
    rc |= tn_map_add_int(&pairs, "sister", pk[TN_PAIR_SISTER]);
    rc |= tn_map_add_int(&pairs, "friendly", pk[TN_PAIR_FRIENDLY]);
    rc |= tn_map_add_take(out, "pairs", &pairs);
    rc |= tn_val_set_map(&home, 7);
    rc |= tn_map_add_str(&home, "id", h.id);
    rc |= tn_map_add_int(&home, "units", (int64_t) h.nunits);
    rc |= tn_map_add_int(&home, "pairs", (int64_t) c.pairs);
    rc |= tn_map_add_int(&home, "countries", (int64_t) c.countries);
    static const char *const notes[] = { "reference", "note", "peers" };
    for (size_t i = 0; i < 3; i++) {
        const tn_val_t *m = tn_map_get(&s->meta, notes[i]);
        tn_val_t copy = TN_VAL_NIL;
        if (m == NULL || m->type == TN_V_NIL)
            continue;
        rc |= tn_val_copy(&copy, m);
        rc |= tn_map_add_take(&home, notes[i], &copy);
    }
    rc |= tn_map_add_take(out, "home", &home);
    tn_q_cover_destroy(&c);
    tn_q_home_destroy(&h);
    return rc ? tn_q_oom(out, err) : TN_OK;
}

/* graph.stats {as_of?, min_confidence?} */
tn_code_t tn_q_graph_stats(const tn_snap_t *s, const tn_val_t *opts, const tn_qctx_t *ctx,
                           tn_val_t *out, tn_error_t *err) {
    tn_filter_t f;
    tn_code_t rc;
    *out = TN_VAL_NIL;
    if ((rc = tn_q_start(s, "graph.stats", opts, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 0, &f, err)) != TN_OK)
        return rc;
    return tn_q_stats_build(s, &f, ctx, out, err);
}
