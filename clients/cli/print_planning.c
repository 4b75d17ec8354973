/*
 * print_planning.c -- printers for the planning results: query.timeline,
 * query.overlap, query.communities and query.whatif.
 *
 * whatif compares two results of the same method generically, so it works
 * for every method it can run: numbers are compared leaf by leaf (path
 * "home.pairs", "items[Asia].covered": list items are matched by their
 * "id", "group", "year" or "community"), and lists gain or lose entries
 * ("uncovered: -RW"). Short results show every figure; long ones only
 * what changed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define WHATIF_ALL_ROWS 24

static void heading(const char *fmt, const tn_val_t *res, const char *k1, const char *k2) {
    char *a = tn_cli_field(res, k1, TN_CELL_AUTO), *b = k2 ? tn_cli_field(res, k2, TN_CELL_AUTO) : NULL;
    printf(fmt, a ? a : "?", b ? b : "?");
    free(a);
    free(b);
}

static void add_row_str(tn_val_t *rows, const char *k1, const char *v1, const char *k2, const char *v2,
                        const char *k3, const char *v3, const char *k4, const char *v4) {
    tn_val_t r = TN_VAL_NIL;
    int bad = tn_val_set_map(&r, 4);
    bad |= tn_map_add_str(&r, k1, v1);
    bad |= tn_map_add_str(&r, k2, v2);
    if (k3)
        bad |= tn_map_add_str(&r, k3, v3);
    if (k4)
        bad |= tn_map_add_str(&r, k4, v4);
    bad |= tn_arr_push_take(rows, &r);
    if (bad)
        tn_cli_die_oom();
}

/* ---- timeline ---- */

/* "1983:1, 1995:2" for the years with pairs. */
static char *nonzero_years(const tn_val_t *years, int64_t *dated) {
    tn_cli_sbuf_t b = { NULL, 0, 0 };
    *dated = 0;
    for (size_t i = 0; years && i < years->u.a.n; i++) {
        const tn_val_t *y = &years->u.a.items[i];
        int64_t k = tn_cli_res_int(y, "pairs");
        if (k == 0)
            continue;
        *dated += k;
        tn_cli_sb_printf(&b, "%s%lld:%lld", b.len ? ", " : "", (long long) tn_cli_res_int(y, "year"),
                         (long long) k);
    }
    if (b.p == NULL)
        tn_cli_sb_printf(&b, "%s", "");
    return b.p;
}

void tn_cli_print_timeline(const tn_val_t *res) {
    static const tn_cli_col_t cols[] = {
        { "year", "year", 1, TN_CELL_AUTO }, { "pairs", "pairs", 1, TN_CELL_AUTO },
        { "cumulative", "cumulative", 1, TN_CELL_AUTO },
    };
    static const tn_cli_col_t gcols[] = {
        { "group", "group", 0, TN_CELL_AUTO }, { "dated", "dated", 1, TN_CELL_AUTO },
        { "undated", "undated", 1, TN_CELL_AUTO }, { "years (year:pairs)", "years", 0, TN_CELL_AUTO },
    };
    const tn_val_t *years = tn_cli_items(res, "years");
    int64_t dated = 0;
    free(nonzero_years(years, &dated));
    char *u = tn_cli_field(res, "unit", TN_CELL_AUTO), *e = tn_cli_field(res, "epoch", TN_CELL_AUTO);
    printf("Partnerships of %s per year (epoch %s): %lld dated, %lld undated\n", u ? u : "?", e ? e : "?",
           (long long) dated, (long long) tn_cli_res_int(res, "undated"));
    free(u);
    free(e);
    tn_cli_print_table(years, cols, 3);
    const tn_val_t *groups = tn_cli_items(res, "groups");
    if (groups == NULL)
        return;
    tn_val_t rows = TN_VAL_NIL;
    if (tn_val_set_arr(&rows, groups->u.a.n) != 0)
        tn_cli_die_oom();
    for (size_t i = 0; i < groups->u.a.n; i++) {
        const tn_val_t *g = &groups->u.a.items[i];
        int64_t d = 0;
        char *ys = nonzero_years(tn_cli_items(g, "years"), &d);
        char *ds = tn_cli_fmt("%lld", (long long) d), *us = tn_cli_fmt("%lld", (long long) tn_cli_res_int(g, "undated"));
        add_row_str(&rows, "group", tn_val_str(tn_map_get(g, "group")), "dated", ds, "undated", us, "years", ys);
        free(ys);
        free(ds);
        free(us);
    }
    printf("\nBy group (%zu)\n", groups->u.a.n);
    tn_cli_print_table(&rows, gcols, 4);
    tn_val_free(&rows);
}

/* ---- overlap ---- */

void tn_cli_print_overlap(const tn_val_t *res) {
    static const tn_cli_col_t hcols[] = {
        { "home", "id", 0, TN_CELL_AUTO }, { "pairs", "pairs", 1, TN_CELL_AUTO },
        { "countries", "countries", 1, TN_CELL_AUTO }, { "partners", "partners", 1, TN_CELL_AUTO },
        { "only here: countries", "only_countries", 0, TN_CELL_AUTO },
    };
    static const tn_cli_col_t scols[] = { { "id", "id", 0, TN_CELL_AUTO }, { "homes", "homes", 0, TN_CELL_AUTO } };
    static const tn_cli_col_t jcols[] = {
        { "a", "a", 0, TN_CELL_AUTO }, { "b", "b", 0, TN_CELL_AUTO }, { "jaccard", "jaccard", 1, TN_CELL_RATIO },
    };
    const tn_val_t *sc = tn_cli_items(res, "shared_countries"), *sp = tn_cli_items(res, "shared_partners");
    heading("Overlap of homes (epoch %s)\n", res, "epoch", NULL);
    tn_cli_print_table(tn_cli_items(res, "homes"), hcols, 5);
    printf("\nCountries reached by two or more (%zu)\n", sc ? sc->u.a.n : 0);
    tn_cli_print_table(sc, scols, 2);
    printf("\nPartners shared by two or more (%zu)\n", sp ? sp->u.a.n : 0);
    tn_cli_print_table(sp, scols, 2);
    printf("\nSimilarity of covered countries\n");
    tn_cli_print_table(tn_cli_items(res, "similarity"), jcols, 3);
}

/* ---- communities ---- */

void tn_cli_print_communities(const tn_val_t *res) {
    static const tn_cli_col_t cols[] = {
        { "#", "community", 1, TN_CELL_AUTO }, { "size", "size", 1, TN_CELL_AUTO },
        { "countries", "countries", 0, TN_CELL_AUTO }, { "best connected", "top", 0, TN_CELL_AUTO },
    };
    static const tn_cli_col_t mcols[] = { { "id", "id", 0, TN_CELL_AUTO }, { "community", "community", 1, TN_CELL_AUTO } };
    char *a = tn_cli_field(res, "algorithm", TN_CELL_AUTO), *g = tn_cli_field(res, "graph", TN_CELL_AUTO),
         *e = tn_cli_field(res, "epoch", TN_CELL_AUTO), *c = tn_cli_field(res, "count", TN_CELL_AUTO),
         *q = tn_cli_field(res, "modularity", TN_CELL_RATIO);
    printf("%s communities on the %s graph (epoch %s): %s communities, modularity %s\n", a ? a : "?",
           g ? g : "?", e ? e : "?", c ? c : "?", q ? q : "?");
    free(a), free(g), free(e), free(c), free(q);
    const tn_val_t *items = tn_cli_items(res, "items");
    tn_val_t rows = TN_VAL_NIL;
    if (tn_val_set_arr(&rows, items ? items->u.a.n : 0) != 0)
        tn_cli_die_oom();
    for (size_t i = 0; items && i < items->u.a.n; i++) {
        const tn_val_t *it = &items->u.a.items[i], *cs = tn_cli_items(it, "countries");
        tn_cli_sbuf_t b = { NULL, 0, 0 };
        for (size_t k = 0; cs && k < cs->u.a.n; k++)
            tn_cli_sb_printf(&b, "%s%s %lld", k ? ", " : "", tn_val_str(tn_map_get(&cs->u.a.items[k], "id")),
                             (long long) tn_cli_res_int(&cs->u.a.items[k], "nodes"));
        tn_val_t r = TN_VAL_NIL, top = TN_VAL_NIL;
        int bad = tn_val_set_map(&r, 4);
        bad |= tn_map_add_int(&r, "community", tn_cli_res_int(it, "community"));
        bad |= tn_map_add_int(&r, "size", tn_cli_res_int(it, "size"));
        bad |= tn_map_add_str(&r, "countries", b.p ? b.p : "");
        const tn_val_t *t = tn_map_get(it, "top");
        bad |= t ? tn_val_copy(&top, t) : 0;
        bad |= tn_map_add_take(&r, "top", &top);
        bad |= tn_arr_push_take(&rows, &r);
        free(b.p);
        if (bad)
            tn_cli_die_oom();
    }
    tn_cli_print_table(&rows, cols, 4);
    tn_val_free(&rows);
    const tn_val_t *mem = tn_map_get(res, "membership");
    if (mem == NULL || mem->type != TN_V_MAP)
        return;
    if (tn_val_set_arr(&rows, mem->u.m.n) != 0)
        tn_cli_die_oom();
    for (size_t i = 0; i < mem->u.m.n; i++) {
        tn_val_t r = TN_VAL_NIL;
        int bad = tn_val_set_map(&r, 2) | tn_map_add_str(&r, "id", mem->u.m.kv[i].key);
        int64_t k = 0;
        tn_val_as_int(&mem->u.m.kv[i].val, &k);
        bad |= tn_map_add_int(&r, "community", k);
        bad |= tn_arr_push_take(&rows, &r);
        if (bad)
            tn_cli_die_oom();
    }
    printf("\nMembership (%zu nodes)\n", mem->u.m.n);
    tn_cli_print_table(&rows, mcols, 2);
    tn_val_free(&rows);
}

/* ---- whatif: a generic before/after comparison ---- */

typedef struct diff {
    tn_val_t rows;          /* {figure, before, after, change} */
    size_t changed;
} diff_t;

static void diff_row(diff_t *d, const char *label, const char *b, const char *a, const char *change) {
    int differs = change[0] != '\0';
    d->changed += (size_t) differs;
    tn_val_t r = TN_VAL_NIL;
    int bad = tn_val_set_map(&r, 5);
    bad |= tn_map_add_str(&r, "figure", label);
    bad |= tn_map_add_str(&r, "before", b);
    bad |= tn_map_add_str(&r, "after", a);
    bad |= tn_map_add_str(&r, "change", change);
    bad |= tn_map_add_bool(&r, "differs", differs);
    bad |= tn_arr_push_take(&d->rows, &r);
    if (bad)
        tn_cli_die_oom();
}

/* The key that identifies a list item, as text (NULL: not a keyed item). */
static char *item_key(const tn_val_t *it) {
    static const char *const keys[] = { "id", "group", "year", "community", NULL };
    if (it == NULL || it->type != TN_V_MAP)
        return NULL;
    for (size_t k = 0; keys[k]; k++) {
        const tn_val_t *v = tn_map_get(it, keys[k]);
        if (v && (v->type == TN_V_STR || v->type == TN_V_INT))
            return tn_cli_cell(v, TN_CELL_AUTO);
    }
    const tn_val_t *a = tn_map_get(it, "a"), *b = tn_map_get(it, "b");
    if (a && b && a->type == TN_V_STR && b->type == TN_V_STR)
        return tn_cli_fmt("%s/%s", a->u.s.p, b->u.s.p);
    return NULL;
}

/* Position of the item of 'arr' whose key is 'key', or -1. */
static long find_item(const tn_val_t *arr, const char *key) {
    for (size_t i = 0; arr && i < arr->u.a.n; i++) {
        char *k = item_key(&arr->u.a.items[i]);
        int same = k && strcmp(k, key) == 0;
        free(k);
        if (same)
            return (long) i;
    }
    return -1;
}

static long find_str(const tn_val_t *arr, const char *s) {
    for (size_t i = 0; arr && i < arr->u.a.n; i++)
        if (arr->u.a.items[i].type == TN_V_STR && strcmp(arr->u.a.items[i].u.s.p, s) == 0)
            return (long) i;
    return -1;
}

static void walk(diff_t *d, const char *path, const tn_val_t *b, const tn_val_t *a);

/* Entries of 'from' missing in 'other', as "+X, +Y" (sign '+' or '-'). */
static void missing(tn_cli_sbuf_t *sb, const tn_val_t *from, const tn_val_t *other, char sign, int keyed) {
    for (size_t i = 0; from && i < from->u.a.n; i++) {
        const tn_val_t *it = &from->u.a.items[i];
        char *k = keyed ? item_key(it) : (it->type == TN_V_STR ? tn_cli_cell(it, TN_CELL_AUTO) : NULL);
        if (k && (keyed ? find_item(other, k) : find_str(other, k)) < 0)
            tn_cli_sb_printf(sb, "%s%c%s", sb->len ? ", " : "", sign, k);
        free(k);
    }
}

static void walk_array(diff_t *d, const char *path, const tn_val_t *b, const tn_val_t *a) {
    const tn_val_t *first = b && b->u.a.n ? &b->u.a.items[0] : a && a->u.a.n ? &a->u.a.items[0] : NULL;
    if (first == NULL)
        return;
    char *k0 = item_key(first);
    int keyed = k0 != NULL, strings = first->type == TN_V_STR;
    free(k0);
    if (!keyed && !strings)
        return;
    tn_cli_sbuf_t sb = { NULL, 0, 0 };
    missing(&sb, a, b, '+', keyed);
    missing(&sb, b, a, '-', keyed);
    char *nb = tn_cli_fmt("%zu", b ? b->u.a.n : 0), *na = tn_cli_fmt("%zu", a ? a->u.a.n : 0);
    char *label = tn_cli_fmt("%s (entries)", path);
    diff_row(d, label, nb, na, sb.p ? sb.p : "");
    free(label), free(nb), free(na), free(sb.p);
    for (size_t i = 0; keyed && b && i < b->u.a.n; i++) {
        char *k = item_key(&b->u.a.items[i]);
        long j = k ? find_item(a, k) : -1;
        if (j >= 0) {
            char *sub = tn_cli_fmt("%s[%s]", path, k);
            walk(d, sub, &b->u.a.items[i], &a->u.a.items[j]);
            free(sub);
        }
        free(k);
    }
}

static void walk(diff_t *d, const char *path, const tn_val_t *b, const tn_val_t *a) {
    const tn_val_t *any = b ? b : a;
    if (any == NULL)
        return;
    if (any->type == TN_V_MAP) {
        for (int side = 0; side < 2; side++) {
            const tn_val_t *m = side ? a : b, *o = side ? b : a;
            for (size_t i = 0; m && m->type == TN_V_MAP && i < m->u.m.n; i++) {
                const char *k = m->u.m.kv[i].key;
                if (strcmp(k, "epoch") == 0 || (side && tn_map_get(o, k)))
                    continue;   /* keys of both sides are visited once, from before */
                char *sub = path[0] ? tn_cli_fmt("%s.%s", path, k) : tn_cli_fmt("%s", k);
                walk(d, sub, tn_map_get(b, k), tn_map_get(a, k));
                free(sub);
            }
        }
    } else if (any->type == TN_V_ARR) {
        walk_array(d, path, b && b->type == TN_V_ARR ? b : NULL, a && a->type == TN_V_ARR ? a : NULL);
    } else if (any->type == TN_V_INT || any->type == TN_V_FLOAT) {
        double x = 0, y = 0;
        int hb = b && tn_val_as_num(b, &x), ha = a && tn_val_as_num(a, &y);
        int is_int = (!b || b->type == TN_V_INT) && (!a || a->type == TN_V_INT);
        char *sb = hb ? tn_cli_cell(b, TN_CELL_SCORE) : tn_cli_fmt("-"),
             *sa = ha ? tn_cli_cell(a, TN_CELL_SCORE) : tn_cli_fmt("-"), *ch;
        if (hb && ha && x == y)
            ch = tn_cli_fmt("%s", "");
        else if (hb && ha)
            ch = is_int ? tn_cli_fmt("%+lld", (long long) (y - x)) : tn_cli_fmt("%+.6g", y - x);
        else
            ch = tn_cli_fmt("%s", ha ? "new" : "gone");
        diff_row(d, path, sb, sa, ch);
        free(sb), free(sa), free(ch);
    } else if (any->type == TN_V_STR) {
        const char *x = tn_val_str(b), *y = tn_val_str(a);
        if (!x || !y || strcmp(x, y) != 0)
            diff_row(d, path, x ? x : "-", y ? y : "-", "changed");
    }
}

void tn_cli_print_whatif(const tn_val_t *res) {
    static const tn_cli_col_t cols[] = {
        { "figure", "figure", 0, TN_CELL_AUTO }, { "before", "before", 1, TN_CELL_AUTO },
        { "after", "after", 1, TN_CELL_AUTO }, { "change", "change", 0, TN_CELL_AUTO },
    };
    const tn_val_t *results = tn_cli_items(res, "results");
    heading("What if (epoch %s; nothing was changed on the server)\n", res, "epoch", NULL);
    for (size_t i = 0; results && i < results->u.a.n; i++) {
        const tn_val_t *r = &results->u.a.items[i];
        diff_t d = { TN_VAL_NIL, 0 };
        if (tn_val_set_arr(&d.rows, 32) != 0)
            tn_cli_die_oom();
        walk(&d, "", tn_map_get(r, "before"), tn_map_get(r, "after"));
        size_t n = d.rows.u.a.n;
        printf("\n%s: %zu of %zu figures changed\n", tn_val_str(tn_map_get(r, "method")), d.changed, n);
        if (n > WHATIF_ALL_ROWS) {
            /* Long results: only what changed. */
            tn_val_t keep = TN_VAL_NIL;
            if (tn_val_set_arr(&keep, d.changed) != 0)
                tn_cli_die_oom();
            for (size_t k = 0; k < n; k++) {
                const tn_val_t *f = tn_map_get(&d.rows.u.a.items[k], "differs");
                if (f && f->type == TN_V_BOOL && f->u.b) {
                    tn_val_t c = TN_VAL_NIL;
                    if (tn_val_copy(&c, &d.rows.u.a.items[k]) != 0 || tn_arr_push_take(&keep, &c) != 0)
                        tn_cli_die_oom();
                }
            }
            if (keep.u.a.n)
                tn_cli_print_table(&keep, cols, 4);
            tn_val_free(&keep);
        } else {
            tn_cli_print_table(&d.rows, cols, 4);
        }
        tn_val_free(&d.rows);
    }
}
