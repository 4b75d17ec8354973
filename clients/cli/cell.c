/*
 * cell.c -- result values as text for the `twinnet` CLI's printers:
 * looking up a dotted path in a result, and turning any value into the
 * text of one table cell.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Append v as cell text (see tn_cli_cell). */
static void sb_val(tn_cli_sbuf_t *b, const tn_val_t *v, tn_cli_cellfmt_t fmt) {
    if (v == NULL)
        return;
    switch (v->type) {
    case TN_V_NIL:
        break;
    case TN_V_BOOL:
        tn_cli_sb_printf(b, "%s", v->u.b ? "yes" : "no");
        break;
    case TN_V_INT:
        tn_cli_sb_printf(b, "%lld", (long long) v->u.i);
        break;
    case TN_V_FLOAT:
        if (fmt == TN_CELL_RATIO)
            tn_cli_sb_printf(b, "%.3f", v->u.f);
        else if (fmt == TN_CELL_SCORE)
            tn_cli_sb_printf(b, "%.6g", v->u.f);
        else if (v->u.f == floor(v->u.f) && fabs(v->u.f) < 1e15)
            tn_cli_sb_printf(b, "%.0f", v->u.f);
        else
            tn_cli_sb_printf(b, "%.6g", v->u.f);
        break;
    case TN_V_STR:
        tn_cli_sb_text(b, v->u.s.p, v->u.s.len);
        break;
    case TN_V_ARR:
        for (size_t i = 0; i < v->u.a.n; i++) {
            if (i)
                tn_cli_sb_printf(b, ", ");
            sb_val(b, &v->u.a.items[i], fmt);
        }
        break;
    case TN_V_MAP:
        for (size_t i = 0; i < v->u.m.n; i++) {
            if (i)
                tn_cli_sb_printf(b, ", ");
            tn_cli_sb_text(b, v->u.m.kv[i].key, v->u.m.kv[i].klen);
            tn_cli_sb_printf(b, ": ");
            if (v->u.m.kv[i].val.type == TN_V_MAP || v->u.m.kv[i].val.type == TN_V_ARR) {
                tn_cli_sb_printf(b, "(");
                sb_val(b, &v->u.m.kv[i].val, fmt);
                tn_cli_sb_printf(b, ")");
            } else {
                sb_val(b, &v->u.m.kv[i].val, fmt);
            }
        }
        break;
    }
}

char *tn_cli_cell(const tn_val_t *v, tn_cli_cellfmt_t fmt) {
    tn_cli_sbuf_t b = { NULL, 0, 0 };
    tn_cli_sb_printf(&b, "%s", "");
    sb_val(&b, v, fmt);
    return b.p;
}

const tn_val_t *tn_cli_get(const tn_val_t *v, const char *path) {
    char key[64];
    while (v != NULL && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        v = tn_map_get(v, key);
        path += n;
        if (*path == '.')
            path++;
    }
    return v;
}

const tn_val_t *tn_cli_items(const tn_val_t *res, const char *path) {
    const tn_val_t *it = tn_cli_get(res, path);
    return it != NULL && it->type == TN_V_ARR ? it : NULL;
}

char *tn_cli_field(const tn_val_t *res, const char *path, tn_cli_cellfmt_t f) {
    const tn_val_t *v = tn_cli_get(res, path);
    return v ? tn_cli_cell(v, f) : NULL;
}

char *tn_cli_fill(const tn_val_t *res, const char *text) {
    tn_cli_sbuf_t b = { NULL, 0, 0 };
    tn_cli_sb_printf(&b, "%s", "");
    for (const char *s = text; *s;) {
        const char *open = strchr(s, '{'), *close = open ? strchr(open, '}') : NULL;
        if (close == NULL) {
            tn_cli_sb_printf(&b, "%s", s);
            break;
        }
        char path[128];
        snprintf(path, sizeof path, "%.*s", (int) (close - open - 1), open + 1);
        char *v = tn_cli_field(res, path, TN_CELL_AUTO);
        tn_cli_sb_printf(&b, "%.*s%s", (int) (open - s), s, v ? v : "?");
        free(v);
        s = close + 1;
    }
    return b.p;
}

int64_t tn_cli_res_int(const tn_val_t *res, const char *key) {
    int64_t v = 0;
    tn_val_as_int(tn_map_get(res, key), &v);
    return v;
}
