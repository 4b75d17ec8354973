/*
 * gaps.h -- query.gaps (gaps.c) as parse -> compute -> encode.
 */
#ifndef TN_GAPS_H
#define TN_GAPS_H

#include <stddef.h>
#include <stdint.h>

#include "coverage.h"

typedef struct {
    const char *home, *region, *subregion, *tag;
    int64_t limit;
    tn_filter_t f;
} tn_gaps_opts_t;

typedef struct {
    tn_q_home_t h;
    tn_q_cover_t c;
    tn_q_counted_t *uncovered;  /* uncovered countries (v) and the pairs other divisions
                                   of the home's country already have there (count),
                                   best first, at most limit */
    size_t nuncovered;
    int64_t *idle;              /* idle units, id order, at most limit */
    size_t nidle;
    tn_q_group_t *under;        /* regions below 'overall', lowest ratio first */
    size_t nunder;
    double overall;             /* the home's ratio over all candidates */
    tn_arena_t arena;           /* owns uncovered, idle and under */
} tn_gaps_result_t;

TN_Q_DECLARE(tn_gaps);

#endif
