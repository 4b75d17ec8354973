/*
 * record.c -- node and pair records: validation from a value tree (the only
 * door into the model), conversion back, and reference counting.
 *
 * Every check a single record can make on its own lives here: types,
 * lengths, UTF-8, enumerations, ranges and the forms of ids and dates.
 * Checks that need other records (a pair's ends exist, a parent chain has
 * no cycle) are the model's (model.c).
 */
#include "record.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const node_kinds[] = { "country", "province", "city", NULL };
static const char *const pair_kinds[] = { "sister", "friendly", NULL };
static const char *const confs[] = { "", "low", "medium", "high", NULL };

const char *tn_node_kind_name(tn_node_kind_t k) {
    return (unsigned) k <= TN_NODE_CITY ? node_kinds[k] : "?";
}

const char *tn_pair_kind_name(tn_pair_kind_t k) {
    return (unsigned) k <= TN_PAIR_FRIENDLY ? pair_kinds[k] : "?";
}

const char *tn_conf_name(tn_conf_t c) {
    return c >= TN_CONF_LOW && c <= TN_CONF_HIGH ? confs[c] : "?";
}

static int parse_name(const char *const *names, int first, const char *s, int *out) {
    if (s == NULL)
        return -1;
    for (int i = first; names[i] != NULL; i++)
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

int tn_node_kind_parse(const char *s, tn_node_kind_t *out) {
    int i;
    if (parse_name(node_kinds, 0, s, &i) != 0)
        return -1;
    *out = (tn_node_kind_t) i;
    return 0;
}

int tn_pair_kind_parse(const char *s, tn_pair_kind_t *out) {
    int i;
    if (parse_name(pair_kinds, 0, s, &i) != 0)
        return -1;
    *out = (tn_pair_kind_t) i;
    return 0;
}

int tn_conf_parse(const char *s, tn_conf_t *out) {
    int i;
    if (parse_name(confs, 1, s, &i) != 0)
        return -1;
    *out = (tn_conf_t) i;
    return 0;
}

/* ---- validation helpers: each reports through fail() and returns -1 ---- */

typedef struct vctx {
    int64_t index;      /* batch index, or -1 for a single record */
    const char *array;  /* "nodes" or "pairs": qualifies batch detail fields */
    tn_error_t *err;
    int failed;
} vctx_t;

static int fail(vctx_t *vc, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Out of memory is the server's failure, not the record's: it is reported
 * as internal even when field problems were found before it. */
static int oom(vctx_t *vc) {
    vc->failed = 1;
    tn_error_set(vc->err, TN_ERR_INTERNAL, "out of memory");
    if (vc->err)
        vc->err->code = TN_ERR_INTERNAL;
    return -1;
}

static int fail(vctx_t *vc, const char *field, const char *fmt, ...) {
    char reason[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    vc->failed = 1;
    if (vc->index >= 0) {
        char qualified[64];
        snprintf(qualified, sizeof qualified, "%s.%s", vc->array, field);
        tn_error_detail(vc->err, vc->index, qualified, "%s", reason);
        tn_error_set(vc->err, TN_ERR_INVALID_PARAMS, "invalid records in batch");
    } else {
        tn_error_set(vc->err, TN_ERR_INVALID_PARAMS, "%s: %s", field, reason);
    }
    return -1;
}

/* Copy the optional string field 'key' into *out (NULL when absent).
 * 'max' bounds its length in bytes; 'required' refuses absence and "". */
static int get_str(vctx_t *vc, const tn_val_t *v, const char *key, size_t max, int required,
                   char **out) {
    const tn_val_t *f = tn_map_get(v, key);
    *out = NULL;
    if (f == NULL || f->type == TN_V_NIL) {
        if (required)
            return fail(vc, key, "is required");
        return 0;
    }
    if (f->type != TN_V_STR)
        return fail(vc, key, "must be a string");
    if (f->u.s.len == 0) {
        if (required)
            return fail(vc, key, "must not be empty");
        return 0;
    }
    if (f->u.s.len > max)
        return fail(vc, key, "is longer than %zu bytes", max);
    if (!tn_utf8_valid(f->u.s.p, f->u.s.len, 0))
        return fail(vc, key, "must be UTF-8 without control characters");
    *out = strdup(f->u.s.p);
    if (*out == NULL)
        return oom(vc);
    return 0;
}

static int get_num(vctx_t *vc, const tn_val_t *v, const char *key, double lo, double hi,
                   double *out, unsigned char *has) {
    const tn_val_t *f = tn_map_get(v, key);
    *has = 0;
    if (f == NULL || f->type == TN_V_NIL)
        return 0;
    double d;
    if (!tn_val_as_num(f, &d) || !isfinite(d))
        return fail(vc, key, "must be a finite number");
    if (d < lo || d > hi)
        return fail(vc, key, "must be between %g and %g", lo, hi);
    *out = d;
    *has = 1;
    return 0;
}

/* Refuse keys outside 'allowed' (docs/protocol.md, "Methods": unknown fields are
 * invalid_params). */
static int check_keys(vctx_t *vc, const tn_val_t *v, const char *const *allowed) {
    for (size_t i = 0; i < v->u.m.n; i++) {
        const char *k = v->u.m.kv[i].key;
        int ok = 0;
        for (size_t j = 0; allowed[j] != NULL; j++)
            if (strcmp(allowed[j], k) == 0) {
                ok = 1;
                break;
            }
        if (!ok) {
            char shown[40];
            snprintf(shown, sizeof shown, "%s", k);
            fail(vc, shown, "unknown field");
        }
    }
    return vc->failed ? -1 : 0;
}

static int valid_id(const char *id) {
    return tn_utf8_valid(id, strlen(id), 0);
}

static int is_iso2(const char *s) {
    return s != NULL && strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

static void node_free(tn_node_t *n) {
    if (n == NULL)
        return;
    if (!n->packed) {
        free(n->id);
        free(n->name);
        free(n->name_zh);
        free(n->country);
        free(n->parent);
        free(n->region);
        free(n->subregion);
    }
    for (size_t i = 0; i < n->ntags; i++)
        free(n->tags[i]);
    free(n->tags);
    free(n);
}

static void pair_free(tn_pair_t *p) {
    if (p == NULL)
        return;
    if (p->key == NULL) {       /* not packed yet (pack_ends): a and b are their own */
        free(p->a);
        free(p->b);
    }
    free(p->since);
    free(p->source);
    free(p);
}

static const char *const node_fields[] = {
    "id", "kind", "name", "name_zh", "country", "parent", "region", "subregion",
    "tags", "lat", "lon", "population", NULL
};

/* Start reading record 'v': a zeroed record of 'size' bytes, or NULL with
 * the code in *rc when v is not a map or memory runs out. */
static void *record_start(vctx_t *vc, const tn_val_t *v, size_t size, tn_code_t *rc) {
    if (v == NULL || v->type != TN_V_MAP) {
        fail(vc, "record", "must be a map");
        *rc = vc->err ? vc->err->code : TN_ERR_INVALID_PARAMS;
        return NULL;
    }
    void *r = calloc(1, size);
    if (r == NULL)
        *rc = tn_error_set(vc->err, TN_ERR_INTERNAL, "out of memory");
    return r;
}

/* The node and its strings in one block, as a pair's (pack_ends): a
 * million-pair graph has some 200,000 nodes of four or five strings each.
 * Returns the packed node (the old one freed), or NULL on out-of-memory
 * (the old one as it was). Tags stay their own (countries only). */
static tn_node_t *pack_node(tn_node_t *n) {
    char **from[] = { &n->id, &n->name, &n->name_zh, &n->country, &n->parent, &n->region,
                      &n->subregion };
    size_t nf = sizeof from / sizeof *from, total = 0;
    for (size_t i = 0; i < nf; i++)
        total += *from[i] ? strlen(*from[i]) + 1 : 0;
    tn_node_t *q = malloc(sizeof *q + total);
    if (q == NULL)
        return NULL;
    *q = *n;
    char **to[] = { &q->id, &q->name, &q->name_zh, &q->country, &q->parent, &q->region,
                    &q->subregion };
    char *w = (char *) (q + 1);
    for (size_t i = 0; i < nf; i++) {
        if (*from[i] == NULL)
            continue;
        size_t len = strlen(*from[i]) + 1;
        memcpy(w, *from[i], len);
        *to[i] = w;
        w += len;
        free(*from[i]);
    }
    q->packed = 1;
    free(n);
    return q;
}

tn_code_t tn_node_from_val(const tn_val_t *v, int64_t index, tn_node_t **out, tn_error_t *err) {
    vctx_t vc = { index, "nodes", err, 0 };
    tn_code_t rc;
    *out = NULL;
    tn_node_t *n = record_start(&vc, v, sizeof *n, &rc);
    if (n == NULL)
        return rc;
    atomic_init(&n->refs, 1);

    check_keys(&vc, v, node_fields);
    char *kind = NULL;
    get_str(&vc, v, "id", TN_ID_MAX, 1, &n->id);
    if (n->id && !valid_id(n->id))
        fail(&vc, "id", "must not contain control characters");
    if (get_str(&vc, v, "kind", 16, 1, &kind) == 0 && kind != NULL
        && tn_node_kind_parse(kind, &n->kind) != 0)
        fail(&vc, "kind", "must be country, province or city");
    get_str(&vc, v, "name", TN_NAME_MAX, 1, &n->name);
    get_str(&vc, v, "name_zh", TN_NAME_MAX, 0, &n->name_zh);
    get_str(&vc, v, "country", 2, 0, &n->country);
    get_str(&vc, v, "parent", TN_ID_MAX, 0, &n->parent);
    get_str(&vc, v, "region", TN_NAME_MAX, 0, &n->region);
    get_str(&vc, v, "subregion", TN_NAME_MAX, 0, &n->subregion);
    get_num(&vc, v, "lat", -90, 90, &n->lat, &n->has_lat);
    get_num(&vc, v, "lon", -180, 180, &n->lon, &n->has_lon);
    get_num(&vc, v, "population", 0, 1e11, &n->population, &n->has_population);

    const tn_val_t *tags = tn_map_get(v, "tags");
    if (tags != NULL && tags->type != TN_V_NIL) {
        if (tags->type != TN_V_ARR)
            fail(&vc, "tags", "must be an array of strings");
        else if (tags->u.a.n > TN_TAGS_MAX)
            fail(&vc, "tags", "has more than %d tags", TN_TAGS_MAX);
        else if (tags->u.a.n > 0 && (n->tags = calloc(tags->u.a.n, sizeof *n->tags)) == NULL)
            oom(&vc);
        else
            for (size_t i = 0; i < tags->u.a.n; i++) {
                const tn_val_t *t = &tags->u.a.items[i];
                if (t->type != TN_V_STR || t->u.s.len == 0 || t->u.s.len > TN_TAG_MAX
                    || !tn_utf8_valid(t->u.s.p, t->u.s.len, 0)) {
                    fail(&vc, "tags", "each tag must be a non-empty string of at most %d bytes",
                         TN_TAG_MAX);
                    break;
                }
                if ((n->tags[n->ntags] = strdup(t->u.s.p)) == NULL) {
                    oom(&vc);
                    break;
                }
                n->ntags++;
            }
    }

    if (!vc.failed && kind != NULL) {
        if (n->kind == TN_NODE_COUNTRY) {
            /* docs/protocol.md, "Data model": a country's id is its ISO alpha-2 code. */
            if (!is_iso2(n->id))
                fail(&vc, "id", "a country's id must be its ISO 3166-1 alpha-2 code (two capitals)");
            if (n->country)
                fail(&vc, "country", "must be absent for a country");
            if (n->parent)
                fail(&vc, "parent", "must be absent for a country");
        } else {
            if (n->country == NULL)
                fail(&vc, "country", "is required for a province or city");
            else if (!is_iso2(n->country))
                fail(&vc, "country", "must be an ISO 3166-1 alpha-2 code (two capitals)");
            if (n->region)
                fail(&vc, "region", "is for countries only");
            if (n->subregion)
                fail(&vc, "subregion", "is for countries only");
            if (n->ntags)
                fail(&vc, "tags", "are for countries only");
            if (n->parent && n->id && strcmp(n->parent, n->id) == 0)
                fail(&vc, "parent", "a node cannot be its own parent");
        }
    }
    free(kind);
    tn_node_t *packed;
    if (!vc.failed && (packed = pack_node(n)) == NULL)
        oom(&vc);
    else if (!vc.failed)
        n = packed;
    if (vc.failed) {
        node_free(n);
        return err && err->code != TN_OK ? err->code : TN_ERR_INVALID_PARAMS;
    }
    *out = n;
    return TN_OK;
}

/* "YYYY", "YYYY-MM" or "YYYY-MM-DD" with a real month and day; the year. */
static int parse_since(const char *s, int *year) {
    size_t n = strlen(s);
    if (n != 4 && n != 7 && n != 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int dash = (i == 4 || i == 7);
        if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return -1;
    }
    int y = atoi(s);
    if (y < 1)
        return -1;
    if (n >= 7) {
        int m = (s[5] - '0') * 10 + (s[6] - '0');
        if (m < 1 || m > 12)
            return -1;
        if (n == 10) {
            static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
            int d = (s[8] - '0') * 10 + (s[9] - '0');
            int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            if (d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
                return -1;
        }
    }
    *year = y;
    return 0;
}

char *tn_pair_key(const char *a, const char *b) {
    if (strcmp(a, b) > 0) {
        const char *t = a;
        a = b;
        b = t;
    }
    size_t la = strlen(a), lb = strlen(b);
    char *k = malloc(la + lb + 2);
    if (k == NULL)
        return NULL;
    memcpy(k, a, la);
    k[la] = '\x1f';
    memcpy(k + la + 1, b, lb + 1);
    return k;
}

/* The pair and its a, b and key in one block: a million pairs would be
 * four million small allocations otherwise, each with the allocator's
 * overhead on top of its bytes. Returns the packed pair (the old one is
 * freed), or NULL on out-of-memory (the old one is left as it was). */
static tn_pair_t *pack_ends(tn_pair_t *p) {
    size_t la = strlen(p->a), lb = strlen(p->b);
    tn_pair_t *q = malloc(sizeof *q + 2 * (la + lb + 2));
    if (q == NULL)
        return NULL;
    *q = *p;
    char *blk = (char *) (q + 1);
    memcpy(blk, p->a, la + 1);
    memcpy(blk + la + 1, p->b, lb + 1);
    char *key = blk + la + lb + 2;
    const char *lo = strcmp(p->a, p->b) > 0 ? p->b : p->a, *hi = lo == p->a ? p->b : p->a;
    size_t llo = strlen(lo);
    memcpy(key, lo, llo);
    key[llo] = '\x1f';
    memcpy(key + llo + 1, hi, strlen(hi) + 1);
    q->a = blk;
    q->b = blk + la + 1;
    q->key = key;
    free(p->a);
    free(p->b);
    free(p);
    return q;
}

static const char *const pair_fields[] = {
    "a", "b", "kind", "since", "source", "confidence", NULL
};

tn_code_t tn_pair_from_val(const tn_val_t *v, int64_t index, tn_pair_t **out, tn_error_t *err) {
    vctx_t vc = { index, "pairs", err, 0 };
    tn_code_t rc;
    *out = NULL;
    tn_pair_t *p = record_start(&vc, v, sizeof *p, &rc);
    if (p == NULL)
        return rc;
    atomic_init(&p->refs, 1);
    p->confidence = TN_CONF_HIGH;

    check_keys(&vc, v, pair_fields);
    get_str(&vc, v, "a", TN_ID_MAX, 1, &p->a);
    get_str(&vc, v, "b", TN_ID_MAX, 1, &p->b);
    if (p->a && p->b && strcmp(p->a, p->b) == 0)
        fail(&vc, "b", "a pair needs two different nodes");
    char *tmp = NULL;
    if (get_str(&vc, v, "kind", 16, 0, &tmp) == 0 && tmp != NULL
        && tn_pair_kind_parse(tmp, &p->kind) != 0)
        fail(&vc, "kind", "must be sister or friendly");
    free(tmp);
    tmp = NULL;
    if (get_str(&vc, v, "confidence", 16, 0, &tmp) == 0 && tmp != NULL
        && tn_conf_parse(tmp, &p->confidence) != 0)
        fail(&vc, "confidence", "must be high, medium or low");
    free(tmp);
    get_str(&vc, v, "source", TN_TEXT_MAX, 0, &p->source);

    const tn_val_t *since = tn_map_get(v, "since");
    if (since != NULL && since->type != TN_V_NIL) {
        int64_t y;
        if (since->type == TN_V_STR) {
            int year;
            if (parse_since(since->u.s.p, &year) != 0)
                fail(&vc, "since", "must be a year or \"YYYY\", \"YYYY-MM\", \"YYYY-MM-DD\"");
            else if (since->u.s.len == 4)
                p->since_year = year;          /* "2019" is the same fact as 2019 */
            else if ((p->since = strdup(since->u.s.p)) == NULL)
                oom(&vc);
            else
                p->since_year = year;
        } else if (tn_val_as_int(since, &y)) {
            if (y < 1 || y > 9999)
                fail(&vc, "since", "year must be between 1 and 9999");
            else
                p->since_year = (int) y;
        } else {
            fail(&vc, "since", "must be an int year or a date string");
        }
    }
    tn_pair_t *packed;
    if (!vc.failed && (packed = pack_ends(p)) == NULL)
        oom(&vc);
    else if (!vc.failed)
        p = packed;
    if (vc.failed) {
        pair_free(p);
        return err && err->code != TN_OK ? err->code : TN_ERR_INVALID_PARAMS;
    }
    *out = p;
    return TN_OK;
}

/* An optional field of a record: written only when it has a value. */
static int add_opt_str(tn_val_t *out, const char *key, const char *s) {
    return s != NULL ? tn_map_add_str(out, key, s) : 0;
}

int tn_node_to_val(const tn_node_t *n, tn_val_t *out) {
    if (tn_val_set_map(out, 12) != 0)
        return -1;
    int rc = tn_map_add_str(out, "id", n->id);
    rc |= tn_map_add_str(out, "kind", tn_node_kind_name(n->kind));
    rc |= tn_map_add_str(out, "name", n->name);
    rc |= add_opt_str(out, "name_zh", n->name_zh);
    rc |= add_opt_str(out, "country", n->country);
    rc |= add_opt_str(out, "parent", n->parent);
    rc |= add_opt_str(out, "region", n->region);
    rc |= add_opt_str(out, "subregion", n->subregion);
    if (n->kind == TN_NODE_COUNTRY || n->ntags) {
        tn_val_t *t = tn_map_add(out, "tags");
        if (t == NULL || tn_val_set_arr(t, n->ntags) != 0)
            rc = -1;
        else
            for (size_t i = 0; i < n->ntags; i++)
                rc |= tn_arr_push_str(t, n->tags[i]);
    }
    if (n->has_lat)
        rc |= tn_map_add_float(out, "lat", n->lat);
    if (n->has_lon)
        rc |= tn_map_add_float(out, "lon", n->lon);
    if (n->has_population)
        rc |= tn_map_add_float(out, "population", n->population);
    if (rc != 0)
        tn_val_free(out);
    return rc ? -1 : 0;
}

int tn_pair_to_val(const tn_pair_t *p, tn_val_t *out) {
    if (tn_val_set_map(out, 6) != 0)
        return -1;
    int rc = tn_map_add_str(out, "a", p->a);
    rc |= tn_map_add_str(out, "b", p->b);
    rc |= tn_map_add_str(out, "kind", tn_pair_kind_name(p->kind));
    if (p->since)
        rc |= tn_map_add_str(out, "since", p->since);
    else if (p->since_year)
        rc |= tn_map_add_int(out, "since", p->since_year);
    rc |= add_opt_str(out, "source", p->source);
    rc |= tn_map_add_str(out, "confidence", tn_conf_name(p->confidence));
    if (rc != 0)
        tn_val_free(out);
    return rc ? -1 : 0;
}

static int same_str(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int tn_node_same(const tn_node_t *x, const tn_node_t *y) {
    if (x->kind != y->kind || !same_str(x->id, y->id) || !same_str(x->name, y->name)
        || !same_str(x->name_zh, y->name_zh) || !same_str(x->country, y->country)
        || !same_str(x->parent, y->parent) || !same_str(x->region, y->region)
        || !same_str(x->subregion, y->subregion) || x->ntags != y->ntags
        || x->has_lat != y->has_lat || x->has_lon != y->has_lon
        || x->has_population != y->has_population
        || (x->has_lat && x->lat != y->lat) || (x->has_lon && x->lon != y->lon)
        || (x->has_population && x->population != y->population))
        return 0;
    for (size_t i = 0; i < x->ntags; i++)
        if (strcmp(x->tags[i], y->tags[i]) != 0)
            return 0;
    return 1;
}

int tn_pair_same(const tn_pair_t *x, const tn_pair_t *y) {
    return strcmp(x->a, y->a) == 0 && strcmp(x->b, y->b) == 0 && x->kind == y->kind
           && x->since_year == y->since_year && same_str(x->since, y->since)
           && same_str(x->source, y->source) && x->confidence == y->confidence;
}

const char *tn_pair_other(const tn_pair_t *p, const char *id) {
    return strcmp(p->a, id) == 0 ? p->b : p->a;
}

/* The reference count rule of nodes and pairs: taking one is relaxed (the
 * taker already holds a reference); dropping one orders every use before
 * the free that the last drop makes. ref_drop is 1 when it was the last. */
static void ref_take(atomic_int *refs) {
    atomic_fetch_add_explicit(refs, 1, memory_order_relaxed);
}

static int ref_drop(atomic_int *refs) {
    int old = atomic_fetch_sub_explicit(refs, 1, memory_order_acq_rel);
    assert(old > 0);   /* released more often than retained */
    return old == 1;
}

tn_node_t *tn_node_retain(tn_node_t *n) {
    if (n)
        ref_take(&n->refs);
    return n;
}

void tn_node_release(tn_node_t *n) {
    if (n != NULL && ref_drop(&n->refs))
        node_free(n);
}

tn_pair_t *tn_pair_retain(tn_pair_t *p) {
    if (p)
        ref_take(&p->refs);
    return p;
}

void tn_pair_release(tn_pair_t *p) {
    if (p != NULL && ref_drop(&p->refs))
        pair_free(p);
}
