/*
 * value.c -- the value tree of value.h: builders, look-ups, copying,
 * equality and JSON output. No allocation failure aborts: builders report it
 * and leave the tree valid.
 */
#include "value.h"

#include "grow.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tn_val_free(tn_val_t *v) {
    if (v == NULL)
        return;
    switch (v->type) {
    case TN_V_STR:
        free(v->u.s.p);
        break;
    case TN_V_ARR:
        for (size_t i = 0; i < v->u.a.n; i++)
            tn_val_free(&v->u.a.items[i]);
        free(v->u.a.items);
        break;
    case TN_V_MAP:
        for (size_t i = 0; i < v->u.m.n; i++) {
            free(v->u.m.kv[i].key);
            tn_val_free(&v->u.m.kv[i].val);
        }
        free(v->u.m.kv);
        break;
    default:
        break;
    }
    v->type = TN_V_NIL;
}

tn_val_t tn_val_bool(int b) {
    tn_val_t v = { .type = TN_V_BOOL };
    v.u.b = b ? 1 : 0;
    return v;
}

tn_val_t tn_val_int(int64_t i) {
    tn_val_t v = { .type = TN_V_INT };
    v.u.i = i;
    return v;
}

tn_val_t tn_val_float(double f) {
    tn_val_t v = { .type = TN_V_FLOAT };
    v.u.f = f;
    return v;
}

int tn_val_set_strn(tn_val_t *out, const char *s, size_t len) {
    char *p = malloc(len + 1);
    out->type = TN_V_NIL;
    if (p == NULL)
        return -1;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    out->type = TN_V_STR;
    out->u.s.p = p;
    out->u.s.len = len;
    return 0;
}

int tn_val_set_str(tn_val_t *out, const char *s) {
    return tn_val_set_strn(out, s, strlen(s));
}

/* Start the empty item list of an array or map with room for 'hint'
 * items of 'size' bytes (none allocated when hint is 0). */
static int start_items(void **items, size_t *n, size_t *cap, size_t hint, size_t size) {
    *items = NULL;
    *n = 0;
    *cap = 0;
    return hint ? tn_grow(items, cap, hint, hint, size) : 0;
}

int tn_val_set_arr(tn_val_t *v, size_t hint) {
    v->type = TN_V_ARR;
    return start_items((void **) &v->u.a.items, &v->u.a.n, &v->u.a.cap, hint,
                       sizeof *v->u.a.items);
}

int tn_val_set_map(tn_val_t *v, size_t hint) {
    v->type = TN_V_MAP;
    return start_items((void **) &v->u.m.kv, &v->u.m.n, &v->u.m.cap, hint, sizeof *v->u.m.kv);
}

/* Grow a buffer of 'size'-byte items to hold at least n+1. */
static int grow(void **items, size_t *cap, size_t n, size_t size) {
    return tn_grow(items, cap, n + 1, 4, size);
}

tn_val_t *tn_arr_push(tn_val_t *arr) {
    if (arr->type != TN_V_ARR)
        return NULL;
    if (grow((void **) &arr->u.a.items, &arr->u.a.cap, arr->u.a.n, sizeof *arr->u.a.items) != 0)
        return NULL;
    tn_val_t *slot = &arr->u.a.items[arr->u.a.n++];
    slot->type = TN_V_NIL;
    return slot;
}

tn_val_t *tn_map_add(tn_val_t *map, const char *key) {
    if (map->type != TN_V_MAP)
        return NULL;
    size_t klen = strlen(key);
    char *k = malloc(klen + 1);
    if (k == NULL)
        return NULL;
    memcpy(k, key, klen + 1);
    if (grow((void **) &map->u.m.kv, &map->u.m.cap, map->u.m.n, sizeof *map->u.m.kv) != 0) {
        free(k);
        return NULL;
    }
    tn_kv_t *kv = &map->u.m.kv[map->u.m.n++];
    kv->key = k;
    kv->klen = klen;
    kv->val.type = TN_V_NIL;
    return &kv->val;
}

int tn_map_add_int(tn_val_t *map, const char *key, int64_t i) {
    tn_val_t *s = tn_map_add(map, key);
    if (s == NULL)
        return -1;
    *s = tn_val_int(i);
    return 0;
}

int tn_map_add_float(tn_val_t *map, const char *key, double f) {
    tn_val_t *s = tn_map_add(map, key);
    if (s == NULL)
        return -1;
    *s = tn_val_float(f);
    return 0;
}

int tn_map_add_bool(tn_val_t *map, const char *key, int b) {
    tn_val_t *s = tn_map_add(map, key);
    if (s == NULL)
        return -1;
    *s = tn_val_bool(b);
    return 0;
}

int tn_map_add_nil(tn_val_t *map, const char *key) {
    return tn_map_add(map, key) ? 0 : -1;
}

int tn_map_add_str(tn_val_t *map, const char *key, const char *str) {
    tn_val_t *s = tn_map_add(map, key);
    if (s == NULL)
        return -1;
    if (str == NULL)
        return 0;
    if (tn_val_set_str(s, str) != 0) {
        map->u.m.n--;                      /* drop the half-made entry */
        free(map->u.m.kv[map->u.m.n].key);
        return -1;
    }
    return 0;
}

int tn_arr_push_str(tn_val_t *arr, const char *str) {
    tn_val_t *s = tn_arr_push(arr);
    if (s == NULL)
        return -1;
    if (tn_val_set_str(s, str) != 0) {
        arr->u.a.n--;
        return -1;
    }
    return 0;
}

int tn_arr_push_int(tn_val_t *arr, int64_t i) {
    tn_val_t *s = tn_arr_push(arr);
    if (s == NULL)
        return -1;
    *s = tn_val_int(i);
    return 0;
}

int tn_map_add_take(tn_val_t *map, const char *key, tn_val_t *src) {
    tn_val_t *s = tn_map_add(map, key);
    if (s == NULL) {
        tn_val_free(src);
        return -1;
    }
    *s = *src;
    src->type = TN_V_NIL;
    return 0;
}

int tn_arr_push_take(tn_val_t *arr, tn_val_t *src) {
    tn_val_t *s = tn_arr_push(arr);
    if (s == NULL) {
        tn_val_free(src);
        return -1;
    }
    *s = *src;
    src->type = TN_V_NIL;
    return 0;
}

int tn_val_copy(tn_val_t *dst, const tn_val_t *src) {
    dst->type = TN_V_NIL;
    switch (src->type) {
    case TN_V_STR:
        return tn_val_set_strn(dst, src->u.s.p, src->u.s.len);
    case TN_V_ARR:
        if (tn_val_set_arr(dst, src->u.a.n) != 0)
            goto oom;
        for (size_t i = 0; i < src->u.a.n; i++) {
            tn_val_t tmp;
            if (tn_val_copy(&tmp, &src->u.a.items[i]) != 0 || tn_arr_push_take(dst, &tmp) != 0)
                goto oom;
        }
        return 0;
    case TN_V_MAP:
        if (tn_val_set_map(dst, src->u.m.n) != 0)
            goto oom;
        for (size_t i = 0; i < src->u.m.n; i++) {
            tn_val_t tmp;
            if (tn_val_copy(&tmp, &src->u.m.kv[i].val) != 0
                || tn_map_add_take(dst, src->u.m.kv[i].key, &tmp) != 0)
                goto oom;
        }
        return 0;
    default:
        *dst = *src;
        return 0;
    }
oom:
    tn_val_free(dst);
    return -1;
}

const tn_val_t *tn_map_get(const tn_val_t *map, const char *key) {
    if (map == NULL || map->type != TN_V_MAP)
        return NULL;
    for (size_t i = 0; i < map->u.m.n; i++)
        if (strcmp(map->u.m.kv[i].key, key) == 0)
            return &map->u.m.kv[i].val;
    return NULL;
}

const char *tn_val_str(const tn_val_t *v) {
    return v != NULL && v->type == TN_V_STR ? v->u.s.p : NULL;
}

int tn_val_as_int(const tn_val_t *v, int64_t *out) {
    if (v == NULL)
        return 0;
    if (v->type == TN_V_INT) {
        *out = v->u.i;
        return 1;
    }
    /* 9.2e18 bounds keep the conversion defined. */
    if (v->type == TN_V_FLOAT && isfinite(v->u.f) && floor(v->u.f) == v->u.f
        && fabs(v->u.f) < 9.2e18) {
        *out = (int64_t) v->u.f;
        return 1;
    }
    return 0;
}

int tn_val_as_num(const tn_val_t *v, double *out) {
    if (v == NULL)
        return 0;
    if (v->type == TN_V_INT) {
        *out = (double) v->u.i;
        return 1;
    }
    if (v->type == TN_V_FLOAT) {
        *out = v->u.f;
        return 1;
    }
    return 0;
}

int tn_val_equal(const tn_val_t *a, const tn_val_t *b) {
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case TN_V_NIL:
        return 1;
    case TN_V_BOOL:
        return a->u.b == b->u.b;
    case TN_V_INT:
        return a->u.i == b->u.i;
    case TN_V_FLOAT:
        return a->u.f == b->u.f || (isnan(a->u.f) && isnan(b->u.f));
    case TN_V_STR:
        return a->u.s.len == b->u.s.len && memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
    case TN_V_ARR:
        if (a->u.a.n != b->u.a.n)
            return 0;
        for (size_t i = 0; i < a->u.a.n; i++)
            if (!tn_val_equal(&a->u.a.items[i], &b->u.a.items[i]))
                return 0;
        return 1;
    case TN_V_MAP:
        if (a->u.m.n != b->u.m.n)
            return 0;
        for (size_t i = 0; i < a->u.m.n; i++) {
            const tn_val_t *o = tn_map_get(b, a->u.m.kv[i].key);
            if (o == NULL || !tn_val_equal(&a->u.m.kv[i].val, o))
                return 0;
        }
        return 1;
    }
    return 0;
}

/* ---- JSON output ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf_t;

static void sb_put(sbuf_t *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (tn_grow((void **) &b->p, &b->cap, b->len + n + 1, 64, 1) != 0) {
        b->oom = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_fmt_int(sbuf_t *b, int64_t i) {
    char tmp[32];
    char *e = tmp + sizeof tmp, *q = e;
    uint64_t u = i < 0 ? (uint64_t) 0 - (uint64_t) i : (uint64_t) i;
    do {
        *--q = (char) ('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        *--q = '-';
    sb_put(b, q, (size_t) (e - q));
}

/* The shortest of %.15g..%.17g that reads back as the same double, with a
 * ".0" added to integral values so JSON readers keep them floats. */
static int fmt_double(char *buf, size_t cap, double f) {
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, f);
        if (strtod(buf, NULL) == f)
            break;
    }
    if (strspn(buf, "-0123456789") == (size_t) n && n + 2 < (int) cap) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    return n;
}

static void sb_str(sbuf_t *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    sb_put(b, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sb_put(b, s + start, i - start);
        start = i + 1;
        char esc[7] = { '\\', 0, 0, 0, 0, 0, 0 };
        size_t en = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            en = 6;
        }
        sb_put(b, esc, en);
    }
    sb_put(b, s + start, n - start);
    sb_put(b, "\"", 1);
}

static void sb_val(sbuf_t *b, const tn_val_t *v) {
    switch (v->type) {
    case TN_V_NIL:
        sb_put(b, "null", 4);
        break;
    case TN_V_BOOL:
        sb_put(b, v->u.b ? "true" : "false", v->u.b ? 4 : 5);
        break;
    case TN_V_INT:
        sb_fmt_int(b, v->u.i);
        break;
    case TN_V_FLOAT: {
        char tmp[40];
        if (!isfinite(v->u.f)) {
            sb_put(b, "null", 4);
            break;
        }
        int n = fmt_double(tmp, sizeof tmp, v->u.f);
        sb_put(b, tmp, (size_t) n);
        break;
    }
    case TN_V_STR:
        sb_str(b, v->u.s.p, v->u.s.len);
        break;
    case TN_V_ARR:
    case TN_V_MAP: {
        /* One list writer: a map's items are its values, each after its key. */
        int map = v->type == TN_V_MAP;
        size_t n = map ? v->u.m.n : v->u.a.n;
        sb_put(b, map ? "{" : "[", 1);
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_put(b, ",", 1);
            if (map) {
                sb_str(b, v->u.m.kv[i].key, v->u.m.kv[i].klen);
                sb_put(b, ":", 1);
            }
            sb_val(b, map ? &v->u.m.kv[i].val : &v->u.a.items[i]);
        }
        sb_put(b, map ? "}" : "]", 1);
        break;
    }
    }
}

char *tn_val_to_json(const tn_val_t *v) {
    sbuf_t b = { 0 };
    sb_val(&b, v);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (b.p == NULL) {
        b.p = malloc(1);
        if (b.p)
            b.p[0] = '\0';
    }
    return b.p;
}
