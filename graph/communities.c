/*
 * communities.c -- query.communities: groups of partners that are densely
 * tied to each other, by igraph's Louvain ("multilevel") or Leiden method,
 * both maximising modularity.
 *
 * Leiden in igraph optimises the Constant Potts Model; with node weights =
 * degrees and resolution gamma / (2m) its quality is modularity at
 * resolution gamma (up to the constant factor 1/(2m)), which is how it is
 * called here. Both methods draw random numbers (Louvain visits vertices
 * in a shuffled order), so igraph's default generator is seeded with
 * "seed" before each run: the same options on the same epoch give the
 * same membership. Runs on the igraph thread only (its generator and
 * handlers are process-wide).
 *
 * The reported "modularity" is igraph_modularity of the final membership
 * at resolution 1 (the usual Newman-Girvan modularity, whatever
 * "resolution" steered the search), on the same simple graph, where an
 * isolated vertex is its own community. A graph with no edge has no
 * modularity (0/0); it is reported as 0 with every vertex alone.
 *
 * Communities are numbered 0.. by size descending, then by their first
 * member in id order, so the numbers do not depend on igraph's labels.
 */
#include "igraph_bridge.h"
#include "planning.h"
#include "qgraph.h"
#include "query_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOP_MEMBERS 10
#define TOP_COUNTRIES 5
#define LEIDEN_BETA 0.01


tn_code_t tn_communities_parse(const tn_val_t *opts, tn_communities_opts_t *o, tn_error_t *err) {
    tn_code_t rc;
    memset(o, 0, sizeof *o);
    o->resolution = 1.0;
    o->seed = 1;
    o->top = 20;
    if ((rc = tn_opts_validate(opts, tn_query_find("query.communities")->opts, err)) != TN_OK
        || (rc = tn_opt_enum(opts, "graph", 0, tn_q_graph_names, &o->full, err)) != TN_OK
        || (rc = tn_opt_enum(opts, "algorithm", 0, tn_q_comm_algo_names, &o->algorithm, err)) != TN_OK
        || (rc = tn_opt_num(opts, "resolution", 0, 0.0, 1e6, &o->resolution, err)) != TN_OK
        || (rc = tn_opt_int(opts, "seed", 0, 0, INT64_MAX, &o->seed, err)) != TN_OK
        || (rc = tn_opt_int(opts, "top", 0, 1, 100000, &o->top, err)) != TN_OK
        || (rc = tn_opt_bool(opts, "members", 0, &o->members, err)) != TN_OK
        || (rc = tn_opt_filter(opts, 1, &o->f, err)) != TN_OK
        || (rc = tn_q_slow_opts(opts, err)) != TN_OK)
        return rc;
    if (!(o->resolution > 0.0))
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "resolution: must be greater than 0");
    return TN_OK;
}

/* Run the algorithm; fill membership, degree and modularity. igraph style. */
static igraph_error_t run(igraph_integer_t n, const igraph_vector_int_t *edges,
                          const tn_communities_opts_t *o, igraph_vector_int_t *membership,
                          igraph_vector_int_t *degree, double *modularity) {
    igraph_t g;
    igraph_vector_t nw;

    IGRAPH_CHECK(tn_q_igraph_simple(&g, n, o->full, edges, degree));
    IGRAPH_FINALLY(igraph_destroy, &g);
    igraph_integer_t m = igraph_ecount(&g);
    *modularity = 0.0;
    if (m == 0) {
        IGRAPH_CHECK(igraph_vector_int_resize(membership, n));
        for (igraph_integer_t i = 0; i < n; i++)
            VECTOR(*membership)[i] = i;
        igraph_destroy(&g);
        IGRAPH_FINALLY_CLEAN(1);
        return IGRAPH_SUCCESS;
    }
    IGRAPH_CHECK(igraph_rng_seed(igraph_rng_default(), (igraph_uint_t) o->seed));
    if (o->algorithm == TN_COMM_MULTILEVEL) {
        IGRAPH_CHECK(igraph_community_multilevel(&g, NULL, o->resolution, membership, NULL, NULL));
    } else {
        IGRAPH_VECTOR_INIT_FINALLY(&nw, n);
        for (igraph_integer_t i = 0; i < n; i++)
            VECTOR(nw)[i] = (double) VECTOR(*degree)[i];
        IGRAPH_CHECK(igraph_community_leiden(&g, NULL, &nw, o->resolution / (2.0 * (double) m),
                                             LEIDEN_BETA, false, -1, membership, NULL, NULL));
        igraph_vector_destroy(&nw);
        IGRAPH_FINALLY_CLEAN(1);
    }
    IGRAPH_CHECK(igraph_modularity(&g, membership, NULL, 1.0, false, modularity));
    igraph_destroy(&g);
    IGRAPH_FINALLY_CLEAN(1);
    return IGRAPH_SUCCESS;
}

/* Renumber igraph's labels: by size descending, then first member. */
static int renumber(tn_communities_result_t *r, const igraph_vector_int_t *mem) {
    tn_arena_t tmp = { NULL };      /* the working arrays */
    size_t n = r->n;
    tn_q_counted_t *c = tn_arena_calloc(&tmp, n, sizeof *c);   /* per label: size, first */
    int64_t *to = tn_arena_calloc(&tmp, n, sizeof *to);
    int rc = -1;
    if (c == NULL || to == NULL)
        goto done;
    for (size_t i = 0; i < n; i++)
        c[i] = (tn_q_counted_t){ 0, -1 };
    for (size_t i = 0; i < n; i++) {
        int64_t l = VECTOR(*mem)[i];
        c[l].count++;
        if (c[l].v < 0)
            c[l].v = (int64_t) i;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].count > 0)
            c[k++] = c[i];
    qsort(c, k, sizeof *c, tn_q_cmp_counted);
    r->size = tn_arena_calloc(&r->arena, k, sizeof *r->size);
    if (r->size == NULL)
        goto done;
    for (size_t i = 0; i < k; i++) {
        to[VECTOR(*mem)[c[i].v]] = (int64_t) i;    /* the label of its first member */
        r->size[i] = c[i].count;
    }
    r->count = k;
    for (size_t i = 0; i < n; i++)
        r->membership[i] = to[VECTOR(*mem)[i]];
    rc = 0;
done:
    tn_arena_free(&tmp);
    return rc;
}

tn_code_t tn_communities_compute(const tn_snap_t *s, const tn_communities_opts_t *o,
                                 const tn_qctx_t *ctx, tn_communities_result_t *r, tn_error_t *err) {
    igraph_vector_int_t edges, mem, deg;
    tn_code_t rc = TN_OK;
    size_t k = s->nnodes ? s->nnodes : 1;
    int64_t *of = malloc(k * sizeof *of);

    memset(r, 0, sizeof *r);
    r->epoch = s->epoch;
    r->full = o->full;
    r->algorithm = o->algorithm;
    r->members = o->members;
    r->top = o->top;
    r->gv = tn_arena_calloc(&r->arena, k, sizeof *r->gv);
    r->degree = tn_arena_calloc(&r->arena, k, sizeof *r->degree);
    r->membership = tn_arena_calloc(&r->arena, k, sizeof *r->membership);
    /* On error the runner frees r (tn_query_run). */
    if (of == NULL || r->gv == NULL || r->degree == NULL || r->membership == NULL) {
        free(of);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    /* igraph's handlers see ctx through tn_query_run's bracket. */
    igraph_error_t ie = igraph_vector_int_init(&edges, 0);
    if (ie == IGRAPH_SUCCESS && (ie = igraph_vector_int_init(&mem, 0)) != IGRAPH_SUCCESS)
        igraph_vector_int_destroy(&edges);
    if (ie == IGRAPH_SUCCESS && (ie = igraph_vector_int_init(&deg, 0)) != IGRAPH_SUCCESS) {
        igraph_vector_int_destroy(&edges);
        igraph_vector_int_destroy(&mem);
    }
    if (ie != IGRAPH_SUCCESS) {
        free(of);
        return tn_igraph_fail(ie, err);
    }
    if (tn_q_igraph_edges(s, o->full, &o->f, r->gv, of, &r->n, &edges) != 0)
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    else if (tn_query_should_stop(ctx))
        rc = tn_query_stopped(ctx, err);
    else if ((ie = run((igraph_integer_t) r->n, &edges, o, &mem, &deg, &r->modularity)) != IGRAPH_SUCCESS)
        rc = tn_igraph_fail(ie, err);
    if (rc == TN_OK) {
        if (!isfinite(r->modularity))
            r->modularity = 0.0;
        for (size_t i = 0; i < r->n; i++)
            r->degree[i] = VECTOR(deg)[i];
        if (renumber(r, &mem) != 0)
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    igraph_vector_int_destroy(&edges);
    igraph_vector_int_destroy(&mem);
    igraph_vector_int_destroy(&deg);
    free(of);
    return rc;
}

/* Graph vertices ordered by community, then degree descending, then id. */
typedef struct member {
    int64_t comm, deg, i;
} member_t;

static int cmp_member(const void *x, const void *y) {
    const member_t *a = x, *b = y;
    if (a->comm != b->comm)
        return a->comm < b->comm ? -1 : 1;
    if (a->deg != b->deg)
        return a->deg > b->deg ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* The item of community c whose members are m[0..size). */
static int encode_item(const tn_snap_t *s, const tn_communities_result_t *r, int64_t c,
                       const member_t *m, int64_t size, int64_t *per_country, tn_q_counted_t *cc,
                       tn_val_t *items) {
    tn_val_t it = TN_VAL_NIL, top = TN_VAL_NIL, countries = TN_VAL_NIL;
    int bad = tn_val_set_map(&it, 4);
    bad |= tn_map_add_int(&it, "community", c);
    bad |= tn_map_add_int(&it, "size", size);
    bad |= tn_val_set_arr(&top, TOP_MEMBERS);
    for (int64_t i = 0; i < size && i < TOP_MEMBERS; i++)
        bad |= tn_arr_push_str(&top, s->nodes[r->gv[m[i].i]]->id);
    bad |= tn_map_add_take(&it, "top", &top);
    size_t nc = 0;
    for (int64_t i = 0; i < size; i++) {
        int64_t cv = s->country_of[r->gv[m[i].i]];
        if (cv < 0)
            continue;
        if (per_country[cv]++ == 0)
            cc[nc++].v = cv;
    }
    for (size_t i = 0; i < nc; i++) {
        cc[i].count = per_country[cc[i].v];
        per_country[cc[i].v] = 0;
    }
    qsort(cc, nc, sizeof *cc, tn_q_cmp_counted);
    bad |= tn_val_set_arr(&countries, TOP_COUNTRIES);
    for (size_t i = 0; i < nc && i < TOP_COUNTRIES; i++) {
        tn_val_t e = TN_VAL_NIL;
        bad |= tn_val_set_map(&e, 2);
        bad |= tn_map_add_str(&e, "id", s->nodes[cc[i].v]->id);
        bad |= tn_map_add_int(&e, "nodes", cc[i].count);
        bad |= tn_arr_push_take(&countries, &e);
    }
    bad |= tn_map_add_take(&it, "countries", &countries);
    return bad | tn_arr_push_take(items, &it);
}

int tn_communities_encode(const tn_snap_t *s, const tn_communities_result_t *r, tn_val_t *out) {
    tn_arena_t tmp = { NULL };      /* the working arrays */
    member_t *m = tn_arena_calloc(&tmp, r->n, sizeof *m);
    int64_t *per_country = tn_arena_calloc(&tmp, s->nnodes, sizeof *per_country);
    tn_q_counted_t *cc = tn_arena_calloc(&tmp, s->nnodes, sizeof *cc);
    tn_val_t items = TN_VAL_NIL, mem = TN_VAL_NIL;
    int bad = m == NULL || per_country == NULL || cc == NULL;
    if (bad)
        goto done;
    for (size_t i = 0; i < r->n; i++)
        m[i] = (member_t){ r->membership[i], r->degree[i], (int64_t) i };
    qsort(m, r->n, sizeof *m, cmp_member);

    bad |= tn_q_result_begin(out, s);
    bad |= tn_map_add_str(out, "graph", tn_q_graph_names[r->full]);
    bad |= tn_map_add_str(out, "algorithm", tn_q_comm_algo_names[r->algorithm]);
    bad |= tn_map_add_float(out, "modularity", r->modularity);
    bad |= tn_map_add_int(out, "count", (int64_t) r->count);
    bad |= tn_val_set_arr(&items, 16);
    size_t at = 0;
    for (size_t c = 0; c < r->count && (int64_t) c < r->top && !bad; c++) {
        bad |= encode_item(s, r, (int64_t) c, m + at, r->size[c], per_country, cc, &items);
        at += (size_t) r->size[c];
    }
    bad |= tn_map_add_take(out, "items", &items);
    if (r->members) {
        bad |= tn_val_set_map(&mem, r->n);
        for (size_t i = 0; i < r->n && !bad; i++)
            bad |= tn_map_add_int(&mem, s->nodes[r->gv[i]]->id, r->membership[i]);
        bad |= tn_map_add_take(out, "membership", &mem);
    }
done:
    tn_arena_free(&tmp);
    tn_val_free(&items);
    tn_val_free(&mem);
    return bad ? -1 : 0;
}

TN_Q_ARENA_FREE(tn_communities);

TN_Q_PARTS(tn_communities);
