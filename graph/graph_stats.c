/*
 * graph_stats.c -- graph.stats (docs/protocol.md): node counts by kind, pair
 * counts by kind under the pair filters, and the home's figures, as
 * parse -> compute -> encode (graph_stats.h).
 *
 * Node counts ignore the filters (filters remove pairs, not nodes). The
 * home's figures are computed exactly like query.coverage (coverage.c), so
 * the two can never disagree. When the dataset's notes (snap->meta) carry
 * "reference", "note" and/or "peers", they are copied into "home" so a
 * client sees at once that the verified figures fall short of the official
 * totals, and which peer data is loaded beside them. A replace import drops
 * the notes (model.c), so they never describe data that is gone.
 */
#include "graph_stats.h"

#include "query_internal.h"

tn_code_t tn_graph_stats_parse(const tn_val_t *opts, tn_graph_stats_opts_t *o, tn_error_t *err) {
    return tn_opt_filter(opts, 0, &o->f, err);
}

tn_code_t tn_graph_stats_compute(const tn_snap_t *s, const tn_graph_stats_opts_t *o,
                                 const tn_qctx_t *ctx, tn_graph_stats_result_t *r, tn_error_t *err) {
    tn_q_home_t h;
    tn_q_cover_t c;
    tn_code_t code;
    for (size_t v = 0; v < s->nnodes; v++)
        r->nodes[s->nodes[v]->kind]++;
    for (size_t p = 0; p < s->npairs; p++)
        if (tn_filter_keep(&o->f, s->pairs[p]))
            r->pairs[s->pairs[p]->kind]++;
    if ((code = tn_q_home_init(s, NULL, &h, err)) != TN_OK)
        return code;
    if ((code = tn_q_cover_init(s, &h, &o->f, ctx, &c, err)) != TN_OK) {
        tn_q_home_destroy(&h);
        return code;
    }
    r->home = s->home;
    r->units = (int64_t) h.nunits;
    r->home_pairs = (int64_t) c.pairs;
    r->countries = (int64_t) c.countries;
    tn_q_cover_destroy(&c);
    tn_q_home_destroy(&h);
    return TN_OK;
}

int tn_graph_stats_encode(const tn_snap_t *s, const tn_graph_stats_result_t *r, tn_val_t *out) {
    tn_val_t nodes = TN_VAL_NIL, pairs = TN_VAL_NIL, home = TN_VAL_NIL;
    int rc = tn_q_result_begin(out, s);
    rc |= tn_val_set_map(&nodes, 3);
    rc |= tn_map_add_int(&nodes, "country", r->nodes[TN_NODE_COUNTRY]);
    rc |= tn_map_add_int(&nodes, "province", r->nodes[TN_NODE_PROVINCE]);
    rc |= tn_map_add_int(&nodes, "city", r->nodes[TN_NODE_CITY]);
    rc |= tn_map_add_take(out, "nodes", &nodes);
    rc |= tn_val_set_map(&pairs, 3);
    rc |= tn_map_add_int(&pairs, "total", r->pairs[0] + r->pairs[1]);
    rc |= tn_map_add_int(&pairs, "sister", r->pairs[TN_PAIR_SISTER]);
    rc |= tn_map_add_int(&pairs, "friendly", r->pairs[TN_PAIR_FRIENDLY]);
    rc |= tn_map_add_take(out, "pairs", &pairs);
    rc |= tn_val_set_map(&home, 7);
    rc |= tn_map_add_str(&home, "id", r->home);
    rc |= tn_map_add_int(&home, "units", r->units);
    rc |= tn_map_add_int(&home, "pairs", r->home_pairs);
    rc |= tn_map_add_int(&home, "countries", r->countries);
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
    return rc ? -1 : 0;
}

void tn_graph_stats_result_free(tn_graph_stats_result_t *r) {
    (void) r;
}

TN_Q_PARTS(tn_graph_stats);
