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
#include "query_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct gap {
    int64_t peer, v;
} gap_t;

static int cmp_gap(const void *x, const void *y) {
    const gap_t *a = x, *b = y;
    if (a->peer != b->peer)
        return a->peer > b->peer ? -1 : 1;
    return (a->v > b->v) - (a->v < b->v);
}

/* Under-covered groups sorted by ratio ascending, then name. */
typedef struct under {
    double ratio;
    const char *group;
} under_t;

static int cmp_under(const void *x, const void *y) {
    const under_t *a = x, *b = y;
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

/* query.gaps (options in the table of query.c). */
tn_code_t tn_q_gaps(const tn_snap_t *s, const tn_val_t *opts, const tn_qctx_t *ctx,
                    tn_val_t *out, tn_error_t *err) {
    const char *home = NULL, *region = NULL, *subregion = NULL, *tag = NULL;
    int64_t limit = 50;
    tn_filter_t f;
    tn_q_home_t h;
    tn_q_cover_t c;
    tn_code_t rc;

    *out = TN_VAL_NIL;
    if ((rc = tn_q_start(s, "query.gaps", opts, err)) != TN_OK
        || (rc = tn_opt_str(opts, "home", 0, &home, err)) != TN_OK
        || (rc = tn_opt_str(opts, "region", 0, &region, err)) != TN_OK
        || (rc = tn_opt_str(opts, "subregion", 0, &subregion, err)) != TN_OK
        || (rc = tn_opt_str(opts, "tag", 0, &tag, err)) != TN_OK
        || (rc = tn_opt_int(opts, "limit", 0, 1, 10000, &limit, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 1, &f, err)) != TN_OK
        || (rc = tn_q_slow_opts(opts, err)) != TN_OK)
        return rc;
    if ((rc = tn_q_home_init(s, home, &h, err)) != TN_OK)
        return rc;
    if ((rc = tn_q_cover_init(s, &h, &f, ctx, &c, err)) != TN_OK) {
        tn_q_home_destroy(&h);
        return rc;
    }

    size_t k = s->nnodes ? s->nnodes : 1, ng = 0;
    unsigned char *keep = calloc(k, 1);
    int64_t *peer = calloc(k, sizeof *peer);
    gap_t *gaps = malloc(k * sizeof *gaps);
    tn_val_t groups = TN_VAL_NIL, unc = TN_VAL_NIL, idle = TN_VAL_NIL, under = TN_VAL_NIL;
    under_t *uv = NULL;
    int bad = keep == NULL || peer == NULL || gaps == NULL;
    if (bad)
        goto done;
    for (size_t v = 0; v < s->nnodes; v++) {
        const tn_node_t *nd = s->nodes[v];
        keep[v] = c.candidate[v]
                  && (region == NULL || tn_q_eq_nocase(nd->region, region))
                  && (subregion == NULL || tn_q_eq_nocase(nd->subregion, subregion))
                  && (tag == NULL || tn_q_has_tag(nd, tag));
    }
    if (tn_query_should_stop(ctx)) {
        rc = tn_query_stopped(ctx, err);
        goto done;
    }
    count_peers(s, &h, &f, peer);

    bad |= tn_q_result_begin(out, s);
    bad |= tn_map_add_str(out, "home", h.id);

    /* uncovered */
    size_t nu = 0;
    for (size_t v = 0; v < s->nnodes; v++)
        if (keep[v] && c.cpairs[v] == 0)
            gaps[nu++] = (gap_t) { peer[v], (int64_t) v };
    qsort(gaps, nu, sizeof *gaps, cmp_gap);
    bad |= tn_val_set_arr(&unc, 16);
    for (size_t i = 0; i < nu && (int64_t) i < limit && !bad; i++) {
        const tn_node_t *nd = s->nodes[gaps[i].v];
        tn_val_t it = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 6);
        bad |= tn_map_add_str(&it, "id", nd->id);
        bad |= tn_map_add_str(&it, "name", tn_q_name(nd));
        bad |= tn_map_add_str(&it, "region", nd->region);
        bad |= tn_map_add_str(&it, "subregion", nd->subregion);
        bad |= add_tags(&it, nd);
        bad |= tn_map_add_int(&it, "peer_pairs", gaps[i].peer);
        bad |= tn_arr_push_take(&unc, &it);
    }
    bad |= tn_map_add_take(out, "uncovered", &unc);

    /* idle_units, in id (= vertex) order */
    bad |= tn_val_set_arr(&idle, 16);
    int64_t ni = 0;
    for (size_t v = 0; v < s->nnodes && ni < limit && !bad; v++) {
        if (!h.unit[v] || c.upairs[v] > 0)
            continue;
        tn_val_t it = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 2);
        bad |= tn_map_add_str(&it, "id", s->nodes[v]->id);
        bad |= tn_map_add_str(&it, "name", tn_q_name(s->nodes[v]));
        bad |= tn_arr_push_take(&idle, &it);
        ni++;
    }
    bad |= tn_map_add_take(out, "idle_units", &idle);

    /* under_covered: regions of the kept countries below the overall ratio */
    double overall = c.candidates ? (double) c.candidates_covered / (double) c.candidates : 0.0;
    bad |= tn_val_set_arr(&groups, 8);
    bad |= tn_q_cover_groups(s, &h, &f, &c, TN_Q_BY_REGION, NULL, keep, &groups);
    uv = malloc((groups.u.a.n ? groups.u.a.n : 1) * sizeof *uv);
    bad |= uv == NULL;
    for (size_t i = 0; !bad && i < groups.u.a.n; i++) {
        double r = 0;
        tn_val_as_num(tn_map_get(&groups.u.a.items[i], "ratio"), &r);
        if (r < overall)
            uv[ng++] = (under_t) { r, tn_val_str(tn_map_get(&groups.u.a.items[i], "group")) };
    }
    if (!bad)
        qsort(uv, ng, sizeof *uv, cmp_under);
    bad |= tn_val_set_arr(&under, ng);
    for (size_t i = 0; i < ng && !bad; i++) {
        tn_val_t it = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 3);
        bad |= tn_map_add_str(&it, "group", uv[i].group);
        bad |= tn_map_add_float(&it, "ratio", uv[i].ratio);
        bad |= tn_map_add_float(&it, "overall", overall);
        bad |= tn_arr_push_take(&under, &it);
    }
    bad |= tn_map_add_take(out, "under_covered", &under);
done:
    tn_val_free(&groups);
    tn_val_free(&unc);
    tn_val_free(&idle);
    tn_val_free(&under);
    free(uv);
    free(keep);
    free(peer);
    free(gaps);
    tn_q_cover_destroy(&c);
    tn_q_home_destroy(&h);
    if (rc == TN_OK && bad)
        return tn_q_oom(out, err);
    if (rc != TN_OK)
        tn_val_free(out);
    return rc;
}
