/*
 * timeline.c -- query.timeline: a unit's pairs per establishment year.
 *
 * Every year from the first dated pair to the last is listed, with 0 where
 * none was established, so a chart needs no gap filling; "cumulative"
 * counts dated pairs only, and pairs with no known year are counted apart
 * as "undated" (cumulative of the last year + undated = all the unit's
 * pairs). With "by", the same series per group: the foreign end's region
 * ("region"; a country without one is "(unknown)") or the unit end's node
 * ("unit", the unit itself or a descendant). Groups list only those with a
 * pair, sorted by name / id, and share the whole unit's year range so
 * their rows line up.
 */
#include "planning.h"
#include "query_internal.h"

#include <stdlib.h>
#include <string.h>

#define UNKNOWN_REGION "(unknown)"

tn_code_t tn_timeline_parse(const tn_val_t *opts, tn_timeline_opts_t *o, tn_error_t *err) {
    tn_code_t rc;
    memset(o, 0, sizeof *o);
    o->by = TN_TL_BY_NONE;
    if ((rc = tn_opts_validate(opts, tn_query_find("query.timeline")->opts, err)) != TN_OK
        || (rc = tn_opt_str(opts, "unit", 0, &o->unit, err)) != TN_OK
        || (rc = tn_opt_enum(opts, "by", 0, tn_q_timeline_by_names, &o->by, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 1, &o->f, err)) != TN_OK
        || (rc = tn_q_slow_opts(opts, err)) != TN_OK)
        return rc;
    return TN_OK;
}

/* One unit pair: its year (0 = undated) and group key. */
typedef struct tl_pair {
    int year;
    const char *group;
} tl_pair_t;

static int cmp_group(const void *x, const void *y) {
    const tl_pair_t *a = x, *b = y;
    return strcmp(a->group, b->group);
}

static const char *group_of(const tn_snap_t *s, int by, int64_t unit, int64_t foreign) {
    if (by == TN_TL_BY_UNIT)
        return s->nodes[unit]->id;
    int64_t c = s->country_of[foreign];
    const char *r = c >= 0 ? s->nodes[c]->region : NULL;
    return r != NULL && r[0] != '\0' ? r : UNKNOWN_REGION;
}

/* Fill series 'out' from pairs [from, to) over the range of r (its counts
 * from r's arena). */
static int fill(tn_timeline_result_t *r, const tl_pair_t *pp, size_t from, size_t to,
                tn_timeline_series_t *out) {
    out->undated = 0;
    out->pairs = NULL;
    if (r->first <= r->last) {
        out->pairs = tn_arena_calloc(&r->arena, (size_t) (r->last - r->first + 1),
                                     sizeof *out->pairs);
        if (out->pairs == NULL)
            return -1;
    }
    for (size_t i = from; i < to; i++) {
        if (pp[i].year == 0)
            out->undated++;
        else
            out->pairs[pp[i].year - r->first]++;
    }
    return 0;
}

tn_code_t tn_timeline_compute(const tn_snap_t *s, const tn_timeline_opts_t *o, const tn_qctx_t *ctx,
                              tn_timeline_result_t *r, tn_error_t *err) {
    tn_q_home_t h;
    tn_code_t rc;
    memset(r, 0, sizeof *r);
    r->epoch = s->epoch;
    r->by = o->by;
    if ((rc = tn_q_unit_init(s, o->unit, "unit", &h, err)) != TN_OK)
        return rc;
    r->unit = h.idx >= 0 ? s->nodes[h.idx]->id : s->home;
    r->first = 1;
    r->last = 0;
    tl_pair_t *pp = malloc((s->npairs ? s->npairs : 1) * sizeof *pp);
    size_t n = 0;
    if (pp == NULL) {
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t p = 0; p < s->npairs; p++) {
        int64_t u, x;
        if (p % TN_Q_POLL == 0 && tn_query_should_stop(ctx)) {
            rc = tn_query_stopped(ctx, err);
            goto done;
        }
        if (!tn_filter_keep(&o->f, s->pairs[p]) || !tn_q_home_pair(s, &h, p, &u, &x))
            continue;
        int y = s->pairs[p]->since_year;
        pp[n].year = y;
        pp[n].group = o->by == TN_TL_BY_NONE ? "" : group_of(s, o->by, u, x);
        if (y != 0 && r->first > r->last)
            r->first = r->last = y;
        else if (y != 0) {
            r->first = y < r->first ? y : r->first;
            r->last = y > r->last ? y : r->last;
        }
        n++;
    }
    if (fill(r, pp, 0, n, &r->all) != 0) {
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        goto done;
    }
    if (o->by != TN_TL_BY_NONE && n > 0) {
        /* Sorting by group name is also id order for "unit" (ids sort as
         * strings), and stable enough: each group is counted, not listed. */
        qsort(pp, n, sizeof *pp, cmp_group);
        size_t ng = 1;
        for (size_t i = 1; i < n; i++)
            ng += strcmp(pp[i].group, pp[i - 1].group) != 0;
        r->groups = tn_arena_calloc(&r->arena, ng, sizeof *r->groups);
        if (r->groups == NULL) {
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && strcmp(pp[j].group, pp[i].group) == 0)
                j++;
            tn_timeline_series_t *g = &r->groups[r->ngroups++];
            g->group = pp[i].group;
            if (fill(r, pp, i, j, g) != 0) {
                rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
                goto done;
            }
            i = j;
        }
    }
done:
    free(pp);
    tn_q_home_destroy(&h);
    return rc;                  /* on error the runner frees r (tn_query_run) */
}

/* The "years" array of one series. */
static int encode_years(const tn_timeline_result_t *r, const tn_timeline_series_t *sr, tn_val_t *out) {
    int bad = tn_val_set_arr(out, r->first <= r->last ? (size_t) (r->last - r->first + 1) : 0);
    int64_t cum = 0;
    for (int y = r->first; y <= r->last && !bad; y++) {
        int64_t k = sr->pairs[y - r->first];
        cum += k;
        tn_val_t it = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 3);
        bad |= tn_map_add_int(&it, "year", y);
        bad |= tn_map_add_int(&it, "pairs", k);
        bad |= tn_map_add_int(&it, "cumulative", cum);
        bad |= tn_arr_push_take(out, &it);
    }
    return bad;
}

int tn_timeline_encode(const tn_snap_t *s, const tn_timeline_result_t *r, tn_val_t *out) {
    tn_val_t years = TN_VAL_NIL, groups = TN_VAL_NIL;
    int bad = tn_q_result_begin(out, s);
    bad |= tn_map_add_str(out, "unit", r->unit);
    bad |= encode_years(r, &r->all, &years);
    bad |= tn_map_add_take(out, "years", &years);
    bad |= tn_map_add_int(out, "undated", r->all.undated);
    if (r->by != TN_TL_BY_NONE) {
        bad |= tn_val_set_arr(&groups, r->ngroups);
        for (size_t i = 0; i < r->ngroups && !bad; i++) {
            tn_val_t g = TN_VAL_NIL, gy = TN_VAL_NIL;
            bad |= tn_val_set_map(&g, 3);
            bad |= tn_map_add_str(&g, "group", r->groups[i].group);
            bad |= encode_years(r, &r->groups[i], &gy);
            bad |= tn_map_add_take(&g, "years", &gy);
            bad |= tn_map_add_int(&g, "undated", r->groups[i].undated);
            bad |= tn_arr_push_take(&groups, &g);
        }
        bad |= tn_map_add_take(out, "groups", &groups);
    }
    return bad ? -1 : 0;
}

TN_Q_ARENA_FREE(tn_timeline);

TN_Q_PARTS(tn_timeline);
