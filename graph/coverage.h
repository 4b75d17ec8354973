/*
 * coverage.h -- query.coverage (coverage.c) as parse -> compute -> encode,
 * and the group tables query.gaps and metrics.get reuse.
 */
#ifndef TN_COVERAGE_H
#define TN_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

#include "query_internal.h"

/* One group's figures (region, sub-region or tag). */
typedef struct tn_q_group {
    const char *group;          /* borrowed from the snapshot (or the tag option) */
    int64_t countries, covered, pairs, units;
    double ratio;               /* covered / countries (0 when no countries) */
} tn_q_group_t;

/* The groups of tn_q_cover_groups, computed (an array of arena 'a', *n
 * entries, by group name). -1 on out-of-memory. */
int tn_q_cover_groups_compute(const tn_snap_t *s, const tn_q_home_t *h, const tn_filter_t *f,
                              const tn_q_cover_t *c, tn_q_by_t by, const char *tag,
                              const unsigned char *keep, tn_arena_t *a, tn_q_group_t **out,
                              size_t *n);
/* Append one {"group","countries","covered","ratio","pairs","units"} map
 * per group to array 'items'. -1 on out-of-memory. */
int tn_q_groups_encode(const tn_q_group_t *g, size_t n, tn_val_t *items);

typedef struct {
    const char *home, *tag;
    int by;                     /* TN_Q_COV_* */
    tn_filter_t f;
} tn_coverage_opts_t;

typedef struct {
    tn_q_home_t h;
    tn_q_cover_t c;
    int by;
    tn_q_group_t *groups;       /* by region, subregion or tag */
    size_t ngroups;
    int64_t *ranked;            /* by country or unit: vertices, ranked */
    size_t nranked;
    tn_arena_t arena;           /* owns groups and ranked */
} tn_coverage_result_t;

TN_Q_DECLARE(tn_coverage);

#endif
