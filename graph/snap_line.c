/*
 * snap_line.c -- one model's published snapshots (snap.h, "a line").
 *
 * Eras. Every published snapshot belongs to an era: the era of epoch e
 * holds the records the model dropped after e was published (replaced or
 * removed by later changes), which snapshot e, and older ones, may still
 * read. An era holds a reference on the next (newer) one, so eras die
 * oldest first, and a record is freed only when every snapshot that could
 * read it is gone. The line holds the current era, where the model's
 * retire hook puts what it drops now. Nothing per record happens on
 * publish or release beyond the records that changed.
 *
 * Derivation. The model logs the ids and keys each commit touched; the
 * next snapshot merges those records into the last snapshot's sorted
 * arrays (tn_snap_derive) instead of sorting every record again. A log
 * that says "all" (a replace import, or a log that could not grow), a
 * last publish that failed, or a failed derivation rebuilds from scratch.
 */
#include "snap.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

typedef struct tn_snap_era {
    atomic_int refs;            /* its snapshots, the previous era, the line while current */
    struct tn_snap_era *next;   /* the newer era (one reference), once there is one */
    tn_node_t **nodes;          /* what the model dropped while this era was current */
    size_t nn, ncap;
    tn_pair_t **pairs;
    size_t np, pcap;
} tn_snap_era_t;

struct tn_snap_line {
    tn_model_t *model;
    tn_snap_era_t *cur;
    tn_snap_t *last;            /* the last snapshot published (a reference), or NULL */
    int rebuild;                /* the log since 'last' was lost: rebuild next time */
    tn_snap_line_stats_t stats;
};

static tn_snap_era_t *era_new(void) {
    tn_snap_era_t *e = calloc(1, sizeof *e);
    if (e != NULL)
        atomic_init(&e->refs, 1);
    return e;
}

/* Drop one reference; an era whose last one goes frees its records and
 * drops its reference on the next era, and so on down the line. Iterative:
 * thousands of eras may go at once when an old snapshot is released. */
void tn_snap_era_release(tn_snap_era_t *e) {
    while (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1) {
        for (size_t i = 0; i < e->nn; i++)
            tn_node_release(e->nodes[i]);
        for (size_t i = 0; i < e->np; i++)
            tn_pair_release(e->pairs[i]);
        free(e->nodes);
        free(e->pairs);
        tn_snap_era_t *next = e->next;
        free(e);
        e = next;
    }
}

/* The model's retire hook (writer thread): keep the record until its era
 * dies. If the era cannot grow, the record is never freed (counted as
 * leaked): freeing it now could pull it from under a reader. */
static void retire(void *arg, tn_node_t *node, tn_pair_t *pair) {
    tn_snap_line_t *l = arg;
    tn_snap_era_t *e = l->cur;
    l->stats.retired++;
    if (node != NULL) {
        if (tn_grow((void **) &e->nodes, &e->ncap, e->nn + 1, 16, sizeof *e->nodes) != 0) {
            l->stats.leaked++;
            return;
        }
        e->nodes[e->nn++] = node;
    } else {
        if (tn_grow((void **) &e->pairs, &e->pcap, e->np + 1, 16, sizeof *e->pairs) != 0) {
            l->stats.leaked++;
            return;
        }
        e->pairs[e->np++] = pair;
    }
}

tn_snap_line_t *tn_snap_line_new(tn_model_t *m) {
    tn_snap_line_t *l = calloc(1, sizeof *l);
    if (l == NULL || (l->cur = era_new()) == NULL) {
        free(l);
        return NULL;
    }
    l->model = m;
    l->rebuild = 1;
    tn_model_follow(m, retire, l);
    return l;
}

void tn_snap_line_free(tn_snap_line_t *l) {
    if (l == NULL)
        return;
    tn_snap_release(l->last);
    tn_snap_era_release(l->cur);
    free(l);
}

void tn_snap_line_stats(const tn_snap_line_t *l, tn_snap_line_stats_t *out) {
    *out = l->stats;
}

/* A snapshot of the model with its arrays allocated but not filled, in
 * era 'e' (which it takes a reference on). NULL on out-of-memory. */
static tn_snap_t *shell(const tn_model_t *m, tn_snap_era_t *e) {
    tn_snap_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    atomic_init(&s->refs, 1);
    atomic_fetch_add(&e->refs, 1);
    s->era = e;
    s->epoch = tn_model_epoch(m);
    s->home_idx = -1;
    s->nnodes = tn_model_node_count(m);
    s->npairs = tn_model_pair_count(m);
    s->home = strdup(tn_model_home(m) ? tn_model_home(m) : TN_DEFAULT_HOME);
    s->nodes = malloc((s->nnodes ? s->nnodes : 1) * sizeof *s->nodes);
    s->pairs = malloc((s->npairs ? s->npairs : 1) * sizeof *s->pairs);
    if (s->home == NULL || s->nodes == NULL || s->pairs == NULL
        || (tn_model_meta(m) != NULL && tn_val_copy(&s->meta, tn_model_meta(m)) != 0)) {
        tn_snap_release(s);
        return NULL;
    }
    return s;
}

tn_snap_t *tn_snap_line_publish(tn_snap_line_t *l, tn_error_t *err) {
    tn_model_log_t log;
    tn_model_log_take(l->model, &log);
    tn_snap_era_t *e = era_new();
    tn_snap_t *s = e ? shell(l->model, e) : NULL;
    tn_code_t rc = TN_ERR_INTERNAL;
    if (s == NULL) {
        tn_error_set(err, TN_ERR_INTERNAL, "out of memory publishing a snapshot");
        goto fail;
    }
    if (!l->rebuild && !log.all && l->last != NULL && l->last->built) {
        tn_error_t derr = TN_ERROR_INIT;
        rc = tn_snap_derive(s, l->last, l->model, &log, &derr);
        tn_error_clear(&derr);      /* a failed derivation just rebuilds */
    }
    if (rc == TN_OK) {
        l->stats.derived++;
    } else {
        size_t n;
        tn_node_t *const *nodes = tn_model_nodes(l->model, &n);
        tn_pair_t *const *pairs = tn_model_pairs(l->model, &n);
        if (s->nnodes > 0)          /* an empty model's arrays may be NULL */
            memcpy(s->nodes, nodes, s->nnodes * sizeof *s->nodes);
        if (s->npairs > 0)
            memcpy(s->pairs, pairs, s->npairs * sizeof *s->pairs);
        if ((rc = tn_snap_build(s, err)) != TN_OK)
            goto fail;
        l->stats.rebuilt++;
    }
    tn_model_log_free(&log);
    /* The new era follows the current one, and becomes current. */
    atomic_fetch_add(&e->refs, 1);
    l->cur->next = e;
    tn_snap_era_t *old = l->cur;
    l->cur = e;
    tn_snap_era_release(old);
    tn_snap_release(l->last);
    l->last = tn_snap_retain(s);
    l->rebuild = 0;
    return s;
fail:
    /* What the model dropped still goes to the current era; the log is
     * gone, so the next publish starts from scratch. */
    tn_model_log_free(&log);
    tn_snap_release(s);
    tn_snap_era_release(e);
    l->rebuild = 1;
    return NULL;
}
