/*
 * query.c -- the table of every read query (query.h) and the small helpers
 * the query files share (query_internal.h): the home and its units, home
 * pairs, case-insensitive matching, result scaffolding, the stop flag.
 *
 * The table is the single list service/ consults: wire name, function,
 * option names (for server.methods), and whether the query needs the
 * igraph thread or may run long. Option names here must match what each
 * query accepts in tn_opts_check, or server.methods would lie.
 */
#include "query_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const p_stats[] = { "as_of", "min_confidence", NULL };
static const char *const p_node_get[] = { "id", NULL };
static const char *const p_node_find[] = { "q", "kind", "country", "limit", NULL };
static const char *const p_node_list[] = { "kind", "country", "limit", "offset", NULL };
static const char *const p_neighbors[] = { "id", "kind", NULL };
static const char *const p_pair_list[] = {
    "unit", "country", "region", "since_from", "since_to", "limit", "offset",
    "as_of", "min_confidence", "kind", NULL };
static const char *const p_centrality[] = {
    "metric", "graph", "kind", "country", "top", "normalized", "damping", "cutoff",
    "as_of", "min_confidence", "deadline_ms", "progress", NULL };
static const char *const p_coverage[] = {
    "home", "by", "tag", "kind", "as_of", "min_confidence", "deadline_ms", "progress", NULL };
static const char *const p_gaps[] = {
    "home", "region", "subregion", "tag", "limit", "kind", "as_of", "min_confidence",
    "deadline_ms", "progress", NULL };
static const char *const p_recommend[] = {
    "unit", "top", "country", "region", "as_of", "min_confidence", "deadline_ms",
    "progress", NULL };
static const char *const p_metrics[] = { "if_epoch", NULL };

/* PROTOCOL.md section 5, in its order. */
static const tn_query_def_t queries[] = {
    { "graph.stats",      tn_q_graph_stats,    p_stats,      0, 0 },
    { "node.get",         tn_q_node_get,       p_node_get,   0, 0 },
    { "node.find",        tn_q_node_find,      p_node_find,  0, 0 },
    { "node.list",        tn_q_node_list,      p_node_list,  0, 0 },
    { "node.neighbors",   tn_q_node_neighbors, p_neighbors,  0, 0 },
    { "pair.list",        tn_q_pair_list,      p_pair_list,  0, 0 },
    { "query.centrality", tn_q_centrality,     p_centrality, 1, 1 },
    { "query.coverage",   tn_q_coverage,       p_coverage,   0, 1 },
    { "query.gaps",       tn_q_gaps,           p_gaps,       0, 1 },
    { "query.recommend",  tn_q_recommend,      p_recommend,  0, 1 },
    { "metrics.get",      tn_q_metrics,        p_metrics,    0, 0 },
};

/* The query called 'name', or NULL. */
const tn_query_def_t *tn_query_find(const char *name) {
    for (size_t i = 0; name != NULL && i < sizeof queries / sizeof queries[0]; i++)
        if (strcmp(queries[i].name, name) == 0)
            return &queries[i];
    return NULL;
}

/* The whole table; *n receives its length. */
const tn_query_def_t *tn_query_all(size_t *n) {
    *n = sizeof queries / sizeof queries[0];
    return queries;
}

/* Non-zero when the flag asks to stop. */
int tn_query_should_stop(const tn_qctx_t *ctx) {
    return ctx != NULL && ctx->stop != NULL && atomic_load(ctx->stop) != TN_RUN;
}

/* The code (and message) for a stopped query. */
tn_code_t tn_query_stopped(const tn_qctx_t *ctx, tn_error_t *err) {
    if (ctx != NULL && ctx->stop != NULL && atomic_load(ctx->stop) == TN_STOP_CANCEL)
        return tn_error_set(err, TN_ERR_CANCELLED, "the query was cancelled");
    return tn_error_set(err, TN_ERR_TIMEOUT, "the query ran past its deadline");
}

/* ---- shared helpers ---- */

tn_code_t tn_q_start(const tn_snap_t *s, const char *method, const tn_val_t *opts,
                     tn_error_t *err) {
    const tn_query_def_t *def = tn_query_find(method);
    if (s == NULL || !s->built || def == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "%s: snapshot not built", method);
    return tn_opts_check(opts, def->params, err);
}

tn_code_t tn_q_slow_opts(const tn_val_t *opts, tn_error_t *err) {
    int64_t deadline = 0;
    int progress = 0;
    tn_code_t rc = tn_opt_int(opts, "deadline_ms", 0, 0, INT64_MAX, &deadline, err);
    if (rc == TN_OK)
        rc = tn_opt_bool(opts, "progress", 0, &progress, err);
    return rc;
}

/* The country code of vertex v (a country node is its own country). */
const char *tn_q_country(const tn_snap_t *s, int64_t v) {
    const tn_node_t *n = s->nodes[v];
    return n->kind == TN_NODE_COUNTRY ? n->id : n->country;
}

/* Resolve the home: the snapshot's (whose units build already marked) or
 * an explicit one (units marked now). */
tn_code_t tn_q_home_init(const tn_snap_t *s, const char *home, tn_q_home_t *h, tn_error_t *err) {
    memset(h, 0, sizeof *h);
    if (home == NULL) {
        h->id = s->home;
        h->idx = s->home_idx;
        h->unit = s->is_unit;
    } else {
        h->id = home;
        h->idx = tn_snap_find(s, home);
        if (h->idx < 0)
            return tn_error_set(err, TN_ERR_NOT_FOUND, "no node '%s' (home)",
                                TN_CLIP(home, 128));
        h->unit = malloc(s->nnodes ? s->nnodes : 1);
        if (h->unit == NULL)
            return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        h->owned = 1;
        tn_q_units_mark(s, h->idx, h->unit);
    }
    h->country = h->idx >= 0 ? tn_q_country(s, h->idx) : NULL;
    for (size_t v = 0; v < s->nnodes; v++)
        h->nunits += h->unit[v] != 0;
    return TN_OK;
}

void tn_q_home_destroy(tn_q_home_t *h) {
    if (h != NULL && h->owned)
        free(h->unit);
    if (h != NULL)
        memset(h, 0, sizeof *h);
}

/* Section 3: one end a unit, the other outside the home's country. With
 * no home country (home absent) there are no home pairs. */
int tn_q_home_pair(const tn_snap_t *s, const tn_q_home_t *h, size_t p,
                   int64_t *unit, int64_t *foreign) {
    if (h->country == NULL)
        return 0;
    int64_t a = s->pa[p], b = s->pb[p];
    const char *ca = tn_q_country(s, a), *cb = tn_q_country(s, b);
    if (h->unit[a] && cb != NULL && strcmp(cb, h->country) != 0) {
        *unit = a;
        *foreign = b;
        return 1;
    }
    if (h->unit[b] && ca != NULL && strcmp(ca, h->country) != 0) {
        *unit = b;
        *foreign = a;
        return 1;
    }
    return 0;
}

static int lower(int c) {
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int tn_q_eq_nocase(const char *a, const char *b) {
    if (a == NULL || b == NULL)
        return 0;
    for (; *a && lower((unsigned char) *a) == lower((unsigned char) *b); a++, b++)
        ;
    return *a == '\0' && *b == '\0';
}

int tn_q_contains_nocase(const char *hay, const char *needle) {
    if (hay == NULL || needle == NULL)
        return 0;
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && lower((unsigned char) hay[i]) == lower((unsigned char) needle[i]))
            i++;
        if (i == nl)
            return 1;
    }
    return nl == 0;
}

int tn_q_has_tag(const tn_node_t *c, const char *tag) {
    for (size_t i = 0; i < c->ntags; i++)
        if (tn_q_eq_nocase(c->tags[i], tag))
            return 1;
    return 0;
}

const char *tn_q_name(const tn_node_t *n) {
    return n->name != NULL && n->name[0] != '\0' ? n->name : n->id;
}

int tn_q_result_begin(tn_val_t *out, const tn_snap_t *s) {
    *out = TN_VAL_NIL;
    if (tn_val_set_map(out, 8) != 0)
        return -1;
    return tn_map_add_int(out, "epoch", (int64_t) s->epoch);
}

tn_code_t tn_q_oom(tn_val_t *out, tn_error_t *err) {
    tn_val_free(out);
    return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
}

tn_code_t tn_q_fail(tn_val_t *out, tn_code_t code, tn_error_t *err) {
    (void) err;
    tn_val_free(out);
    return code;
}
