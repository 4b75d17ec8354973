/*
 * hmap.c -- linear probing with backward-shift deletion; load factor 1/2.
 */
#include "hmap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

uint64_t tn_hmap_hash(const char *key) {
    /* FNV-1a, then a final mix so that low bits depend on every byte. */
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *) key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

void tn_hmap_init(tn_hmap_t *h) {
    h->slots = NULL;
    h->cap = 0;
    h->n = 0;
}

void tn_hmap_destroy(tn_hmap_t *h) {
    free(h->slots);
    tn_hmap_init(h);
}

static void insert_slot(tn_hmap_slot_t *slots, size_t cap, const char *key, uint64_t hash,
                        size_t val) {
    size_t i = (size_t) hash & (cap - 1);
    while (slots[i].key != NULL)
        i = (i + 1) & (cap - 1);
    slots[i].key = key;
    slots[i].hash = hash;
    slots[i].val = val;
}

int tn_hmap_reserve(tn_hmap_t *h, size_t n) {
    size_t want = 16;
    while (want < n * 2)
        want *= 2;
    if (want <= h->cap)
        return 0;
    tn_hmap_slot_t *ns = calloc(want, sizeof *ns);
    if (ns == NULL)
        return -1;
    for (size_t i = 0; i < h->cap; i++)
        if (h->slots[i].key != NULL)
            insert_slot(ns, want, h->slots[i].key, h->slots[i].hash, h->slots[i].val);
    free(h->slots);
    h->slots = ns;
    h->cap = want;
    return 0;
}

static size_t find(const tn_hmap_t *h, const char *key, uint64_t hash, int *found) {
    size_t i = (size_t) hash & (h->cap - 1);
    while (h->slots[i].key != NULL) {
        if (h->slots[i].hash == hash && strcmp(h->slots[i].key, key) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & (h->cap - 1);
    }
    *found = 0;
    return i;
}

int tn_hmap_get(const tn_hmap_t *h, const char *key, size_t *val) {
    if (h->cap == 0)
        return 0;
    int found;
    size_t i = find(h, key, tn_hmap_hash(key), &found);
    if (found)
        *val = h->slots[i].val;
    return found;
}

int tn_hmap_put(tn_hmap_t *h, const char *key, size_t val) {
    uint64_t hash = tn_hmap_hash(key);
    int found = 0;
    size_t i = 0;
    if (h->cap) {
        i = find(h, key, hash, &found);
        if (found) {
            h->slots[i].key = key;
            h->slots[i].val = val;
            return 0;
        }
    }
    if ((h->n + 1) * 2 > h->cap) {
        if (tn_hmap_reserve(h, h->n + 1) != 0)
            return -1;
        i = find(h, key, hash, &found);
    }
    /* The load factor stays at most 1/2, so a probe always ends on a free slot. */
    assert(h->slots[i].key == NULL && (h->n + 1) * 2 <= h->cap);
    h->slots[i].key = key;
    h->slots[i].hash = hash;
    h->slots[i].val = val;
    h->n++;
    return 0;
}

int tn_hmap_del(tn_hmap_t *h, const char *key) {
    if (h->cap == 0)
        return 0;
    int found;
    size_t i = find(h, key, tn_hmap_hash(key), &found);
    if (!found)
        return 0;
    assert(h->n > 0);
    size_t mask = h->cap - 1;
    /* Backward shift: pull later entries of the probe run into the hole
     * whenever their home slot does not lie between the hole and them. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (h->slots[j].key == NULL)
            break;
        size_t home = (size_t) h->slots[j].hash & mask;
        int between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            h->slots[i] = h->slots[j];
            i = j;
        }
    }
    h->slots[i].key = NULL;
    h->n--;
    return 1;
}
