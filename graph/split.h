/*
 * split.h -- path-based centrality (betweenness, closeness, harmonic)
 * computed in parts over disjoint sets of source vertices, so that several
 * processes can each take a part and the parts add up to the whole.
 *
 * Part 'shard' of 'nshards' takes the vertices v with v % nshards == shard
 * (an interleaved split: hubs and leaves spread evenly):
 *  - betweenness: the dependencies of paths starting at those sources on
 *    every vertex (igraph_betweenness_subset, all targets), a vector of n;
 *  - closeness, harmonic: the scores of those vertices (the rest 0).
 * Summing the parts of shards 0..nshards-1 gives igraph_betweenness /
 * igraph_closeness (normalized) / igraph_harmonic_centrality (not
 * normalized) of the whole graph, up to floating-point summation order.
 *
 * A service that can run igraph in several processes installs a splitter
 * (tn_split_set); graph/centrality.c offers it each exact path-based
 * metric. Without one, or when it declines, the metric runs here whole.
 */
#ifndef TN_SPLIT_H
#define TN_SPLIT_H

#include <igraph.h>
#include <stdint.h>

typedef enum tn_split_metric {
    TN_SPLIT_BETWEENNESS = 0, TN_SPLIT_CLOSENESS, TN_SPLIT_HARMONIC
} tn_split_metric_t;

/* One part into 'part' (initialized by the caller; resized to n). */
igraph_error_t tn_split_part(const igraph_t *g, tn_split_metric_t m, int shard, int nshards,
                             igraph_vector_t *part);

/* Approximate betweenness from k source vertices drawn without
 * replacement by a PRNG seeded with 'seed' (the same k and seed give the
 * same sources on the same graph): the dependencies of their paths on
 * every vertex, scaled by n/k, an unbiased estimate of the exact value.
 * k >= n computes it exactly. */
igraph_error_t tn_split_sampled_betweenness(const igraph_t *g, igraph_integer_t k, uint64_t seed,
                                            igraph_vector_t *res);

/* Fill 'res' with the whole metric (the sum of every part) and set *done,
 * or leave *done 0 to have the caller compute it. igraph error codes. */
typedef igraph_error_t tn_split_fn(const igraph_t *g, tn_split_metric_t m, igraph_vector_t *res,
                                   int *done);

/* Install (NULL: remove) the process-wide splitter. */
void tn_split_set(tn_split_fn *fn);

/* Run the splitter if there is one: *done says whether it did. */
igraph_error_t tn_split_run(const igraph_t *g, tn_split_metric_t m, igraph_vector_t *res,
                            int *done);

#endif
