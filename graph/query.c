/*
 * query.c -- the table of every read query (query.h) and the small helpers
 * the query files share (query_internal.h): the home and its units, home
 * pairs, case-insensitive matching, result scaffolding, the stop flag.
 *
 * The table is the read part of the method registry: wire name, parts,
 * option schema (server.methods reports it and the service validates
 * requests against it), flags and a one-line description.
 */
#include "igraph_bridge.h"
#include "planning.h"
#include "query_internal.h"

#include <stdlib.h>
#include <string.h>

/* Choices shared by schemas and parses. */
const char *const tn_q_node_kind_names[] = { "country", "province", "city", NULL };
const char *const tn_q_place_kind_names[] = { "province", "city", NULL };
const char *const tn_q_metric_names[] = {
    "degree", "betweenness", "closeness", "harmonic", "eigenvector", "pagerank", "constraint", NULL
};
const char *const tn_q_graph_names[] = { "partnerships", "full", NULL };
const char *const tn_q_cov_by_names[] = { "region", "subregion", "tag", "country", "unit", NULL };
const char *const tn_q_timeline_by_names[] = { "none", "region", "unit", NULL };
const char *const tn_q_comm_algo_names[] = { "multilevel", "leiden", NULL };

/* Option schemas, in the order each query reads them (so the first
 * complaint is the same whether the schema or the query finds it). */
static const tn_opt_spec_t o_stats[] = { TN_OPT_FILTER, TN_OPT_END };
static const tn_opt_spec_t o_node_get[] = { TN_OPT_STR("id", TN_OF_REQUIRED, NULL), TN_OPT_END };
static const tn_opt_spec_t o_node_find[] = {
    TN_OPT_STR("q", TN_OF_REQUIRED, NULL), TN_OPT_ENUM("kind", 0, tn_q_node_kind_names, NULL),
    TN_OPT_STR("country", 0, NULL), TN_OPT_INT("limit", 0, 1, 1000, "20"), TN_OPT_END };
static const tn_opt_spec_t o_node_list[] = {
    TN_OPT_ENUM("kind", 0, tn_q_node_kind_names, NULL), TN_OPT_STR("country", 0, NULL),
    TN_OPT_INT("limit", 0, 1, 10000, "1000"), TN_OPT_INT("offset", 0, 0, INT64_MAX, "0"),
    TN_OPT_END };
static const tn_opt_spec_t o_neighbors[] = {
    TN_OPT_STR("id", TN_OF_REQUIRED, NULL),
    TN_OPT_ENUM("kind", 0, tn_opt_pair_kind_names, "any"), TN_OPT_END };
static const tn_opt_spec_t o_pair_list[] = {
    TN_OPT_STR("unit", 0, NULL), TN_OPT_STR("country", 0, NULL), TN_OPT_STR("region", 0, NULL),
    TN_OPT_INT("since_from", 0, 1, 9999, NULL), TN_OPT_INT("since_to", 0, 1, 9999, NULL),
    TN_OPT_INT("limit", 0, 0, 10000, "100"), TN_OPT_INT("offset", 0, 0, INT64_MAX, "0"),
    TN_OPT_FILTER_KIND, TN_OPT_END };
static const tn_opt_spec_t o_centrality[] = {
    TN_OPT_ENUM("metric", TN_OF_REQUIRED, tn_q_metric_names, NULL),
    TN_OPT_ENUM("graph", 0, tn_q_graph_names, "partnerships"),
    TN_OPT_ENUM("kind", 0, tn_q_node_kind_names, NULL), TN_OPT_STR("country", 0, NULL),
    TN_OPT_INT("top", 0, 1, 100000, "20"), TN_OPT_BOOL("normalized", 0, "false"),
    TN_OPT_NUM("damping", 0, 0.0, 1.0, "0.85"), TN_OPT_NUM("cutoff", 0, 0.0, 1e9, NULL),
    TN_OPT_INT("approx", 0, 1, 100000000, NULL), TN_OPT_FILTER, TN_OPT_SLOW, TN_OPT_END };
static const tn_opt_spec_t o_coverage[] = {
    TN_OPT_STR("home", 0, NULL), TN_OPT_ENUM("by", 0, tn_q_cov_by_names, "region"),
    TN_OPT_STR("tag", 0, NULL), TN_OPT_FILTER_KIND, TN_OPT_SLOW, TN_OPT_END };
static const tn_opt_spec_t o_gaps[] = {
    TN_OPT_STR("home", 0, NULL), TN_OPT_STR("region", 0, NULL), TN_OPT_STR("subregion", 0, NULL),
    TN_OPT_STR("tag", 0, NULL), TN_OPT_INT("limit", 0, 1, 10000, "50"), TN_OPT_FILTER_KIND,
    TN_OPT_SLOW, TN_OPT_END };
static const tn_opt_spec_t o_recommend[] = {
    TN_OPT_STR("unit", TN_OF_REQUIRED, NULL), TN_OPT_INT("top", 0, 1, 1000, "10"),
    TN_OPT_STR("country", 0, NULL), TN_OPT_STR("region", 0, NULL), TN_OPT_STR("tag", 0, NULL),
    TN_OPT_ENUM("kind", 0, tn_q_place_kind_names, NULL),
    TN_OPT_BOOL("exclude_home", 0, "true for a unit of the home"), TN_OPT_FILTER, TN_OPT_SLOW,
    TN_OPT_END };
static const tn_opt_spec_t o_plan[] = {
    TN_OPT_STR("unit", 0, "the home"), TN_OPT_ANY("target", 0),
    TN_OPT_INT("budget", 0, 1, 50, "5"), TN_OPT_FILTER, TN_OPT_SLOW, TN_OPT_END };
static const tn_opt_spec_t o_metrics[] = {
    TN_OPT_INT("if_epoch", TN_OF_SERVICE, 0, INT64_MAX, NULL), TN_OPT_END };
/* The planning queries (graph/planning.h). */
static const tn_opt_spec_t o_timeline[] = {
    TN_OPT_STR("unit", 0, NULL), TN_OPT_ENUM("by", 0, tn_q_timeline_by_names, "none"),
    TN_OPT_FILTER_KIND, TN_OPT_SLOW, TN_OPT_END };
static const tn_opt_spec_t o_overlap[] = {
    TN_OPT_ARR("homes", TN_OF_REQUIRED), TN_OPT_FILTER_KIND, TN_OPT_SLOW, TN_OPT_END };
static const tn_opt_spec_t o_communities[] = {
    TN_OPT_ENUM("graph", 0, tn_q_graph_names, "partnerships"),
    TN_OPT_ENUM("algorithm", 0, tn_q_comm_algo_names, "multilevel"),
    TN_OPT_NUM("resolution", 0, 0.0, 1e6, "1.0"), TN_OPT_INT("seed", 0, 0, INT64_MAX, "1"),
    TN_OPT_INT("top", 0, 1, 100000, "20"), TN_OPT_BOOL("members", 0, "false"),
    TN_OPT_FILTER_KIND, TN_OPT_SLOW, TN_OPT_END };
static const tn_opt_spec_t o_whatif[] = {
    TN_OPT_ARR("nodes", 0), TN_OPT_ARR("add", 0), TN_OPT_ARR("remove", 0),
    TN_OPT_ARR("queries", TN_OF_REQUIRED), TN_OPT_FILTER_KIND, TN_OPT_SLOW, TN_OPT_END };

#define SLOW TN_QF_SLOW
#define IGRAPH TN_QF_IGRAPH

/* Every read method, in the protocol's order. A new read query is one row
 * here (its schema above) and its parts: parse -> compute -> encode, declared
 * with TN_Q_PARTS next to them. */
static const tn_query_def_t queries[] = {
    { "graph.stats", &tn_graph_stats_parts, o_stats, 0,
      "node and pair counts and the home's figures", NULL },
    { "node.get", &tn_node_get_parts, o_node_get, 0, "one node with its degree", NULL },
    { "node.find", &tn_node_find_parts, o_node_find, 0, "nodes whose id or names contain q", NULL },
    { "node.list", &tn_node_list_parts, o_node_list, 0, "nodes by kind and country, paged", NULL },
    { "node.neighbors", &tn_node_neighbors_parts, o_neighbors, 0, "a node's partners and pairs", NULL },
    { "pair.list", &tn_pair_list_parts, o_pair_list, 0, "pairs matching every filter, paged", NULL },
    { "query.centrality", &tn_centrality_parts, o_centrality, IGRAPH | SLOW,
      "rank nodes by a centrality metric", tn_q_centrality_needs_igraph },
    { "query.coverage", &tn_coverage_parts, o_coverage, SLOW,
      "the home's coverage by region, subregion, tag, country or unit", NULL },
    { "query.gaps", &tn_gaps_parts, o_gaps, SLOW, "candidate countries the home has no pair in", NULL },
    { "query.recommend", &tn_recommend_parts, o_recommend, SLOW,
      "new foreign partners for one unit, ranked and explained", NULL },
    { "metrics.get", &tn_metrics_parts, o_metrics, TN_QF_LIVE,
      "dashboard figures: stats, coverage, timeline and live server counters", NULL },
    { "query.timeline", &tn_timeline_parts, o_timeline, SLOW, "a unit's pairs per year, by group", NULL },
    { "query.overlap", &tn_overlap_parts, o_overlap, SLOW,
      "where 2 to 8 homes compete and what each has alone", NULL },
    { "query.communities", &tn_communities_parts, o_communities, IGRAPH | SLOW,
      "communities of the partnership graph (Louvain or Leiden, seeded)", NULL },
    { "query.whatif", &tn_whatif_parts, o_whatif, IGRAPH | SLOW,
      "read queries before and after hypothetical changes (nothing committed)", NULL },
    { "query.plan", &tn_plan_parts, o_plan, SLOW,
      "which unit should seek a partner in which uncovered target country, and with whom",
      NULL },
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

int tn_query_needs_igraph(const tn_query_def_t *def, const tn_val_t *opts) {
    if (!(def->flags & TN_QF_IGRAPH))
        return 0;
    return def->igraph_for == NULL || def->igraph_for(opts);
}

/* Options check, then parse -> compute -> encode -> free, with the
 * options and result structs allocated per call (zeroed, so result_free
 * may run whatever compute left). */
static tn_code_t run_parts(const tn_query_def_t *def, const tn_snap_t *s, const tn_val_t *opts,
                           const tn_qctx_t *ctx, tn_val_t *out, tn_error_t *err) {
    const tn_query_parts_t *p = def->parts;
    tn_code_t rc;
    *out = TN_VAL_NIL;
    if (s == NULL || !s->built)
        return tn_error_set(err, TN_ERR_INTERNAL, "%s: snapshot not built", def->name);
    if ((rc = tn_opts_validate(opts, def->opts, err)) != TN_OK)
        return rc;
    void *o = calloc(1, p->opts_size), *r = calloc(1, p->result_size);
    if (o == NULL || r == NULL) {
        free(o);
        free(r);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    if ((rc = p->parse(opts, o, err)) == TN_OK) {
        rc = p->compute(s, o, ctx, r, err);
        if (rc == TN_OK && p->encode(s, r, out) != 0)
            rc = tn_q_oom(out, err);
        p->result_free(r);
    }
    free(o);
    free(r);
    return rc;
}

tn_code_t tn_query_run(const tn_query_def_t *def, const tn_snap_t *s, const tn_val_t *opts,
                       const tn_qctx_t *ctx, tn_val_t *out, tn_error_t *err) {
    int bracket = tn_query_needs_igraph(def, opts);
    if (bracket)
        tn_igraph_begin(ctx);
    tn_code_t rc = run_parts(def, s, opts, ctx, out, err);
    if (bracket)
        tn_igraph_end();
    return rc;
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

int tn_q_cmp_counted(const void *x, const void *y) {
    const tn_q_counted_t *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return (a->v > b->v) - (a->v < b->v);
}

/* One rule for every query that builds the "full" graph. */
int64_t tn_q_full_edge(const tn_snap_t *s, size_t v) {
    const tn_node_t *nd = s->nodes[v];
    int64_t to = -1;
    if (nd->kind == TN_NODE_CITY && nd->parent != NULL)
        to = tn_snap_find(s, nd->parent);
    if (nd->kind != TN_NODE_COUNTRY && to < 0)
        to = s->country_of[v];
    return to == (int64_t) v ? -1 : to;
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

int tn_q_node_item(tn_val_t *it, const tn_node_t *nd, size_t room) {
    int bad = tn_val_set_map(it, room);
    bad |= tn_map_add_str(it, "id", nd->id);
    return bad | tn_map_add_str(it, "name", tn_q_name(nd));
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
