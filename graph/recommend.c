/*
 * recommend.c -- query.recommend (PROTOCOL.md section 5): foreign cities and
 * provinces a unit could partner with next, ranked by a documented,
 * deterministic score that combines network evidence with coverage gaps,
 * and explained in plain words.
 *
 * The unit's "province" P is the top of its parent chain (Hunan for
 * Changsha; the unit itself when it has no parent). For a candidate c
 * (a province or city outside the unit's country, not yet paired with it),
 * over the partnerships graph under the pair filters:
 *
 *   score(c) = AA(u, c)                   Adamic-Adar: sum over shared
 *                                         partners w of 1 / ln(deg w)
 *            + 0.50 * same(c)             c's partners among P's other units
 *            + 0.25 * peers(c)            c's partners elsewhere in the unit's country
 *            + 0.50 * [c's country has no home pair of P]
 *            + 0.25 * [c's region is covered by P below P's overall ratio]
 *
 * Ties are broken by id. No igraph, no randomness; the stop flag is polled
 * every TN_Q_POLL candidates. docs/queries.md has the rationale.
 */
#include "query_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W_SAME    0.50
#define W_PEER    0.25
#define W_COUNTRY 0.50
#define W_REGION  0.25

typedef struct cand {
    double score, aa;
    int64_t v, same, peers, shared;
    unsigned char gap_country, gap_region;
} cand_t;

static int cmp_cand(const void *x, const void *y) {
    const cand_t *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->v > b->v) - (a->v < b->v);
}

static int64_t other_end(const tn_snap_t *s, size_t p, int64_t self) {
    return s->pa[p] == self ? s->pb[p] : s->pa[p];
}

/* The top of v's parent chain (cycle-safe: at most nnodes steps). */
static int64_t top_of(const tn_snap_t *s, int64_t v) {
    for (size_t steps = 0; steps < s->nnodes; steps++) {
        const char *p = s->nodes[v]->parent;
        int64_t up = p ? tn_snap_find(s, p) : -1;
        if (up < 0 || s->nodes[up]->kind == TN_NODE_COUNTRY)
            break;
        v = up;
    }
    return v;
}

/* Append up to three names of c's neighbours that satisfy 'which' to buf:
 * 0 = shared with the unit (marked in 'nbr'), 1 = same province, 2 = peer. */
static void names_of(const tn_snap_t *s, const tn_filter_t *f, int64_t c, int which,
                     const unsigned char *nbr, const tn_q_home_t *h, int64_t u,
                     char *buf, size_t cap) {
    int shown = 0;
    size_t len = strlen(buf);
    for (size_t i = s->adj_off[c]; i < s->adj_off[c + 1] && shown < 3; i++) {
        size_t p = s->adj_pair[i];
        if (!tn_filter_keep(f, s->pairs[p]))
            continue;
        int64_t w = other_end(s, p, c);
        int ok = which == 0 ? nbr[w]
                 : w != u && tn_q_country(s, w) && strcmp(tn_q_country(s, w), h->country) == 0
                   && (which == 1 ? h->unit[w] != 0 : h->unit[w] == 0);
        if (!ok)
            continue;
        snprintf(buf + len, cap - len, "%s%s", shown ? ", " : ": ", tn_q_name(s->nodes[w]));
        len = strlen(buf);
        shown++;
    }
}

/* The plain-words reasons of candidate 'cd'. -1 on OOM. */
static int reasons(const tn_snap_t *s, const tn_filter_t *f, const cand_t *cd, int64_t u,
                   const tn_q_home_t *h, const unsigned char *nbr, const tn_q_cover_t *cov,
                   const double *rratio, double overall, tn_val_t *arr) {
    char buf[512];
    const char *uname = tn_q_name(s->nodes[u]), *pname = tn_q_name(s->nodes[h->idx]);
    int64_t cx = s->country_of[cd->v];
    const char *cname = cx >= 0 ? tn_q_name(s->nodes[cx]) : tn_q_country(s, cd->v);
    int rc = 0;

    if (cd->shared > 0) {
        snprintf(buf, sizeof buf, "shares %lld partner%s with %s (Adamic-Adar %.2f)",
                 (long long) cd->shared, cd->shared == 1 ? "" : "s", uname, cd->aa);
        names_of(s, f, cd->v, 0, nbr, h, u, buf, sizeof buf);
        rc |= tn_arr_push_str(arr, buf);
    }
    if (cd->same > 0) {
        snprintf(buf, sizeof buf, "already has %lld partner%s in %s",
                 (long long) cd->same, cd->same == 1 ? "" : "s", pname);
        names_of(s, f, cd->v, 1, nbr, h, u, buf, sizeof buf);
        rc |= tn_arr_push_str(arr, buf);
    }
    if (cd->peers > 0) {
        int64_t hc = tn_snap_find(s, h->country);
        snprintf(buf, sizeof buf, "already has %lld partner%s elsewhere in %s",
                 (long long) cd->peers, cd->peers == 1 ? "" : "s",
                 hc >= 0 ? tn_q_name(s->nodes[hc]) : h->country);
        names_of(s, f, cd->v, 2, nbr, h, u, buf, sizeof buf);
        rc |= tn_arr_push_str(arr, buf);
    }
    if (cd->gap_country) {
        snprintf(buf, sizeof buf, "%s has no partnership in %s yet", pname, cname);
        rc |= tn_arr_push_str(arr, buf);
    } else if (cx >= 0 && cov->cpairs[cx] > 0) {
        snprintf(buf, sizeof buf, "%s already has %lld partnership%s in %s", pname,
                 (long long) cov->cpairs[cx], cov->cpairs[cx] == 1 ? "" : "s", cname);
        rc |= tn_arr_push_str(arr, buf);
    }
    if (cd->gap_region) {
        snprintf(buf, sizeof buf, "%s is under-covered by %s (%.0f%% of its countries vs %.0f%% overall)",
                 s->nodes[cx]->region, pname, 100.0 * rratio[cx], 100.0 * overall);
        rc |= tn_arr_push_str(arr, buf);
    }
    if (cd->score == 0.0)
        rc |= tn_arr_push_str(arr, "no network evidence or coverage gap; listed by id among equals");
    return rc;
}

/* query.recommend (options in the table of query.c). */
tn_code_t tn_q_recommend(const tn_snap_t *s, const tn_val_t *opts, const tn_qctx_t *ctx,
                         tn_val_t *out, tn_error_t *err) {
    const char *unit = NULL, *country = NULL, *region = NULL;
    int64_t top = 10;
    tn_filter_t f;
    tn_code_t rc;

    *out = TN_VAL_NIL;
    if ((rc = tn_q_start(s, "query.recommend", opts, err)) != TN_OK
        || (rc = tn_opt_str(opts, "unit", 1, &unit, err)) != TN_OK
        || (rc = tn_opt_int(opts, "top", 0, 1, 1000, &top, err)) != TN_OK
        || (rc = tn_opt_str(opts, "country", 0, &country, err)) != TN_OK
        || (rc = tn_opt_str(opts, "region", 0, &region, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 0, &f, err)) != TN_OK
        || (rc = tn_q_slow_opts(opts, err)) != TN_OK)
        return rc;
    int64_t u = tn_snap_find(s, unit);
    if (u < 0)
        return tn_error_set(err, TN_ERR_NOT_FOUND, "no node '%s' (unit)",
                            TN_CLIP(unit, 128));
    if (s->nodes[u]->kind == TN_NODE_COUNTRY)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                            "option 'unit' must be a province or city, not a country");

    /* The unit's province acts as the home for coverage and "same". */
    tn_q_home_t h;
    tn_q_cover_t cov;
    if ((rc = tn_q_home_init(s, s->nodes[top_of(s, u)]->id, &h, err)) != TN_OK)
        return rc;
    if ((rc = tn_q_cover_init(s, &h, &f, ctx, &cov, err)) != TN_OK) {
        tn_q_home_destroy(&h);
        return rc;
    }
    const char *ucountry = tn_q_country(s, u);

    size_t k = s->nnodes ? s->nnodes : 1;
    unsigned char *nbr = calloc(k, 1);          /* 1: a partner of the unit */
    int64_t *deg = calloc(k, sizeof *deg);      /* degree under the filter */
    double *rratio = calloc(k, sizeof *rratio); /* per country node: its region's ratio */
    cand_t *cands = malloc(k * sizeof *cands);
    tn_val_t groups = TN_VAL_NIL, items = TN_VAL_NIL;
    size_t nc = 0;
    int bad = nbr == NULL || deg == NULL || rratio == NULL || cands == NULL;
    if (bad)
        goto done;
    for (size_t p = 0; p < s->npairs; p++) {
        if (!tn_filter_keep(&f, s->pairs[p]))
            continue;
        deg[s->pa[p]]++;
        deg[s->pb[p]]++;
        if (s->pa[p] == u)
            nbr[s->pb[p]] = 1;
        if (s->pb[p] == u)
            nbr[s->pa[p]] = 1;
    }
    /* Region ratios of the unit's province, to spot under-covered regions. */
    double overall = cov.candidates ? (double) cov.candidates_covered / (double) cov.candidates : 0;
    bad |= tn_val_set_arr(&groups, 8);
    bad |= tn_q_cover_groups(s, &h, &f, &cov, TN_Q_BY_REGION, NULL, NULL, &groups);
    for (size_t v = 0; !bad && v < s->nnodes; v++) {
        const char *r = s->nodes[v]->kind == TN_NODE_COUNTRY ? s->nodes[v]->region : NULL;
        rratio[v] = overall;                     /* no region: never "under" */
        for (size_t g = 0; r != NULL && g < groups.u.a.n; g++)
            if (strcmp(tn_val_str(tn_map_get(&groups.u.a.items[g], "group")), r) == 0)
                tn_val_as_num(tn_map_get(&groups.u.a.items[g], "ratio"), &rratio[v]);
    }

    for (size_t v = 0; !bad && v < s->nnodes; v++) {
        const tn_node_t *nd = s->nodes[v];
        int64_t cx = s->country_of[v];
        if (v % TN_Q_POLL == 0) {
            if (tn_query_should_stop(ctx)) {
                rc = tn_query_stopped(ctx, err);
                goto done;
            }
            if (ctx != NULL && ctx->progress != NULL)
                ctx->progress(ctx->progress_arg, v, s->nnodes);
        }
        if (nd->kind == TN_NODE_COUNTRY || (int64_t) v == u || nbr[v])
            continue;
        if (ucountry == NULL || nd->country == NULL || strcmp(nd->country, ucountry) == 0)
            continue;
        if (country != NULL && !tn_q_eq_nocase(nd->country, country))
            continue;
        if (region != NULL && (cx < 0 || !tn_q_eq_nocase(s->nodes[cx]->region, region)))
            continue;
        cand_t *cd = &cands[nc++];
        memset(cd, 0, sizeof *cd);
        cd->v = (int64_t) v;
        for (size_t i = s->adj_off[v]; i < s->adj_off[v + 1]; i++) {
            size_t p = s->adj_pair[i];
            if (!tn_filter_keep(&f, s->pairs[p]))
                continue;
            int64_t w = other_end(s, p, (int64_t) v);
            if (nbr[w]) {
                cd->shared++;
                cd->aa += 1.0 / log((double) deg[w]);   /* deg w >= 2: u and c */
            }
            const char *cw = tn_q_country(s, w);
            if (cw != NULL && strcmp(cw, ucountry) == 0) {
                if (h.unit[w])
                    cd->same++;
                else
                    cd->peers++;
            }
        }
        cd->gap_country = cx >= 0 && cov.candidate[cx] && cov.cpairs[cx] == 0;
        cd->gap_region = cx >= 0 && s->nodes[cx]->region != NULL && rratio[cx] < overall;
        cd->score = cd->aa + W_SAME * (double) cd->same + W_PEER * (double) cd->peers
                    + W_COUNTRY * cd->gap_country + W_REGION * cd->gap_region;
    }
    if (bad)
        goto done;
    qsort(cands, nc, sizeof *cands, cmp_cand);
    if ((int64_t) nc > top)
        nc = (size_t) top;

    bad |= tn_q_result_begin(out, s);
    bad |= tn_map_add_str(out, "unit", s->nodes[u]->id);
    bad |= tn_val_set_arr(&items, nc);
    for (size_t i = 0; i < nc && !bad; i++) {
        const tn_node_t *nd = s->nodes[cands[i].v];
        tn_val_t it = TN_VAL_NIL, why = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 5);
        bad |= tn_map_add_str(&it, "id", nd->id);
        bad |= tn_map_add_str(&it, "name", tn_q_name(nd));
        bad |= tn_map_add_str(&it, "country", nd->country);
        bad |= tn_map_add_float(&it, "score", cands[i].score);
        bad |= tn_val_set_arr(&why, 4);
        bad |= reasons(s, &f, &cands[i], u, &h, nbr, &cov, rratio, overall, &why);
        bad |= tn_map_add_take(&it, "reasons", &why);
        bad |= tn_arr_push_take(&items, &it);
    }
    bad |= tn_map_add_take(out, "items", &items);
done:
    tn_val_free(&groups);
    tn_val_free(&items);
    free(nbr);
    free(deg);
    free(rratio);
    free(cands);
    tn_q_cover_destroy(&cov);
    tn_q_home_destroy(&h);
    if (rc == TN_OK && bad)
        return tn_q_oom(out, err);
    if (rc != TN_OK)
        tn_val_free(out);
    return rc;
}
