/*
 * split.c -- path-based centrality in parts over source vertices (split.h).
 *
 * Each part is an ordinary igraph call restricted to its vertices, so the
 * arithmetic inside igraph is the same as for the whole graph; only the
 * final sum over parts may round differently (betweenness adds up to
 * nshards partial sums per vertex).
 */
#include "split.h"

static tn_split_fn *splitter;

void tn_split_set(tn_split_fn *fn) {
    splitter = fn;
}

igraph_error_t tn_split_run(const igraph_t *g, tn_split_metric_t m, igraph_vector_t *res,
                            int *done) {
    *done = 0;
    if (splitter == NULL)
        return IGRAPH_SUCCESS;
    return splitter(g, m, res, done);
}

igraph_error_t tn_split_part(const igraph_t *g, tn_split_metric_t m, int shard, int nshards,
                             igraph_vector_t *part) {
    igraph_integer_t n = igraph_vcount(g);
    igraph_vector_int_t mine;
    igraph_vector_t sub;

    IGRAPH_VECTOR_INT_INIT_FINALLY(&mine, 0);
    for (igraph_integer_t v = shard; v < n; v += nshards)
        IGRAPH_CHECK(igraph_vector_int_push_back(&mine, v));
    IGRAPH_CHECK(igraph_vector_resize(part, n));
    igraph_vector_null(part);
    if (m == TN_SPLIT_BETWEENNESS) {
        IGRAPH_CHECK(igraph_betweenness_subset(g, part, igraph_vss_all(), false,
                                               igraph_vss_vector(&mine), igraph_vss_all(), NULL));
    } else {
        IGRAPH_VECTOR_INIT_FINALLY(&sub, 0);
        if (m == TN_SPLIT_CLOSENESS)
            IGRAPH_CHECK(igraph_closeness(g, &sub, NULL, NULL, igraph_vss_vector(&mine),
                                          IGRAPH_ALL, NULL, true));
        else
            IGRAPH_CHECK(igraph_harmonic_centrality(g, &sub, igraph_vss_vector(&mine), IGRAPH_ALL,
                                                    NULL, false));
        for (igraph_integer_t i = 0; i < igraph_vector_int_size(&mine); i++)
            VECTOR(*part)[VECTOR(mine)[i]] = VECTOR(sub)[i];
        igraph_vector_destroy(&sub);
        IGRAPH_FINALLY_CLEAN(1);
    }
    igraph_vector_int_destroy(&mine);
    IGRAPH_FINALLY_CLEAN(1);
    return IGRAPH_SUCCESS;
}
