/*
 * metrics.c -- the body of metrics.get (docs/protocol.md, "Methods"): graph.stats,
 * coverage by region and the home's timeline, computed in one call for the
 * service to cache. The "server" part and the if_epoch short-cut belong to
 * the service, which knows uptime, connections and latency; graph/ accepts
 * "if_epoch" (so the option check passes) and ignores it.
 *
 * Timeline: home pairs per establishment year, ascending; "cumulative"
 * counts dated pairs only. Pairs with no known year cannot be placed on
 * it; their number is reported beside it as "undated" (top level), so
 * cumulative + undated is the home's pair total.
 */
#include "query_internal.h"

#include <stdlib.h>

static int cmp_int(const void *x, const void *y) {
    int a = *(const int *) x, b = *(const int *) y;
    return (a > b) - (a < b);
}

/* Append the timeline array and "undated" to 'out'. -1 on OOM. */
static int timeline(const tn_snap_t *s, const tn_q_home_t *h, tn_val_t *out) {
    int *years = malloc((s->npairs ? s->npairs : 1) * sizeof *years);
    size_t ny = 0;
    int64_t undated = 0, cum = 0;
    tn_val_t arr = TN_VAL_NIL;
    int rc = 0;
    if (years == NULL)
        return -1;
    for (size_t p = 0; p < s->npairs; p++) {
        int64_t u, x;
        if (!tn_q_home_pair(s, h, p, &u, &x))
            continue;
        if (s->pairs[p]->since_year == 0)
            undated++;
        else
            years[ny++] = s->pairs[p]->since_year;
    }
    qsort(years, ny, sizeof *years, cmp_int);
    rc |= tn_val_set_arr(&arr, 32);
    for (size_t i = 0; i < ny && rc == 0;) {
        size_t j = i;
        while (j < ny && years[j] == years[i])
            j++;
        cum += (int64_t) (j - i);
        tn_val_t it = TN_VAL_NIL;
        rc |= tn_val_set_map(&it, 3);
        rc |= tn_map_add_int(&it, "year", years[i]);
        rc |= tn_map_add_int(&it, "pairs", (int64_t) (j - i));
        rc |= tn_map_add_int(&it, "cumulative", cum);
        rc |= tn_arr_push_take(&arr, &it);
        i = j;
    }
    free(years);
    rc |= tn_map_add_take(out, "timeline", &arr);
    rc |= tn_map_add_int(out, "undated", undated);
    return rc;
}

/* metrics.get {if_epoch?} -> {epoch, graph, coverage, timeline, undated}. */
tn_code_t tn_q_metrics(const tn_snap_t *s, const tn_val_t *opts, const tn_qctx_t *ctx,
                       tn_val_t *out, tn_error_t *err) {
    tn_filter_t all = TN_FILTER_ALL;
    tn_val_t stats = TN_VAL_NIL, cov = TN_VAL_NIL;
    tn_q_home_t h;
    int64_t if_epoch = 0;
    tn_code_t rc;

    *out = TN_VAL_NIL;
    if ((rc = tn_q_start(s, "metrics.get", opts, err)) != TN_OK
        || (rc = tn_opt_int(opts, "if_epoch", 0, 0, INT64_MAX, &if_epoch, err)) != TN_OK)
        return rc;
    if ((rc = tn_q_stats_build(s, &all, ctx, &stats, err)) != TN_OK)
        return rc;
    if ((rc = tn_q_home_init(s, NULL, &h, err)) != TN_OK) {
        tn_val_free(&stats);
        return rc;
    }
    if ((rc = tn_q_coverage_build(s, &h, &all, TN_Q_COV_REGION, NULL, ctx, &cov, err)) != TN_OK) {
        tn_val_free(&stats);
        tn_q_home_destroy(&h);
        return rc;
    }
    int bad = tn_q_result_begin(out, s);
    bad |= tn_map_add_take(out, "graph", &stats);
    bad |= tn_map_add_take(out, "coverage", &cov);
    bad |= timeline(s, &h, out);
    tn_val_free(&stats);
    tn_val_free(&cov);
    tn_q_home_destroy(&h);
    return bad ? tn_q_oom(out, err) : TN_OK;
}
