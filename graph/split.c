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

/* splitmix64: small, seedable, and the same on every platform. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

igraph_error_t tn_split_sampled_betweenness(const igraph_t *g, igraph_integer_t k, uint64_t seed,
                                            igraph_vector_t *res) {
    igraph_integer_t n = igraph_vcount(g);
    igraph_vector_int_t all;
    if (k >= n)
        return igraph_betweenness(g, res, igraph_vss_all(), false, NULL);
    /* The first k places of a partial Fisher-Yates shuffle. */
    IGRAPH_CHECK(igraph_vector_int_init_range(&all, 0, n));
    IGRAPH_FINALLY(igraph_vector_int_destroy, &all);
    uint64_t state = seed;
    for (igraph_integer_t i = 0; i < k; i++) {
        igraph_integer_t j = i + (igraph_integer_t) (next_random(&state) % (uint64_t) (n - i));
        igraph_integer_t t = VECTOR(all)[i];
        VECTOR(all)[i] = VECTOR(all)[j];
        VECTOR(all)[j] = t;
    }
    IGRAPH_CHECK(igraph_vector_int_resize(&all, k));
    IGRAPH_CHECK(igraph_betweenness_subset(g, res, igraph_vss_all(), false, igraph_vss_vector(&all),
                                           igraph_vss_all(), NULL));
    igraph_vector_scale(res, (double) n / (double) k);
    igraph_vector_int_destroy(&all);
    IGRAPH_FINALLY_CLEAN(1);
    return IGRAPH_SUCCESS;
}
