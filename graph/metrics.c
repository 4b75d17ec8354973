/*
 * metrics.c -- the body of metrics.get (docs/protocol.md, "Methods"): graph.stats,
 * coverage by region and the home's timeline, computed in one call for the
 * service to cache, as parse -> compute -> encode (metrics.h). The
 * "server" part and the if_epoch short-cut belong to
 * the service, which knows uptime, connections and latency; graph/ accepts
 * "if_epoch" (so the option check passes) and ignores it.
 *
 * Timeline: home pairs per establishment year, ascending; "cumulative"
 * counts dated pairs only. Pairs with no known year cannot be placed on
 * it; their number is reported beside it as "undated" (top level), so
 * cumulative + undated is the home's pair total.
 */
#include "metrics.h"

#include <stdlib.h>

static int cmp_int(const void *x, const void *y) {
    int a = *(const int *) x, b = *(const int *) y;
    return (a > b) - (a < b);
}

tn_code_t tn_metrics_parse(const tn_val_t *opts, tn_metrics_opts_t *o, tn_error_t *err) {
    o->if_epoch = 0;
    return tn_opt_int(opts, "if_epoch", 0, 0, INT64_MAX, &o->if_epoch, err);
}

/* The home's dated pair years, sorted, and the undated count. */
static tn_code_t timeline(const tn_snap_t *s, const tn_q_home_t *h, tn_metrics_result_t *r,
                          tn_error_t *err) {
    r->years = malloc((s->npairs ? s->npairs : 1) * sizeof *r->years);
    if (r->years == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    for (size_t p = 0; p < s->npairs; p++) {
        int64_t u, x;
        if (!tn_q_home_pair(s, h, p, &u, &x))
            continue;
        if (s->pairs[p]->since_year == 0)
            r->undated++;
        else
            r->years[r->nyears++] = s->pairs[p]->since_year;
    }
    qsort(r->years, r->nyears, sizeof *r->years, cmp_int);
    return TN_OK;
}

tn_code_t tn_metrics_compute(const tn_snap_t *s, const tn_metrics_opts_t *o, const tn_qctx_t *ctx,
                             tn_metrics_result_t *r, tn_error_t *err) {
    (void) o;                   /* if_epoch is the service's */
    tn_graph_stats_opts_t so = { TN_FILTER_ALL };
    tn_coverage_opts_t co = { NULL, NULL, TN_Q_COV_REGION, TN_FILTER_ALL };
    tn_code_t rc;
    if ((rc = tn_graph_stats_compute(s, &so, ctx, &r->stats, err)) != TN_OK
        || (rc = tn_coverage_compute(s, &co, ctx, &r->cov, err)) != TN_OK)
        return rc;
    return timeline(s, &r->cov.h, r, err);
}

int tn_metrics_encode(const tn_snap_t *s, const tn_metrics_result_t *r, tn_val_t *out) {
    tn_val_t stats = TN_VAL_NIL, cov = TN_VAL_NIL, arr = TN_VAL_NIL;
    int64_t cum = 0;
    int rc = tn_q_result_begin(out, s);
    rc |= tn_graph_stats_encode(s, &r->stats, &stats);
    rc |= tn_map_add_take(out, "graph", &stats);
    rc |= tn_coverage_encode(s, &r->cov, &cov);
    rc |= tn_map_add_take(out, "coverage", &cov);
    rc |= tn_val_set_arr(&arr, 32);
    for (size_t i = 0; i < r->nyears && rc == 0;) {
        size_t j = i;
        while (j < r->nyears && r->years[j] == r->years[i])
            j++;
        cum += (int64_t) (j - i);
        tn_val_t it = TN_VAL_NIL;
        rc |= tn_val_set_map(&it, 3);
        rc |= tn_map_add_int(&it, "year", r->years[i]);
        rc |= tn_map_add_int(&it, "pairs", (int64_t) (j - i));
        rc |= tn_map_add_int(&it, "cumulative", cum);
        rc |= tn_arr_push_take(&arr, &it);
        i = j;
    }
    rc |= tn_map_add_take(out, "timeline", &arr);
    rc |= tn_map_add_int(out, "undated", r->undated);
    return rc ? -1 : 0;
}

void tn_metrics_result_free(tn_metrics_result_t *r) {
    tn_graph_stats_result_free(&r->stats);
    tn_coverage_result_free(&r->cov);
    free(r->years);
    r->years = NULL;
    r->nyears = 0;
}

TN_Q_PARTS(tn_metrics);
