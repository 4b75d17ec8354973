/*
 * qgraph.h -- the two graphs the graph queries build from a snapshot, in
 * one place: "partnerships" (every node but countries, an edge per pair)
 * and "full" (every node, plus each node's structural edge,
 * tn_q_full_edge). query.centrality (with igraph, and its plain-C degree)
 * and query.communities build them here, so they always agree.
 *
 * Graph vertices are numbered in snapshot (id) order. The igraph helpers
 * are for the igraph thread only (igraph_bridge.h).
 */
#ifndef TN_QGRAPH_H
#define TN_QGRAPH_H

#include <igraph.h>
#include <stddef.h>
#include <stdint.h>

#include "snap.h"

/* The vertices of the graph ('full' or partnerships): gv[k] receives the
 * snapshot vertex of graph vertex k, of[v] the graph vertex of snapshot
 * vertex v, or -1 when v is not in the graph (both nnodes long). Returns
 * the vertex count. */
size_t tn_q_graph_vertices(const tn_snap_t *s, int full, int64_t *gv, int64_t *of);

/* Called with each edge as two graph vertices; non-zero stops the visit. */
typedef int tn_q_edge_fn(void *arg, int64_t a, int64_t b);

/* Visit the edges of the graph over vertices 'of' (tn_q_graph_vertices):
 * the pairs kept by 'f', then with 'full' the structural edges. Returns
 * the first non-zero answer of 'edge', or 0. */
int tn_q_graph_edges(const tn_snap_t *s, int full, const tn_filter_t *f, const int64_t *of,
                     tn_q_edge_fn *edge, void *arg);

/* Both, for igraph: gv, of and *n as tn_q_graph_vertices, and the edges
 * appended to 'edges' as vertex pairs. -1 on out-of-memory. */
int tn_q_igraph_edges(const tn_snap_t *s, int full, const tn_filter_t *f, int64_t *gv,
                      int64_t *of, size_t *n, igraph_vector_int_t *edges);

/* Create the simple undirected graph *g of n vertices and 'edges' (for
 * the 'full' graph a repeated edge is kept once and loops are dropped: a
 * city paired with its own parent would otherwise give a double edge;
 * the partnerships graph has neither) and its degrees into 'deg'
 * (initialized by the caller). igraph style: on error nothing is left to
 * destroy. */
igraph_error_t tn_q_igraph_simple(igraph_t *g, igraph_integer_t n, int full,
                                  const igraph_vector_int_t *edges, igraph_vector_int_t *deg);

#endif
