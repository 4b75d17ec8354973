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

/* The arrays build fills, from the snapshot's arena. -1 on out-of-memory
 * (the caller unbuilds). */
static int alloc_built(tn_snap_t *s) {
    size_t n = s->nnodes, m = s->npairs;
    /* Each is filled whole by build or derivation: not zeroed first. */
    s->pa = tn_arena_alloc(&s->arena, m, sizeof *s->pa);
    s->pb = tn_arena_alloc(&s->arena, m, sizeof *s->pb);
    s->country_of = tn_arena_alloc(&s->arena, n, sizeof *s->country_of);
    s->is_unit = tn_arena_alloc(&s->arena, n, 1);
    s->adj_off = tn_arena_alloc(&s->arena, n + 1, sizeof *s->adj_off);
    s->adj_pair = tn_arena_alloc(&s->arena, 2 * m, sizeof *s->adj_pair);
    return s->pa && s->pb && s->country_of && s->is_unit && s->adj_off && s->adj_pair ? 0 : -1;
}

/* The per-node part, once s->nodes is in id order: the id index (a copy
 * of 'same''s when the node records are the same ones in the same order),
 * countries, the home and its units. Sets 'built'. */
static tn_code_t finish_nodes(tn_snap_t *s, const tn_snap_t *same, tn_error_t *err) {
    size_t n = s->nnodes;
    if (same != NULL) {
        const snap_index_t *from = same->index;
        snap_index_t *ix = calloc(1, sizeof *ix);
        if (ix != NULL && (ix->slot = malloc((from->mask + 1) * sizeof *ix->slot)) == NULL) {
            free(ix);
            ix = NULL;
        }
        if (ix == NULL)
            return tn_error_set(err, TN_ERR_INTERNAL, "out of memory building a snapshot");
        ix->mask = from->mask;
        memcpy(ix->slot, from->slot, (from->mask + 1) * sizeof *ix->slot);
        s->index = ix;
        memcpy(s->country_of, same->country_of, n * sizeof *s->country_of);
        memcpy(s->is_unit, same->is_unit, n);
        s->home_idx = same->home_idx;
        s->built = 1;
        return TN_OK;
    }
    if ((s->index = index_new(s->nodes, n)) == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory building a snapshot");
    for (size_t v = 1; v < n; v++)
        if (strcmp(s->nodes[v - 1]->id, s->nodes[v]->id) == 0)
            return tn_error_set(err, TN_ERR_INTERNAL, "duplicate node id %s", s->nodes[v]->id);
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
    return TN_OK;
}

/* Pair i's ends as vertices. A pair whose end names no node breaks the
 * model's invariant: TN_ERR_INTERNAL rather than a wrong graph. */
static tn_code_t resolve_pair(tn_snap_t *s, size_t i, tn_error_t *err) {
    s->pa[i] = find(s->index, s->nodes, s->pairs[i]->a);
    s->pb[i] = find(s->index, s->nodes, s->pairs[i]->b);
    if (s->pa[i] < 0 || s->pb[i] < 0 || s->pa[i] == s->pb[i])
        return tn_error_set(err, TN_ERR_INTERNAL, "pair %s - %s has a bad end", s->pairs[i]->a,
                            s->pairs[i]->b);
    return TN_OK;
}

/* The adjacency (CSR) from pa and pb: count, prefix-sum, fill in pair
 * order so each list is by key. O(nodes + pairs) integer work, no look-up:
 * a derived snapshot lays it out again rather than patch every shifted
 * pair index. */
static tn_code_t lay_out_adjacency(tn_snap_t *s, tn_error_t *err) {
    size_t n = s->nnodes, m = s->npairs;
    memset(s->adj_off, 0, (n + 1) * sizeof *s->adj_off);
    for (size_t i = 0; i < m; i++) {
        s->adj_off[s->pa[i] + 1]++;
        s->adj_off[s->pb[i] + 1]++;
    }
    for (size_t v = 0; v < n; v++)
        s->adj_off[v + 1] += s->adj_off[v];
    size_t *fill = malloc((n ? n : 1) * sizeof *fill);
    if (fill == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory building a snapshot");
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

/* Sort nodes by id and pairs by key, index ids, resolve pair ends and
 * countries, mark the home's units and lay out the adjacency (CSR). */
tn_code_t tn_snap_build(tn_snap_t *s, tn_error_t *err) {
    if (s->built)
        return TN_OK;
    qsort(s->nodes, s->nnodes, sizeof *s->nodes, cmp_node);
    qsort(s->pairs, s->npairs, sizeof *s->pairs, cmp_pair);
    tn_code_t rc = TN_OK;
    if (alloc_built(s) != 0)
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory building a snapshot");
    if (rc == TN_OK)
        rc = finish_nodes(s, NULL, err);
    for (size_t i = 0; rc == TN_OK && i < s->npairs; i++)
        rc = resolve_pair(s, i, err);
    if (rc == TN_OK)
        rc = lay_out_adjacency(s, err);
    if (rc != TN_OK)
        unbuild(s);
    return rc;
}

/* ---- derivation: the next epoch's snapshot from the last one ---- */

static int cmp_str(const void *x, const void *y) {
    return strcmp(*(const char *const *) x, *(const char *const *) y);
}

/* Sort and deduplicate n strings in place; returns the new count. */
static size_t sort_unique(const char **v, size_t n) {
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i], v[k - 1]) != 0)
            v[k++] = v[i];
    return k;
}

/* Merge step shared by nodes and pairs: the sorted old array 'old' (no
 * entry of 'keys' kept) and the current records of the sorted, distinct
 * 'keys' ('current' answers NULL for one now absent) into 'out', in key
 * order. map[i] receives the new index of old entry i (or of the record
 * that replaced it), or -1 when it was removed; at[j] (when 'at' is not
 * NULL) the new index of keys[j]'s record or -1, and was[j] whether an
 * old entry had that key. Returns the new count. */
typedef const void *current_fn(const tn_model_t *m, const char *key);
typedef const char *key_fn(const void *rec);

static size_t merge(void *const *old, size_t n_old, const char **keys, size_t nk,
                    const tn_model_t *m, current_fn *current, key_fn *key, void **out,
                    int64_t *map, int64_t *at, unsigned char *was) {
    size_t i = 0, k = 0;
    for (size_t j = 0; j < nk; j++) {
        /* Where keys[j] goes among the old entries: a binary search, so
         * only O(log n) old records are read per change, not all of them. */
        size_t lo = i, hi = n_old;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(key(old[mid]), keys[j]) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        memcpy(out + k, old + i, (lo - i) * sizeof *out);
        for (; i < lo; i++)
            map[i] = (int64_t) k++;
        const void *now = current(m, keys[j]);
        int existed = i < n_old && strcmp(key(old[i]), keys[j]) == 0;
        if (existed)
            map[i++] = now != NULL ? (int64_t) k : -1;  /* replaced, or removed */
        if (at != NULL) {
            at[j] = now != NULL ? (int64_t) k : -1;
            was[j] = (unsigned char) existed;
        }
        if (now != NULL)
            out[k++] = (void *) now;
    }
    memcpy(out + k, old + i, (n_old - i) * sizeof *out);
    for (; i < n_old; i++)
        map[i] = (int64_t) k++;
    return k;
}

static const void *current_node(const tn_model_t *m, const char *id) { return tn_model_node(m, id); }
static const void *current_pair(const tn_model_t *m, const char *key) {
    return tn_model_pair_by_key(m, key);
}
static const char *node_key(const void *rec) { return ((const tn_node_t *) rec)->id; }
static const char *pair_key(const void *rec) { return ((const tn_pair_t *) rec)->key; }

typedef struct run {
    size_t from;                /* first old index of the run */
    int64_t shift;              /* new index - old index, INT64_MIN: removed */
} run_t;

typedef struct vend {
    int64_t v, k;               /* vertex, and a new pair index ending there */
} vend_t;

static int cmp_vend(const void *x, const void *y) {
    const vend_t *a = x, *b = y;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->k > b->k) - (a->k < b->k);
}

/* The adjacency of 's' from prev's, when the vertices are the same: each
 * list is prev's, renumbered by pmap (which keeps the order) without the
 * removed pairs, merged with the pairs added at its vertex. Sequential
 * reads and writes, where a layout from scratch scatters. */
static tn_code_t adjacency_from(tn_snap_t *s, const tn_snap_t *prev, const int64_t *pmap,
                                const int64_t *at, const unsigned char *was, size_t nk,
                                tn_error_t *err) {
    size_t n = s->nnodes, cap = 2 * s->npairs, ne = 0;
    vend_t *ends = malloc((nk ? 2 * nk : 1) * sizeof *ends);
    if (ends == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory building a snapshot");
    for (size_t j = 0; j < nk; j++) {
        if (at[j] < 0 || was[j])
            continue;               /* removed, or replaced in place */
        ends[ne++] = (vend_t){ s->pa[at[j]], at[j] };
        ends[ne++] = (vend_t){ s->pb[at[j]], at[j] };
    }
    qsort(ends, ne, sizeof *ends, cmp_vend);
    /* pmap is i + a shift that changes only at the logged pairs: as runs
     * of one shift it is a few entries, searched instead of read at
     * random (a million random reads of an 8 MB array were most of a
     * publish at 10^6 pairs). */
    size_t nruns = 0, mp = prev->npairs;
    run_t *runs = malloc((2 * nk + 2) * sizeof *runs);
    if (runs == NULL) {
        free(ends);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory building a snapshot");
    }
    for (size_t i = 0; i < mp; i++) {
        int64_t d = pmap[i] < 0 ? INT64_MIN : pmap[i] - (int64_t) i;
        if (nruns == 0 || runs[nruns - 1].shift != d) {
            if (nruns == 2 * nk + 2)
                break;              /* more than nk keys can make: caught below */
            runs[nruns++] = (run_t){ i, d };
        }
    }
    size_t w = 0, e = 0;
    int bad = nruns == 2 * nk + 2;
    for (size_t v = 0; v < n && !bad; v++) {
        s->adj_off[v] = w;
        for (size_t t = prev->adj_off[v]; t < prev->adj_off[v + 1] && !bad; t++) {
            size_t old = prev->adj_pair[t], lo = 0, hi = nruns;
            while (hi - lo > 1) {   /* the last run starting at or before 'old' */
                size_t mid = lo + (hi - lo) / 2;
                if (runs[mid].from <= old)
                    lo = mid;
                else
                    hi = mid;
            }
            if (runs[lo].shift == INT64_MIN)
                continue;           /* removed */
            int64_t q = (int64_t) old + runs[lo].shift;
            while (e < ne && ends[e].v == (int64_t) v && ends[e].k < q && w < cap)
                s->adj_pair[w++] = (size_t) ends[e++].k;
            bad = w >= cap;
            if (!bad)
                s->adj_pair[w++] = (size_t) q;
        }
        while (!bad && e < ne && ends[e].v == (int64_t) v)
            if (w < cap)
                s->adj_pair[w++] = (size_t) ends[e++].k;
            else
                bad = 1;
    }
    free(ends);
    free(runs);
    if (bad || w != cap || e != ne)
        return tn_error_set(err, TN_ERR_INTERNAL, "a change log that does not match the model");
    s->adj_off[n] = w;
    return TN_OK;
}

tn_code_t tn_snap_derive(tn_snap_t *s, const tn_snap_t *prev, const tn_model_t *m,
                         tn_model_log_t *log, tn_error_t *err) {
    assert(prev->built && !s->built && !log->all);
    size_t nn = tn_model_node_count(m), np = tn_model_pair_count(m);
    assert(s->nnodes == nn && s->npairs == np);
    log->nn = sort_unique(log->nodes, log->nn);
    log->np = sort_unique(log->pairs, log->np);
    int64_t *vmap = malloc((prev->nnodes ? prev->nnodes : 1) * sizeof *vmap);
    int64_t *pmap = malloc((prev->npairs ? prev->npairs : 1) * sizeof *pmap);
    int64_t *at = malloc((log->np ? log->np : 1) * sizeof *at);
    unsigned char *was = malloc(log->np ? log->np : 1);
    tn_code_t rc = TN_OK;
    if (vmap == NULL || pmap == NULL || at == NULL || was == NULL || alloc_built(s) != 0) {
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory building a snapshot");
        goto out;
    }
    size_t kn = merge((void *const *) prev->nodes, prev->nnodes, log->nodes, log->nn, m,
                      current_node, node_key, (void **) s->nodes, vmap, NULL, NULL);
    size_t kp = merge((void *const *) prev->pairs, prev->npairs, log->pairs, log->np, m,
                      current_pair, pair_key, (void **) s->pairs, pmap, at, was);
    if (kn != nn || kp != np) {
        rc = tn_error_set(err, TN_ERR_INTERNAL, "a change log that does not match the model (%zu/%zu nodes, %zu/%zu pairs)", kn, nn, kp, np);
        goto out;
    }
    if ((rc = finish_nodes(s, log->nn == 0 ? prev : NULL, err)) != TN_OK)
        goto out;
    /* Kept pairs keep their ends, renumbered when nodes moved; the logged
     * ones are looked up. */
    for (size_t i = 0; i < prev->npairs; i++) {
        if (pmap[i] < 0)
            continue;
        int64_t a = prev->pa[i], b = prev->pb[i];
        if (log->nn > 0) {
            a = vmap[a];
            b = vmap[b];
        }
        if (a < 0 || b < 0) {   /* its end went, but the pair was not logged */
            rc = tn_error_set(err, TN_ERR_INTERNAL, "a change log that does not match the model: a kept pair lost an end");
            goto out;
        }
        s->pa[pmap[i]] = a;
        s->pb[pmap[i]] = b;
    }
    for (size_t j = 0; j < log->np; j++)
        if (at[j] >= 0 && (rc = resolve_pair(s, (size_t) at[j], err)) != TN_OK)
            goto out;
    /* Vertices unchanged: edit the last adjacency; else lay it out anew. */
    rc = log->nn == 0 ? adjacency_from(s, prev, pmap, at, was, log->np, err)
                      : lay_out_adjacency(s, err);
out:
    free(vmap);
    free(pmap);
    free(at);
    free(was);
    if (rc != TN_OK)
        unbuild(s);
    return rc;
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
    if (s->era != NULL) {
        tn_snap_era_release(s->era);
    } else {
        for (size_t i = 0; i < s->nnodes; i++)
            tn_node_release(s->nodes[i]);
        for (size_t i = 0; i < s->npairs; i++)
            tn_pair_release(s->pairs[i]);
    }
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

int tn_filter_is_all(const tn_filter_t *f) {
    return f == NULL || (f->as_of == 0 && f->min_conf == TN_CONF_LOW && (f->kinds & 3) == 3);
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
