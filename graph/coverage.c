/*
 * coverage.c -- how a home covers the world: which countries its home pairs
 * reach, grouped by region, sub-region, tag, country or unit
 * (query.coverage, docs/protocol.md, "Methods"), plus the coverage tables that
 * graph.stats, query.gaps, metrics.get and query.recommend reuse.
 *
 * Decisions where the protocol is silent (docs/queries.md):
 * - The home's own country is never a candidate: it can never be covered,
 *   so it is left out of every "countries" denominator.
 * - Countries lacking the grouping field (no region, say) are in no group;
 *   pairs into a country code that has no country node count in total.pairs
 *   but in no group.
 * - by: "tag" without "tag" uses "bri"; "tag" with any other "by" is
 *   invalid_params (it would be silently ignored otherwise).
 * - Groups are sorted by name; countries and units by pairs descending,
 *   then id.
 */
#include "coverage.h"

#include <stdlib.h>
#include <string.h>

/* One home pair, seen from the unit that holds it. */
typedef struct hp {
    int64_t unit;
    int64_t key;            /* the thing counted distinct: a vertex or group */
    const char *code;       /* foreign country code */
} hp_t;

static int cmp_key_unit(const void *x, const void *y) {
    const hp_t *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->unit > b->unit) - (a->unit < b->unit);
}

static int cmp_unit_key(const void *x, const void *y) {
    const hp_t *a = x, *b = y;
    if (a->unit != b->unit)
        return a->unit < b->unit ? -1 : 1;
    return (a->key > b->key) - (a->key < b->key);
}

static int cmp_unit_code(const void *x, const void *y) {
    const hp_t *a = x, *b = y;
    if (a->unit != b->unit)
        return a->unit < b->unit ? -1 : 1;
    return strcmp(a->code, b->code);
}

static int cmp_code(const void *x, const void *y) {
    return strcmp(((const hp_t *) x)->code, ((const hp_t *) y)->code);
}

static int cmp_str(const void *x, const void *y) {
    return strcmp(*(const char *const *) x, *(const char *const *) y);
}

void tn_q_cover_destroy(tn_q_cover_t *c) {
    if (c == NULL)
        return;
    tn_arena_free(&c->arena);
    memset(c, 0, sizeof *c);
}

/* Collect the home pairs kept by 'f' (unit, foreign country vertex, code).
 * Returns the count, or -1 on OOM / -2 when stopped. */
static int64_t collect(const tn_snap_t *s, const tn_q_home_t *h, const tn_filter_t *f,
                       const tn_qctx_t *ctx, hp_t **out) {
    hp_t *v = malloc((s->npairs ? s->npairs : 1) * sizeof *v);
    int64_t n = 0;
    if (v == NULL)
        return -1;
    for (size_t p = 0; p < s->npairs; p++) {
        int64_t u, x;
        if (p % TN_Q_POLL == 0 && tn_query_should_stop(ctx)) {
            free(v);
            return -2;
        }
        if (!tn_filter_keep(f, s->pairs[p]) || !tn_q_home_pair(s, h, p, &u, &x))
            continue;
        v[n].unit = u;
        v[n].key = s->country_of[x];
        v[n].code = tn_q_country(s, x);
        n++;
    }
    *out = v;
    return n;
}

/* Compute per-country and per-unit coverage of home 'h'. */
tn_code_t tn_q_cover_init(const tn_snap_t *s, const tn_q_home_t *h, const tn_filter_t *f,
                          const tn_qctx_t *ctx, tn_q_cover_t *c, tn_error_t *err) {
    size_t n = s->nnodes, k = n ? n : 1;
    hp_t *v = NULL;
    memset(c, 0, sizeof *c);
    c->nnodes = n;
    c->cpairs = tn_arena_calloc(&c->arena, k, sizeof *c->cpairs);
    c->cunits = tn_arena_calloc(&c->arena, k, sizeof *c->cunits);
    c->upairs = tn_arena_calloc(&c->arena, k, sizeof *c->upairs);
    c->ucountries = tn_arena_calloc(&c->arena, k, sizeof *c->ucountries);
    c->uregions = tn_arena_calloc(&c->arena, k, sizeof *c->uregions);
    c->candidate = tn_arena_calloc(&c->arena, k, 1);
    if (!c->cpairs || !c->cunits || !c->upairs || !c->ucountries || !c->uregions || !c->candidate)
        goto oom;
    int64_t np = collect(s, h, f, ctx, &v);
    if (np == -2) {
        tn_q_cover_destroy(c);
        return tn_query_stopped(ctx, err);
    }
    if (np < 0)
        goto oom;
    c->pairs = (size_t) np;
    for (int64_t i = 0; i < np; i++) {
        if (v[i].key >= 0)
            c->cpairs[v[i].key]++;
        c->upairs[v[i].unit]++;
    }
    /* Distinct units per country: sort by (country, unit), count runs. */
    qsort(v, (size_t) np, sizeof *v, cmp_key_unit);
    for (int64_t i = 0; i < np; i++)
        if (v[i].key >= 0 && (i == 0 || v[i].key != v[i - 1].key || v[i].unit != v[i - 1].unit))
            c->cunits[v[i].key]++;
    /* Distinct countries per unit, by code so nodeless countries count too. */
    qsort(v, (size_t) np, sizeof *v, cmp_unit_code);
    for (int64_t i = 0; i < np; i++)
        if (i == 0 || v[i].unit != v[i - 1].unit || strcmp(v[i].code, v[i - 1].code) != 0)
            c->ucountries[v[i].unit]++;
    /* Distinct covered codes overall. */
    qsort(v, (size_t) np, sizeof *v, cmp_code);
    for (int64_t i = 0; i < np; i++)
        if (i == 0 || strcmp(v[i].code, v[i - 1].code) != 0)
            c->countries++;
    /* Distinct regions per unit: rank the region strings, then (unit, rank). */
    const char **regs = malloc(k * sizeof *regs);
    size_t nr = 0;
    if (regs == NULL)
        goto oom;
    for (size_t x = 0; x < n; x++)
        if (s->nodes[x]->kind == TN_NODE_COUNTRY && s->nodes[x]->region != NULL)
            regs[nr++] = s->nodes[x]->region;
    qsort(regs, nr, sizeof *regs, cmp_str);
    for (int64_t i = 0; i < np; i++) {
        const char *r = v[i].key >= 0 ? s->nodes[v[i].key]->region : NULL;
        const char **hit = r ? bsearch(&r, regs, nr, sizeof *regs, cmp_str) : NULL;
        /* bsearch may land on any equal string: walk to the first. */
        while (hit != NULL && hit > regs && strcmp(hit[-1], r) == 0)
            hit--;
        v[i].key = hit ? (int64_t) (hit - regs) : -1;
    }
    free(regs);
    qsort(v, (size_t) np, sizeof *v, cmp_unit_key);
    for (int64_t i = 0; i < np; i++)
        if (v[i].key >= 0 && (i == 0 || v[i].unit != v[i - 1].unit || v[i].key != v[i - 1].key))
            c->uregions[v[i].unit]++;
    free(v);

    for (size_t x = 0; x < n; x++) {
        const tn_node_t *nd = s->nodes[x];
        c->candidate[x] = nd->kind == TN_NODE_COUNTRY
                          && (h->country == NULL || strcmp(nd->id, h->country) != 0);
        if (c->candidate[x]) {
            c->candidates++;
            c->candidates_covered += c->cpairs[x] > 0;
        }
    }
    return TN_OK;
oom:
    free(v);
    tn_q_cover_destroy(c);
    return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
}

/* The grouping field of country node 'nd', or NULL. */
static const char *group_of(const tn_node_t *nd, tn_q_by_t by, const char *tag) {
    switch (by) {
    case TN_Q_BY_REGION:
        return nd->region;
    case TN_Q_BY_SUBREGION:
        return nd->subregion;
    case TN_Q_BY_TAG:
        return tn_q_has_tag(nd, tag) ? tag : NULL;
    }
    return NULL;
}

/* The groups, by group name (coverage.h). */
int tn_q_cover_groups_compute(const tn_snap_t *s, const tn_q_home_t *h, const tn_filter_t *f,
                              const tn_q_cover_t *c, tn_q_by_t by, const char *tag,
                              const unsigned char *keep, tn_arena_t *a, tn_q_group_t **out,
                              size_t *nout) {
    tn_arena_t tmp = { NULL };      /* the working arrays */
    size_t n = s->nnodes, k = n ? n : 1, ng = 0;
    const char **names = tn_arena_calloc(&tmp, k, sizeof *names);
    int64_t *gix = tn_arena_calloc(&tmp, k, sizeof *gix);
    hp_t *v = tn_arena_calloc(&tmp, s->npairs ? s->npairs : 1, sizeof *v);
    int rc = -1;
    if (names == NULL || gix == NULL || v == NULL)
        goto out;
    for (size_t x = 0; x < n; x++) {
        gix[x] = -1;
        if (c->candidate[x] && (keep == NULL || keep[x]) && group_of(s->nodes[x], by, tag))
            names[ng++] = group_of(s->nodes[x], by, tag);
    }
    /* A tag is one group even when no country carries it (0 of 0). */
    if (by == TN_Q_BY_TAG && ng == 0)
        names[ng++] = tag;
    qsort(names, ng, sizeof *names, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < ng; i++)
        if (u == 0 || strcmp(names[u - 1], names[i]) != 0)
            names[u++] = names[i];
    ng = u;
    int64_t *gc = tn_arena_calloc(&tmp, ng + 1, sizeof *gc);
    int64_t *gcov = tn_arena_calloc(&tmp, ng + 1, sizeof *gcov);
    int64_t *gp = tn_arena_calloc(&tmp, ng + 1, sizeof *gp);
    int64_t *gu = tn_arena_calloc(&tmp, ng + 1, sizeof *gu);
    if (!gc || !gcov || !gp || !gu)
        goto out;
    for (size_t x = 0; x < n; x++) {
        const char *g = c->candidate[x] && (keep == NULL || keep[x])
                        ? group_of(s->nodes[x], by, tag) : NULL;
        if (g == NULL)
            continue;
        const char **hit = bsearch(&g, names, ng, sizeof *names, cmp_str);
        gix[x] = hit - names;
        gc[gix[x]]++;
        gcov[gix[x]] += c->cpairs[x] > 0;
        gp[gix[x]] += c->cpairs[x];
    }
    /* Distinct units per group from the pairs themselves. */
    size_t np = 0;
    for (size_t p = 0; p < s->npairs; p++) {
        int64_t un, fo;
        if (!tn_filter_keep(f, s->pairs[p]) || !tn_q_home_pair(s, h, p, &un, &fo))
            continue;
        int64_t cx = s->country_of[fo];
        if (cx < 0 || gix[cx] < 0)
            continue;
        v[np].key = gix[cx];
        v[np].unit = un;
        np++;
    }
    qsort(v, np, sizeof *v, cmp_key_unit);
    for (size_t i = 0; i < np; i++)
        if (i == 0 || v[i].key != v[i - 1].key || v[i].unit != v[i - 1].unit)
            gu[v[i].key]++;
    *out = tn_arena_calloc(a, ng, sizeof **out);
    if (*out == NULL)
        goto out;
    for (size_t g = 0; g < ng; g++)
        (*out)[g] = (tn_q_group_t) { names[g], gc[g], gcov[g], gp[g], gu[g],
                                     gc[g] ? (double) gcov[g] / (double) gc[g] : 0.0 };
    *nout = ng;
    rc = 0;
out:
    tn_arena_free(&tmp);
    return rc;
}

int tn_q_groups_encode(const tn_q_group_t *g, size_t n, tn_val_t *items) {
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        tn_val_t it = TN_VAL_NIL;
        rc |= tn_val_set_map(&it, 6);
        rc |= tn_map_add_str(&it, "group", g[i].group);
        rc |= tn_map_add_int(&it, "countries", g[i].countries);
        rc |= tn_map_add_int(&it, "covered", g[i].covered);
        rc |= tn_map_add_float(&it, "ratio", g[i].ratio);
        rc |= tn_map_add_int(&it, "pairs", g[i].pairs);
        rc |= tn_map_add_int(&it, "units", g[i].units);
        rc |= tn_arr_push_take(items, &it);
    }
    return rc;
}

/* Both steps at once (query_internal.h). */
int tn_q_cover_groups(const tn_snap_t *s, const tn_q_home_t *h, const tn_filter_t *f,
                      const tn_q_cover_t *c, tn_q_by_t by, const char *tag,
                      const unsigned char *keep, tn_val_t *items) {
    tn_arena_t a = { NULL };
    tn_q_group_t *g = NULL;
    size_t n = 0;
    int rc = tn_q_cover_groups_compute(s, h, f, c, by, tag, keep, &a, &g, &n);
    if (rc == 0)
        rc = tn_q_groups_encode(g, n, items);
    tn_arena_free(&a);
    return rc;
}

/* Vertices with sel[v] set, ordered by counts descending, then id (an
 * array of arena 'a'). */
static int64_t *ranked(const tn_snap_t *s, const unsigned char *sel, const int64_t *counts,
                       tn_arena_t *a, size_t *nout) {
    size_t k = s->nnodes ? s->nnodes : 1, n = 0;
    tn_q_counted_t *t = malloc(k * sizeof *t);
    int64_t *r = t ? tn_arena_calloc(a, k, sizeof *r) : NULL;
    if (r == NULL) {
        free(t);
        return NULL;
    }
    for (size_t v = 0; v < s->nnodes; v++)
        if (sel[v])
            t[n++] = (tn_q_counted_t) { counts[v], (int64_t) v };
    qsort(t, n, sizeof *t, tn_q_cmp_counted);
    for (size_t i = 0; i < n; i++)
        r[i] = t[i].v;
    free(t);
    *nout = n;
    return r;
}

/* ---- query.coverage {home, by, tag, kind, as_of, min_confidence} ---- */

tn_code_t tn_coverage_parse(const tn_val_t *opts, tn_coverage_opts_t *o, tn_error_t *err) {
    tn_code_t rc;
    *o = (tn_coverage_opts_t){ NULL, NULL, TN_Q_COV_REGION, TN_FILTER_ALL };
    if ((rc = tn_opt_str(opts, "home", 0, &o->home, err)) != TN_OK
        || (rc = tn_opt_enum(opts, "by", 0, tn_q_cov_by_names, &o->by, err)) != TN_OK
        || (rc = tn_opt_str(opts, "tag", 0, &o->tag, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 1, &o->f, err)) != TN_OK
        || (rc = tn_q_slow_opts(opts, err)) != TN_OK)
        return rc;
    if (o->tag != NULL && o->by != TN_Q_COV_TAG)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option 'tag' applies only to by: \"tag\"");
    if (o->by == TN_Q_COV_TAG && o->tag == NULL)
        o->tag = "bri";            /* the one policy grouping the protocol names */
    return TN_OK;
}

tn_code_t tn_coverage_compute(const tn_snap_t *s, const tn_coverage_opts_t *o, const tn_qctx_t *ctx,
                              tn_coverage_result_t *r, tn_error_t *err) {
    tn_code_t rc;
    r->by = o->by;
    if ((rc = tn_q_home_init(s, o->home, &r->h, err)) != TN_OK
        || (rc = tn_q_cover_init(s, &r->h, &o->f, ctx, &r->c, err)) != TN_OK)
        return rc;
    if (o->by == TN_Q_COV_REGION || o->by == TN_Q_COV_SUBREGION || o->by == TN_Q_COV_TAG) {
        tn_q_by_t g = o->by == TN_Q_COV_REGION ? TN_Q_BY_REGION
                      : o->by == TN_Q_COV_SUBREGION ? TN_Q_BY_SUBREGION : TN_Q_BY_TAG;
        if (tn_q_cover_groups_compute(s, &r->h, &o->f, &r->c, g, o->tag, NULL, &r->arena,
                                      &r->groups, &r->ngroups) != 0)
            return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        return TN_OK;
    }
    unsigned char *sel = calloc(s->nnodes ? s->nnodes : 1, 1);
    if (sel == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    for (size_t v = 0; v < s->nnodes; v++)
        sel[v] = o->by == TN_Q_COV_COUNTRY ? r->c.candidate[v] && r->c.cpairs[v] > 0 : r->h.unit[v];
    r->ranked = ranked(s, sel, o->by == TN_Q_COV_COUNTRY ? r->c.cpairs : r->c.upairs, &r->arena,
                       &r->nranked);
    free(sel);
    return r->ranked == NULL ? tn_error_set(err, TN_ERR_INTERNAL, "out of memory") : TN_OK;
}

int tn_coverage_encode(const tn_snap_t *s, const tn_coverage_result_t *r, tn_val_t *out) {
    const tn_q_cover_t *c = &r->c;
    tn_val_t total = TN_VAL_NIL, items = TN_VAL_NIL;
    int rc = tn_q_result_begin(out, s);
    rc |= tn_map_add_str(out, "home", r->h.id);
    rc |= tn_val_set_map(&total, 3);
    rc |= tn_map_add_int(&total, "countries", (int64_t) c->candidates);
    rc |= tn_map_add_int(&total, "covered", (int64_t) c->candidates_covered);
    rc |= tn_map_add_int(&total, "pairs", (int64_t) c->pairs);
    rc |= tn_map_add_take(out, "total", &total);
    rc |= tn_val_set_arr(&items, 16);
    rc |= tn_q_groups_encode(r->groups, r->ngroups, &items);
    for (size_t i = 0; i < r->nranked && rc == 0; i++) {
        int64_t v = r->ranked[i];
        const tn_node_t *nd = s->nodes[v];
        tn_val_t it = TN_VAL_NIL;
        rc |= tn_q_node_item(&it, nd, 5);
        if (r->by == TN_Q_COV_COUNTRY) {
            rc |= tn_map_add_str(&it, "region", nd->region);
            rc |= tn_map_add_int(&it, "pairs", c->cpairs[v]);
            rc |= tn_map_add_int(&it, "units", c->cunits[v]);
        } else {
            rc |= tn_map_add_int(&it, "pairs", c->upairs[v]);
            rc |= tn_map_add_int(&it, "countries", c->ucountries[v]);
            rc |= tn_map_add_int(&it, "regions", c->uregions[v]);
        }
        rc |= tn_arr_push_take(&items, &it);
    }
    rc |= tn_map_add_take(out, "items", &items);
    return rc ? -1 : 0;
}

void tn_coverage_result_free(tn_coverage_result_t *r) {
    tn_q_cover_destroy(&r->c);
    tn_q_home_destroy(&r->h);
    tn_arena_free(&r->arena);
    memset(r, 0, sizeof *r);
}

TN_Q_PARTS(tn_coverage);
