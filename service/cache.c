/*
 * cache.c -- query answers of the current epoch (cache.h).
 */
#include "cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds: entries, and bytes of encoded results. A result larger than an
 * eighth of the budget is answered but not kept, so one client varying
 * options cannot grow the server's memory without limit. */
#define CACHE_MAX_ENTRIES 2048
#define CACHE_MAX_BYTES ((size_t) 64 << 20)

void tn_cache_init(tn_cache_t *c, uint64_t epoch) {
    memset(c, 0, sizeof *c);
    tn_hmap_init(&c->map);
    c->epoch = epoch;
}

static void drop_entries(tn_cache_t *c) {
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].key);
        free(c->e[i].enc);
        tn_val_free(&c->e[i].result);
    }
    c->n = 0;
    c->bytes = 0;
    tn_hmap_destroy(&c->map);
    tn_hmap_init(&c->map);
}

void tn_cache_reset(tn_cache_t *c, uint64_t epoch) {
    drop_entries(c);
    c->epoch = epoch;
}

void tn_cache_destroy(tn_cache_t *c) {
    drop_entries(c);
    tn_hmap_destroy(&c->map);
    free(c->e);
    memset(c, 0, sizeof *c);
}

const tn_cache_entry_t *tn_cache_get(tn_cache_t *c, uint64_t epoch, const char *key) {
    size_t i;
    if (c->epoch != epoch || !tn_hmap_get(&c->map, key, &i))
        return NULL;
    return &c->e[i];
}

const tn_cache_entry_t *tn_cache_put(tn_cache_t *c, uint64_t epoch, const char *key,
                                     char *enc, size_t enc_len, tn_val_t *result, int keep_tree) {
    if (epoch != c->epoch || enc_len > CACHE_MAX_BYTES / 8 || tn_cache_get(c, epoch, key) != NULL)
        return NULL;
    if (c->n >= CACHE_MAX_ENTRIES || c->bytes + enc_len > CACHE_MAX_BYTES)
        drop_entries(c);              /* crude but bounded: dashboards refill it */
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        tn_cache_entry_t *p = realloc(c->e, ncap * sizeof *p);
        if (p == NULL)
            return NULL;
        c->e = p;
        c->cap = ncap;
    }
    tn_cache_entry_t *e = &c->e[c->n];
    e->key = strdup(key);
    if (e->key == NULL || tn_hmap_put(&c->map, e->key, c->n) != 0) {
        free(e->key);
        return NULL;
    }
    e->enc = enc;
    e->enc_len = enc_len;
    e->result = TN_VAL_NIL;
    if (keep_tree) {
        e->result = *result;
        *result = TN_VAL_NIL;
    }
    c->bytes += enc_len;
    c->n++;
    return e;
}

/* Does an option take part in the key? The service's own options
 * (deadline_ms, progress, if_epoch) do not change the answer. */
static int keyed(const tn_opt_spec_t *schema, const char *k) {
    const tn_opt_spec_t *o = tn_opt_spec_find(schema, k);
    return o == NULL || !(o->flags & TN_OF_SERVICE);
}

int tn_cache_key_plain(const char *method, const tn_opt_spec_t *schema, const tn_val_t *opts,
                       char *buf, size_t n) {
    if (opts && opts->type == TN_V_MAP)
        for (size_t i = 0; i < opts->u.m.n; i++)
            if (keyed(schema, opts->u.m.kv[i].key))
                return 0;
    size_t ml = strlen(method);
    if (ml + sizeof " {}" > n)
        return 0;
    memcpy(buf, method, ml);
    memcpy(buf + ml, " {}", sizeof " {}");
    return 1;
}

/* JSON of a map keeps insertion order, so {a,b} and {b,a} are two
 * entries: harmless (a miss, never a wrong hit). */
char *tn_cache_key(const char *method, const tn_opt_spec_t *schema, const tn_val_t *opts) {
    char plain[TN_CACHE_PLAIN_MAX];
    if (tn_cache_key_plain(method, schema, opts, plain, sizeof plain))
        return strdup(plain);
    tn_val_t kept = TN_VAL_NIL;
    if (tn_val_set_map(&kept, 8) != 0)
        return NULL;
    if (opts && opts->type == TN_V_MAP)
        for (size_t i = 0; i < opts->u.m.n; i++) {
            const char *k = opts->u.m.kv[i].key;
            if (!keyed(schema, k))
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
