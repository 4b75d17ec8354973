/*
 * recommend.h -- the partner score shared by query.recommend and query.plan
 * (docs/recommend.md has the formula, the reason for every feature and the
 * measurement that chose the weights).
 *
 * For a unit u of country X and a candidate c of country Y != X, over the
 * partnerships graph under the pair filters:
 *
 *   base(c)  = RA(u,c) + W_L3 * L3(u,c) + W_PRIOR * prior(c)
 *   score(c) = base(c) * (1 + W_GAP * gap(c)) * (1 + W_BRI * bri(c))
 *
 *   RA     resource allocation: sum over shared partners w of 1/deg(w)
 *   L3     paths u-w1-w2-c: sum of 1/sqrt(deg(w1) deg(w2))
 *   prior  aff(Y) * share(c): aff(Y) = (pairs X-Y + 0.1) / (pairs X-abroad
 *          + 0.1 * countries), the chance that a new partner of a unit of X
 *          lies in Y; share(c) = sh(c) / sum of sh over Y's nodes, with
 *          sh(c) = peers(c) + 0.1 deg(c) + 0.01 and peers(c) the partners c
 *          already has in X
 *   gap    1 when Y has no pair of the unit's home (the configured home for
 *          its units, else the top of the unit's parent chain)
 *   bri    1 when X is China and Y carries the "bri" tag
 *
 * A pure computation over a built snapshot: no igraph, no randomness; ties
 * are broken by vertex (= id) order.
 */
#ifndef TN_RECOMMEND_H
#define TN_RECOMMEND_H

#include <stddef.h>
#include <stdint.h>

#include "query_internal.h"

#define TN_REC_W_L3    0.5
#define TN_REC_W_PRIOR 10.0
#define TN_REC_W_GAP   0.25
#define TN_REC_W_BRI   0.10
#define TN_REC_EVIDENCE 3          /* names kept per kind of evidence */

/* Which candidates a unit may get (besides the fixed rules: a province or
 * city of another country, not the unit, not paired with the unit, its
 * ancestors or its descendants). */
typedef struct tn_rec_filter {
    const char *country;           /* ISO2, case-insensitive; NULL = any */
    const char *region;            /* the country's UN region; NULL = any */
    const char *tag;               /* the country carries this tag; NULL = any */
    int kind;                      /* -1 any, else TN_NODE_PROVINCE or TN_NODE_CITY */
    int exclude_home;              /* leave out partners of the home's other units */
} tn_rec_filter_t;

/* One scored candidate and the evidence its reasons name. */
typedef struct tn_rec_item {
    int64_t v;                     /* candidate vertex */
    double score, ra, l3, prior, aff;
    int64_t shared;                /* common partners with the unit */
    int64_t peers;                 /* partners of c in the unit's country */
    int64_t country_pairs;         /* pairs between the unit's country and c's */
    int64_t abroad;                /* pairs between the unit's country and any other */
    int64_t home_pairs;            /* the home's pairs into c's country */
    int64_t paths3;                /* three-step paths u-w1-w2-c */
    unsigned char gap, bri;
    int64_t shared_v[TN_REC_EVIDENCE];   /* -1 terminated when fewer */
    int64_t peer_v[TN_REC_EVIDENCE];
    int64_t via[2];                /* one three-step path: u-via[0]-via[1]-c, or -1 */
} tn_rec_item_t;

/* What a scorer needs about the snapshot, built once per call. */
typedef struct tn_rec_world {
    const tn_snap_t *s;
    tn_filter_t f;
    int64_t *deg;                  /* per vertex: pairs under the filter */
    size_t ncountries;             /* country nodes */
} tn_rec_world_t;

/* Per-unit state: the unit, its home and coverage, and the score of every
 * vertex (scratch, reused across units by query.plan). */
typedef struct tn_rec_unit {
    int64_t u;
    const char *xcode;             /* the unit's country code */
    tn_q_home_t home;
    tn_q_cover_t cov;
    int64_t *rowa;                 /* per country vertex: pairs with X */
    int64_t rowa_total;
    int64_t *peers;                /* per vertex: partners in X */
    double *norm;                  /* per country vertex: sum of sh */
    double *ra, *l3;
    int64_t *cn, *p3;
    unsigned char *excl;           /* per vertex: never a candidate */
    unsigned char *nbr;            /* per vertex: a partner of the unit */
    tn_arena_t arena;              /* owns the per-vertex arrays */
} tn_rec_unit_t;

tn_code_t tn_rec_world_init(const tn_snap_t *s, const tn_filter_t *f, tn_rec_world_t *w,
                            tn_error_t *err);
void tn_rec_world_destroy(tn_rec_world_t *w);

/* Score every vertex for unit 'u' (a province or city). 'home' NULL: the
 * configured home when u is one of its units, else the top of u's parent
 * chain. TN_OK, internal (OOM) or a stop code. Release with
 * tn_rec_unit_destroy. */
tn_code_t tn_rec_unit_init(const tn_rec_world_t *w, int64_t u, const char *home,
                           const tn_rec_filter_t *rf, const tn_qctx_t *ctx,
                           tn_rec_unit_t *ru, tn_error_t *err);
void tn_rec_unit_destroy(tn_rec_unit_t *ru);

/* Is vertex c a candidate under rf (after tn_rec_unit_init)? */
int tn_rec_is_candidate(const tn_rec_world_t *w, const tn_rec_unit_t *ru,
                        const tn_rec_filter_t *rf, int64_t c);

/* The score of candidate c, with its evidence counts (not the names). */
void tn_rec_score(const tn_rec_world_t *w, const tn_rec_unit_t *ru, int64_t c,
                  tn_rec_item_t *it);

/* Fill the names of it->v's evidence (shared partners, peers, a path). */
void tn_rec_evidence(const tn_rec_world_t *w, const tn_rec_unit_t *ru, tn_rec_item_t *it);

/* Order: score descending, then vertex ascending. */
int tn_rec_cmp(const void *a, const void *b);

/* Append the plain-words reasons of 'it' for unit u to array 'arr'; 'home'
 * names the home whose coverage "gap" refers to. -1 on OOM. */
int tn_rec_reasons(const tn_snap_t *s, int64_t u, int64_t home, const tn_rec_item_t *it,
                   tn_val_t *arr);

/* ---- query.recommend in the three parts every read query has ---- */
typedef struct tn_recommend_opts {
    const char *unit;
    int64_t top;
    tn_rec_filter_t rf;
    int exclude_home_set;          /* exclude_home given explicitly */
    tn_filter_t f;
} tn_recommend_opts_t;

typedef struct tn_recommend_result {
    int64_t unit, home;            /* vertices; home -1 when none */
    size_t n;
    tn_rec_item_t *items;
} tn_recommend_result_t;

TN_Q_DECLARE(tn_recommend);

#endif
