/*
 * nodes.c -- the record queries over a snapshot: node.get, node.find,
 * node.list, node.neighbors and pair.list (docs/protocol.md, "Methods"), each as
 * parse -> compute -> encode (nodes.h).
 *
 * All are fast (one pass over nodes or pairs, or one adjacency list) and
 * scan in snapshot order, so their output is sorted by id or by pair key
 * without extra work. Country, region and tag values in options match
 * ASCII case-insensitively ("jp" finds "JP"), as a user would expect.
 */
#include "nodes.h"

#include <stdlib.h>
#include <string.h>

#include "query_internal.h"

#define node_kinds tn_q_node_kind_names

void tn_q_idx_free(tn_q_idx_t *r) {
    free(r->i);
    memset(r, 0, sizeof *r);
}

/* Room for 'cap' indices; -1 on out-of-memory. */
static int idx_init(tn_q_idx_t *r, size_t cap) {
    r->i = malloc((cap ? cap : 1) * sizeof *r->i);
    r->n = 0;
    r->total = 0;
    return r->i == NULL ? -1 : 0;
}

static tn_code_t oom(tn_error_t *err) {
    return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
}

/* The node map of vertex v, plus "degree" (number of pairs, unfiltered). */
static int node_with_degree(const tn_snap_t *s, int64_t v, tn_val_t *out) {
    if (tn_node_to_val(s->nodes[v], out) != 0)
        return -1;
    return tn_map_add_int(out, "degree", (int64_t) (s->adj_off[v + 1] - s->adj_off[v]));
}

/* The record map of vertex or pair i, for encode_records. */
typedef int record_val_fn(const tn_snap_t *s, int64_t i, tn_val_t *out);

static int node_val(const tn_snap_t *s, int64_t v, tn_val_t *out) {
    return tn_node_to_val(s->nodes[v], out);
}

static int pair_val(const tn_snap_t *s, int64_t p, tn_val_t *out) {
    return tn_pair_to_val(s->pairs[p], out);
}

/* {"epoch", ["total",] "items": [record maps]} for a list of vertices or
 * pairs, each written by 'val'. */
static int encode_records(const tn_snap_t *s, const tn_q_idx_t *r, int with_total,
                          record_val_fn *val, tn_val_t *out) {
    tn_val_t items = TN_VAL_NIL;
    int bad = tn_q_result_begin(out, s);
    bad |= tn_val_set_arr(&items, r->n);
    for (size_t k = 0; k < r->n && !bad; k++) {
        tn_val_t it = TN_VAL_NIL;
        bad |= val(s, r->i[k], &it);
        bad |= tn_arr_push_take(&items, &it);
    }
    if (with_total)
        bad |= tn_map_add_int(out, "total", r->total);
    bad |= tn_map_add_take(out, "items", &items);
    return bad ? -1 : 0;
}

/* Does vertex v belong to country 'cc' (its own code for a country node)? */
static int in_country(const tn_snap_t *s, int64_t v, const char *cc) {
    return tn_q_eq_nocase(tn_q_country(s, v), cc);
}

/* ---- node.get {id} -> the node map + "degree" + "epoch"; not_found when absent ---- */

tn_code_t tn_node_get_parse(const tn_val_t *opts, tn_node_get_opts_t *o, tn_error_t *err) {
    o->id = NULL;
    return tn_opt_str(opts, "id", 1, &o->id, err);
}

tn_code_t tn_node_get_compute(const tn_snap_t *s, const tn_node_get_opts_t *o, const tn_qctx_t *ctx,
                              tn_node_get_result_t *r, tn_error_t *err) {
    (void) ctx;
    r->v = tn_snap_find(s, o->id);
    if (r->v < 0)
        return tn_error_set(err, TN_ERR_NOT_FOUND, "no node '%.128s'", o->id);
    return TN_OK;
}

int tn_node_get_encode(const tn_snap_t *s, const tn_node_get_result_t *r, tn_val_t *out) {
    if (node_with_degree(s, r->v, out) != 0 || tn_map_add_int(out, "epoch", (int64_t) s->epoch) != 0)
        return -1;
    return 0;
}

void tn_node_get_result_free(tn_node_get_result_t *r) {
    (void) r;
}

/* ---- node.find {q, kind?, country?, limit? = 20}: substring of id, name or
 * name_zh, ASCII case-insensitive; sorted by id. An empty q matches all. ---- */

tn_code_t tn_node_find_parse(const tn_val_t *opts, tn_node_find_opts_t *o, tn_error_t *err) {
    tn_code_t rc;
    *o = (tn_node_find_opts_t){ NULL, NULL, -1, 20 };
    if ((rc = tn_opt_str(opts, "q", 1, &o->q, err)) != TN_OK
        || (rc = tn_opt_enum(opts, "kind", 0, node_kinds, &o->kind, err)) != TN_OK
        || (rc = tn_opt_str(opts, "country", 0, &o->country, err)) != TN_OK)
        return rc;
    return tn_opt_int(opts, "limit", 0, 1, 1000, &o->limit, err);
}

/* Does vertex v pass node.find's or node.list's kind and country filters? */
static int node_keep(const tn_snap_t *s, size_t v, int kind, const char *country) {
    return (kind < 0 || (int) s->nodes[v]->kind == kind)
           && (country == NULL || in_country(s, (int64_t) v, country));
}

tn_code_t tn_node_find_compute(const tn_snap_t *s, const tn_node_find_opts_t *o, const tn_qctx_t *ctx,
                               tn_node_find_result_t *r, tn_error_t *err) {
    (void) ctx;
    if (idx_init(r, (size_t) o->limit) != 0)
        return oom(err);
    for (size_t v = 0; v < s->nnodes && (int64_t) r->n < o->limit; v++) {
        const tn_node_t *n = s->nodes[v];
        if (!node_keep(s, v, o->kind, o->country))
            continue;
        if (tn_q_contains_nocase(n->id, o->q) || tn_q_contains_nocase(n->name, o->q)
            || tn_q_contains_nocase(n->name_zh, o->q))
            r->i[r->n++] = (int64_t) v;
    }
    return TN_OK;
}

int tn_node_find_encode(const tn_snap_t *s, const tn_node_find_result_t *r, tn_val_t *out) {
    return encode_records(s, r, 0, node_val, out);
}

void tn_node_find_result_free(tn_node_find_result_t *r) {
    tn_q_idx_free(r);
}

/* ---- node.list {kind?, country?, limit? = 1000 (at most 10000), offset?}:
 * every node in id order, page by page; {"epoch", "total", "items"}. An
 * extension beside node.find, for clients that read the whole graph
 * (twinnet export). ---- */

tn_code_t tn_node_list_parse(const tn_val_t *opts, tn_node_list_opts_t *o, tn_error_t *err) {
    tn_code_t rc;
    *o = (tn_node_list_opts_t){ NULL, -1, 1000, 0 };
    if ((rc = tn_opt_enum(opts, "kind", 0, node_kinds, &o->kind, err)) != TN_OK
        || (rc = tn_opt_str(opts, "country", 0, &o->country, err)) != TN_OK
        || (rc = tn_opt_int(opts, "limit", 0, 1, 10000, &o->limit, err)) != TN_OK)
        return rc;
    return tn_opt_int(opts, "offset", 0, 0, INT64_MAX, &o->offset, err);
}

tn_code_t tn_node_list_compute(const tn_snap_t *s, const tn_node_list_opts_t *o, const tn_qctx_t *ctx,
                               tn_node_list_result_t *r, tn_error_t *err) {
    (void) ctx;
    if (idx_init(r, (size_t) o->limit < s->nnodes ? (size_t) o->limit : s->nnodes) != 0)
        return oom(err);
    for (size_t v = 0; v < s->nnodes; v++) {
        if (!node_keep(s, v, o->kind, o->country))
            continue;
        if (r->total >= o->offset && r->total < o->offset + o->limit)
            r->i[r->n++] = (int64_t) v;
        r->total++;
    }
    return TN_OK;
}

int tn_node_list_encode(const tn_snap_t *s, const tn_node_list_result_t *r, tn_val_t *out) {
    return encode_records(s, r, 1, node_val, out);
}

void tn_node_list_result_free(tn_node_list_result_t *r) {
    tn_q_idx_free(r);
}

/* ---- node.neighbors {id, kind? = any}: [{node, pair}] by neighbour id ---- */

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

tn_code_t tn_node_neighbors_parse(const tn_val_t *opts, tn_node_neighbors_opts_t *o, tn_error_t *err) {
    tn_code_t rc;
    *o = (tn_node_neighbors_opts_t){ NULL, 2 };
    if ((rc = tn_opt_str(opts, "id", 1, &o->id, err)) != TN_OK)
        return rc;
    return tn_opt_enum(opts, "kind", 0, tn_opt_pair_kind_names, &o->kind, err);
}

tn_code_t tn_node_neighbors_compute(const tn_snap_t *s, const tn_node_neighbors_opts_t *o,
                                    const tn_qctx_t *ctx, tn_node_neighbors_result_t *r,
                                    tn_error_t *err) {
    (void) ctx;
    r->v = tn_snap_find(s, o->id);
    if (r->v < 0)
        return tn_error_set(err, TN_ERR_NOT_FOUND, "no node '%.128s'", o->id);
    int64_t v = r->v;
    size_t deg = s->adj_off[v + 1] - s->adj_off[v], n = 0;
    nb_t *nb = malloc((deg ? deg : 1) * sizeof *nb);
    if (nb == NULL || idx_init(&r->pairs, deg) != 0) {
        free(nb);
        return oom(err);
    }
    for (size_t i = s->adj_off[v]; i < s->adj_off[v + 1]; i++) {
        size_t p = s->adj_pair[i];
        if (o->kind != 2 && (int) s->pairs[p]->kind != o->kind)
            continue;
        nb[n].other = other_end(s, p, v);
        nb[n].pair = p;
        n++;
    }
    qsort(nb, n, sizeof *nb, cmp_nb);
    for (size_t i = 0; i < n; i++)
        r->pairs.i[r->pairs.n++] = (int64_t) nb[i].pair;
    free(nb);
    return TN_OK;
}

int tn_node_neighbors_encode(const tn_snap_t *s, const tn_node_neighbors_result_t *r, tn_val_t *out) {
    tn_val_t items = TN_VAL_NIL;
    int bad = tn_q_result_begin(out, s);
    bad |= tn_val_set_arr(&items, r->pairs.n);
    for (size_t i = 0; i < r->pairs.n && !bad; i++) {
        size_t p = (size_t) r->pairs.i[i];
        tn_val_t it = TN_VAL_NIL, node = TN_VAL_NIL, pair = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 2);
        bad |= tn_node_to_val(s->nodes[other_end(s, p, r->v)], &node);
        bad |= tn_map_add_take(&it, "node", &node);
        bad |= tn_pair_to_val(s->pairs[p], &pair);
        bad |= tn_map_add_take(&it, "pair", &pair);
        bad |= tn_arr_push_take(&items, &it);
    }
    bad |= tn_map_add_take(out, "items", &items);
    return bad ? -1 : 0;
}

void tn_node_neighbors_result_free(tn_node_neighbors_result_t *r) {
    tn_q_idx_free(&r->pairs);
}

/* ---- pair.list: every filter must hold; "country" and "region" must hold
 * for the same end. Sorted by pair key; limit/offset page the result,
 * total counts every match. ---- */

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

tn_code_t tn_pair_list_parse(const tn_val_t *opts, tn_pair_list_opts_t *o, tn_error_t *err) {
    tn_code_t rc;
    memset(o, 0, sizeof *o);
    o->limit = 100;
    if ((rc = tn_opt_str(opts, "unit", 0, &o->unit, err)) != TN_OK
        || (rc = tn_opt_str(opts, "country", 0, &o->country, err)) != TN_OK
        || (rc = tn_opt_str(opts, "region", 0, &o->region, err)) != TN_OK
        || (rc = tn_opt_int(opts, "since_from", 0, 1, 9999, &o->since_from, err)) != TN_OK
        || (rc = tn_opt_int(opts, "since_to", 0, 1, 9999, &o->since_to, err)) != TN_OK
        || (rc = tn_opt_int(opts, "limit", 0, 0, 10000, &o->limit, err)) != TN_OK
        || (rc = tn_opt_int(opts, "offset", 0, 0, INT64_MAX, &o->offset, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 1, &o->f, err)) != TN_OK)
        return rc;
    if (o->since_from && o->since_to && o->since_from > o->since_to)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "since_from is after since_to");
    return TN_OK;
}

tn_code_t tn_pair_list_compute(const tn_snap_t *s, const tn_pair_list_opts_t *o, const tn_qctx_t *ctx,
                               tn_pair_list_result_t *r, tn_error_t *err) {
    int64_t uv = -1;
    if (o->unit != NULL && (uv = tn_snap_find(s, o->unit)) < 0)
        return tn_error_set(err, TN_ERR_NOT_FOUND, "no node '%.128s' (unit)", o->unit);
    /* With a unit, walk its adjacency only (already in pair-key order). */
    size_t lo = 0, hi = s->npairs;
    if (uv >= 0) {
        lo = s->adj_off[uv];
        hi = s->adj_off[uv + 1];
    }
    if (idx_init(r, (size_t) o->limit < hi - lo ? (size_t) o->limit : hi - lo) != 0)
        return oom(err);
    for (size_t i = lo; i < hi; i++) {
        size_t p = uv >= 0 ? s->adj_pair[i] : i;
        const tn_pair_t *pr = s->pairs[p];
        if (i % TN_Q_POLL == 0 && tn_query_should_stop(ctx))
            return tn_query_stopped(ctx, err);
        if (!tn_filter_keep(&o->f, pr))
            continue;
        if ((o->since_from || o->since_to)
            && (pr->since_year == 0 || (o->since_from && pr->since_year < o->since_from)
                || (o->since_to && pr->since_year > o->since_to)))
            continue;
        if ((o->country || o->region) && !end_matches(s, s->pa[p], o->country, o->region)
            && !end_matches(s, s->pb[p], o->country, o->region))
            continue;
        if (r->total++ < o->offset || (int64_t) r->n >= o->limit)
            continue;
        r->i[r->n++] = (int64_t) p;
    }
    return TN_OK;
}

int tn_pair_list_encode(const tn_snap_t *s, const tn_pair_list_result_t *r, tn_val_t *out) {
    return encode_records(s, r, 1, pair_val, out);
}

void tn_pair_list_result_free(tn_pair_list_result_t *r) {
    tn_q_idx_free(r);
}

/* ---- the parts, for the table of query.c ---- */

TN_Q_PARTS(tn_node_get);
TN_Q_PARTS(tn_node_find);
TN_Q_PARTS(tn_node_list);
TN_Q_PARTS(tn_node_neighbors);
TN_Q_PARTS(tn_pair_list);
