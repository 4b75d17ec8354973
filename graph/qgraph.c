/*
 * qgraph.c -- the partnerships and full graphs (qgraph.h).
 */
#include "qgraph.h"

#include "query_internal.h"

size_t tn_q_graph_vertices(const tn_snap_t *s, int full, int64_t *gv, int64_t *of) {
    size_t k = 0;
    for (size_t v = 0; v < s->nnodes; v++) {
        of[v] = -1;
        /* A country node is its own country (snap.h): no record read. */
        if (full || s->country_of[v] != (int64_t) v) {
            of[v] = (int64_t) k;
            gv[k++] = (int64_t) v;
        }
    }
    return k;
}

int tn_q_graph_edges(const tn_snap_t *s, int full, const tn_filter_t *f, const int64_t *of,
                     tn_q_edge_fn *edge, void *arg) {
    int rc;
    /* With no filter the records are not read at all: after a change that
     * is what a cold query costs most (one cache miss per pair). */
    int all = tn_filter_is_all(f);
    for (size_t p = 0; p < s->npairs; p++) {
        int64_t a = of[s->pa[p]], b = of[s->pb[p]];
        if ((!all && !tn_filter_keep(f, s->pairs[p])) || a < 0 || b < 0)
            continue;               /* a pair never ends at a country; be safe */
        if ((rc = edge(arg, a, b)) != 0)
            return rc;
    }
    for (size_t v = 0; full && v < s->nnodes; v++) {
        int64_t to = tn_q_full_edge(s, v);
        if (to >= 0 && (rc = edge(arg, of[v], of[to])) != 0)
            return rc;
    }
    return 0;
}

/* Room for every edge is reserved first: no growth step per edge. */
static int push_edge(void *arg, int64_t a, int64_t b) {
    igraph_vector_int_t *edges = arg;
    igraph_vector_int_push_back(edges, a);
    igraph_vector_int_push_back(edges, b);
    return 0;
}

int tn_q_igraph_edges(const tn_snap_t *s, int full, const tn_filter_t *f, int64_t *gv,
                      int64_t *of, size_t *n, igraph_vector_int_t *edges) {
    *n = tn_q_graph_vertices(s, full, gv, of);
    size_t most = s->npairs + (full ? s->nnodes : 0);
    if (igraph_vector_int_reserve(edges, igraph_vector_int_size(edges) + 2 * (igraph_integer_t) most)
        != IGRAPH_SUCCESS)
        return -1;
    return tn_q_graph_edges(s, full, f, of, push_edge, edges);
}

igraph_error_t tn_q_igraph_simple(igraph_t *g, igraph_integer_t n, int full,
                                  const igraph_vector_int_t *edges, igraph_vector_int_t *deg) {
    IGRAPH_CHECK(igraph_create(g, edges, n, IGRAPH_UNDIRECTED));
    IGRAPH_FINALLY(igraph_destroy, g);
    /* The partnerships graph is simple already: one pair per unordered
     * pair of distinct nodes (the model's invariant, checked again by every
     * snapshot build). igraph_simplify rebuilds the whole graph, as costly
     * as creating it, so only the full graph pays for it. */
    if (full)
        IGRAPH_CHECK(igraph_simplify(g, true, true, NULL));
    IGRAPH_CHECK(igraph_degree(g, deg, igraph_vss_all(), IGRAPH_ALL, IGRAPH_NO_LOOPS));
    IGRAPH_FINALLY_CLEAN(1);
    return IGRAPH_SUCCESS;
}
