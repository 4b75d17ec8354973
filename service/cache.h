/*
 * cache.h -- query answers of the current epoch, keyed by method and
 * options, kept encoded (MessagePack) so that a repeated dashboard query
 * costs a hash look-up and a copy of bytes. Any change empties it.
 * Which methods are cached, and which options are left out of the key,
 * is said by the method registry (registry.h). Loop thread only.
 */
#ifndef TN_CACHE_H
#define TN_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "hmap.h"
#include "opts.h"
#include "value.h"

typedef struct tn_cache_entry {
    char *key;
    tn_val_t result;              /* kept only when asked (live answers add to it) */
    char *enc;                    /* the result, encoded once */
    size_t enc_len;
} tn_cache_entry_t;

typedef struct tn_cache {
    tn_hmap_t map;                /* key -> index in e */
    tn_cache_entry_t *e;
    size_t n, cap;
    size_t bytes;                 /* encoded bytes kept */
    uint64_t epoch;               /* the epoch the entries belong to */
} tn_cache_t;

void tn_cache_init(tn_cache_t *c, uint64_t epoch);
void tn_cache_destroy(tn_cache_t *c);
/* Forget everything; entries from now on belong to 'epoch'. */
void tn_cache_reset(tn_cache_t *c, uint64_t epoch);

/* The entry for 'key' in 'epoch', or NULL. */
const tn_cache_entry_t *tn_cache_get(tn_cache_t *c, uint64_t epoch, const char *key);

/* Keep an answer of 'epoch' (the current one) under 'key'. 'enc' (malloc'd,
 * taken on success) holds the encoded result; 'result' is taken too when
 * keep_tree, else left alone. Returns the entry, or NULL when it was not
 * kept (too large, stale epoch, out of memory: nothing is taken). */
const tn_cache_entry_t *tn_cache_put(tn_cache_t *c, uint64_t epoch, const char *key,
                                     char *enc, size_t enc_len, tn_val_t *result, int keep_tree);

/* The cache key of a call (malloc'd), or NULL on out-of-memory: method and
 * options, less those 'schema' marks TN_OF_SERVICE. */
char *tn_cache_key(const char *method, const tn_opt_spec_t *schema, const tn_val_t *opts);

/* The same key, without allocating, for a call with no options but the
 * service's own (a dashboard's plain metrics.get): "method {}" written to
 * buf. 1 when that is the key and it fits in n bytes, else 0 (ask
 * tn_cache_key). */
#define TN_CACHE_PLAIN_MAX 160
int tn_cache_key_plain(const char *method, const tn_opt_spec_t *schema, const tn_val_t *opts,
                       char *buf, size_t n);

#endif
