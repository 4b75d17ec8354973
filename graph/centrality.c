/*
 * centrality.c -- query.centrality (docs/protocol.md): build the
 * "partnerships" or "full" graph of a snapshot under the pair filters, run
 * one of seven igraph metrics on it, and rank the reported vertices.
 *
 * igraph style inside (IGRAPH_CHECK / IGRAPH_FINALLY), one conversion to
 * tn_code_t at the edge (tn_igraph_fail). Runs on the igraph thread only.
 * Every vertex id handed to igraph is made here from snapshot indices and
 * checked against the vertex count before igraph sees it.
 *
 * Definitions follow the protocol; where it is silent (docs/queries.md):
 * - non-finite scores (igraph's NaN closeness of an isolated vertex, or
 *   harmonic/eigenvector on degenerate graphs) become 0, and normalising by
 *   n-1 or (n-1)(n-2)/2 is skipped when that is 0, so output is always finite;
 * - eigenvector scores within 1e-12 of 0 (ARPACK round-off on vertices
 *   outside the dominant component) are reported as exactly 0, so ties fall
 *   back to id order instead of to noise;
 * - "damping" with a metric other than pagerank, and "cutoff" with one other
 *   than betweenness/closeness/harmonic, are invalid_params.
 */
#include "centrality.h"

#include "igraph_bridge.h"
#include "qgraph.h"
#include "query_internal.h"
#include "split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum metric {
    M_DEGREE = 0, M_BETWEENNESS, M_CLOSENESS, M_HARMONIC, M_EIGENVECTOR, M_PAGERANK, M_CONSTRAINT
} metric_t;

#define metric_names tn_q_metric_names
#define graph_names tn_q_graph_names
#define node_kinds tn_q_node_kind_names

typedef tn_cmetric_t copts_t;

/* Run the metric on the graph with n vertices and 'edges'; fill 'res'
 * (scores) and 'deg' (degrees in the simple graph). Both are initialized
 * by the caller. igraph style: on error the handler has freed our locals. */
static igraph_error_t compute(igraph_integer_t n, const igraph_vector_int_t *edges,
                              const copts_t *o, igraph_vector_t *res, igraph_vector_int_t *deg) {
    igraph_t g;
    igraph_real_t value;
    igraph_arpack_options_t arpack;

    /* Section 4: simple. */
    IGRAPH_CHECK(tn_q_igraph_simple(&g, n, o->full, edges, deg));
    IGRAPH_FINALLY(igraph_destroy, &g);

    /* Exact path-based metrics may be split over processes (split.h). */
    int split = 0;
    if (o->cutoff < 0 && o->approx == 0 && (o->metric == M_BETWEENNESS || o->metric == M_CLOSENESS
                          || o->metric == M_HARMONIC))
        IGRAPH_CHECK(tn_split_run(&g, o->metric == M_BETWEENNESS ? TN_SPLIT_BETWEENNESS
                                  : o->metric == M_CLOSENESS ? TN_SPLIT_CLOSENESS
                                  : TN_SPLIT_HARMONIC, res, &split));

    switch (split ? -1 : (int) o->metric) {     /* -1: the splitter filled res */
    case M_DEGREE:
        IGRAPH_CHECK(igraph_vector_resize(res, n));
        for (igraph_integer_t i = 0; i < n; i++)
            VECTOR(*res)[i] = (igraph_real_t) VECTOR(*deg)[i];
        break;
    case M_BETWEENNESS:
        if (o->approx > 0)          /* seeded: the same sources every time */
            IGRAPH_CHECK(tn_split_sampled_betweenness(&g, o->approx, 1, res));
        else if (o->cutoff >= 0)
            IGRAPH_CHECK(igraph_betweenness_cutoff(&g, res, igraph_vss_all(), false, NULL,
                                                   o->cutoff));
        else
            IGRAPH_CHECK(igraph_betweenness(&g, res, igraph_vss_all(), false, NULL));
        break;
    case M_CLOSENESS:
        /* igraph's normalized closeness is the protocol's definition. */
        if (o->cutoff >= 0)
            IGRAPH_CHECK(igraph_closeness_cutoff(&g, res, NULL, NULL, igraph_vss_all(), IGRAPH_ALL,
                                                 NULL, true, o->cutoff));
        else
            IGRAPH_CHECK(igraph_closeness(&g, res, NULL, NULL, igraph_vss_all(), IGRAPH_ALL,
                                          NULL, true));
        break;
    case M_HARMONIC:
        /* Unnormalized here; the caller divides by n-1 when asked. */
        if (o->cutoff >= 0)
            IGRAPH_CHECK(igraph_harmonic_centrality_cutoff(&g, res, igraph_vss_all(), IGRAPH_ALL,
                                                           NULL, false, o->cutoff));
        else
            IGRAPH_CHECK(igraph_harmonic_centrality(&g, res, igraph_vss_all(), IGRAPH_ALL,
                                                    NULL, false));
        break;
    case M_EIGENVECTOR:
        igraph_arpack_options_init(&arpack);
        IGRAPH_CHECK(igraph_eigenvector_centrality(&g, res, &value, false, true, NULL, &arpack));
        break;
    case M_PAGERANK:
        IGRAPH_CHECK(igraph_pagerank(&g, IGRAPH_PAGERANK_ALGO_PRPACK, res, &value,
                                     igraph_vss_all(), false, o->damping, NULL, NULL));
        break;
    case M_CONSTRAINT:
        IGRAPH_CHECK(igraph_constraint(&g, res, igraph_vss_all(), NULL));
        break;
    }
    igraph_destroy(&g);
    IGRAPH_FINALLY_CLEAN(1);
    return IGRAPH_SUCCESS;
}

typedef tn_scored_t scored_t;   /* v: snapshot vertex, whose order is id order */

static int cmp_scored(const void *x, const void *y) {
    const scored_t *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->v > b->v) - (a->v < b->v);
}

/* Move the k first of rank[0..n) in cmp_scored order (a total order:
 * ties go by vertex) to its front, in any order: quickselect, so a top 20
 * of 100,000 vertices costs O(n), not a sort of all of them. */
static void select_top(scored_t *rank, size_t n, size_t k) {
    size_t lo = 0, hi = n;          /* the k-th lies in [lo, hi) */
    while (hi - lo > 1) {
        scored_t pivot = rank[lo + (hi - lo) / 2];
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {            /* three-way partition around the pivot */
            int c = cmp_scored(&rank[i], &pivot);
            scored_t t;
            if (c < 0) {
                t = rank[lt], rank[lt] = rank[i], rank[i] = t;
                lt++, i++;
            } else if (c > 0) {
                gt--;
                t = rank[gt], rank[gt] = rank[i], rank[i] = t;
            } else {
                i++;
            }
        }
        if (k <= lt)
            hi = lt;
        else if (k <= gt)
            return;                 /* the pivot (one element) sits at k-1 or the front is whole */
        else
            lo = gt;
    }
}

/* Post-process one raw igraph score for vertex i of n (see the top). */
static double finish(const copts_t *o, double x, igraph_integer_t n) {
    double nn = (double) n;
    if (!isfinite(x))
        return 0.0;
    switch (o->metric) {
    case M_DEGREE:
    case M_HARMONIC:
        return o->normalized && n > 1 ? x / (nn - 1.0) : x;
    case M_BETWEENNESS:
        return o->normalized && n > 2 ? x / ((nn - 1.0) * (nn - 2.0) / 2.0) : x;
    case M_EIGENVECTOR:
        return fabs(x) < 1e-12 ? 0.0 : x;
    default:
        return x;
    }
}

/* Rank the reported vertices (kind / country filter the report, not the
 * graph) into r. scores[i] and deg[i] belong to graph vertex i, which is
 * snapshot vertex gv[i]. 0, or -1 on out-of-memory. */
static int rank_into(const tn_snap_t *s, const tn_centrality_opts_t *co, const int64_t *gv,
                     int64_t n, const double *scores, const int64_t *deg,
                     tn_centrality_result_t *r) {
    const copts_t *o = &co->m;
    size_t nr = 0;
    scored_t *rank = malloc((n > 0 ? (size_t) n : 1) * sizeof *rank);
    if (rank == NULL)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = gv[i];
        const tn_node_t *nd = s->nodes[v];
        if (co->kind >= 0 && (int) nd->kind != co->kind)
            continue;
        if (co->country != NULL && !tn_q_eq_nocase(tn_q_country(s, v), co->country))
            continue;
        if (o->metric == M_CONSTRAINT && deg[i] == 0)
            continue;               /* section 5: degree-0 vertices are left out */
        rank[nr].score = finish(o, scores[i], (igraph_integer_t) n);
        rank[nr].v = v;
        nr++;
    }
    if ((int64_t) nr > co->top) {
        select_top(rank, nr, (size_t) co->top);
        nr = (size_t) co->top;
    }
    qsort(rank, nr, sizeof *rank, cmp_scored);
    r->items = rank;
    r->n = nr;
    r->metric = o->metric;
    r->graph = co->graph;
    return 0;
}

int tn_centrality_encode(const tn_snap_t *s, const tn_centrality_result_t *r, tn_val_t *out) {
    tn_val_t items = TN_VAL_NIL;
    int bad = tn_q_result_begin(out, s);
    bad |= tn_map_add_str(out, "metric", metric_names[r->metric]);
    bad |= tn_map_add_str(out, "graph", graph_names[r->graph]);
    bad |= tn_val_set_arr(&items, r->n);
    for (size_t i = 0; i < r->n && !bad; i++) {
        tn_val_t it = TN_VAL_NIL;
        const tn_node_t *nd = s->nodes[r->items[i].v];
        bad |= tn_q_node_item(&it, nd, 3);
        bad |= tn_map_add_float(&it, "score", r->items[i].score);
        bad |= tn_arr_push_take(&items, &it);
    }
    bad |= tn_map_add_take(out, "items", &items);
    return bad ? -1 : 0;
}

void tn_centrality_result_free(tn_centrality_result_t *r) {
    free(r->items);
    r->items = NULL;
    r->n = 0;
}

typedef struct edge {
    int64_t a, b;
} edge_t;

static int cmp_edge(const void *x, const void *y) {
    const edge_t *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* Edges gathered for degree_plain, each as (lower, higher) vertex. */
typedef struct edge_list {
    edge_t *e;
    size_t n;
} edge_list_t;

static int add_edge(void *arg, int64_t a, int64_t b) {
    edge_list_t *l = arg;
    l->e[l->n++] = (edge_t){ a < b ? a : b, a < b ? b : a };
    return 0;
}

/* Degree without igraph: the same vertices and edges as the igraph graph
 * (qgraph.h), made simple (a repeated edge counts once, a loop not at
 * all). Touching no igraph state, it may run on any thread, so the service
 * answers degree queries (what dashboards ask for) on its plain-C worker,
 * never behind a long betweenness on the igraph thread. */
static tn_code_t degree_plain(const tn_snap_t *s, const tn_centrality_opts_t *co,
                              tn_centrality_result_t *r, tn_error_t *err) {
    const copts_t *o = &co->m;
    const tn_filter_t *f = &co->f;
    size_t k = s->nnodes ? s->nnodes : 1;
    int64_t *gv = malloc(k * sizeof *gv), *of = malloc(k * sizeof *of);
    int64_t *deg = calloc(k, sizeof *deg);
    double *score = malloc(k * sizeof *score);
    edge_t *e = malloc((s->npairs + s->nnodes + 1) * sizeof *e);
    tn_code_t rc = TN_OK;
    if (!gv || !of || !deg || !score || !e) {
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        goto done;
    }
    int64_t n = (int64_t) tn_q_graph_vertices(s, o->full, gv, of);
    size_t ne = 0;
    if (!o->full && tn_filter_is_all(f)) {
        /* Every pair counts and none repeats: the adjacency has the answer. */
        for (int64_t i = 0; i < n; i++)
            deg[i] = (int64_t) (s->adj_off[gv[i] + 1] - s->adj_off[gv[i]]);
    } else {
        edge_list_t el = { e, 0 };
        tn_q_graph_edges(s, o->full, f, of, add_edge, &el);
        ne = el.n;
    }
    /* Only the full graph can repeat an edge or hold a loop (qgraph.h). */
    if (o->full)
        qsort(e, ne, sizeof *e, cmp_edge);
    for (size_t i = 0; i < ne; i++) {
        if (e[i].a == e[i].b || (i > 0 && e[i].a == e[i - 1].a && e[i].b == e[i - 1].b))
            continue;
        deg[e[i].a]++;
        deg[e[i].b]++;
    }
    for (int64_t i = 0; i < n; i++)
        score[i] = (double) deg[i];
    if (rank_into(s, co, gv, n, score, deg, r) != 0)
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
done:
    free(gv);
    free(of);
    free(deg);
    free(score);
    free(e);
    return rc;
}

/* ---- scores memo ----
 * The expensive part of a query is the metric; "top", "kind", "country"
 * and "normalized" only shape the report. So the last few raw score
 * vectors are kept with the snapshot they were computed on, keyed by
 * metric options and pair filters: a planner who asks for the top 10,
 * then the top 50, then only cities, pays for one betweenness. The memo
 * lives and dies with its snapshot (snap->memo) and is touched only by
 * the igraph thread, the one thread that runs this query, or, when worker
 * processes compute, by the service under its lock (tn_centrality_memo_*). */

#define MEMO_SLOTS 4

typedef struct memo_slot {
    int used;
    copts_t o;
    tn_filter_t f;
    igraph_integer_t n;
    int64_t *gv;
    double *res;
    int64_t *deg;
} memo_slot_t;

typedef struct memo {
    memo_slot_t slot[MEMO_SLOTS];
    unsigned next;
    uint64_t computed;          /* metric computations on this snapshot */
} memo_t;

static void slot_clear(memo_slot_t *m) {
    free(m->gv);
    free(m->res);
    free(m->deg);
    memset(m, 0, sizeof *m);
}

static void memo_free(void *p) {
    memo_t *m = p;
    for (int i = 0; m != NULL && i < MEMO_SLOTS; i++)
        slot_clear(&m->slot[i]);
    free(m);
}

/* The snapshot's memo, made on first use (NULL on out-of-memory). */
static memo_t *memo_of(const tn_snap_t *cs) {
    tn_snap_t *s = (tn_snap_t *) cs;     /* the memo is the one mutable part */
    if (s->memo == NULL && (s->memo = calloc(1, sizeof(memo_t))) != NULL)
        s->memo_free = memo_free;
    return s->memo;
}

uint64_t tn_q_centrality_computed(const tn_snap_t *s) {
    const memo_t *m = s->memo;
    return m != NULL ? m->computed : 0;
}

static int slot_same(const memo_slot_t *m, const copts_t *o, const tn_filter_t *f) {
    return m->used && m->o.metric == o->metric && m->o.full == o->full
           && m->o.damping == o->damping && m->o.cutoff == o->cutoff
           && m->o.approx == o->approx && m->f.as_of == f->as_of
           && m->f.min_conf == f->min_conf && m->f.kinds == f->kinds;
}

/* Fill gv, res and deg from a matching entry: 1 if found. */
static int memo_find(memo_t *memo, const copts_t *o, const tn_filter_t *f, int64_t *gv,
                     igraph_integer_t *n, igraph_vector_t *res, igraph_vector_int_t *deg) {
    for (int i = 0; memo != NULL && i < MEMO_SLOTS; i++) {
        const memo_slot_t *m = &memo->slot[i];
        if (!slot_same(m, o, f))
            continue;
        if (igraph_vector_resize(res, m->n) != IGRAPH_SUCCESS
            || igraph_vector_int_resize(deg, m->n) != IGRAPH_SUCCESS)
            return 0;
        for (igraph_integer_t k = 0; k < m->n; k++) {
            gv[k] = m->gv[k];
            VECTOR(*res)[k] = m->res[k];
            VECTOR(*deg)[k] = m->deg[k];
        }
        *n = m->n;
        return 1;
    }
    return 0;
}

/* Keep a computed vector (best effort: out of memory just skips it). */
static void memo_keep(memo_t *memo, const copts_t *o, const tn_filter_t *f,
                      const int64_t *gv, igraph_integer_t n, const double *res,
                      const int64_t *deg) {
    if (memo == NULL)
        return;
    memo_slot_t *m = &memo->slot[memo->next++ % MEMO_SLOTS];
    slot_clear(m);
    size_t k = n > 0 ? (size_t) n : 1;
    m->gv = malloc(k * sizeof *m->gv);
    m->res = malloc(k * sizeof *m->res);
    m->deg = malloc(k * sizeof *m->deg);
    if (m->gv == NULL || m->res == NULL || m->deg == NULL) {
        slot_clear(m);
        return;
    }
    for (igraph_integer_t i = 0; i < n; i++) {
        m->gv[i] = gv[i];
        m->res[i] = res[i];
        m->deg[i] = deg[i];
    }
    m->n = n;
    m->o = *o;
    m->f = *f;
    m->used = 1;
}

/* ---- the memo across processes (centrality.h) ----
 * None of this calls igraph: the daemon's threads run it while worker
 * processes compute, under the service's own lock. */

/* Parse opts into co for a memo look-up; 0 when they do not parse (the
 * worker that computes will say why). */
static int memo_key(const tn_val_t *opts, tn_centrality_opts_t *co) {
    tn_error_t err = TN_ERROR_INIT;
    tn_code_t rc = tn_centrality_parse(opts, co, &err);
    tn_error_clear(&err);
    return rc == TN_OK && co->m.metric != M_DEGREE;
}

static const memo_slot_t *memo_slot(const tn_snap_t *s, const tn_centrality_opts_t *co) {
    const memo_t *memo = s->memo;
    for (int i = 0; memo != NULL && i < MEMO_SLOTS; i++)
        if (slot_same(&memo->slot[i], &co->m, &co->f))
            return &memo->slot[i];
    return NULL;
}

int tn_centrality_memo_answer(const tn_snap_t *s, const tn_val_t *opts, tn_val_t *out) {
    tn_centrality_opts_t co;
    tn_centrality_result_t r = { 0 };
    *out = TN_VAL_NIL;
    if (!s->built || !memo_key(opts, &co))
        return 0;
    const memo_slot_t *m = memo_slot(s, &co);
    if (m == NULL)
        return 0;
    int rc = rank_into(s, &co, m->gv, (int64_t) m->n, m->res, m->deg, &r) != 0
             || tn_centrality_encode(s, &r, out) != 0 ? -1 : 1;
    tn_centrality_result_free(&r);
    if (rc < 0)
        tn_val_free(out);
    return rc;
}

int tn_centrality_memo_export(const tn_snap_t *s, const tn_val_t *opts, tn_cmemo_t *e) {
    tn_centrality_opts_t co;
    if (!memo_key(opts, &co))
        return 0;
    const memo_slot_t *m = memo_slot(s, &co);
    if (m == NULL)
        return 0;
    *e = (tn_cmemo_t){ (int64_t) m->n, m->gv, m->res, m->deg };
    return 1;
}

int tn_centrality_memo_import(const tn_snap_t *s, const tn_val_t *opts, const tn_cmemo_t *e) {
    tn_centrality_opts_t co;
    if (!memo_key(opts, &co))
        return 0;
    for (int64_t i = 0; i < e->n; i++)
        if (e->gv[i] < 0 || (size_t) e->gv[i] >= s->nnodes)
            return -1;              /* not this snapshot's vertices */
    memo_t *memo = memo_of(s);
    if (memo == NULL)
        return -1;
    memo->computed++;
    memo_keep(memo, &co.m, &co.f, e->gv, (igraph_integer_t) e->n, e->res, e->deg);
    return 1;
}

/* Degree is computed in plain C (no igraph state at all), so the
 * dashboards' favourite never waits behind a planner's betweenness. */
int tn_q_centrality_needs_igraph(const tn_val_t *opts) {
    const char *metric = tn_val_str(tn_map_get(opts, "metric"));
    return metric == NULL || strcmp(metric, metric_names[M_DEGREE]) != 0;
}

/* ---- query.centrality (options in the table of query.c) ---- */

tn_code_t tn_centrality_parse(const tn_val_t *opts, tn_centrality_opts_t *co, tn_error_t *err) {
    copts_t *o = &co->m;
    tn_code_t rc;
    *o = (copts_t){ M_DEGREE, 0, 0, 0.85, -1.0, 0 };
    co->graph = 0;
    co->kind = -1;
    co->country = NULL;
    co->top = 20;
    if ((rc = tn_opt_enum(opts, "metric", 1, metric_names, &o->metric, err)) != TN_OK
        || (rc = tn_opt_enum(opts, "graph", 0, graph_names, &co->graph, err)) != TN_OK
        || (rc = tn_opt_enum(opts, "kind", 0, node_kinds, &co->kind, err)) != TN_OK
        || (rc = tn_opt_str(opts, "country", 0, &co->country, err)) != TN_OK
        || (rc = tn_opt_int(opts, "top", 0, 1, 100000, &co->top, err)) != TN_OK
        || (rc = tn_opt_bool(opts, "normalized", 0, &o->normalized, err)) != TN_OK
        || (rc = tn_opt_num(opts, "damping", 0, 0.0, 1.0, &o->damping, err)) != TN_OK
        || (rc = tn_opt_num(opts, "cutoff", 0, 0.0, 1e9, &o->cutoff, err)) != TN_OK
        || (rc = tn_opt_int(opts, "approx", 0, 1, 100000000, &o->approx, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 0, &co->f, err)) != TN_OK
        || (rc = tn_q_slow_opts(opts, err)) != TN_OK)
        return rc;
    o->full = co->graph == 1;
    /* damping 1 leaves PageRank without a unique solution. */
    if (o->damping >= 1.0)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option 'damping' must be below 1");
    if (tn_map_get(opts, "damping") && tn_map_get(opts, "damping")->type != TN_V_NIL
        && o->metric != M_PAGERANK)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "option 'damping' applies only to pagerank");
    if (o->cutoff >= 0 && o->metric != M_BETWEENNESS && o->metric != M_CLOSENESS
        && o->metric != M_HARMONIC)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                            "option 'cutoff' applies only to betweenness, closeness and harmonic");
    if (o->approx > 0 && (o->metric != M_BETWEENNESS || o->cutoff >= 0))
        return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                            "option 'approx' applies only to betweenness without 'cutoff'");
    return TN_OK;
}

tn_code_t tn_centrality_compute(const tn_snap_t *s, const tn_centrality_opts_t *co,
                                const tn_qctx_t *ctx, tn_centrality_result_t *r, tn_error_t *err) {
    const copts_t o = co->m;
    const tn_filter_t f = co->f;
    tn_code_t rc;
    if (tn_query_should_stop(ctx))
        return tn_query_stopped(ctx, err);
    if (o.metric == M_DEGREE)
        return degree_plain(s, co, r, err);

    size_t k = s->nnodes ? s->nnodes : 1;
    int64_t *gv = malloc(k * sizeof *gv), *of = malloc(k * sizeof *of);
    igraph_vector_int_t edges, deg;
    igraph_vector_t res;
    igraph_integer_t n = 0;
    int have_edges = 0, have_deg = 0, have_res = 0;
    rc = TN_OK;

    /* igraph's handlers see ctx through tn_query_run's bracket. */
    if (gv == NULL || of == NULL)
        goto oom;
    if (igraph_vector_int_init(&edges, 0) != IGRAPH_SUCCESS)
        goto oom;
    have_edges = 1;
    if (igraph_vector_int_init(&deg, 0) != IGRAPH_SUCCESS)
        goto oom;
    have_deg = 1;
    if (igraph_vector_init(&res, 0) != IGRAPH_SUCCESS)
        goto oom;
    have_res = 1;
    memo_t *memo = memo_of(s);
    if (!memo_find(memo, &o, &f, gv, &n, &res, &deg)) {
        size_t nv;
        if (tn_q_igraph_edges(s, o.full, &f, gv, of, &nv, &edges) != 0)
            goto oom;
        n = (igraph_integer_t) nv;
        /* Our own check of every vertex id before igraph sees it. */
        for (igraph_integer_t i = 0; i < igraph_vector_int_size(&edges); i++) {
            if (VECTOR(edges)[i] < 0 || VECTOR(edges)[i] >= n) {
                rc = tn_error_set(err, TN_ERR_INTERNAL, "bad vertex id in the edge list");
                goto done;
            }
        }
        if (n > 0) {
            igraph_error_t ie = compute(n, &edges, &o, &res, &deg);
            if (ie != IGRAPH_SUCCESS) {
                rc = tn_igraph_fail(ie, err);
                goto done;
            }
        }
        if (memo != NULL)
            memo->computed++;
        memo_keep(memo, &o, &f, gv, n, VECTOR(res), VECTOR(deg));
    }

    if (rank_into(s, co, gv, (int64_t) n, VECTOR(res), VECTOR(deg), r) != 0)
        goto oom;
    goto done;
oom:
    rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
done:
    if (have_res)
        igraph_vector_destroy(&res);
    if (have_deg)
        igraph_vector_int_destroy(&deg);
    if (have_edges)
        igraph_vector_int_destroy(&edges);
    free(gv);
    free(of);
    return rc;
}

/* ---- the scores alone, for a resident worker process (centrality.h) ---- */

int tn_centrality_whole(const tn_cmetric_t *m) {
    int split = m->cutoff < 0 && m->approx == 0
                && (m->metric == M_BETWEENNESS || m->metric == M_CLOSENESS
                    || m->metric == M_HARMONIC);
    return m->metric != M_DEGREE && !split;
}

int64_t tn_centrality_graph(const tn_snap_t *s, const tn_centrality_opts_t *co, int64_t *gv,
                            int64_t **edges, size_t *ne) {
    size_t k = s->nnodes ? s->nnodes : 1;
    int64_t *of = malloc(k * sizeof *of);
    size_t most = s->npairs + (co->m.full ? s->nnodes : 0);
    edge_t *e = malloc((most ? most : 1) * sizeof *e);
    *edges = NULL;
    *ne = 0;
    if (of == NULL || e == NULL) {
        free(of);
        free(e);
        return -1;
    }
    int64_t n = (int64_t) tn_q_graph_vertices(s, co->m.full, gv, of);
    edge_list_t el = { e, 0 };
    tn_q_graph_edges(s, co->m.full, &co->f, of, add_edge, &el);
    free(of);
    *edges = (int64_t *) (void *) e;    /* edge_t is two int64_t: a flat list of ends */
    *ne = el.n;
    return n;
}

tn_code_t tn_centrality_scores(int64_t n, const int64_t *edges, size_t ne, const tn_cmetric_t *m,
                               const tn_qctx_t *ctx, double *res, int64_t *deg, tn_error_t *err) {
    _Static_assert(sizeof(igraph_integer_t) == sizeof(int64_t), "igraph_integer_t is 64-bit");
    for (size_t i = 0; i < 2 * ne; i++)
        if (edges[i] < 0 || edges[i] >= n)
            return tn_error_set(err, TN_ERR_INTERNAL, "bad vertex id in the edge list");
    if (n == 0)
        return TN_OK;
    igraph_vector_int_t ev, dv;
    igraph_vector_t rv;
    memset(&ev, 0, sizeof ev);      /* filled by the view; said for the compiler */
    igraph_vector_int_view(&ev, (const igraph_integer_t *) edges, (igraph_integer_t) (2 * ne));
    if (igraph_vector_int_init(&dv, 0) != IGRAPH_SUCCESS)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    if (igraph_vector_init(&rv, 0) != IGRAPH_SUCCESS) {
        igraph_vector_int_destroy(&dv);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    tn_igraph_begin(ctx);
    igraph_error_t ie = compute((igraph_integer_t) n, &ev, m, &rv, &dv);
    tn_igraph_end();
    tn_code_t rc = TN_OK;
    if (ie != IGRAPH_SUCCESS) {
        rc = tn_igraph_fail(ie, err);
    } else {
        memcpy(res, VECTOR(rv), (size_t) n * sizeof *res);
        memcpy(deg, VECTOR(dv), (size_t) n * sizeof *deg);
    }
    igraph_vector_destroy(&rv);
    igraph_vector_int_destroy(&dv);
    return rc;
}

TN_Q_PARTS(tn_centrality);
