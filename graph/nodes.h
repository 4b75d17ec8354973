/*
 * nodes.h -- the record queries (nodes.c) as parse -> compute -> encode:
 * node.get, node.find, node.list, node.neighbors and pair.list. Results
 * hold vertex and pair indices into the snapshot they were computed on;
 * encode turns them into the wire maps.
 */
#ifndef TN_NODES_H
#define TN_NODES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "query.h"
#include "snap.h"
#include "value.h"

/* A list of vertex or pair indices, in answer order. */
typedef struct tn_q_idx {
    int64_t *i;
    size_t n;
    int64_t total;              /* matches before paging (node.list, pair.list) */
} tn_q_idx_t;
void tn_q_idx_free(tn_q_idx_t *r);

/* node.get */
typedef struct { const char *id; } tn_node_get_opts_t;
typedef struct { int64_t v; } tn_node_get_result_t;
TN_Q_DECLARE(tn_node_get);

/* node.find */
typedef struct { const char *q, *country; int kind; int64_t limit; } tn_node_find_opts_t;
typedef tn_q_idx_t tn_node_find_result_t;           /* vertices */
TN_Q_DECLARE(tn_node_find);

/* node.list */
typedef struct { const char *country; int kind; int64_t limit, offset; } tn_node_list_opts_t;
typedef tn_q_idx_t tn_node_list_result_t;           /* vertices of the page, total */
TN_Q_DECLARE(tn_node_list);

/* node.neighbors: pairs of the node, by the other end's id. */
typedef struct { const char *id; int kind; } tn_node_neighbors_opts_t;
typedef struct { int64_t v; tn_q_idx_t pairs; } tn_node_neighbors_result_t;
TN_Q_DECLARE(tn_node_neighbors);

/* pair.list */
typedef struct {
    const char *unit, *country, *region;
    int64_t since_from, since_to, limit, offset;
    tn_filter_t f;
} tn_pair_list_opts_t;
typedef tn_q_idx_t tn_pair_list_result_t;           /* pairs of the page, total */
TN_Q_DECLARE(tn_pair_list);

#endif
