/*
 * rec_score.c -- the partner score of recommend.h: per call, the filtered
 * degrees; per unit, its exclusions, its home's coverage, its country's
 * ties abroad and the two- and three-step walks from it. Shared by
 * query.recommend and query.plan so both rank candidates the same way.
 *
 * Everything is O(nodes + pairs) per unit plus the walks (the sum over the
 * unit's partners' partners of their degrees). The stop flag is polled
 * every TN_Q_POLL steps of every loop that can be long.
 */
#include "recommend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

tn_code_t tn_rec_world_init(const tn_snap_t *s, const tn_filter_t *f, tn_rec_world_t *w,
                            tn_error_t *err) {
    memset(w, 0, sizeof *w);
    w->s = s;
    w->f = *f;
    w->deg = calloc(s->nnodes ? s->nnodes : 1, sizeof *w->deg);
    if (w->deg == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    for (size_t p = 0; p < s->npairs; p++)
        if (tn_filter_keep(f, s->pairs[p])) {
            w->deg[s->pa[p]]++;
            w->deg[s->pb[p]]++;
        }
    for (size_t v = 0; v < s->nnodes; v++)
        w->ncountries += s->nodes[v]->kind == TN_NODE_COUNTRY;
    return TN_OK;
}

void tn_rec_world_destroy(tn_rec_world_t *w) {
    free(w->deg);
    memset(w, 0, sizeof *w);
}

void tn_rec_unit_destroy(tn_rec_unit_t *ru) {
    tn_q_cover_destroy(&ru->cov);
    tn_q_home_destroy(&ru->home);
    tn_arena_free(&ru->arena);
    memset(ru, 0, sizeof *ru);
}

static int64_t other_end(const tn_snap_t *s, size_t p, int64_t self) {
    return s->pa[p] == self ? s->pb[p] : s->pa[p];
}

static int is_x(const tn_snap_t *s, int64_t v, const char *x) {
    const char *c = tn_q_country(s, v);
    return c != NULL && x != NULL && strcmp(c, x) == 0;
}

/* The top of v's parent chain below the country (cycle-safe). */
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

/* The share weight of vertex c: its partners in X, a little of its
 * popularity, and a floor so an isolated node is not impossible. */
static double share_weight(const tn_rec_world_t *w, const tn_rec_unit_t *ru, int64_t c) {
    return (double) ru->peers[c] + 0.1 * (double) w->deg[c] + 0.01;
}

/* The two- and three-step walks from u. 0, or -2 when stopped. */
static int walks(const tn_rec_world_t *w, tn_rec_unit_t *ru, const tn_qctx_t *ctx) {
    const tn_snap_t *s = w->s;
    int64_t u = ru->u;
    size_t steps = 0;
    for (size_t i = s->adj_off[u]; i < s->adj_off[u + 1]; i++) {
        size_t p1 = s->adj_pair[i];
        if (!tn_filter_keep(&w->f, s->pairs[p1]))
            continue;
        int64_t w1 = other_end(s, p1, u);
        for (size_t j = s->adj_off[w1]; j < s->adj_off[w1 + 1]; j++) {
            size_t p2 = s->adj_pair[j];
            if (!tn_filter_keep(&w->f, s->pairs[p2]))
                continue;
            int64_t w2 = other_end(s, p2, w1);
            if (w2 == u)
                continue;
            ru->cn[w2]++;
            ru->ra[w2] += 1.0 / (double) w->deg[w1];
            double wt = 1.0 / sqrt((double) w->deg[w1] * (double) w->deg[w2]);
            for (size_t k = s->adj_off[w2]; k < s->adj_off[w2 + 1]; k++) {
                size_t p3 = s->adj_pair[k];
                if (++steps % TN_Q_POLL == 0 && tn_query_should_stop(ctx))
                    return -2;
                if (!tn_filter_keep(&w->f, s->pairs[p3]))
                    continue;
                int64_t c = other_end(s, p3, w2);
                ru->l3[c] += wt;
                ru->p3[c]++;
            }
        }
    }
    return 0;
}

tn_code_t tn_rec_unit_init(const tn_rec_world_t *w, int64_t u, const char *home,
                           const tn_rec_filter_t *rf, const tn_qctx_t *ctx,
                           tn_rec_unit_t *ru, tn_error_t *err) {
    const tn_snap_t *s = w->s;
    size_t k = s->nnodes ? s->nnodes : 1;
    tn_code_t rc;

    memset(ru, 0, sizeof *ru);
    ru->u = u;
    ru->xcode = tn_q_country(s, u);
    if (home == NULL)
        home = s->is_unit[u] && s->home_idx >= 0 ? NULL : s->nodes[top_of(s, u)]->id;
    if ((rc = tn_q_home_init(s, home, &ru->home, err)) != TN_OK)
        return rc;
    if ((rc = tn_q_cover_init(s, &ru->home, &w->f, ctx, &ru->cov, err)) != TN_OK) {
        tn_q_home_destroy(&ru->home);
        return rc;
    }
    ru->rowa = tn_arena_calloc(&ru->arena, k, sizeof *ru->rowa);
    ru->peers = tn_arena_calloc(&ru->arena, k, sizeof *ru->peers);
    ru->norm = tn_arena_calloc(&ru->arena, k, sizeof *ru->norm);
    ru->ra = tn_arena_calloc(&ru->arena, k, sizeof *ru->ra);
    ru->l3 = tn_arena_calloc(&ru->arena, k, sizeof *ru->l3);
    ru->cn = tn_arena_calloc(&ru->arena, k, sizeof *ru->cn);
    ru->p3 = tn_arena_calloc(&ru->arena, k, sizeof *ru->p3);
    ru->excl = tn_arena_calloc(&ru->arena, k, 1);
    ru->nbr = tn_arena_calloc(&ru->arena, k, 1);
    if (!ru->rowa || !ru->peers || !ru->norm || !ru->ra || !ru->l3 || !ru->cn || !ru->p3
        || !ru->excl || !ru->nbr) {
        tn_rec_unit_destroy(ru);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }

    /* The unit's family: itself, its descendants and its ancestors. Their
     * partners are not new partners for the unit. */
    tn_q_units_mark(s, u, ru->excl);
    int64_t v = u;
    for (size_t steps = 0; steps < s->nnodes; steps++) {
        const char *p = s->nodes[v]->parent;
        int64_t up = p ? tn_snap_find(s, p) : -1;
        if (up < 0 || ru->excl[up] || s->nodes[up]->kind == TN_NODE_COUNTRY)
            break;
        ru->excl[up] = 1;
        v = up;
    }
    unsigned char *fam = malloc(k);
    if (fam == NULL) {
        tn_rec_unit_destroy(ru);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    memcpy(fam, ru->excl, k);

    for (size_t p = 0; p < s->npairs; p++) {
        if (p % TN_Q_POLL == 0 && tn_query_should_stop(ctx)) {
            free(fam);
            tn_rec_unit_destroy(ru);
            return tn_query_stopped(ctx, err);
        }
        if (!tn_filter_keep(&w->f, s->pairs[p]))
            continue;
        int64_t a = s->pa[p], b = s->pb[p];
        int xa = is_x(s, a, ru->xcode), xb = is_x(s, b, ru->xcode);
        if (xa && !xb && s->country_of[b] >= 0) {
            ru->rowa[s->country_of[b]]++;
            ru->rowa_total++;
        }
        if (xb && !xa && s->country_of[a] >= 0) {
            ru->rowa[s->country_of[a]]++;
            ru->rowa_total++;
        }
        ru->peers[b] += xa;
        ru->peers[a] += xb;
        if (a == u)
            ru->nbr[b] = 1;
        if (b == u)
            ru->nbr[a] = 1;
        if (fam[a] || (rf->exclude_home && ru->home.unit[a]))
            ru->excl[b] = 1;
        if (fam[b] || (rf->exclude_home && ru->home.unit[b]))
            ru->excl[a] = 1;
    }
    free(fam);
    for (size_t c = 0; c < s->nnodes; c++)
        if (s->nodes[c]->kind != TN_NODE_COUNTRY && s->country_of[c] >= 0)
            ru->norm[s->country_of[c]] += share_weight(w, ru, (int64_t) c);
    if (walks(w, ru, ctx) != 0) {
        tn_rec_unit_destroy(ru);
        return tn_query_stopped(ctx, err);
    }
    return TN_OK;
}

int tn_rec_is_candidate(const tn_rec_world_t *w, const tn_rec_unit_t *ru,
                        const tn_rec_filter_t *rf, int64_t c) {
    const tn_snap_t *s = w->s;
    const tn_node_t *nd = s->nodes[c];
    int64_t cx = s->country_of[c];
    if (nd->kind == TN_NODE_COUNTRY || c == ru->u || ru->excl[c] || ru->xcode == NULL
        || nd->country == NULL || strcmp(nd->country, ru->xcode) == 0)
        return 0;
    if (rf->kind >= 0 && (int) nd->kind != rf->kind)
        return 0;
    if (rf->country != NULL && !tn_q_eq_nocase(nd->country, rf->country))
        return 0;
    if (rf->region != NULL && (cx < 0 || !tn_q_eq_nocase(s->nodes[cx]->region, rf->region)))
        return 0;
    if (rf->tag != NULL && (cx < 0 || !tn_q_has_tag(s->nodes[cx], rf->tag)))
        return 0;
    return 1;
}

void tn_rec_score(const tn_rec_world_t *w, const tn_rec_unit_t *ru, int64_t c,
                  tn_rec_item_t *it) {
    const tn_snap_t *s = w->s;
    int64_t y = s->country_of[c];
    memset(it, 0, sizeof *it);
    it->v = c;
    it->ra = ru->ra[c];
    it->l3 = ru->l3[c];
    it->shared = ru->cn[c];
    it->paths3 = ru->p3[c];
    it->peers = ru->peers[c];
    it->abroad = ru->rowa_total;
    if (y >= 0) {
        it->country_pairs = ru->rowa[y];
        it->home_pairs = ru->cov.cpairs[y];
        it->aff = ((double) ru->rowa[y] + 0.1)
                  / ((double) ru->rowa_total + 0.1 * (double) w->ncountries);
        if (ru->norm[y] > 0)
            it->prior = it->aff * share_weight(w, ru, c) / ru->norm[y];
        it->gap = ru->cov.candidate[y] && ru->cov.cpairs[y] == 0;
        it->bri = strcmp(ru->xcode, "CN") == 0 && tn_q_has_tag(s->nodes[y], "bri");
    }
    it->score = (it->ra + TN_REC_W_L3 * it->l3 + TN_REC_W_PRIOR * it->prior)
                * (1.0 + TN_REC_W_GAP * it->gap) * (1.0 + TN_REC_W_BRI * it->bri);
    for (int i = 0; i < TN_REC_EVIDENCE; i++)
        it->shared_v[i] = it->peer_v[i] = -1;
    it->via[0] = it->via[1] = -1;
}

void tn_rec_evidence(const tn_rec_world_t *w, const tn_rec_unit_t *ru, tn_rec_item_t *it) {
    const tn_snap_t *s = w->s;
    int64_t c = it->v;
    int ns = 0, np = 0;
    for (size_t i = s->adj_off[c]; i < s->adj_off[c + 1]; i++) {
        size_t p = s->adj_pair[i];
        if (!tn_filter_keep(&w->f, s->pairs[p]))
            continue;
        int64_t x = other_end(s, p, c);
        if (ru->nbr[x] && ns < TN_REC_EVIDENCE)
            it->shared_v[ns++] = x;
        if (is_x(s, x, ru->xcode) && np < TN_REC_EVIDENCE)
            it->peer_v[np++] = x;
        /* One path u - w1 - x - c, the first in id order. */
        if (it->via[0] < 0 && it->paths3 > 0 && x != ru->u) {
            for (size_t j = s->adj_off[x]; j < s->adj_off[x + 1]; j++) {
                size_t q = s->adj_pair[j];
                int64_t w1 = other_end(s, q, x);
                if (w1 != c && ru->nbr[w1] && tn_filter_keep(&w->f, s->pairs[q])) {
                    it->via[0] = w1;
                    it->via[1] = x;
                    break;
                }
            }
        }
    }
}

int tn_rec_cmp(const void *a, const void *b) {
    const tn_rec_item_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->v > y->v) - (x->v < y->v);
}
