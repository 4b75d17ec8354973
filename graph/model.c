/*
 * model.c -- the live model and its changes (see model.h for the contract).
 *
 * Storage: dense arrays of record pointers with a hash from key to index,
 * and per node an adjacency vector of its pairs. Removal swaps the last
 * element into the hole (and fixes its index), so nothing is ever shifted.
 *
 * The invariants every commit preserves (and prepare checks):
 *  - ids are unique; every pair joins two existing province/city nodes;
 *    at most one pair per unordered pair of nodes;
 *  - a province/city's country names an existing country node; a parent
 *    names an existing province/city of the same country, and parent
 *    chains have no cycle.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hmap.h"

#define MAX_PARENT_DEPTH 64

typedef struct adj {
    tn_pair_t **p;
    size_t n, cap;
} adj_t;

struct tn_model {
    uint64_t epoch;
    char *home;
    tn_val_t meta;
    tn_node_t **nodes;
    adj_t *adj;                 /* parallel to nodes */
    size_t nn, ncap;
    tn_hmap_t node_idx;
    tn_pair_t **pairs;
    size_t np, pcap;
    tn_hmap_t pair_idx;

    /* Followed by a line of snapshots (tn_model_follow): dropped records
     * go to 'retire' instead of being released, and the ids and keys of
     * what changed are logged until the follower takes them. */
    tn_model_retire_fn *retire;
    void *retire_arg;
    tn_model_log_t log;
    size_t log_ncap, log_pcap;
};

enum op { OP_NODE_UPSERT, OP_NODE_DELETE, OP_PAIR_UPSERT, OP_PAIR_DELETE, OP_BATCH };

struct tn_change {
    enum op op;
    uint64_t base_epoch;
    int dry_run, replace;
    tn_node_t **nodes;          /* staged records, owned until commit */
    size_t nn;
    tn_pair_t **pairs;
    size_t np;
    adj_t *new_adj;             /* per staged node: adjacency pre-allocated for new nodes */
    char *del_id;               /* node.delete */
    char *del_key;              /* pair.delete */
    tn_model_t *replacement;    /* import.batch mode "replace": the whole new model */
    size_t nodes_added, nodes_updated, nodes_unchanged;
    size_t pairs_added, pairs_updated, pairs_unchanged;
    size_t nodes_removed, pairs_removed;
};

/* ---- the model ---- */

tn_model_t *tn_model_new(const char *home) {
    tn_model_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->home = strdup(home ? home : TN_DEFAULT_HOME);
    if (m->home == NULL) {
        free(m);
        return NULL;
    }
    tn_hmap_init(&m->node_idx);
    tn_hmap_init(&m->pair_idx);
    return m;
}

/* Give up the model's reference on a record it no longer holds: to the
 * follower when there is one (a published snapshot may still read the
 * record), else released. 'm' NULL: a staged change's own record. */
static void drop_node(const tn_model_t *m, tn_node_t *n) {
    if (m != NULL && m->retire != NULL)
        m->retire(m->retire_arg, n, NULL);
    else
        tn_node_release(n);
}

static void drop_pair(const tn_model_t *m, tn_pair_t *p) {
    if (m != NULL && m->retire != NULL)
        m->retire(m->retire_arg, NULL, p);
    else
        tn_pair_release(p);
}

/* Drop nn nodes with their adjacencies (adj may be NULL), np pairs, and
 * the three arrays: what a model ('m') and a staged change (NULL) both
 * hold. */
static void release_records(const tn_model_t *m, tn_node_t **nodes, adj_t *adj, size_t nn,
                            tn_pair_t **pairs, size_t np) {
    for (size_t i = 0; i < nn; i++) {
        drop_node(m, nodes[i]);
        if (adj)
            free(adj[i].p);
    }
    for (size_t i = 0; i < np; i++)
        drop_pair(m, pairs[i]);
    free(nodes);
    free(adj);
    free(pairs);
}

/* ---- the change log (model.h, tn_model_follow) ---- */

/* Log everything: the follower rebuilds from the whole model. */
static void log_all(tn_model_t *m) {
    free(m->log.nodes);
    free(m->log.pairs);
    m->log = (tn_model_log_t){ 1, NULL, 0, NULL, 0 };
    m->log_ncap = m->log_pcap = 0;
}

/* Log one id or key. The string belongs to a record the model holds or
 * has retired, so it lives until the follower's next publish. A log as
 * large as the model, or one that cannot grow, becomes "everything":
 * commit still never fails. */
static void log_one(tn_model_t *m, const char ***arr, size_t *n, size_t *cap, const char *s) {
    if (m->retire == NULL || m->log.all)
        return;
    if (m->log.nn + m->log.np >= m->nn + m->np + 1024
        || tn_grow((void **) arr, cap, *n + 1, 16, sizeof **arr) != 0) {
        log_all(m);
        return;
    }
    (*arr)[(*n)++] = s;
}

static void log_node(tn_model_t *m, const char *id) {
    log_one(m, &m->log.nodes, &m->log.nn, &m->log_ncap, id);
}

static void log_pair(tn_model_t *m, const char *key) {
    log_one(m, &m->log.pairs, &m->log.np, &m->log_pcap, key);
}

void tn_model_follow(tn_model_t *m, tn_model_retire_fn *retire, void *arg) {
    m->retire = retire;
    m->retire_arg = arg;
    tn_model_log_free(&m->log);
    m->log_ncap = m->log_pcap = 0;
}

void tn_model_log_take(tn_model_t *m, tn_model_log_t *out) {
    *out = m->log;
    m->log = (tn_model_log_t){ 0, NULL, 0, NULL, 0 };
    m->log_ncap = m->log_pcap = 0;
}

void tn_model_log_free(tn_model_log_t *log) {
    free(log->nodes);
    free(log->pairs);
    *log = (tn_model_log_t){ 0, NULL, 0, NULL, 0 };
}

static void model_clear(tn_model_t *m) {
    release_records(m, m->nodes, m->adj, m->nn, m->pairs, m->np);
    tn_hmap_destroy(&m->node_idx);
    tn_hmap_destroy(&m->pair_idx);
    m->nodes = NULL;
    m->adj = NULL;
    m->pairs = NULL;
    m->nn = m->ncap = m->np = m->pcap = 0;
}

void tn_model_free(tn_model_t *m) {
    if (m == NULL)
        return;
    model_clear(m);
    tn_model_log_free(&m->log);
    tn_val_free(&m->meta);
    free(m->home);
    free(m);
}

uint64_t tn_model_epoch(const tn_model_t *m) { return m->epoch; }
const char *tn_model_home(const tn_model_t *m) { return m->home; }
size_t tn_model_node_count(const tn_model_t *m) { return m->nn; }
size_t tn_model_pair_count(const tn_model_t *m) { return m->np; }
const tn_val_t *tn_model_meta(const tn_model_t *m) { return &m->meta; }

void tn_model_set_epoch(tn_model_t *m, uint64_t epoch) {
    m->epoch = epoch;
}

int tn_model_set_meta(tn_model_t *m, const tn_val_t *meta) {
    tn_val_t copy;
    if (tn_val_copy(&copy, meta) != 0)
        return -1;
    tn_val_free(&m->meta);
    m->meta = copy;
    return 0;
}

static long node_index(const tn_model_t *m, const char *id) {
    size_t i;
    return tn_hmap_get(&m->node_idx, id, &i) ? (long) i : -1;
}

const tn_node_t *tn_model_node(const tn_model_t *m, const char *id) {
    long i = node_index(m, id);
    return i < 0 ? NULL : m->nodes[i];
}

const tn_pair_t *tn_model_pair(const tn_model_t *m, const char *a, const char *b) {
    char *key = tn_pair_key(a, b);
    size_t i;
    int found = key && tn_hmap_get(&m->pair_idx, key, &i);
    free(key);
    return found ? m->pairs[i] : NULL;
}

const tn_pair_t *tn_model_pair_by_key(const tn_model_t *m, const char *key) {
    size_t i;
    return tn_hmap_get(&m->pair_idx, key, &i) ? m->pairs[i] : NULL;
}

size_t tn_model_node_pairs(const tn_model_t *m, const char *id, tn_pair_t *const **out) {
    long i = node_index(m, id);
    *out = NULL;
    if (i < 0)
        return 0;
    *out = m->adj[i].p;
    return m->adj[i].n;
}

tn_node_t *const *tn_model_nodes(const tn_model_t *m, size_t *n) {
    *n = m->nn;
    return m->nodes;
}

tn_pair_t *const *tn_model_pairs(const tn_model_t *m, size_t *n) {
    *n = m->np;
    return m->pairs;
}

/* ---- capacity (the only allocating steps of a commit, done in prepare) ---- */

static int reserve_nodes(tn_model_t *m, size_t extra) {
    size_t want = m->nn + extra, cap = m->ncap;   /* nodes and adj share ncap: grow both */
    if (tn_grow((void **) &m->nodes, &cap, want, 64, sizeof *m->nodes) != 0
        || tn_grow((void **) &m->adj, &m->ncap, want, 64, sizeof *m->adj) != 0)
        return -1;
    return tn_hmap_reserve(&m->node_idx, want);
}

static int reserve_pairs(tn_model_t *m, size_t extra) {
    size_t want = m->np + extra;
    if (tn_grow((void **) &m->pairs, &m->pcap, want, 64, sizeof *m->pairs) != 0)
        return -1;
    return tn_hmap_reserve(&m->pair_idx, want);
}

static int reserve_adj(adj_t *a, size_t extra) {
    return tn_grow((void **) &a->p, &a->cap, a->n + extra, 4, sizeof *a->p);
}

/* ---- mutation primitives: none allocates once capacity is reserved ---- */

/* Insert or replace node n (taking the caller's reference). For a new node
 * 'adj' is its pre-allocated adjacency (moved in). */
static void put_node(tn_model_t *m, tn_node_t *n, adj_t *adj) {
    long i = node_index(m, n->id);
    if (i >= 0) {
        tn_node_t *old = m->nodes[i];
        m->nodes[i] = n;
        tn_hmap_put(&m->node_idx, n->id, (size_t) i);   /* key now points into n */
        log_node(m, n->id);
        drop_node(m, old);
        if (adj) {
            free(adj->p);
            adj->p = NULL;
        }
        return;
    }
    m->nodes[m->nn] = n;
    if (adj) {
        m->adj[m->nn] = *adj;
        adj->p = NULL;
    } else {
        m->adj[m->nn] = (adj_t){ NULL, 0, 0 };
    }
    tn_hmap_put(&m->node_idx, n->id, m->nn);
    m->nn++;
    log_node(m, n->id);
}

static void adj_remove(adj_t *a, const tn_pair_t *p) {
    for (size_t k = 0; k < a->n; k++)
        if (a->p[k] == p) {
            a->p[k] = a->p[--a->n];
            return;
        }
}

static void adj_replace(adj_t *a, const tn_pair_t *old, tn_pair_t *p) {
    for (size_t k = 0; k < a->n; k++)
        if (a->p[k] == old) {
            a->p[k] = p;
            return;
        }
}

static void put_pair(tn_model_t *m, tn_pair_t *p) {
    size_t i;
    long ia = node_index(m, p->a), ib = node_index(m, p->b);
    if (tn_hmap_get(&m->pair_idx, p->key, &i)) {
        tn_pair_t *old = m->pairs[i];
        m->pairs[i] = p;
        tn_hmap_put(&m->pair_idx, p->key, i);
        adj_replace(&m->adj[ia], old, p);
        adj_replace(&m->adj[ib], old, p);
        log_pair(m, p->key);
        drop_pair(m, old);
        return;
    }
    m->pairs[m->np] = p;
    tn_hmap_put(&m->pair_idx, p->key, m->np);
    m->np++;
    m->adj[ia].p[m->adj[ia].n++] = p;
    m->adj[ib].p[m->adj[ib].n++] = p;
    log_pair(m, p->key);
}

static void del_pair(tn_model_t *m, const char *key) {
    size_t i;
    if (!tn_hmap_get(&m->pair_idx, key, &i))
        return;
    tn_pair_t *p = m->pairs[i];
    adj_remove(&m->adj[node_index(m, p->a)], p);
    adj_remove(&m->adj[node_index(m, p->b)], p);
    tn_hmap_del(&m->pair_idx, p->key);
    m->np--;
    if (i != m->np) {
        m->pairs[i] = m->pairs[m->np];
        tn_hmap_put(&m->pair_idx, m->pairs[i]->key, i);
    }
    log_pair(m, p->key);
    drop_pair(m, p);
}

static void del_node(tn_model_t *m, const char *id) {
    long i = node_index(m, id);
    if (i < 0)
        return;
    tn_node_t *n = m->nodes[i];
    while (m->adj[i].n > 0)
        del_pair(m, m->adj[i].p[0]->key);
    free(m->adj[i].p);
    tn_hmap_del(&m->node_idx, n->id);
    m->nn--;
    if ((size_t) i != m->nn) {
        m->nodes[i] = m->nodes[m->nn];
        m->adj[i] = m->adj[m->nn];
        tn_hmap_put(&m->node_idx, m->nodes[i]->id, (size_t) i);
    }
    log_node(m, n->id);
    drop_node(m, n);
}

/* A model holding the given records (each retained), for a hypothetical
 * graph that must not touch the live one. The records come from a
 * consistent model (a snapshot of one), so no invariant is re-checked. */
tn_model_t *tn_model_from_records(const char *home, uint64_t epoch, tn_node_t *const *nodes,
                                  size_t nn, tn_pair_t *const *pairs, size_t np) {
    tn_model_t *m = tn_model_new(home);
    if (m == NULL)
        return NULL;
    m->epoch = epoch;
    if (reserve_nodes(m, nn) != 0 || reserve_pairs(m, np) != 0) {
        tn_model_free(m);
        return NULL;
    }
    for (size_t i = 0; i < nn; i++)
        put_node(m, tn_node_retain(nodes[i]), NULL);
    /* Adjacency first (the only allocation), then the pairs. */
    for (size_t i = 0; i < np; i++) {
        long ia = node_index(m, pairs[i]->a), ib = node_index(m, pairs[i]->b);
        if (ia < 0 || ib < 0 || reserve_adj(&m->adj[ia], 1) != 0 || reserve_adj(&m->adj[ib], 1) != 0) {
            tn_model_free(m);
            return NULL;
        }
        put_pair(m, tn_pair_retain(pairs[i]));
    }
    return m;
}

/* ---- prepare ---- */

/* A staging view for validation: staged records shadow the model's; in
 * replace mode the model's do not count at all. */
typedef struct stage {
    const tn_model_t *m;
    int replace;
    tn_hmap_t ids;              /* staged node id -> index in c->nodes */
    tn_change_t *c;
} stage_t;

static const tn_node_t *lookup(const stage_t *st, const char *id) {
    size_t i;
    if (tn_hmap_get(&st->ids, id, &i))
        return st->c->nodes[i];
    return st->replace ? NULL : tn_model_node(st->m, id);
}

static void change_free_records(tn_change_t *c) {
    release_records(NULL, c->nodes, c->new_adj, c->nn, c->pairs, c->np);
    c->nodes = NULL;
    c->pairs = NULL;
    c->new_adj = NULL;
    c->nn = c->np = 0;
}

void tn_change_free(tn_change_t *c) {
    if (c == NULL)
        return;
    change_free_records(c);
    free(c->del_id);
    free(c->del_key);
    tn_model_free(c->replacement);
    free(c);
}

int tn_change_is_dry_run(const tn_change_t *c) { return c->dry_run; }

/* Report a reference problem: a batch detail, or the message of a single op. */
static void ref_error(tn_error_t *err, int batch, int64_t index, tn_code_t single_code,
                      const char *field, const char *reason, const char *id) {
    if (batch) {
        /* Node fields are the ones a node check names; the rest are pairs'. */
        int is_pair = strcmp(field, "a") == 0 || strcmp(field, "b") == 0 || strcmp(field, "pair") == 0;
        char qualified[64];
        snprintf(qualified, sizeof qualified, "%s.%s", is_pair ? "pairs" : "nodes", field);
        tn_error_detail(err, index, qualified, "%s%s%s", reason, id ? ": " : "", id ? id : "");
        tn_error_set(err, TN_ERR_INVALID_PARAMS, "invalid records in batch");
    } else {
        tn_error_set(err, single_code, "%s: %s%s%s", field, reason, id ? ": " : "", id ? id : "");
    }
}

/* Check node n's references against the staged view. */
static int check_node_refs(const stage_t *st, const tn_node_t *n, int batch, int64_t index,
                           tn_error_t *err) {
    if (n->kind == TN_NODE_COUNTRY)
        return 0;
    const tn_node_t *c = lookup(st, n->country);
    if (c == NULL || c->kind != TN_NODE_COUNTRY) {
        ref_error(err, batch, index, TN_ERR_NOT_FOUND, "country", "no such country node", n->country);
        return -1;
    }
    if (n->parent == NULL)
        return 0;
    const tn_node_t *p = lookup(st, n->parent);
    if (p == NULL || p->kind == TN_NODE_COUNTRY) {
        ref_error(err, batch, index, TN_ERR_NOT_FOUND, "parent", "no such province or city",
                  n->parent);
        return -1;
    }
    if (strcmp(p->country, n->country) != 0) {
        ref_error(err, batch, index, TN_ERR_CONFLICT, "parent", "parent is in another country",
                  n->parent);
        return -1;
    }
    /* Walk up: reaching n again means a cycle. */
    for (int depth = 0; p != NULL && p->parent != NULL; depth++) {
        if (strcmp(p->parent, n->id) == 0 || depth >= MAX_PARENT_DEPTH) {
            ref_error(err, batch, index, TN_ERR_CONFLICT, "parent",
                      depth >= MAX_PARENT_DEPTH ? "parent chain too deep" : "parent chain has a cycle",
                      n->parent);
            return -1;
        }
        p = lookup(st, p->parent);
    }
    return 0;
}

/* When an existing node changes kind, nodes and pairs that relied on the old
 * kind would break an invariant: refuse (docs/protocol.md, "Errors", conflict). */
static int check_kind_change(const stage_t *st, const tn_node_t *n, int batch, int64_t index,
                             tn_error_t *err) {
    const tn_model_t *m = st->m;
    const tn_node_t *old = st->replace ? NULL : tn_model_node(m, n->id);
    if (old == NULL || old->kind == n->kind)
        return 0;
    int was_country = old->kind == TN_NODE_COUNTRY, is_country = n->kind == TN_NODE_COUNTRY;
    if (was_country == is_country)
        return 0;                        /* province <-> city changes nothing structural */
    tn_pair_t *const *ps;
    if (is_country && tn_model_node_pairs(m, n->id, &ps) > 0) {
        ref_error(err, batch, index, TN_ERR_CONFLICT, "kind", "a node with pairs cannot become a country",
                  n->id);
        return -1;
    }
    for (size_t i = 0; i < m->nn; i++) {
        const tn_node_t *o = m->nodes[i];
        const tn_node_t *staged = lookup(st, o->id);
        if (staged != o)
            continue;                    /* replaced in this batch: checked on its own */
        if ((was_country && o->country && strcmp(o->country, n->id) == 0)
            || (!was_country && o->parent && strcmp(o->parent, n->id) == 0)) {
            ref_error(err, batch, index, TN_ERR_CONFLICT, "kind",
                      "other nodes refer to this node under its current kind", o->id);
            return -1;
        }
    }
    return 0;
}

static int check_pair_refs(const stage_t *st, const tn_pair_t *p, int batch, int64_t index,
                           tn_error_t *err) {
    const char *ends[2] = { p->a, p->b };
    const char *fields[2] = { "a", "b" };
    for (int k = 0; k < 2; k++) {
        const tn_node_t *n = lookup(st, ends[k]);
        if (n == NULL) {
            ref_error(err, batch, index, TN_ERR_NOT_FOUND, fields[k], "no such node", ends[k]);
            return -1;
        }
        if (n->kind == TN_NODE_COUNTRY) {
            ref_error(err, batch, index, TN_ERR_INVALID_PARAMS, fields[k],
                      "pairs join provinces and cities, not countries", ends[k]);
            return -1;
        }
    }
    return 0;
}

static const char *const batch_keys[] = { "nodes", "pairs", "mode", "dry_run", NULL };

static tn_code_t opts_only(const tn_val_t *opts, const char *const *allowed, tn_error_t *err) {
    if (opts == NULL || opts->type == TN_V_NIL)
        return TN_OK;
    if (opts->type != TN_V_MAP)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "options must be a map");
    for (size_t i = 0; i < opts->u.m.n; i++) {
        int ok = 0;
        for (size_t j = 0; allowed[j]; j++)
            ok |= strcmp(allowed[j], opts->u.m.kv[i].key) == 0;
        if (!ok)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS, "unknown option: %s",
                                TN_CLIP(opts->u.m.kv[i].key, 64));
    }
    return TN_OK;
}

/* Stage the records of nodes[]/pairs[] arrays: parse each, reject duplicates,
 * check references. 'batch' selects per-record details. */
static tn_code_t stage_records(stage_t *st, const tn_val_t *nodes, const tn_val_t *pairs,
                               int batch, tn_error_t *err) {
    tn_change_t *c = st->c;
    size_t nn = nodes ? nodes->u.a.n : 0, np = pairs ? pairs->u.a.n : 0;
    /* Where each staged node stood in the request, for error details:
     * records that failed their own checks are not staged. */
    size_t *src = NULL;
    if ((nn && (c->nodes = calloc(nn, sizeof *c->nodes)) == NULL)
        || (np && (c->pairs = calloc(np, sizeof *c->pairs)) == NULL)
        || (nn && (src = calloc(nn, sizeof *src)) == NULL)
        || tn_hmap_reserve(&st->ids, nn) != 0) {
        free(src);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    int bad = 0;
    /* A detail's index is the record's position in its own array; its field
     * says which array ("nodes.country", "pairs.b"). */
    for (size_t i = 0; i < nn; i++) {
        tn_node_t *n;
        if (tn_node_from_val(&nodes->u.a.items[i], batch ? (int64_t) i : -1, &n, err) != TN_OK) {
            if (err->code == TN_ERR_INTERNAL) {
                free(src);
                return TN_ERR_INTERNAL;
            }
            bad = 1;
            continue;
        }
        size_t dup;
        if (tn_hmap_get(&st->ids, n->id, &dup)) {
            ref_error(err, batch, (int64_t) i, TN_ERR_INVALID_PARAMS, "id",
                      "duplicate node id in batch", n->id);
            tn_node_release(n);
            bad = 1;
            continue;
        }
        c->nodes[c->nn] = n;
        src[c->nn] = i;
        tn_hmap_put(&st->ids, n->id, c->nn);
        c->nn++;
    }
    if (bad && !batch) {
        free(src);
        return err->code;
    }
    for (size_t i = 0; i < c->nn; i++) {
        int64_t index = batch ? (int64_t) src[i] : -1;
        if (check_node_refs(st, c->nodes[i], batch, index, err) != 0
            || check_kind_change(st, c->nodes[i], batch, index, err) != 0)
            bad = 1;
    }
    free(src);
    if (bad && !batch)
        return err->code;

    tn_hmap_t keys;
    tn_hmap_init(&keys);
    if (tn_hmap_reserve(&keys, np) != 0)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < np; i++) {
        int64_t index = batch ? (int64_t) i : -1;
        tn_pair_t *p;
        if (tn_pair_from_val(&pairs->u.a.items[i], index, &p, err) != TN_OK) {
            if (err->code == TN_ERR_INTERNAL) {
                tn_hmap_destroy(&keys);
                return TN_ERR_INTERNAL;
            }
            bad = 1;
            continue;
        }
        size_t dup;
        if (tn_hmap_get(&keys, p->key, &dup)) {
            char shown[2 * TN_ID_MAX + 8];
            snprintf(shown, sizeof shown, "%s - %s", p->a, p->b);
            ref_error(err, batch, index, TN_ERR_INVALID_PARAMS, "pair", "duplicate pair in batch",
                      shown);
            tn_pair_release(p);
            bad = 1;
            continue;
        }
        if (check_pair_refs(st, p, batch, index, err) != 0) {
            tn_pair_release(p);
            bad = 1;
            continue;
        }
        c->pairs[c->np] = p;
        tn_hmap_put(&keys, p->key, c->np);
        c->np++;
    }
    tn_hmap_destroy(&keys);
    if (bad) {
        /* Details name the records in the batch; for a pair the index is
         * its position in "pairs", for a node in "nodes". */
        if (batch && err->data.type == TN_V_ARR)
            tn_error_set(err, TN_ERR_INVALID_PARAMS, "invalid records in batch");
        return err->code ? err->code : TN_ERR_INVALID_PARAMS;
    }
    return TN_OK;
}

/* Count added/updated/unchanged against the model, and reserve every byte a
 * commit in place will need. */
static tn_code_t plan_in_place(tn_model_t *m, tn_change_t *c, tn_error_t *err) {
    size_t new_nodes = 0, new_pairs = 0;
    for (size_t i = 0; i < c->nn; i++) {
        const tn_node_t *old = tn_model_node(m, c->nodes[i]->id);
        if (old == NULL)
            new_nodes++, c->nodes_added++;
        else if (tn_node_same(old, c->nodes[i]))
            c->nodes_unchanged++;
        else
            c->nodes_updated++;
    }
    if (c->nn && (c->new_adj = calloc(c->nn, sizeof *c->new_adj)) == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < c->np; i++) {
        const tn_pair_t *p = c->pairs[i];
        size_t idx;
        if (tn_hmap_get(&m->pair_idx, p->key, &idx)) {
            if (tn_pair_same(m->pairs[idx], p))
                c->pairs_unchanged++;
            else
                c->pairs_updated++;
            continue;
        }
        new_pairs++;
        c->pairs_added++;
    }
    if (c->dry_run)
        return TN_OK;
    if (reserve_nodes(m, new_nodes) != 0 || reserve_pairs(m, new_pairs) != 0)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    /* Adjacency: count new pairs per end, then grow each vector once. New
     * nodes get vectors of their own in c->new_adj. */
    tn_hmap_t staged;
    tn_hmap_init(&staged);
    if (tn_hmap_reserve(&staged, c->nn) != 0)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < c->nn; i++)
        tn_hmap_put(&staged, c->nodes[i]->id, i);
    size_t *extra_old = calloc(m->nn ? m->nn : 1, sizeof *extra_old);
    if (extra_old == NULL) {
        tn_hmap_destroy(&staged);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < c->np; i++) {
        const tn_pair_t *p = c->pairs[i];
        size_t idx;
        if (tn_hmap_get(&m->pair_idx, p->key, &idx))
            continue;
        const char *ends[2] = { p->a, p->b };
        for (int k = 0; k < 2; k++) {
            long oi = node_index(m, ends[k]);
            size_t si;
            if (oi >= 0)
                extra_old[oi]++;
            else if (tn_hmap_get(&staged, ends[k], &si))
                c->new_adj[si].cap++;        /* counted here, allocated below */
        }
    }
    tn_code_t rc = TN_OK;
    for (size_t i = 0; i < m->nn && rc == TN_OK; i++)
        if (extra_old[i] && reserve_adj(&m->adj[i], extra_old[i]) != 0)
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < c->nn && rc == TN_OK; i++) {
        size_t want = c->new_adj[i].cap;
        c->new_adj[i].cap = 0;
        if (want && reserve_adj(&c->new_adj[i], want) != 0)
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    free(extra_old);
    tn_hmap_destroy(&staged);
    return rc;
}

/* Mode "replace": build the whole new model now; commit swaps it in. */
static tn_code_t plan_replace(const tn_model_t *m, tn_change_t *c, tn_error_t *err) {
    for (size_t i = 0; i < c->nn; i++) {
        const tn_node_t *old = tn_model_node(m, c->nodes[i]->id);
        if (old == NULL)
            c->nodes_added++;
        else if (tn_node_same(old, c->nodes[i]))
            c->nodes_unchanged++;
        else
            c->nodes_updated++;
    }
    for (size_t i = 0; i < c->np; i++) {
        size_t idx;
        if (!tn_hmap_get(&m->pair_idx, c->pairs[i]->key, &idx))
            c->pairs_added++;
        else if (tn_pair_same(m->pairs[idx], c->pairs[i]))
            c->pairs_unchanged++;
        else
            c->pairs_updated++;
    }
    c->nodes_removed = m->nn - (c->nodes_updated + c->nodes_unchanged);
    c->pairs_removed = m->np - (c->pairs_updated + c->pairs_unchanged);
    if (c->dry_run)
        return TN_OK;
    tn_model_t *r = tn_model_new(m->home);
    if (r == NULL || reserve_nodes(r, c->nn) != 0 || reserve_pairs(r, c->np) != 0)
        goto oom;
    for (size_t i = 0; i < c->nn; i++)
        put_node(r, tn_node_retain(c->nodes[i]), NULL);
    for (size_t i = 0; i < r->nn; i++)
        r->adj[i] = (adj_t){ NULL, 0, 0 };
    for (size_t i = 0; i < c->np; i++) {
        const tn_pair_t *p = c->pairs[i];
        if (reserve_adj(&r->adj[node_index(r, p->a)], 1) != 0
            || reserve_adj(&r->adj[node_index(r, p->b)], 1) != 0)
            goto oom;
        put_pair(r, tn_pair_retain(c->pairs[i]));
    }
    c->replacement = r;
    return TN_OK;
oom:
    tn_model_free(r);
    return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
}

static tn_code_t prepare_delete_node(const tn_model_t *m, const tn_val_t *opts, tn_change_t *c,
                                     tn_error_t *err) {
    static const char *const keys[] = { "id", "cascade", NULL };
    if (opts_only(opts, keys, err) != TN_OK)
        return err->code;
    const tn_val_t *id = tn_map_get(opts, "id");
    const tn_val_t *cascade = tn_map_get(opts, "cascade");
    if (id == NULL || id->type != TN_V_STR)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "id: is required and must be a string");
    if (cascade && cascade->type != TN_V_BOOL && cascade->type != TN_V_NIL)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "cascade: must be a boolean");
    const tn_node_t *n = tn_model_node(m, id->u.s.p);
    if (n == NULL)
        return tn_error_set(err, TN_ERR_NOT_FOUND, "no node %s", TN_CLIP(id->u.s.p, 128));
    tn_pair_t *const *ps;
    size_t deg = tn_model_node_pairs(m, n->id, &ps);
    if (deg > 0 && !(cascade && cascade->type == TN_V_BOOL && cascade->u.b))
        return tn_error_set(err, TN_ERR_CONFLICT,
                            "node %s has %zu pairs; delete them first or pass cascade: true",
                            TN_CLIP(n->id, 128), deg);
    for (size_t i = 0; i < m->nn; i++) {
        const tn_node_t *o = m->nodes[i];
        if ((o->parent && strcmp(o->parent, n->id) == 0)
            || (o->country && strcmp(o->country, n->id) == 0))
            return tn_error_set(err, TN_ERR_CONFLICT,
                                "node %s is the parent or country of %s; change or delete that first",
                                TN_CLIP(n->id, 128), TN_CLIP(o->id, 128));
    }
    if ((c->del_id = strdup(n->id)) == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    c->nodes_removed = 1;
    c->pairs_removed = deg;
    return TN_OK;
}

static tn_code_t prepare_delete_pair(const tn_model_t *m, const tn_val_t *opts, tn_change_t *c,
                                     tn_error_t *err) {
    static const char *const keys[] = { "a", "b", NULL };
    if (opts_only(opts, keys, err) != TN_OK)
        return err->code;
    const char *a = tn_val_str(tn_map_get(opts, "a")), *b = tn_val_str(tn_map_get(opts, "b"));
    if (a == NULL || b == NULL)
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "a, b: both are required strings");
    const tn_pair_t *p = tn_model_pair(m, a, b);
    if (p == NULL)
        return tn_error_set(err, TN_ERR_NOT_FOUND, "no pair %s - %s", TN_CLIP(a, 128),
                            TN_CLIP(b, 128));
    if ((c->del_key = strdup(p->key)) == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    c->pairs_removed = 1;
    return TN_OK;
}

tn_code_t tn_change_prepare(const tn_model_t *m, tn_change_kind_t kind, const tn_val_t *opts,
                            tn_change_t **out, tn_error_t *err) {
    *out = NULL;
    tn_change_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    c->base_epoch = m->epoch;
    stage_t st = { m, 0, { NULL, 0, 0 }, c };
    tn_code_t rc;
    /* One-element arrays let single upserts share the batch path. */
    tn_val_t one = TN_VAL_NIL;

    switch (kind) {
    case TN_CHANGE_NODE_UPSERT:
    case TN_CHANGE_PAIR_UPSERT: {
        int is_node = kind == TN_CHANGE_NODE_UPSERT;
        static const char *const nkeys[] = { "node", NULL }, *const pkeys[] = { "pair", NULL };
        c->op = is_node ? OP_NODE_UPSERT : OP_PAIR_UPSERT;
        if ((rc = opts_only(opts, is_node ? nkeys : pkeys, err)) != TN_OK)
            goto done;
        const tn_val_t *rec = tn_map_get(opts, is_node ? "node" : "pair");
        if (rec == NULL || rec->type != TN_V_MAP) {
            rc = tn_error_set(err, TN_ERR_INVALID_PARAMS, "%s: is required and must be a map",
                              is_node ? "node" : "pair");
            goto done;
        }
        tn_val_t copy;
        if (tn_val_set_arr(&one, 1) != 0 || tn_val_copy(&copy, rec) != 0
            || tn_arr_push_take(&one, &copy) != 0) {
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
            goto done;
        }
        rc = stage_records(&st, is_node ? &one : NULL, is_node ? NULL : &one, 0, err);
        if (rc == TN_OK)
            rc = plan_in_place((tn_model_t *) m, c, err);
        break;
    }
    case TN_CHANGE_BATCH: {
        c->op = OP_BATCH;
        if ((rc = opts_only(opts, batch_keys, err)) != TN_OK)
            goto done;
        const tn_val_t *nodes = tn_map_get(opts, "nodes"), *pairs = tn_map_get(opts, "pairs");
        const tn_val_t *mode = tn_map_get(opts, "mode"), *dry = tn_map_get(opts, "dry_run");
        if (nodes && nodes->type == TN_V_NIL)
            nodes = NULL;
        if (pairs && pairs->type == TN_V_NIL)
            pairs = NULL;
        if ((nodes && nodes->type != TN_V_ARR) || (pairs && pairs->type != TN_V_ARR)) {
            rc = tn_error_set(err, TN_ERR_INVALID_PARAMS, "nodes, pairs: must be arrays of maps");
            goto done;
        }
        if (mode && mode->type != TN_V_NIL) {
            const char *ms = tn_val_str(mode);
            if (ms && strcmp(ms, "replace") == 0)
                c->replace = 1;
            else if (!ms || strcmp(ms, "upsert") != 0) {
                rc = tn_error_set(err, TN_ERR_INVALID_PARAMS, "mode: must be upsert or replace");
                goto done;
            }
        }
        if (dry && dry->type != TN_V_NIL) {
            if (dry->type != TN_V_BOOL) {
                rc = tn_error_set(err, TN_ERR_INVALID_PARAMS, "dry_run: must be a boolean");
                goto done;
            }
            c->dry_run = dry->u.b;
        }
        st.replace = c->replace;
        rc = stage_records(&st, nodes, pairs, 1, err);
        if (rc == TN_OK)
            rc = c->replace ? plan_replace(m, c, err) : plan_in_place((tn_model_t *) m, c, err);
        break;
    }
    case TN_CHANGE_NODE_DELETE:
        c->op = OP_NODE_DELETE;
        rc = prepare_delete_node(m, opts, c, err);
        break;
    case TN_CHANGE_PAIR_DELETE:
        c->op = OP_PAIR_DELETE;
        rc = prepare_delete_pair(m, opts, c, err);
        break;
    default:
        rc = tn_error_set(err, TN_ERR_METHOD_NOT_FOUND, "not a change kind: %d", (int) kind);
        break;
    }
done:
    tn_val_free(&one);
    tn_hmap_destroy(&st.ids);
    if (rc != TN_OK) {
        tn_change_free(c);
        return rc;
    }
    *out = c;
    return TN_OK;
}

void tn_change_commit(tn_model_t *m, tn_change_t *c) {
    if (c->dry_run)
        return;
    switch (c->op) {
    case OP_NODE_DELETE:
        del_node(m, c->del_id);
        break;
    case OP_PAIR_DELETE:
        del_pair(m, c->del_key);
        break;
    default:
        if (c->replacement) {
            /* Swap storage with the replacement; it then frees the old. */
            tn_model_t tmp = *m;
            tn_model_t *r = c->replacement;
            m->nodes = r->nodes; m->adj = r->adj; m->nn = r->nn; m->ncap = r->ncap;
            m->node_idx = r->node_idx; m->pairs = r->pairs; m->np = r->np; m->pcap = r->pcap;
            m->pair_idx = r->pair_idx;
            r->nodes = tmp.nodes; r->adj = tmp.adj; r->nn = tmp.nn; r->ncap = tmp.ncap;
            r->node_idx = tmp.node_idx; r->pairs = tmp.pairs; r->np = tmp.np; r->pcap = tmp.pcap;
            r->pair_idx = tmp.pair_idx;
            /* The old records leave with r, through the same follower. */
            r->retire = m->retire;
            r->retire_arg = m->retire_arg;
            if (m->retire != NULL)
                log_all(m);
            /* The dataset's notes (official reference, verified counts,
             * peers) describe what was loaded; a replace loads something
             * else, and no import carries notes, so they go. graph.stats
             * then reports computed figures only (docs/protocol.md). */
            tn_val_free(&m->meta);
            break;
        }
        for (size_t i = 0; i < c->nn; i++) {
            put_node(m, c->nodes[i], c->new_adj ? &c->new_adj[i] : NULL);
            c->nodes[i] = NULL;
        }
        for (size_t i = 0; i < c->np; i++) {
            put_pair(m, c->pairs[i]);
            c->pairs[i] = NULL;
        }
        break;
    }
    m->epoch++;
    c->base_epoch = m->epoch;   /* now names the epoch the change produced */
}

int tn_change_result(const tn_model_t *m, const tn_change_t *c, tn_val_t *out) {
    (void) m;
    if (tn_val_set_map(out, 10) != 0)
        return -1;
    int rc = tn_map_add_int(out, "epoch", (int64_t) c->base_epoch);
    if (c->op == OP_BATCH) {
        rc |= tn_map_add_int(out, "nodes_added", (int64_t) c->nodes_added);
        rc |= tn_map_add_int(out, "nodes_updated", (int64_t) c->nodes_updated);
        rc |= tn_map_add_int(out, "nodes_unchanged", (int64_t) c->nodes_unchanged);
        rc |= tn_map_add_int(out, "pairs_added", (int64_t) c->pairs_added);
        rc |= tn_map_add_int(out, "pairs_updated", (int64_t) c->pairs_updated);
        rc |= tn_map_add_int(out, "pairs_unchanged", (int64_t) c->pairs_unchanged);
        rc |= tn_map_add_int(out, "nodes_removed", (int64_t) c->nodes_removed);
        rc |= tn_map_add_int(out, "pairs_removed", (int64_t) c->pairs_removed);
        rc |= tn_map_add_bool(out, "dry_run", c->dry_run);
    } else if (c->op == OP_NODE_DELETE) {
        rc |= tn_map_add_int(out, "pairs_removed", (int64_t) c->pairs_removed);
    }
    if (rc != 0)
        tn_val_free(out);
    return rc ? -1 : 0;
}

tn_code_t tn_model_apply(tn_model_t *m, tn_change_kind_t kind, const tn_val_t *opts,
                         tn_val_t *result, tn_error_t *err) {
    tn_change_t *c;
    tn_code_t rc = tn_change_prepare(m, kind, opts, &c, err);
    if (rc != TN_OK)
        return rc;
    tn_change_commit(m, c);
    if (result && tn_change_result(m, c, result) != 0)
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    tn_change_free(c);
    return rc;
}
