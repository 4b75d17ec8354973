/*
 * snap.c -- immutable snapshots of the model (snap.h): copy the record
 * pointers on the model's thread, then sort and index them (possibly on a
 * worker thread) so every query reads arrays instead of the live model.
 *
 * A snapshot never changes after tn_snap_build; nothing here may touch the
 * model beyond the accessors tn_snap_new calls. The id -> vertex index is a
 * small private open-addressing hash, so graph/ does not depend on the
 * model's own tables.
 */
#include "snap.h"
#include "query_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* The private id -> vertex hash: open addressing, linear probing, a power
 * of two at least twice the node count, so probes stay short. */
typedef struct snap_index {
    size_t mask;
    int64_t *slot;          /* vertex index, or -1 for an empty slot */
} snap_index_t;

static uint64_t hash_id(const char *s) {
    uint64_t h = 1469598103934665603ULL;        /* FNV-1a: ids are short */
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void index_free(snap_index_t *ix) {
    if (ix == NULL)
        return;
    free(ix->slot);
    free(ix);
}

static snap_index_t *index_new(tn_node_t *const *nodes, size_t n) {
    snap_index_t *ix = calloc(1, sizeof *ix);
    if (ix == NULL)
        return NULL;
    size_t cap = 16;
    while (cap < 2 * n)
        cap <<= 1;
    ix->mask = cap - 1;
    ix->slot = malloc(cap * sizeof *ix->slot);
    if (ix->slot == NULL) {
        free(ix);
        return NULL;
    }
    for (size_t i = 0; i < cap; i++)
        ix->slot[i] = -1;
    for (size_t v = 0; v < n; v++) {
        size_t at = (size_t) hash_id(nodes[v]->id) & ix->mask;
        while (ix->slot[at] >= 0)
            at = (at + 1) & ix->mask;
        ix->slot[at] = (int64_t) v;
    }
    return ix;
}

/* Copy the model's record pointers, retaining each record, and its home,
 * epoch and dataset notes. NULL on out-of-memory (nothing retained). */
tn_snap_t *tn_snap_new(const tn_model_t *m) {
    size_t nn = 0, np = 0;
    tn_node_t *const *nodes = tn_model_nodes(m, &nn);
    tn_pair_t *const *pairs = tn_model_pairs(m, &np);
    tn_snap_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    atomic_init(&s->refs, 1);
    s->epoch = tn_model_epoch(m);
    s->home_idx = -1;
    s->home = strdup(tn_model_home(m) ? tn_model_home(m) : TN_DEFAULT_HOME);
    s->nodes = malloc((nn ? nn : 1) * sizeof *s->nodes);
    s->pairs = malloc((np ? np : 1) * sizeof *s->pairs);
    if (s->home == NULL || s->nodes == NULL || s->pairs == NULL)
        goto err;
    if (tn_model_meta(m) != NULL && tn_val_copy(&s->meta, tn_model_meta(m)) != 0)
        goto err;
    for (size_t i = 0; i < nn; i++)
        s->nodes[i] = tn_node_retain(nodes[i]);
    for (size_t i = 0; i < np; i++)
        s->pairs[i] = tn_pair_retain(pairs[i]);
    s->nnodes = nn;
    s->npairs = np;
    return s;
err:
    tn_snap_release(s);
    return NULL;
}

static int cmp_node(const void *x, const void *y) {
    const tn_node_t *a = *(tn_node_t *const *) x, *b = *(tn_node_t *const *) y;
    return strcmp(a->id, b->id);
}

static int cmp_pair(const void *x, const void *y) {
    const tn_pair_t *a = *(tn_pair_t *const *) x, *b = *(tn_pair_t *const *) y;
    return strcmp(a->key, b->key);
}

/* Free what build made, so a failed build can simply be retried. */
static void unbuild(tn_snap_t *s) {
    tn_arena_free(&s->arena);
    index_free(s->index);
    s->pa = s->pb = s->country_of = NULL;
    s->is_unit = NULL;
    s->adj_off = s->adj_pair = NULL;
    s->index = NULL;
    s->home_idx = -1;
    s->built = 0;
}

/* Mark every vertex whose parent chain reaches 'root'. Each chain is walked
 * once: state 0 unknown, 1 unit, 2 not a unit, 3 on the current walk (a
 * parent cycle, which the model should forbid, ends the walk as "not"). */
static void mark_units(const tn_snap_t *s, int64_t root, unsigned char *out) {
    size_t n = s->nnodes;
    unsigned char *st = out;
    memset(st, 0, n);
    if (root < 0)
        goto finish;
    assert((size_t) root < n);
    st[root] = 1;
    for (size_t v = 0; v < n; v++) {
        int64_t u = (int64_t) v;
        while (st[u] == 0) {
            st[u] = 3;
            const char *p = s->nodes[u]->parent;
            int64_t next = p ? tn_snap_find(s, p) : -1;
            if (next < 0)
                break;
            u = next;
        }
        unsigned char verdict = st[u] == 1 ? 1 : 2;
        /* Second walk: settle everything marked 3 on this chain. */
        u = (int64_t) v;
        while (st[u] == 3) {
            st[u] = verdict;
            const char *p = s->nodes[u]->parent;
            int64_t next = p ? tn_snap_find(s, p) : -1;
            if (next < 0)
                break;
            u = next;
        }
    }
finish:
    for (size_t v = 0; v < n; v++)
        out[v] = st[v] == 1;
}

/* Build needs tn_snap_find before 'built' is set; this is its body. */
static int64_t find(const snap_index_t *ix, tn_node_t *const *nodes, const char *id) {
    if (ix == NULL || id == NULL)
        return -1;
    size_t at = (size_t) hash_id(id) & ix->mask;
    while (ix->slot[at] >= 0) {
        if (strcmp(nodes[ix->slot[at]]->id, id) == 0)
            return ix->slot[at];
        at = (at + 1) & ix->mask;
    }
    return -1;
}

/* Sort nodes by id and pairs by key, index ids, resolve pair ends and
 * countries, mark the home's units and lay out the adjacency (CSR).
 * A pair whose end names no node breaks the model's invariant and makes
 * the build fail with TN_ERR_INTERNAL rather than produce a wrong graph. */
tn_code_t tn_snap_build(tn_snap_t *s, tn_error_t *err) {
    if (s->built)
        return TN_OK;
    size_t n = s->nnodes, m = s->npairs;
    qsort(s->nodes, n, sizeof *s->nodes, cmp_node);
    qsort(s->pairs, m, sizeof *s->pairs, cmp_pair);

    s->index = index_new(s->nodes, n);
    s->pa = tn_arena_calloc(&s->arena, m, sizeof *s->pa);
    s->pb = tn_arena_calloc(&s->arena, m, sizeof *s->pb);
    s->country_of = tn_arena_calloc(&s->arena, n, sizeof *s->country_of);
    s->is_unit = tn_arena_calloc(&s->arena, n, 1);
    s->adj_off = tn_arena_calloc(&s->arena, n + 1, sizeof *s->adj_off);
    s->adj_pair = tn_arena_calloc(&s->arena, 2 * m, sizeof *s->adj_pair);
    if (!s->index || !s->pa || !s->pb || !s->country_of || !s->is_unit || !s->adj_off
        || !s->adj_pair) {
        unbuild(s);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory building a snapshot");
    }
    for (size_t v = 1; v < n; v++) {
        if (strcmp(s->nodes[v - 1]->id, s->nodes[v]->id) == 0) {
            unbuild(s);
            return tn_error_set(err, TN_ERR_INTERNAL, "duplicate node id %s", s->nodes[v]->id);
        }
    }
    for (size_t i = 0; i < m; i++) {
        s->pa[i] = find(s->index, s->nodes, s->pairs[i]->a);
        s->pb[i] = find(s->index, s->nodes, s->pairs[i]->b);
        if (s->pa[i] < 0 || s->pb[i] < 0 || s->pa[i] == s->pb[i]) {
            tn_code_t rc = tn_error_set(err, TN_ERR_INTERNAL, "pair %s - %s has a bad end",
                                        s->pairs[i]->a, s->pairs[i]->b);
            unbuild(s);
            return rc;
        }
    }
    for (size_t v = 0; v < n; v++) {
        const tn_node_t *x = s->nodes[v];
        s->country_of[v] = x->kind == TN_NODE_COUNTRY ? (int64_t) v
                                                      : find(s->index, s->nodes, x->country);
        /* A "country" that is not a country node is no country at all. */
        if (s->country_of[v] >= 0 && s->nodes[s->country_of[v]]->kind != TN_NODE_COUNTRY)
            s->country_of[v] = -1;
    }
    s->home_idx = find(s->index, s->nodes, s->home);
    s->built = 1;              /* tn_snap_find works from here on */
    mark_units(s, s->home_idx, s->is_unit);

    /* CSR: count, prefix-sum, fill in pair order so each list is by key. */
    for (size_t i = 0; i < m; i++) {
        s->adj_off[s->pa[i] + 1]++;
        s->adj_off[s->pb[i] + 1]++;
    }
    for (size_t v = 0; v < n; v++)
        s->adj_off[v + 1] += s->adj_off[v];
    size_t *fill = malloc((n ? n : 1) * sizeof *fill);
    if (fill == NULL) {
        unbuild(s);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory building a snapshot");
    }
    memcpy(fill, s->adj_off, n * sizeof *fill);
    for (size_t i = 0; i < m; i++) {
        s->adj_pair[fill[s->pa[i]]++] = i;
        s->adj_pair[fill[s->pb[i]]++] = i;
    }
    /* Each vertex's list was filled exactly up to the next one's start. */
    for (size_t v = 0; v < n; v++)
        assert(fill[v] == s->adj_off[v + 1]);
    assert(s->adj_off[n] == 2 * m);
    free(fill);
    return TN_OK;
}

/* Exposed to the queries through query_internal.h (units of any home). */
void tn_q_units_mark(const tn_snap_t *s, int64_t root, unsigned char *out) {
    mark_units(s, root, out);
}

/* Take one more reference; returns 's'. */
tn_snap_t *tn_snap_retain(tn_snap_t *s) {
    if (s != NULL)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

/* Drop a reference; the last one releases every record and index. */
void tn_snap_release(tn_snap_t *s) {
    if (s == NULL)
        return;
    int old = atomic_fetch_sub(&s->refs, 1);
    assert(old > 0);   /* released more often than retained */
    if (old != 1)
        return;
    for (size_t i = 0; i < s->nnodes; i++)
        tn_node_release(s->nodes[i]);
    for (size_t i = 0; i < s->npairs; i++)
        tn_pair_release(s->pairs[i]);
    unbuild(s);
    if (s->memo_free != NULL)
        s->memo_free(s->memo);
    free(s->nodes);
    free(s->pairs);
    free(s->home);
    tn_val_free(&s->meta);
    free(s);
}

/* Vertex of 'id' in a built snapshot, -1 when absent (or not built). */
int64_t tn_snap_find(const tn_snap_t *s, const char *id) {
    if (s == NULL || !s->built)
        return -1;
    int64_t v = find(s->index, s->nodes, id);
    assert(v < (int64_t) s->nnodes);
    return v;
}

/* docs/protocol.md, "Methods": kind, confidence and as_of (undated pairs stay). */
int tn_filter_keep(const tn_filter_t *f, const tn_pair_t *p) {
    if (f == NULL)
        return 1;
    if (!(f->kinds & (1 << p->kind)))
        return 0;
    if (p->confidence < f->min_conf)
        return 0;
    if (f->as_of != 0 && p->since_year != 0 && p->since_year > f->as_of)
        return 0;
    return 1;
}
