/*
 * cache.c -- query results of the current epoch, keyed by method and
 * options, each encoded once: a dashboard's repeated query costs a hash
 * look-up and a copy of bytes. Any change empties it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

/* Bounds: entries, and bytes of encoded results. A result larger than an
 * eighth of the budget is answered but not kept, so one client varying
 * options cannot grow the server's memory without limit. */
#define CACHE_MAX_ENTRIES 2048
#define CACHE_MAX_BYTES ((size_t) 64 << 20)

void tn_cache_clear(tn_server_t *srv) {
    for (size_t i = 0; i < srv->ncache; i++) {
        free(srv->cache_entries[i].key);
        free(srv->cache_entries[i].enc);
        tn_val_free(&srv->cache_entries[i].result);
    }
    srv->ncache = 0;
    srv->cache_bytes = 0;
    tn_hmap_destroy(&srv->cache);
    tn_hmap_init(&srv->cache);
}

static const cache_entry_t *lookup(tn_server_t *srv, const char *key) {
    size_t i;
    if (srv->cache_epoch != srv->epoch || !tn_hmap_get(&srv->cache, key, &i))
        return NULL;
    return &srv->cache_entries[i];
}

/* A look-up on behalf of a request: counted as a hit or a miss. */
const cache_entry_t *tn_cache_get(tn_server_t *srv, const char *key) {
    const cache_entry_t *e = lookup(srv, key);
    if (e != NULL)
        srv->cache_hits++;
    else
        srv->cache_misses++;
    return e;
}

/* Keep a result of 'epoch' under 'key', encoding it once, so a hit costs a
 * look-up and a copy of bytes. Only metrics.get keeps the value tree (its
 * reply adds live figures); other results are kept encoded only and
 * 'result' is freed. Returns the entry, or NULL when it was not kept (then
 * 'result' is untouched). */
const cache_entry_t *tn_cache_put(tn_server_t *srv, uint64_t epoch, const char *key,
                                      tn_val_t *result) {
    if (epoch != srv->epoch || lookup(srv, key) != NULL)
        return NULL;
    if (srv->cache_epoch != epoch) {
        tn_cache_clear(srv);
        srv->cache_epoch = epoch;
    }
    if (srv->ncache >= CACHE_MAX_ENTRIES)
        tn_cache_clear(srv);          /* crude but bounded: dashboards refill it */
    if (srv->ncache == srv->cache_cap) {
        size_t ncap = srv->cache_cap ? srv->cache_cap * 2 : 64;
        cache_entry_t *p = realloc(srv->cache_entries, ncap * sizeof *p);
        if (p == NULL)
            return NULL;
        srv->cache_entries = p;
        srv->cache_cap = ncap;
    }
    cache_entry_t *e = &srv->cache_entries[srv->ncache];
    size_t cap = 0;
    e->key = strdup(key);
    e->enc = NULL;
    e->enc_len = 0;
    if (e->key == NULL || tn_codec_encode(result, &e->enc, &e->enc_len, &cap) != 0
        || e->enc_len > CACHE_MAX_BYTES / 8) {
        free(e->key);
        free(e->enc);
        return NULL;
    }
    if (srv->cache_bytes + e->enc_len > CACHE_MAX_BYTES) {
        char *key_copy = e->key, *enc = e->enc;
        size_t enc_len = e->enc_len;
        tn_cache_clear(srv);
        e = &srv->cache_entries[0];
        e->key = key_copy;
        e->enc = enc;
        e->enc_len = enc_len;
    }
    if (tn_hmap_put(&srv->cache, e->key, srv->ncache) != 0) {
        free(e->key);
        free(e->enc);
        return NULL;
    }
    e->result = TN_VAL_NIL;
    if (strcmp(key, "metrics.get") == 0 || strncmp(key, "metrics.get ", 12) == 0)
        e->result = *result;
    else
        tn_val_free(result);
    *result = TN_VAL_NIL;
    srv->cache_bytes += e->enc_len;
    srv->ncache++;
    return e;
}

/* Answer from a cache entry: the response envelope around the encoded
 * result, written by hand ([1, msgid as uint32, nil, ...]). metrics.get
 * adds live server figures, so it is encoded afresh. */
void tn_reply_cached(tn_conn_t *c, uint32_t msgid, const char *method, const cache_entry_t *e,
                         uint64_t t0) {
    if (strcmp(method, "metrics.get") == 0) {
        tn_reply_query(c, msgid, method, &e->result, t0);
        return;
    }
    uint8_t head[8] = { 0x94, 0x01, 0xce, (uint8_t) (msgid >> 24), (uint8_t) (msgid >> 16),
                        (uint8_t) (msgid >> 8), (uint8_t) msgid, 0xc0 };
    tn_server_t *srv = c->srv;
    size_t need = sizeof head + e->enc_len;
    if (need > srv->ocap) {
        char *p = realloc(srv->obuf, need);
        if (p == NULL)
            return tn_reply_code(c, msgid, t0, TN_ERR_INTERNAL, "%s", "out of memory");
        srv->obuf = p;
        srv->ocap = need;
    }
    memcpy(srv->obuf, head, sizeof head);
    memcpy(srv->obuf + sizeof head, e->enc, e->enc_len);
    srv->olen = need;
    tn_reply_count(srv, TN_OK, t0);
    tn_reply_send_buffer(c, 0);
}

/* The cache key: method and options, less the options that do not change
 * the answer. JSON of a map keeps insertion order, so {a,b} and {b,a} are
 * two entries: harmless (a miss, never a wrong hit). */
char *tn_cache_key(const char *method, const tn_val_t *opts) {
    tn_val_t kept = TN_VAL_NIL;
    if (tn_val_set_map(&kept, 8) != 0)
        return NULL;
    if (opts && opts->type == TN_V_MAP)
        for (size_t i = 0; i < opts->u.m.n; i++) {
            const char *k = opts->u.m.kv[i].key;
            if (strcmp(k, "deadline_ms") == 0 || strcmp(k, "progress") == 0 || strcmp(k, "if_epoch") == 0)
                continue;
            tn_val_t v;
            if (tn_val_copy(&v, &opts->u.m.kv[i].val) != 0 || tn_map_add_take(&kept, k, &v) != 0) {
                tn_val_free(&kept);
                return NULL;
            }
        }
    char *json = tn_val_to_json(&kept);
    tn_val_free(&kept);
    if (json == NULL)
        return NULL;
    size_t n = strlen(method) + strlen(json) + 2;
    char *key = malloc(n);
    if (key)
        snprintf(key, n, "%s %s", method, json);
    free(json);
    return key;
}
