/*
 * plan.c -- query.plan: which of a home's units should seek a partner in
 * which uncovered target country, and with whom (docs/recommend.md).
 *
 * The home is the "unit" option (default: the configured home); its units
 * are it and its descendants. The target is "all", a region, a sub-region
 * or a tag (resolved in that order, case-insensitively), or
 * {"countries": [iso2...]}. A plan is built greedily, one step at a time:
 *
 *   value(u, Y) = (best(u, Y) + 0.1 * ln(1 + peer_pairs(Y))) / (1 + load(u))
 *
 * over every unit u and every target country Y the home does not cover and
 * no earlier step took. best(u, Y) is the recommend score (recommend.h) of
 * u's best candidate in Y (0 when the data knows no city or province in Y);
 * peer_pairs(Y) counts pairs between Y and the home's country outside the
 * home, as query.gaps does; load(u) is u's pairs abroad plus the steps the
 * plan already gave it, so idle units come first and work is spread out.
 * A country with a known candidate always comes before one without; equal
 * values go to the less loaded unit, then the lower country id, then the
 * lower unit id. Each step lists u's three best candidates in Y.
 *
 * "after" is the coverage of the target once every step's first candidate
 * is paired with its unit: the home's per-country pair counts of
 * tn_q_cover_init, plus one for each such step, counted exactly as
 * query.coverage counts "covered".
 */
#include "recommend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_CANDS 3
#define W_PEER 0.1

typedef struct plan_opts {
    const char *unit;
    const char *target;             /* the string form, or NULL */
    const tn_val_t *countries;      /* the {"countries": [...]} form, or NULL */
    const tn_val_t *target_val;     /* the option as given (echoed), or NULL */
    int64_t budget;
    tn_filter_t f;
} tn_plan_opts_t;

typedef struct plan_step {
    int64_t unit, country, peer_pairs, load, earlier;
    size_t ncand;
    tn_rec_item_t cand[PLAN_CANDS];
} plan_step_t;

typedef struct plan_result {
    int64_t unit;
    int64_t countries, before, after;
    const tn_val_t *target;         /* the target option as given, or NULL */
    size_t nsteps;
    plan_step_t *steps;
} tn_plan_result_t;

/* A slim candidate kept per (unit, country) while scoring. */
typedef struct slim {
    int64_t v;
    double score;
} slim_t;

static tn_code_t tn_plan_parse(const tn_val_t *opts, tn_plan_opts_t *o, tn_error_t *err) {
    tn_code_t rc;
    memset(o, 0, sizeof *o);
    o->budget = 5;
    if ((rc = tn_opt_str(opts, "unit", 0, &o->unit, err)) != TN_OK)
        return rc;
    const tn_val_t *t = opts != NULL ? tn_map_get(opts, "target") : NULL;
    o->target_val = t;
    if (t == NULL || t->type == TN_V_NIL) {
        o->target = "all";
    } else if (t->type == TN_V_STR) {
        o->target = tn_val_str(t);
    } else {
        const tn_val_t *c = t->type == TN_V_MAP && t->u.m.n == 1 ? tn_map_get(t, "countries") : NULL;
        if (c == NULL || c->type != TN_V_ARR || c->u.a.n == 0)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                                "option 'target' must be \"all\", a region, a sub-region, a tag, "
                                "or {\"countries\": [iso2, ...]} with at least one country");
        for (size_t i = 0; i < c->u.a.n; i++)
            if (c->u.a.items[i].type != TN_V_STR)
                return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                                    "option 'target': countries[%zu] must be a string", i);
        o->countries = c;
    }
    if ((rc = tn_opt_int(opts, "budget", 0, 1, 50, &o->budget, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 0, &o->f, err)) != TN_OK
        || (rc = tn_q_slow_opts(opts, err)) != TN_OK)
        return rc;
    return TN_OK;
}

/* keep[v] = 1 for every candidate country of the home in the target. */
static tn_code_t resolve_target(const tn_snap_t *s, const tn_plan_opts_t *o, const tn_q_cover_t *cov,
                                unsigned char *keep, tn_error_t *err) {
    if (o->countries != NULL) {
        for (size_t i = 0; i < o->countries->u.a.n; i++) {
            const char *id = tn_val_str(&o->countries->u.a.items[i]);
            int64_t c = tn_snap_find(s, id);
            if (c < 0 || s->nodes[c]->kind != TN_NODE_COUNTRY)
                return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                                    "option 'target': '%s' is not a country", TN_CLIP(id, 64));
            if (!cov->candidate[c])
                return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                                    "option 'target': '%s' is the home's own country", TN_CLIP(id, 64));
            keep[c] = 1;
        }
        return TN_OK;
    }
    /* "all", else the first of region, sub-region, tag that names a country. */
    for (int pass = 0; pass < 4; pass++) {
        size_t hits = 0;
        for (size_t v = 0; v < s->nnodes; v++) {
            const tn_node_t *nd = s->nodes[v];
            int in = pass == 0 ? tn_q_eq_nocase(o->target, "all")
                     : pass == 1 ? tn_q_eq_nocase(nd->region, o->target)
                     : pass == 2 ? tn_q_eq_nocase(nd->subregion, o->target)
                                 : nd->kind == TN_NODE_COUNTRY && tn_q_has_tag(nd, o->target);
            keep[v] = cov->candidate[v] && in;
            hits += keep[v];
        }
        if (hits > 0 || (pass == 0 && tn_q_eq_nocase(o->target, "all")))
            return TN_OK;
    }
    return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                        "option 'target': '%s' is not \"all\" and names no region, "
                        "sub-region or tag of a country", TN_CLIP(o->target, 64));
}

/* Insert candidate (v, score) into the sorted top-3 list 'l'. */
static void keep_best(slim_t *l, int64_t v, double score) {
    for (int i = 0; i < PLAN_CANDS; i++) {
        if (l[i].v < 0 || score > l[i].score || (score == l[i].score && v < l[i].v)) {
            memmove(&l[i + 1], &l[i], (size_t) (PLAN_CANDS - 1 - i) * sizeof *l);
            l[i] = (slim_t) { v, score };
            return;
        }
    }
}

static void tn_plan_result_free(tn_plan_result_t *r) {
    free(r->steps);
    memset(r, 0, sizeof *r);
}

static tn_code_t tn_plan_compute(const tn_snap_t *s, const tn_plan_opts_t *o, const tn_qctx_t *ctx,
                                 tn_plan_result_t *r, tn_error_t *err) {
    const char *uid = o->unit != NULL ? o->unit : s->home;
    tn_rec_filter_t rf = { NULL, NULL, NULL, -1, 1 };
    tn_rec_world_t w;
    tn_q_home_t h;
    tn_q_cover_t cov;
    tn_code_t rc;

    memset(r, 0, sizeof *r);
    int64_t u = uid != NULL ? tn_snap_find(s, uid) : -1;
    if (u < 0)
        return tn_error_set(err, TN_ERR_NOT_FOUND, "no node '%s' (unit)", TN_CLIP(uid ? uid : "", 128));
    if (s->nodes[u]->kind == TN_NODE_COUNTRY)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                            "option 'unit' must be a province or city, not a country");
    if ((rc = tn_q_home_init(s, s->nodes[u]->id, &h, err)) != TN_OK)
        return rc;
    if ((rc = tn_q_cover_init(s, &h, &o->f, ctx, &cov, err)) != TN_OK) {
        tn_q_home_destroy(&h);
        return rc;
    }
    if ((rc = tn_rec_world_init(s, &o->f, &w, err)) != TN_OK) {
        tn_q_cover_destroy(&cov);
        tn_q_home_destroy(&h);
        return rc;
    }
    size_t k = s->nnodes ? s->nnodes : 1, nunits = 0, nopen = 0;
    unsigned char *keep = calloc(k, 1);
    int64_t *cix = malloc(k * sizeof *cix);      /* country vertex -> open index */
    int64_t *uix = malloc(k * sizeof *uix);      /* unit vertex -> unit index */
    int64_t *peer = calloc(k, sizeof *peer);
    int64_t *load = calloc(k, sizeof *load);
    unsigned char *taken = calloc(k, 1);
    int64_t *units = malloc(k * sizeof *units), *open = malloc(k * sizeof *open);
    slim_t *best = NULL;
    r->steps = calloc((size_t) o->budget, sizeof *r->steps);
    if (!keep || !cix || !uix || !peer || !load || !taken || !units || !open || !r->steps) {
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        goto done;
    }
    if ((rc = resolve_target(s, o, &cov, keep, err)) != TN_OK)
        goto done;

    /* Target coverage now, the open countries, the units. */
    for (size_t v = 0; v < s->nnodes; v++) {
        cix[v] = uix[v] = -1;
        if (keep[v]) {
            r->countries++;
            r->before += cov.cpairs[v] > 0;
            if (cov.cpairs[v] == 0) {
                cix[v] = (int64_t) nopen;
                open[nopen++] = (int64_t) v;
            }
        }
        if (h.unit[v]) {
            uix[v] = (int64_t) nunits;
            units[nunits++] = (int64_t) v;
            load[v] = cov.upairs[v];
        }
    }
    /* Peer pairs: the home's country and Y, outside the home (an open Y has
     * no home pair, so this is every pair between the two countries). */
    for (size_t p = 0; p < s->npairs; p++) {
        if (!tn_filter_keep(&o->f, s->pairs[p]))
            continue;
        int64_t a = s->pa[p], b = s->pb[p];
        const char *ca = tn_q_country(s, a), *cb = tn_q_country(s, b);
        if (ca && cb && h.country && strcmp(ca, h.country) == 0 && !h.unit[a]
            && s->country_of[b] >= 0)
            peer[s->country_of[b]]++;
        if (ca && cb && h.country && strcmp(cb, h.country) == 0 && !h.unit[b]
            && s->country_of[a] >= 0)
            peer[s->country_of[a]]++;
    }

    /* Every unit's three best candidates in every open country. */
    best = malloc((nunits * nopen * PLAN_CANDS + 1) * sizeof *best);
    if (best == NULL) {
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nunits * nopen * PLAN_CANDS; i++)
        best[i] = (slim_t) { -1, 0 };
    for (size_t i = 0; i < nunits && nopen > 0; i++) {
        tn_rec_unit_t ru;
        if (ctx != NULL && ctx->progress != NULL)
            ctx->progress(ctx->progress_arg, i, nunits);
        if ((rc = tn_rec_unit_init(&w, units[i], h.id, &rf, ctx, &ru, err)) != TN_OK)
            goto done;
        for (size_t c = 0; c < s->nnodes; c++) {
            int64_t y = s->country_of[c];
            if (y < 0 || cix[y] < 0 || !tn_rec_is_candidate(&w, &ru, &rf, (int64_t) c))
                continue;
            tn_rec_item_t it;
            tn_rec_score(&w, &ru, (int64_t) c, &it);
            keep_best(&best[(i * nopen + (size_t) cix[y]) * PLAN_CANDS], (int64_t) c, it.score);
        }
        tn_rec_unit_destroy(&ru);
    }

    /* Greedy steps. */
    for (int64_t step = 0; step < o->budget; step++) {
        int64_t bu = -1, by = -1, bload = 0;
        int bhas = 0;
        double bval = 0;
        for (size_t j = 0; j < nopen; j++) {
            int64_t y = open[j];
            if (taken[y])
                continue;
            for (size_t i = 0; i < nunits; i++) {
                const slim_t *l = &best[(i * nopen + j) * PLAN_CANDS];
                int has = l[0].v >= 0;
                double val = ((has ? l[0].score : 0.0) + W_PEER * log1p((double) peer[y]))
                             / (1.0 + (double) load[units[i]]);
                int64_t ld = load[units[i]];
                /* Countries and units are scanned in id order, so only a
                 * strictly better choice replaces the current one; on equal
                 * values the less loaded unit wins. */
                if (bu < 0 || has > bhas
                    || (has == bhas && (val > bval || (val == bval && ld < bload)))) {
                    bu = (int64_t) i;
                    by = (int64_t) j;
                    bhas = has;
                    bval = val;
                    bload = ld;
                }
            }
        }
        if (bu < 0)
            break;
        plan_step_t *st = &r->steps[r->nsteps++];
        const slim_t *l = &best[((size_t) bu * nopen + (size_t) by) * PLAN_CANDS];
        st->unit = units[bu];
        st->country = open[by];
        st->peer_pairs = peer[open[by]];
        st->load = cov.upairs[units[bu]];
        st->earlier = load[units[bu]] - cov.upairs[units[bu]];
        taken[open[by]] = 1;
        load[units[bu]]++;
        for (int c = 0; c < PLAN_CANDS && l[c].v >= 0; c++)
            st->cand[st->ncand++].v = l[c].v;
    }

    /* The candidates' full evidence, from the step unit's scorer. */
    for (size_t i = 0; i < r->nsteps; i++) {
        plan_step_t *st = &r->steps[i];
        tn_rec_unit_t ru;
        if (st->ncand == 0)
            continue;
        if ((rc = tn_rec_unit_init(&w, st->unit, h.id, &rf, ctx, &ru, err)) != TN_OK)
            goto done;
        for (size_t c = 0; c < st->ncand; c++) {
            tn_rec_score(&w, &ru, st->cand[c].v, &st->cand[c]);
            tn_rec_evidence(&w, &ru, &st->cand[c]);
        }
        tn_rec_unit_destroy(&ru);
    }

    /* After: one more home pair in each step's country that has a candidate. */
    r->after = r->before;
    for (size_t i = 0; i < r->nsteps; i++)
        r->after += r->steps[i].ncand > 0 && cov.cpairs[r->steps[i].country] == 0;
    r->unit = u;
    r->target = o->target_val;
done:
    if (rc != TN_OK)
        tn_plan_result_free(r);
    free(keep);
    free(cix);
    free(uix);
    free(peer);
    free(load);
    free(taken);
    free(units);
    free(open);
    free(best);
    tn_rec_world_destroy(&w);
    tn_q_cover_destroy(&cov);
    tn_q_home_destroy(&h);
    return rc;
}

static int add_coverage(tn_val_t *out, const char *key, int64_t covered, int64_t countries) {
    tn_val_t m = TN_VAL_NIL;
    int bad = tn_val_set_map(&m, 3);
    bad |= tn_map_add_int(&m, "covered", covered);
    bad |= tn_map_add_int(&m, "countries", countries);
    bad |= tn_map_add_float(&m, "ratio", countries ? (double) covered / (double) countries : 0.0);
    return bad | tn_map_add_take(out, key, &m);
}

/* The step's own reasons: the country's gap and peers, the unit's load. */
static int step_reasons(const tn_snap_t *s, int64_t home, const plan_step_t *st, tn_val_t *arr) {
    char buf[400];
    const char *yname = tn_q_name(s->nodes[st->country]);
    const char *hcode = tn_q_country(s, home);
    int64_t hc = hcode ? tn_snap_find(s, hcode) : -1;
    const char *xname = hc >= 0 ? tn_q_name(s->nodes[hc]) : hcode ? hcode : "?";
    const char *uname = tn_q_name(s->nodes[st->unit]);
    int rc = 0;
    if (st->peer_pairs > 0)
        snprintf(buf, sizeof buf, "%s is not yet covered by %s; %lld pair%s between %s and %s "
                 "outside it", yname, tn_q_name(s->nodes[home]), (long long) st->peer_pairs,
                 st->peer_pairs == 1 ? "" : "s", xname, yname);
    else
        snprintf(buf, sizeof buf, "%s is not yet covered by %s, nor by anyone else in %s",
                 yname, tn_q_name(s->nodes[home]), xname);
    rc |= tn_arr_push_str(arr, buf);
    if (st->load == 0)
        snprintf(buf, sizeof buf, "%s has no partner abroad yet", uname);
    else
        snprintf(buf, sizeof buf, "%s has %lld pair%s abroad", uname, (long long) st->load,
                 st->load == 1 ? "" : "s");
    if (st->earlier > 0)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "; %lld earlier step%s in this plan",
                 (long long) st->earlier, st->earlier == 1 ? "" : "s");
    rc |= tn_arr_push_str(arr, buf);
    if (st->ncand == 0)
        snprintf(buf, sizeof buf, "no city or province of %s is known yet: look for one", yname);
    else
        snprintf(buf, sizeof buf, "best candidate %s (score %.3f)",
                 tn_q_name(s->nodes[st->cand[0].v]), st->cand[0].score);
    rc |= tn_arr_push_str(arr, buf);
    return rc;
}

static int tn_plan_encode(const tn_snap_t *s, const tn_plan_result_t *r, tn_val_t *out) {
    const tn_val_t *t = r->target;
    tn_val_t target = TN_VAL_NIL, steps = TN_VAL_NIL;
    int bad = tn_q_result_begin(out, s);
    bad |= tn_map_add_str(out, "unit", s->nodes[r->unit]->id);
    if (t != NULL && t->type != TN_V_NIL)
        bad |= tn_val_copy(&target, t);
    else
        bad |= tn_val_set_str(&target, "all");
    bad |= tn_map_add_take(out, "target", &target);
    bad |= add_coverage(out, "before", r->before, r->countries);
    bad |= add_coverage(out, "after", r->after, r->countries);
    bad |= tn_val_set_arr(&steps, r->nsteps);
    for (size_t i = 0; i < r->nsteps && !bad; i++) {
        const plan_step_t *st = &r->steps[i];
        tn_val_t it = TN_VAL_NIL, cands = TN_VAL_NIL, why = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 5);
        bad |= tn_map_add_str(&it, "unit", s->nodes[st->unit]->id);
        bad |= tn_map_add_str(&it, "country", s->nodes[st->country]->id);
        bad |= tn_val_set_arr(&cands, st->ncand);
        for (size_t c = 0; c < st->ncand && !bad; c++) {
            tn_val_t ci = TN_VAL_NIL, cw = TN_VAL_NIL;
            const tn_node_t *nd = s->nodes[st->cand[c].v];
            bad |= tn_q_node_item(&ci, nd, 4);
            bad |= tn_map_add_float(&ci, "score", st->cand[c].score);
            bad |= tn_val_set_arr(&cw, 4);
            bad |= tn_rec_reasons(s, st->unit, r->unit, &st->cand[c], &cw);
            bad |= tn_map_add_take(&ci, "reasons", &cw);
            bad |= tn_arr_push_take(&cands, &ci);
        }
        bad |= tn_map_add_take(&it, "candidates", &cands);
        bad |= tn_map_add_int(&it, "peer_pairs", st->peer_pairs);
        bad |= tn_val_set_arr(&why, 3);
        bad |= step_reasons(s, r->unit, st, &why);
        bad |= tn_map_add_take(&it, "reasons", &why);
        bad |= tn_arr_push_take(&steps, &it);
    }
    bad |= tn_map_add_take(out, "steps", &steps);
    return bad ? -1 : 0;
}

/* query.plan's parts, for the table of query.c. */
TN_Q_PARTS(tn_plan);
