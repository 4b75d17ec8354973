/*
 * import_read.c -- reading the files of `twinnet import` into records:
 * CSV through graph/base/csv.c (syntax, header, types) and JSON Lines.
 *
 * Every bad line becomes a problem at its line; good records are kept,
 * with where they came from, so that later checks can name their lines.
 * FILE "-" reads standard input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "import.h"

/* Read a whole file into a malloc'd buffer (NUL-terminated); NULL with errno. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        tn_cli_die_oom();
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            char *p = realloc(buf, cap);
            if (p == NULL)
                tn_cli_die_oom();
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    int e = errno;
    if (f != stdin)
        fclose(f);
    if (bad) {
        free(buf);
        errno = e ? e : EIO;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* File fi of S, read whole; NULL (a problem added) when it cannot be read. */
static char *read_file(tn_cli_import_set_t *S, int fi, size_t *len) {
    char *buf = slurp(S->files[fi], len);
    if (buf == NULL)
        tn_cli_import_problem(S, fi, 0, NULL, "cannot read: %s", strerror(errno));
    return buf;
}

/* Length of a UTF-8 byte order mark at the start of buf: 3 or 0. */
static size_t bom_len(const char *buf, size_t len) {
    return len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* Bytes of the record the reader is about to read start at r->pos (blank
 * lines before it included, which the mapping skips). */
void tn_cli_import_load_csv(tn_cli_import_set_t *S, int fi, int is_pairs) {
    size_t len;
    char *buf = read_file(S, fi, &len);
    if (buf == NULL)
        return;
    tn_code_t (*map)(const char *, size_t, tn_val_t *, tn_error_t *) = is_pairs ? tn_csv_pairs : tn_csv_nodes;
    tn_val_t arr = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_csv_reader_t r;
    tn_code_t rc = map(buf, len, &arr, &err);
    if (rc == TN_ERR_INTERNAL)
        tn_cli_die_oom();
    tn_csv_reader_init(&r, buf, len);
    tn_csv_status_t st = tn_csv_read(&r);
    int64_t header_line = r.row_line;
    size_t header_end = r.pos;
    if (rc == TN_OK) {
        /* Good file: the k-th record is the k-th row the reader finds. */
        size_t k = 0;
        while ((st = tn_csv_read(&r)) != TN_CSV_END && k < arr.u.a.n) {
            if (st == TN_CSV_NOMEM)
                tn_cli_die_oom();
            tn_cli_import_push(S, is_pairs, &arr.u.a.items[k], fi, r.row_line);
            k++;
        }
        arr.u.a.n = 0;               /* the records moved out */
        tn_val_free(&arr);
        tn_csv_reader_destroy(&r);
        free(buf);
        return;
    }
    /* A broken header: its own problems only (rows cannot be read). */
    int header_bad = 0;
    if (err.data.type == TN_V_ARR)
        for (size_t i = 0; i < err.data.u.a.n; i++) {
            int64_t at;
            if (tn_val_as_int(tn_map_get(&err.data.u.a.items[i], "index"), &at) && at == header_line)
                header_bad = 1;
        }
    if (header_bad || st != TN_CSV_ROW) {
        tn_cli_import_details(S, fi, -1, &err);
        tn_error_clear(&err);
        tn_csv_reader_destroy(&r);
        free(buf);
        return;
    }
    tn_error_clear(&err);
    /* Bad rows: map each row on its own (header + that row), so that every
     * bad line is reported, not just the first 100, and the good rows are
     * kept for the server's checks. */
    char **names = calloc(tn_csv_nfields(&r) + 1, sizeof *names);
    size_t nnames = tn_csv_nfields(&r);
    if (names == NULL)
        tn_cli_die_oom();
    for (size_t i = 0; i < nnames; i++)
        if ((names[i] = strdup(tn_csv_field(&r, i, NULL))) == NULL)
            tn_cli_die_oom();
    char *mini = NULL;
    size_t mini_cap = 0;
    size_t hstart = bom_len(buf, len);
    size_t hlen = header_end - hstart;
    for (;;) {
        size_t start = r.pos;
        st = tn_csv_read(&r);
        if (st == TN_CSV_END)
            break;
        if (st == TN_CSV_NOMEM)
            tn_cli_die_oom();
        if (st == TN_CSV_BAD) {
            const char *f = r.bad_field >= 0 && (size_t) r.bad_field < nnames ? names[r.bad_field] : NULL;
            tn_cli_import_problem(S, fi, r.row_line, f, "%s", r.why);
            continue;
        }
        size_t rlen = r.pos - start;
        size_t need = hlen + 1 + rlen + 1;
        if (need > mini_cap) {
            mini_cap = need * 2;
            if ((mini = realloc(mini, mini_cap)) == NULL)
                tn_cli_die_oom();
        }
        memcpy(mini, buf + hstart, hlen);
        size_t m = hlen;
        if (m == 0 || mini[m - 1] != '\n')
            mini[m++] = '\n';
        memcpy(mini + m, buf + start, rlen);
        m += rlen;
        tn_val_t one = TN_VAL_NIL;
        tn_error_t e1 = TN_ERROR_INIT;
        tn_code_t rc1 = map(mini, m, &one, &e1);
        if (rc1 == TN_ERR_INTERNAL)
            tn_cli_die_oom();
        if (rc1 != TN_OK)
            tn_cli_import_details(S, fi, r.row_line, &e1);
        else
            for (size_t k = 0; k < one.u.a.n; k++) {
                tn_cli_import_push(S, is_pairs, &one.u.a.items[k], fi, r.row_line);
                one.u.a.items[k] = TN_VAL_NIL;
            }
        tn_val_free(&one);
        tn_error_clear(&e1);
    }
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    free(mini);
    tn_csv_reader_destroy(&r);
    free(buf);
}

/* JSON Lines: one record per line, {"node": {...}}, {"pair": {...}}, or a
 * bare record: a map with "id" is a node, one with "a" and "b" a pair.
 * Blank lines are skipped. */
void tn_cli_import_load_jsonl(tn_cli_import_set_t *S, int fi) {
    size_t len;
    char *buf = read_file(S, fi, &len);
    if (buf == NULL)
        return;
    size_t pos = bom_len(buf, len);
    for (int64_t line = 1; pos < len; line++) {
        char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t) (nl - buf) : len;
        size_t e = end;
        if (e > pos && buf[e - 1] == '\r')
            e--;
        size_t b = pos;
        pos = nl ? end + 1 : len;
        while (b < e && (buf[b] == ' ' || buf[b] == '\t'))
            b++;
        if (b == e)
            continue;
        tn_val_t v = TN_VAL_NIL;
        char why[200];
        if (tn_val_from_json(buf + b, e - b, &v, why, sizeof why) != 0) {
            const char *w = strncmp(why, "line 1 ", 7) == 0 ? why + 7 : why;
            tn_cli_import_problem(S, fi, line, NULL, "invalid JSON: %s", w);
            continue;
        }
        if (v.type != TN_V_MAP) {
            tn_cli_import_problem(S, fi, line, NULL, "expected a JSON object (a node or a pair record)");
            tn_val_free(&v);
            continue;
        }
        const tn_val_t *node = tn_map_get(&v, "node"), *pair = tn_map_get(&v, "pair");
        int is_pair;
        tn_val_t rec = TN_VAL_NIL;
        if (v.u.m.n == 1 && (node || pair)) {
            const tn_val_t *inner = node ? node : pair;
            if (inner->type != TN_V_MAP) {
                tn_cli_import_problem(S, fi, line, node ? "node" : "pair", "must be an object");
                tn_val_free(&v);
                continue;
            }
            is_pair = pair != NULL;
            rec = v.u.m.kv[0].val;       /* move it out */
            v.u.m.kv[0].val = TN_VAL_NIL;
            tn_val_free(&v);
        } else {
            int has_id = tn_map_get(&v, "id") != NULL;
            int has_ab = tn_map_get(&v, "a") != NULL && tn_map_get(&v, "b") != NULL;
            if (has_id == has_ab) {
                tn_cli_import_problem(S, fi, line, NULL, "%s",
                                      has_id ? "ambiguous record: has both \"id\" (a node) and \"a\"/\"b\" (a pair)"
                                             : "not a node (needs \"id\") or a pair (needs \"a\" and \"b\"); or "
                                               "wrap it as {\"node\": {...}} / {\"pair\": {...}}");
                tn_val_free(&v);
                continue;
            }
            is_pair = has_ab;
            rec = v;
        }
        tn_cli_import_push(S, is_pair, &rec, fi, line);
    }
    free(buf);
}
