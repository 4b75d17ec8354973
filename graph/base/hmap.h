/*
 * hmap.h -- an open-addressing hash from borrowed C strings to indices.
 *
 * Keys are not copied: each key points into the record it names (a node's
 * id, a pair's key), and the owner updates the pointer when it swaps the
 * record (tn_hmap_put on an existing key does so). Deletion shifts entries
 * back instead of leaving tombstones, so a table never degrades under churn.
 * tn_hmap_reserve() lets the model allocate before a commit, so that the
 * commit itself never allocates (model.h).
 */
#ifndef TN_HMAP_H
#define TN_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct tn_hmap_slot {
    const char *key;      /* NULL = empty */
    uint64_t hash;
    size_t val;
} tn_hmap_slot_t;

typedef struct tn_hmap {
    tn_hmap_slot_t *slots;
    size_t cap;           /* a power of two, or 0 */
    size_t n;
} tn_hmap_t;

void tn_hmap_init(tn_hmap_t *h);
void tn_hmap_destroy(tn_hmap_t *h);

/* Make room for 'n' entries in all, so that inserts up to that count do not
 * allocate. 0, or -1 on out-of-memory (table unchanged). */
int tn_hmap_reserve(tn_hmap_t *h, size_t n);

/* Value of 'key' in *val; 1 if found, 0 if not. */
int tn_hmap_get(const tn_hmap_t *h, const char *key, size_t *val);

/* Insert or update (the stored key pointer becomes 'key'). Allocates only
 * when the table is over its load factor: 0, or -1 on out-of-memory. */
int tn_hmap_put(tn_hmap_t *h, const char *key, size_t val);

/* Remove 'key' if present; 1 if it was there. Never allocates. */
int tn_hmap_del(tn_hmap_t *h, const char *key);

uint64_t tn_hmap_hash(const char *key);

#endif
