/*
 * gaps.c -- query.gaps (docs/protocol.md, "Methods"): where the home has no
 * partnership yet. Countries with no home pair (ranked by what other
 * provinces of the home's country already achieved there), home units with
 * no home pair, and regions covered below the home's overall ratio.
 *
 * Decisions where the protocol is silent (docs/queries.md):
 * - an idle unit is one with no home pair (a unit paired only inside its own
 *   country is still idle: it has no international partner);
 * - "limit" caps both uncovered and idle_units;
 * - region/subregion/tag restrict the candidate countries everywhere,
 *   including under_covered; "overall" is always the home's ratio over all
 *   candidate countries, so a filter does not move the bar;
 * - "kind" is accepted as in query.coverage (pair filter).
 */
#include "gaps.h"

#include <stdlib.h>
#include <string.h>

/* Under-covered groups sorted by ratio ascending, then name. */
static int cmp_under(const void *x, const void *y) {
    const tn_q_group_t *a = x, *b = y;
    if (a->ratio != b->ratio)
        return a->ratio < b->ratio ? -1 : 1;
    return strcmp(a->group, b->group);
}

/* Pairs between country node X's divisions and divisions of the home's
 * country that are not home units, per X. */
static void count_peers(const tn_snap_t *s, const tn_q_home_t *h, const tn_filter_t *f,
                        int64_t *peer) {
    if (h->country == NULL)
        return;
    for (size_t p = 0; p < s->npairs; p++) {
        if (!tn_filter_keep(f, s->pairs[p]))
            continue;
        int64_t e[2] = { s->pa[p], s->pb[p] };
        for (int i = 0; i < 2; i++) {
            int64_t mine = e[i], other = e[1 - i];
            const char *cm = tn_q_country(s, mine), *co = tn_q_country(s, other);
            if (cm && co && strcmp(cm, h->country) == 0 && !h->unit[mine]
                && strcmp(co, h->country) != 0 && s->country_of[other] >= 0)
                peer[s->country_of[other]]++;
        }
    }
}

static int add_tags(tn_val_t *it, const tn_node_t *nd) {
    tn_val_t tags = TN_VAL_NIL;
    int rc = tn_val_set_arr(&tags, nd->ntags);
    for (size_t i = 0; i < nd->ntags; i++)
        rc |= tn_arr_push_str(&tags, nd->tags[i]);
    return rc | tn_map_add_take(it, "tags", &tags);
}

tn_code_t tn_gaps_parse(const tn_val_t *opts, tn_gaps_opts_t *o, tn_error_t *err) {
    tn_code_t rc;
    memset(o, 0, sizeof *o);
    o->limit = 50;
    if ((rc = tn_opt_str(opts, "home", 0, &o->home, err)) != TN_OK
        || (rc = tn_opt_str(opts, "region", 0, &o->region, err)) != TN_OK
        || (rc = tn_opt_str(opts, "subregion", 0, &o->subregion, err)) != TN_OK
        || (rc = tn_opt_str(opts, "tag", 0, &o->tag, err)) != TN_OK
        || (rc = tn_opt_int(opts, "limit", 0, 1, 10000, &o->limit, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 1, &o->f, err)) != TN_OK)
        return rc;
    return tn_q_slow_opts(opts, err);
}

tn_code_t tn_gaps_compute(const tn_snap_t *s, const tn_gaps_opts_t *o, const tn_qctx_t *ctx,
                          tn_gaps_result_t *r, tn_error_t *err) {
    tn_code_t rc;
    if ((rc = tn_q_home_init(s, o->home, &r->h, err)) != TN_OK
        || (rc = tn_q_cover_init(s, &r->h, &o->f, ctx, &r->c, err)) != TN_OK)
        return rc;
    const tn_q_cover_t *c = &r->c;
    size_t k = s->nnodes ? s->nnodes : 1, ng = 0, nu = 0;
    unsigned char *keep = calloc(k, 1);
    int64_t *peer = calloc(k, sizeof *peer);
    r->uncovered = tn_arena_calloc(&r->arena, k, sizeof *r->uncovered);
    r->idle = tn_arena_calloc(&r->arena, k, sizeof *r->idle);
    if (keep == NULL || peer == NULL || r->uncovered == NULL || r->idle == NULL)
        goto oom;
    for (size_t v = 0; v < s->nnodes; v++) {
        const tn_node_t *nd = s->nodes[v];
        keep[v] = c->candidate[v]
                  && (o->region == NULL || tn_q_eq_nocase(nd->region, o->region))
                  && (o->subregion == NULL || tn_q_eq_nocase(nd->subregion, o->subregion))
                  && (o->tag == NULL || tn_q_has_tag(nd, o->tag));
    }
    if (tn_query_should_stop(ctx)) {
        rc = tn_query_stopped(ctx, err);
        goto out;
    }
    count_peers(s, &r->h, &o->f, peer);
    /* uncovered, best first, cut at limit */
    for (size_t v = 0; v < s->nnodes; v++)
        if (keep[v] && c->cpairs[v] == 0)
            r->uncovered[nu++] = (tn_q_counted_t) { peer[v], (int64_t) v };
    qsort(r->uncovered, nu, sizeof *r->uncovered, tn_q_cmp_counted);
    r->nuncovered = (int64_t) nu < o->limit ? nu : (size_t) o->limit;
    /* idle units, in id (= vertex) order */
    for (size_t v = 0; v < s->nnodes && (int64_t) r->nidle < o->limit; v++)
        if (r->h.unit[v] && c->upairs[v] == 0)
            r->idle[r->nidle++] = (int64_t) v;
    /* under_covered: regions of the kept countries below the overall ratio */
    r->overall = c->candidates ? (double) c->candidates_covered / (double) c->candidates : 0.0;
    if (tn_q_cover_groups_compute(s, &r->h, &o->f, c, TN_Q_BY_REGION, NULL, keep, &r->arena,
                                  &r->under, &r->nunder) != 0)
        goto oom;
    for (size_t i = 0; i < r->nunder; i++)
        if (r->under[i].ratio < r->overall)
            r->under[ng++] = r->under[i];
    r->nunder = ng;
    qsort(r->under, ng, sizeof *r->under, cmp_under);
    rc = TN_OK;
    goto out;
oom:
    rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
out:
    free(keep);
    free(peer);
    return rc;
}

int tn_gaps_encode(const tn_snap_t *s, const tn_gaps_result_t *r, tn_val_t *out) {
    tn_val_t unc = TN_VAL_NIL, idle = TN_VAL_NIL, under = TN_VAL_NIL;
    int bad = tn_q_result_begin(out, s);
    bad |= tn_map_add_str(out, "home", r->h.id);
    bad |= tn_val_set_arr(&unc, r->nuncovered);
    for (size_t i = 0; i < r->nuncovered && !bad; i++) {
        const tn_node_t *nd = s->nodes[r->uncovered[i].v];
        tn_val_t it = TN_VAL_NIL;
        bad |= tn_q_node_item(&it, nd, 6);
        bad |= tn_map_add_str(&it, "region", nd->region);
        bad |= tn_map_add_str(&it, "subregion", nd->subregion);
        bad |= add_tags(&it, nd);
        bad |= tn_map_add_int(&it, "peer_pairs", r->uncovered[i].count);
        bad |= tn_arr_push_take(&unc, &it);
    }
    bad |= tn_map_add_take(out, "uncovered", &unc);
    bad |= tn_val_set_arr(&idle, r->nidle);
    for (size_t i = 0; i < r->nidle && !bad; i++) {
        tn_val_t it = TN_VAL_NIL;
        bad |= tn_q_node_item(&it, s->nodes[r->idle[i]], 2);
        bad |= tn_arr_push_take(&idle, &it);
    }
    bad |= tn_map_add_take(out, "idle_units", &idle);
    bad |= tn_val_set_arr(&under, r->nunder);
    for (size_t i = 0; i < r->nunder && !bad; i++) {
        tn_val_t it = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 3);
        bad |= tn_map_add_str(&it, "group", r->under[i].group);
        bad |= tn_map_add_float(&it, "ratio", r->under[i].ratio);
        bad |= tn_map_add_float(&it, "overall", r->overall);
        bad |= tn_arr_push_take(&under, &it);
    }
    bad |= tn_map_add_take(out, "under_covered", &under);
    return bad ? -1 : 0;
}

void tn_gaps_result_free(tn_gaps_result_t *r) {
    tn_q_cover_destroy(&r->c);
    tn_q_home_destroy(&r->h);
    tn_arena_free(&r->arena);
    memset(r, 0, sizeof *r);
}

TN_Q_PARTS(tn_gaps);
