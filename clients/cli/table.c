/*
 * table.c -- aligned text output for the `twinnet` CLI: tables of result
 * rows and "label  value" lines.
 *
 * Widths count terminal columns, not bytes: a CJK character takes two, a
 * combining mark none, so names such as 长沙市 line up. Cell text comes
 * from cell.c, which has already replaced control characters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

/* Terminal columns of one code point: 0 for combining marks, 2 for East
 * Asian wide and fullwidth characters (CJK ideographs, kana, hangul,
 * fullwidth forms), 1 otherwise. */
static int cp_width(uint32_t cp) {
    if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f)
        || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff)
        || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60)
        || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f)
        || (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

/* Display width of a UTF-8 string; a malformed byte counts as one column. */
static size_t display_width(const char *s) {
    const unsigned char *p = (const unsigned char *) s;
    size_t w = 0;
    while (*p) {
        uint32_t cp;
        int n;
        if (*p < 0x80) {
            cp = *p;
            n = 1;
        } else if ((*p & 0xe0) == 0xc0) {
            cp = *p & 0x1f;
            n = 2;
        } else if ((*p & 0xf0) == 0xe0) {
            cp = *p & 0x0f;
            n = 3;
        } else if ((*p & 0xf8) == 0xf0) {
            cp = *p & 0x07;
            n = 4;
        } else {
            w++;
            p++;
            continue;
        }
        int k = 1;
        for (; k < n && (p[k] & 0xc0) == 0x80; k++)
            cp = (cp << 6) | (p[k] & 0x3f);
        if (k < n) {               /* truncated sequence */
            w++;
            p++;
            continue;
        }
        w += (size_t) cp_width(cp);
        p += n;
    }
    return w;
}

/* Print s padded with spaces to 'width' columns, in style st (-1: none);
 * the padding stays outside the style, so widths do not change. */
static void put_styled(const char *s, size_t width, int right, int st) {
    size_t w = display_width(s);
    size_t pad = w < width ? width - w : 0;
    const char *on = st >= 0 ? tn_cli_style(stdout, (tn_cli_style_t) st) : "";
    const char *off = on[0] ? tn_cli_style(stdout, TN_STYLE_RESET) : "";
    if (right)
        printf("%*s%s%s%s", (int) pad, "", on, s, off);
    else
        printf("%s%s%s%*s", on, s, off, (int) pad, "");
}


void tn_cli_print_table(const tn_val_t *rows, const tn_cli_col_t *cols, size_t ncols) {
    size_t n = rows ? rows->u.a.n : 0;
    if (n == 0) {
        printf("(none)\n");
        return;
    }
    char **cells = calloc(n * ncols, sizeof *cells);
    size_t *width = calloc(ncols, sizeof *width);
    if (cells == NULL || width == NULL)
        tn_cli_die_oom();
    for (size_t c = 0; c < ncols; c++)
        width[c] = display_width(cols[c].head);
    for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; c < ncols; c++) {
            char *s;
            if (cols[c].path[0] == '\0') {
                tn_cli_sbuf_t b = { NULL, 0, 0 };
                tn_cli_sb_printf(&b, "%zu", r + 1);
                s = b.p;
            } else {
                s = tn_cli_cell(tn_cli_get(&rows->u.a.items[r], cols[c].path), cols[c].fmt);
            }
            cells[r * ncols + c] = s;
            size_t w = display_width(s);
            if (w > width[c])
                width[c] = w;
        }
    }
    /* Line 0 is the heading. The last column is not padded, so lines carry
     * no trailing blanks. */
    for (size_t r = 0; r <= n; r++) {
        for (size_t c = 0; c < ncols; c++) {
            if (c)
                fputs("  ", stdout);
            put_styled(r == 0 ? cols[c].head : cells[(r - 1) * ncols + c],
                       c + 1 < ncols || cols[c].right ? width[c] : 0, cols[c].right, r == 0 ? TN_STYLE_HEAD : -1);
        }
        putchar('\n');
    }
    for (size_t k = 0; k < n * ncols; k++)
        free(cells[k]);
    free(cells);
    free(width);
}

void tn_cli_print_lines(tn_cli_line_t *lines, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (lines[i].text && display_width(lines[i].label) > w)
            w = display_width(lines[i].label);
    for (size_t i = 0; i < n; i++) {
        if (lines[i].text == NULL)
            continue;
        put_styled(lines[i].label, w, 0, TN_STYLE_LABEL);
        printf("  %s\n", lines[i].text);
        free(lines[i].text);
    }
}

void tn_cli_print_kv(const tn_val_t *map) {
    if (map == NULL || map->type != TN_V_MAP) {
        char *s = tn_cli_cell(map, TN_CELL_AUTO);
        printf("%s\n", s);
        free(s);
        return;
    }
    tn_cli_line_t *lines = calloc(map->u.m.n + 1, sizeof *lines);
    if (lines == NULL)
        exit(TN_EXIT_SERVER);
    for (size_t i = 0; i < map->u.m.n; i++) {
        lines[i].label = map->u.m.kv[i].key;
        lines[i].text = tn_cli_cell(&map->u.m.kv[i].val, TN_CELL_AUTO);
    }
    tn_cli_print_lines(lines, map->u.m.n);
    free(lines);
}
