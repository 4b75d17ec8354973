/*
 * overlap.c -- query.overlap: where two to eight homes (provinces or
 * cities) compete and what each has alone.
 *
 * Each home's pairs are its unit's pairs (planning.h). A home reaches a
 * partner node (the foreign end of one of its pairs) and that partner's
 * country. Per vertex we keep a bit mask of the homes reaching it, so one
 * pass over the pairs per home and one pass over the vertices give
 * everything; vertices are in id order, so every list comes out sorted by
 * id without a sort. Homes are reported in id order too (the request's
 * order does not matter), and the homes inside a shared entry likewise.
 *
 * Decisions: a home nested in another (Changsha and Hunan) is allowed and
 * simply shares its pairs with it; the same home twice is invalid_params;
 * jaccard is over covered countries, 0 when neither home covers any.
 */
#include "planning.h"
#include "query_internal.h"

#include <stdlib.h>
#include <string.h>

tn_code_t tn_overlap_parse(const tn_val_t *opts, tn_overlap_opts_t *o, tn_error_t *err) {
    tn_code_t rc;
    memset(o, 0, sizeof *o);
    if ((rc = tn_opts_validate(opts, tn_query_find("query.overlap")->opts, err)) != TN_OK)
        return rc;
    const tn_val_t *h = tn_map_get(opts, "homes");
    if (h == NULL || h->type != TN_V_ARR)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "homes: an array of %d to %d node ids is required",
                            TN_OVERLAP_MIN, TN_OVERLAP_MAX);
    if (h->u.a.n < TN_OVERLAP_MIN || h->u.a.n > TN_OVERLAP_MAX)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "homes: %zu given; %d to %d are allowed",
                            h->u.a.n, TN_OVERLAP_MIN, TN_OVERLAP_MAX);
    for (size_t i = 0; i < h->u.a.n; i++) {
        const char *id = tn_val_str(&h->u.a.items[i]);
        if (id == NULL)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS, "homes[%zu]: must be a string", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->homes[j], id) == 0)
                return tn_error_set(err, TN_ERR_INVALID_PARAMS, "homes[%zu]: '%s' is given twice",
                                    i, TN_CLIP(id, 128));
        o->homes[o->nhomes++] = id;
    }
    if ((rc = tn_opt_filter(opts, 1, &o->f, err)) != TN_OK)
        return rc;
    return tn_q_slow_opts(opts, err);
}

static int cmp_str(const void *x, const void *y) {
    return strcmp(*(const char *const *) x, *(const char *const *) y);
}

static int popcount(unsigned m) {
    int k = 0;
    for (; m; m &= m - 1)
        k++;
    return k;
}

/* The vertices whose mask has exactly bit i (only) or two bits or more
 * (shared), as borrowed ids. -1 on OOM. */
static int collect(const tn_snap_t *s, const unsigned *mask, size_t nh, tn_overlap_result_t *r,
                   int countries) {
    size_t nshared = 0, nonly[TN_OVERLAP_MAX] = { 0 };
    for (size_t v = 0; v < s->nnodes; v++) {
        if (popcount(mask[v]) >= 2)
            nshared++;
        for (size_t i = 0; i < nh; i++)
            nonly[i] += mask[v] == 1u << i;
    }
    tn_overlap_shared_t *sh = tn_arena_calloc(&r->arena, nshared, sizeof *sh);
    if (sh == NULL)
        return -1;
    if (countries) {
        r->shared_countries = sh;
        r->nshared_countries = nshared;
    } else {
        r->shared_partners = sh;
        r->nshared_partners = nshared;
    }
    for (size_t i = 0; i < nh; i++) {
        const char **only = tn_arena_calloc(&r->arena, nonly[i], sizeof *only);
        if (only == NULL)
            return -1;
        if (countries) {
            r->homes[i].only_countries = only;
            r->homes[i].nonly_countries = nonly[i];
        } else {
            r->homes[i].only_partners = only;
            r->homes[i].nonly_partners = nonly[i];
        }
    }
    size_t k = 0, at[TN_OVERLAP_MAX] = { 0 };
    for (size_t v = 0; v < s->nnodes; v++) {
        unsigned m = mask[v];
        if (m == 0)
            continue;
        for (size_t i = 0; i < nh; i++) {
            if (m & (1u << i)) {
                if (countries)
                    r->homes[i].countries++;
                else
                    r->homes[i].partners++;
            }
            if (m == 1u << i)
                (countries ? r->homes[i].only_countries : r->homes[i].only_partners)[at[i]++] = s->nodes[v]->id;
        }
        if (popcount(m) >= 2)
            sh[k++] = (tn_overlap_shared_t){ s->nodes[v]->id, m };
    }
    return 0;
}

tn_code_t tn_overlap_compute(const tn_snap_t *s, const tn_overlap_opts_t *o, const tn_qctx_t *ctx,
                             tn_overlap_result_t *r, tn_error_t *err) {
    const char *ids[TN_OVERLAP_MAX];
    tn_code_t rc = TN_OK;
    memset(r, 0, sizeof *r);
    r->epoch = s->epoch;
    r->nhomes = o->nhomes;
    memcpy(ids, o->homes, o->nhomes * sizeof *ids);
    qsort(ids, o->nhomes, sizeof *ids, cmp_str);

    size_t k = s->nnodes ? s->nnodes : 1;
    unsigned *pmask = calloc(k, sizeof *pmask), *cmask = calloc(k, sizeof *cmask);
    if (pmask == NULL || cmask == NULL) {
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < o->nhomes && rc == TN_OK; i++) {
        tn_q_home_t h;
        if ((rc = tn_q_unit_init(s, ids[i], "homes", &h, err)) != TN_OK)
            break;
        r->homes[i].id = s->nodes[h.idx]->id;
        for (size_t p = 0; p < s->npairs; p++) {
            int64_t u, x;
            if (p % TN_Q_POLL == 0 && tn_query_should_stop(ctx)) {
                rc = tn_query_stopped(ctx, err);
                break;
            }
            if (!tn_filter_keep(&o->f, s->pairs[p]) || !tn_q_home_pair(s, &h, p, &u, &x))
                continue;
            r->homes[i].pairs++;
            pmask[x] |= 1u << i;
            if (s->country_of[x] >= 0)
                cmask[s->country_of[x]] |= 1u << i;
        }
        tn_q_home_destroy(&h);
    }
    if (rc != TN_OK)
        goto done;
    if (collect(s, cmask, o->nhomes, r, 1) != 0 || collect(s, pmask, o->nhomes, r, 0) != 0) {
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < o->nhomes; i++)
        for (size_t j = 0; j < o->nhomes; j++) {
            int64_t both = 0, any = 0;
            for (size_t v = 0; v < s->nnodes; v++) {
                unsigned a = cmask[v] >> i & 1u, b = cmask[v] >> j & 1u;
                both += a & b;
                any += a | b;
            }
            r->jaccard[i][j] = any ? (double) both / (double) any : 0.0;
        }
done:
    free(pmask);
    free(cmask);
    return rc;                  /* on error the runner frees r (tn_query_run) */
}

static int str_list(tn_val_t *map, const char *key, const char *const *ids, size_t n) {
    tn_val_t arr = TN_VAL_NIL;
    int bad = tn_val_set_arr(&arr, n);
    for (size_t i = 0; i < n; i++)
        bad |= tn_arr_push_str(&arr, ids[i]);
    return bad | tn_map_add_take(map, key, &arr);
}

static int shared_list(const tn_overlap_result_t *r, tn_val_t *out, const char *key,
                       const tn_overlap_shared_t *sh, size_t n) {
    tn_val_t arr = TN_VAL_NIL;
    int bad = tn_val_set_arr(&arr, n);
    for (size_t k = 0; k < n && !bad; k++) {
        const char *ids[TN_OVERLAP_MAX];
        size_t m = 0;
        for (size_t i = 0; i < r->nhomes; i++)
            if (sh[k].homes & (1u << i))
                ids[m++] = r->homes[i].id;
        tn_val_t it = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 2);
        bad |= tn_map_add_str(&it, "id", sh[k].id);
        bad |= str_list(&it, "homes", ids, m);
        bad |= tn_arr_push_take(&arr, &it);
    }
    return bad | tn_map_add_take(out, key, &arr);
}

int tn_overlap_encode(const tn_snap_t *s, const tn_overlap_result_t *r, tn_val_t *out) {
    tn_val_t homes = TN_VAL_NIL, sim = TN_VAL_NIL;
    int bad = tn_q_result_begin(out, s);
    bad |= tn_val_set_arr(&homes, r->nhomes);
    for (size_t i = 0; i < r->nhomes && !bad; i++) {
        const tn_overlap_home_t *h = &r->homes[i];
        tn_val_t it = TN_VAL_NIL;
        bad |= tn_val_set_map(&it, 6);
        bad |= tn_map_add_str(&it, "id", h->id);
        bad |= tn_map_add_int(&it, "pairs", h->pairs);
        bad |= tn_map_add_int(&it, "countries", h->countries);
        bad |= tn_map_add_int(&it, "partners", h->partners);
        bad |= str_list(&it, "only_countries", h->only_countries, h->nonly_countries);
        bad |= str_list(&it, "only_partners", h->only_partners, h->nonly_partners);
        bad |= tn_arr_push_take(&homes, &it);
    }
    bad |= tn_map_add_take(out, "homes", &homes);
    bad |= shared_list(r, out, "shared_countries", r->shared_countries, r->nshared_countries);
    bad |= shared_list(r, out, "shared_partners", r->shared_partners, r->nshared_partners);
    bad |= tn_val_set_arr(&sim, r->nhomes * (r->nhomes - 1) / 2);
    for (size_t i = 0; i < r->nhomes && !bad; i++)
        for (size_t j = i + 1; j < r->nhomes && !bad; j++) {
            tn_val_t it = TN_VAL_NIL;
            bad |= tn_val_set_map(&it, 3);
            bad |= tn_map_add_str(&it, "a", r->homes[i].id);
            bad |= tn_map_add_str(&it, "b", r->homes[j].id);
            bad |= tn_map_add_float(&it, "jaccard", r->jaccard[i][j]);
            bad |= tn_arr_push_take(&sim, &it);
        }
    bad |= tn_map_add_take(out, "similarity", &sim);
    return bad ? -1 : 0;
}

TN_Q_ARENA_FREE(tn_overlap);

TN_Q_PARTS(tn_overlap);
