/*
 * nodes.c -- the record queries over a snapshot: node.get, node.find,
 * node.neighbors and pair.list (docs/protocol.md, "Methods").
 *
 * All four are fast (one pass over nodes or pairs, or one adjacency list)
 * and scan in snapshot order, so their output is sorted by id or by pair
 * key without extra work. Country, region and tag values in options match
 * ASCII case-insensitively ("jp" finds "JP"), as a user would expect.
 */
#include "query_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define node_kinds tn_q_node_kind_names

/* The node map of vertex v, plus "degree" (number of pairs, unfiltered). */
static int node_with_degree(const tn_snap_t *s, int64_t v, tn_val_t *out) {
    if (tn_node_to_val(s->nodes[v], out) != 0)
        return -1;
    return tn_map_add_int(out, "degree", (int64_t) (s->adj_off[v + 1] - s->adj_off[v]));
}

/* node.get {id} -> the node map + "degree" + "epoch"; not_found when absent. */
tn_code_t tn_q_node_get(const tn_snap_t *s, const tn_val_t *opts, const tn_qctx_t *ctx,
                        tn_val_t *out, tn_error_t *err) {
    const char *id = NULL;
    tn_code_t rc;
    (void) ctx;
    *out = TN_VAL_NIL;
    if ((rc = tn_q_start(s, "node.get", opts, err)) != TN_OK
        || (rc = tn_opt_str(opts, "id", 1, &id, err)) != TN_OK)
        return rc;
    int64_t v = tn_snap_find(s, id);
    if (v < 0)
        return tn_error_set(err, TN_ERR_NOT_FOUND, "no node '%s'", TN_CLIP(id, 128));
    if (node_with_degree(s, v, out) != 0
        || tn_map_add_int(out, "epoch", (int64_t) s->epoch) != 0)
        return tn_q_oom(out, err);
    return TN_OK;
}

/* Does vertex v belong to country 'cc' (its own code for a country node)? */
static int in_country(const tn_snap_t *s, int64_t v, const char *cc) {
    return tn_q_eq_nocase(tn_q_country(s, v), cc);
}

/* node.find {q, kind?, country?, limit? = 20}: substring of id, name or
 * name_zh, ASCII case-insensitive; sorted by id. An empty q matches all. */
tn_code_t tn_q_node_find(const tn_snap_t *s, const tn_val_t *opts, const tn_qctx_t *ctx,
                         tn_val_t *out, tn_error_t *err) {
    const char *q = NULL, *country = NULL;
    int kind = -1;
    int64_t limit = 20;
    tn_val_t items = TN_VAL_NIL;
    tn_code_t rc;
    int bad = 0;
    (void) ctx;
    *out = TN_VAL_NIL;
    if ((rc = tn_q_start(s, "node.find", opts, err)) != TN_OK
        || (rc = tn_opt_str(opts, "q", 1, &q, err)) != TN_OK
        || (rc = tn_opt_enum(opts, "kind", 0, node_kinds, &kind, err)) != TN_OK
        || (rc = tn_opt_str(opts, "country", 0, &country, err)) != TN_OK
        || (rc = tn_opt_int(opts, "limit", 0, 1, 1000, &limit, err)) != TN_OK)
        return rc;
    bad |= tn_q_result_begin(out, s);
    bad |= tn_val_set_arr(&items, 16);
    for (size_t v = 0; v < s->nnodes && (int64_t) items.u.a.n < limit && !bad; v++) {
        const tn_node_t *n = s->nodes[v];
        if (kind >= 0 && (int) n->kind != kind)
            continue;
        if (country != NULL && !in_country(s, (int64_t) v, country))
            continue;
        if (!tn_q_contains_nocase(n->id, q) && !tn_q_contains_nocase(n->name, q)
            && !tn_q_contains_nocase(n->name_zh, q))
            continue;
        tn_val_t it = TN_VAL_NIL;
        bad |= tn_node_to_val(n, &it);
        bad |= tn_arr_push_take(&items, &it);
    }
    bad |= tn_map_add_take(out, "items", &items);
    return bad ? tn_q_oom(out, err) : TN_OK;
}

/* node.list {kind?, country?, limit? = 1000 (at most 10000), offset?}:
 * every node in id order, page by page; {"epoch", "total", "items"}. An
 * extension beside node.find, for clients that read the whole graph
 * (twinnet export). */
tn_code_t tn_q_node_list(const tn_snap_t *s, const tn_val_t *opts, const tn_qctx_t *ctx,
                         tn_val_t *out, tn_error_t *err) {
    const char *country = NULL;
    int kind = -1, bad = 0;
    int64_t limit = 1000, offset = 0, total = 0;
    tn_val_t items = TN_VAL_NIL;
    tn_code_t rc;
    (void) ctx;
    *out = TN_VAL_NIL;
    if ((rc = tn_q_start(s, "node.list", opts, err)) != TN_OK
        || (rc = tn_opt_enum(opts, "kind", 0, node_kinds, &kind, err)) != TN_OK
        || (rc = tn_opt_str(opts, "country", 0, &country, err)) != TN_OK
        || (rc = tn_opt_int(opts, "limit", 0, 1, 10000, &limit, err)) != TN_OK
        || (rc = tn_opt_int(opts, "offset", 0, 0, INT64_MAX, &offset, err)) != TN_OK)
        return rc;
    bad |= tn_q_result_begin(out, s);
    bad |= tn_val_set_arr(&items, 16);
    for (size_t v = 0; v < s->nnodes && !bad; v++) {
        const tn_node_t *n = s->nodes[v];
        if ((kind >= 0 && (int) n->kind != kind) || (country != NULL && !in_country(s, (int64_t) v, country)))
            continue;
        if (total >= offset && total < offset + limit) {
            tn_val_t it = TN_VAL_NIL;
            bad |= tn_node_to_val(n, &it);
            bad |= tn_arr_push_take(&items, &it);
        }
        total++;
    }
    bad |= tn_map_add_int(out, "total", total);
    bad |= tn_map_add_take(out, "items", &items);
    return bad ? tn_q_oom(out, err) : TN_OK;
}

static int64_t other_end(const tn_snap_t *s, size_t p, int64_t self) {
    return s->pa[p] == self ? s->pb[p] : s->pa[p];
}

/* One pair of a vertex and its other end; sorted by the other end's
 * vertex, which is neighbour-id order. */
typedef struct nb {
    int64_t other;
    size_t pair;
} nb_t;

static int cmp_nb(const void *x, const void *y) {
    const nb_t *a = x, *b = y;
    return (a->other > b->other) - (a->other < b->other);
}

/* node.neighbors {id, kind? = any}: [{node, pair}] by neighbour id. */
tn_code_t tn_q_node_neighbors(const tn_snap_t *s, const tn_val_t *opts, const tn_qctx_t *ctx,
                              tn_val_t *out, tn_error_t *err) {
    static const char *const kinds[] = { "sister", "friendly", "any", NULL };
    const char *id = NULL;
    int kind = 2, bad = 0;
    tn_val_t items = TN_VAL_NIL;
    tn_code_t rc;
    (void) ctx;
    *out = TN_VAL_NIL;
    if ((rc = tn_q_start(s, "node.neighbors", opts, err)) != TN_OK
        || (rc = tn_opt_str(opts, "id", 1, &id, err)) != TN_OK
        || (rc = tn_opt_enum(opts, "kind", 0, kinds, &kind, err)) != TN_OK)
        return rc;
    int64_t v = tn_snap_find(s, id);
    if (v < 0)
        return tn_error_set(err, TN_ERR_NOT_FOUND, "no node '%s'", TN_CLIP(id, 128));
    size_t deg = s->adj_off[v + 1] - s->adj_off[v], n = 0;
    nb_t *nb = malloc((deg ? deg : 1) * sizeof *nb);
    if (nb == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    for (size_t i = s->adj_off[v]; i < s->adj_off[v + 1]; i++) {
        size_t p = s->adj_pair[i];
        if (kind != 2 && (int) s->pairs[p]->kind != kind)
            continue;
        nb[n].other = other_end(s, p, v);
        nb[n].pair = p;
        n++;
    }
    qsort(nb, n, sizeof *nb, cmp_nb);
    bad |= tn_q_result_begin(out, s);
    bad |= tn_val_set_arr(&items, n);
    for (size_t i = 0; i < n && !bad; i++) {
        tn_val_t it = TN_VAL_NIL, node = TN_VAL_NIL, pair = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 2);
        bad |= tn_node_to_val(s->nodes[nb[i].other], &node);
        bad |= tn_map_add_take(&it, "node", &node);
        bad |= tn_pair_to_val(s->pairs[nb[i].pair], &pair);
        bad |= tn_map_add_take(&it, "pair", &pair);
        bad |= tn_arr_push_take(&items, &it);
    }
    free(nb);
    bad |= tn_map_add_take(out, "items", &items);
    return bad ? tn_q_oom(out, err) : TN_OK;
}

/* Does one end of pair p satisfy the country / region filters? */
static int end_matches(const tn_snap_t *s, int64_t v, const char *country, const char *region) {
    if (country != NULL && !in_country(s, v, country))
        return 0;
    if (region != NULL) {
        int64_t c = s->country_of[v];
        if (c < 0 || !tn_q_eq_nocase(s->nodes[c]->region, region))
            return 0;
    }
    return 1;
}

/* pair.list: every filter must hold; "country" and "region" must hold for
 * the same end. Sorted by pair key; limit/offset page the result, total
 * counts every match. */
tn_code_t tn_q_pair_list(const tn_snap_t *s, const tn_val_t *opts, const tn_qctx_t *ctx,
                         tn_val_t *out, tn_error_t *err) {
    const char *unit = NULL, *country = NULL, *region = NULL;
    int64_t since_from = 0, since_to = 0, limit = 100, offset = 0, total = 0;
    tn_filter_t f;
    tn_val_t items = TN_VAL_NIL;
    tn_code_t rc;
    int bad = 0;
    *out = TN_VAL_NIL;
    if ((rc = tn_q_start(s, "pair.list", opts, err)) != TN_OK
        || (rc = tn_opt_str(opts, "unit", 0, &unit, err)) != TN_OK
        || (rc = tn_opt_str(opts, "country", 0, &country, err)) != TN_OK
        || (rc = tn_opt_str(opts, "region", 0, &region, err)) != TN_OK
        || (rc = tn_opt_int(opts, "since_from", 0, 1, 9999, &since_from, err)) != TN_OK
        || (rc = tn_opt_int(opts, "since_to", 0, 1, 9999, &since_to, err)) != TN_OK
        || (rc = tn_opt_int(opts, "limit", 0, 0, 10000, &limit, err)) != TN_OK
        || (rc = tn_opt_int(opts, "offset", 0, 0, INT64_MAX, &offset, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 1, &f, err)) != TN_OK)
        return rc;
    if (since_from && since_to && since_from > since_to)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "since_from is after since_to");
    int64_t uv = -1;
    if (unit != NULL && (uv = tn_snap_find(s, unit)) < 0)
        return tn_error_set(err, TN_ERR_NOT_FOUND, "no node '%s' (unit)",
                            TN_CLIP(unit, 128));

    /* With a unit, walk its adjacency only (already in pair-key order). */
    size_t lo = 0, hi = s->npairs;
    if (uv >= 0) {
        lo = s->adj_off[uv];
        hi = s->adj_off[uv + 1];
    }
    bad |= tn_q_result_begin(out, s);
    bad |= tn_val_set_arr(&items, limit < 64 ? (size_t) limit : 64);
    for (size_t i = lo; i < hi && !bad; i++) {
        size_t p = uv >= 0 ? s->adj_pair[i] : i;
        const tn_pair_t *pr = s->pairs[p];
        if (i % TN_Q_POLL == 0 && tn_query_should_stop(ctx)) {
            tn_val_free(&items);
            tn_val_free(out);
            return tn_query_stopped(ctx, err);
        }
        if (!tn_filter_keep(&f, pr))
            continue;
        if ((since_from || since_to)
            && (pr->since_year == 0 || (since_from && pr->since_year < since_from)
                || (since_to && pr->since_year > since_to)))
            continue;
        if ((country || region) && !end_matches(s, s->pa[p], country, region)
            && !end_matches(s, s->pb[p], country, region))
            continue;
        if (total++ < offset || (int64_t) items.u.a.n >= limit)
            continue;
        tn_val_t it = TN_VAL_NIL;
        bad |= tn_pair_to_val(pr, &it);
        bad |= tn_arr_push_take(&items, &it);
    }
    bad |= tn_map_add_int(out, "total", total);
    bad |= tn_map_add_take(out, "items", &items);
    return bad ? tn_q_oom(out, err) : TN_OK;
}
