/*
 * csv.c -- the RFC 4180 reader and the nodes/pairs mappings of csv.h.
 *
 * The reader is a small state machine over a borrowed buffer; it copies each
 * record's fields into one scratch buffer so that callers get ordinary
 * NUL-terminated strings. It must never read past 'len' (the embedded
 * dataset and network imports are not NUL-terminated) and never stop at the
 * first bad line: analysts fix a file from the full list of its errors.
 */
#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "utf8.h"

/* ---- the reader ---------------------------------------------------------- */

void tn_csv_reader_init(tn_csv_reader_t *r, const char *buf, size_t len) {
    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->len = len;
    r->line = 1;
    r->bad_field = -1;
    /* RFC 4180 knows no byte order mark, but spreadsheet exports add one. */
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
}

void tn_csv_reader_destroy(tn_csv_reader_t *r) {
    if (r == NULL)
        return;
    free(r->text);
    free(r->start);
    free(r->flen);
    memset(r, 0, sizeof *r);
}

static int put_byte(tn_csv_reader_t *r, char c) {
    if (tn_grow((void **) &r->text, &r->text_cap, r->text_len + 2, 256, 1) != 0)
        return -1;
    r->text[r->text_len++] = c;
    return 0;
}

/* Open a new field at the end of 'text'. */
static int begin_field(tn_csv_reader_t *r) {
    size_t cap = r->fcap;           /* start and flen share fcap: grow both, then set it */
    if (tn_grow((void **) &r->start, &cap, r->nfields + 1, 16, sizeof *r->start) != 0
        || tn_grow((void **) &r->flen, &r->fcap, r->nfields + 1, 16, sizeof *r->flen) != 0)
        return -1;
    r->start[r->nfields] = r->text_len;
    r->flen[r->nfields] = 0;
    r->nfields++;
    return 0;
}

/* Close the current field: record its length and NUL-terminate it. */
static int end_field(tn_csv_reader_t *r) {
    size_t i = r->nfields - 1;
    r->flen[i] = r->text_len - r->start[i];
    return put_byte(r, '\0');
}

/* After a malformed record: note why, and skip to the start of the next
 * physical line, the only place where parsing can sensibly resume. */
static tn_csv_status_t bad(tn_csv_reader_t *r, const char *why) {
    snprintf(r->why, sizeof r->why, "%s", why);
    r->bad_field = r->nfields > 0 ? (int) r->nfields - 1 : -1;
    while (r->pos < r->len && r->buf[r->pos] != '\n')
        r->pos++;
    if (r->pos < r->len) {
        r->pos++;
        r->line++;
    }
    return TN_CSV_BAD;
}

/* At r->pos: is there a line end (LF or CRLF)? Returns its length or 0. */
static size_t line_end(const tn_csv_reader_t *r) {
    if (r->pos < r->len && r->buf[r->pos] == '\n')
        return 1;
    if (r->pos + 1 < r->len && r->buf[r->pos] == '\r' && r->buf[r->pos + 1] == '\n')
        return 2;
    return 0;
}

tn_csv_status_t tn_csv_read(tn_csv_reader_t *r) {
    size_t eol;

    r->text_len = 0;
    r->nfields = 0;
    r->bad_field = -1;
    r->why[0] = '\0';

    while ((eol = line_end(r)) > 0) {       /* blank lines separate nothing */
        r->pos += eol;
        r->line++;
    }
    if (r->pos >= r->len)
        return TN_CSV_END;
    r->row_line = r->line;

    for (;;) {                               /* one field per turn */
        if (begin_field(r) != 0)
            return TN_CSV_NOMEM;
        if (r->pos < r->len && r->buf[r->pos] == '"') {
            int64_t opened = r->line;
            r->pos++;
            for (;;) {
                if (r->pos >= r->len) {
                    char why[96];
                    snprintf(why, sizeof why, "unterminated quoted field (opened on line %lld)",
                             (long long) opened);
                    return bad(r, why);
                }
                char c = r->buf[r->pos];
                if (c == '"') {
                    if (r->pos + 1 < r->len && r->buf[r->pos + 1] == '"') {
                        if (put_byte(r, '"') != 0)
                            return TN_CSV_NOMEM;
                        r->pos += 2;
                        continue;
                    }
                    r->pos++;
                    break;
                }
                if (c == '\n')
                    r->line++;               /* a line break inside the field is data */
                if (put_byte(r, c) != 0)
                    return TN_CSV_NOMEM;
                r->pos++;
            }
            if (r->pos < r->len && r->buf[r->pos] != ',' && line_end(r) == 0)
                return bad(r, "unexpected character after a closing quote");
        } else {
            while (r->pos < r->len) {
                char c = r->buf[r->pos];
                if (c == ',' || c == '\n')
                    break;
                if (c == '\r') {
                    if (line_end(r) == 2)
                        break;
                    return bad(r, "carriage return without a line feed");
                }
                if (c == '"')
                    return bad(r, "quote inside an unquoted field (quote the whole field "
                                  "and double the quote)");
                if (put_byte(r, c) != 0)
                    return TN_CSV_NOMEM;
                r->pos++;
            }
        }
        if (end_field(r) != 0)
            return TN_CSV_NOMEM;

        if (r->pos < r->len && r->buf[r->pos] == ',') {
            r->pos++;
            continue;
        }
        eol = line_end(r);
        r->pos += eol;
        if (eol > 0)
            r->line++;
        break;                               /* end of line or of input */
    }

    /* Whole-record check, so that a bad byte in any field is reported with
     * its column and the reader stays in step with the lines. */
    for (size_t i = 0; i < r->nfields; i++) {
        const char *f = r->text + r->start[i];
        const char *why = NULL;
        if (!tn_utf8_valid(f, r->flen[i], 1))
            why = "invalid UTF-8";
        else if (memchr(f, '\0', r->flen[i]) != NULL)
            why = "NUL byte in a field";      /* would cut every C string short */
        if (why != NULL) {
            snprintf(r->why, sizeof r->why, "%s", why);
            r->bad_field = (int) i;
            return TN_CSV_BAD;
        }
    }
    return TN_CSV_ROW;
}

const char *tn_csv_field(const tn_csv_reader_t *r, size_t i, size_t *len) {
    if (i >= r->nfields)
        return NULL;
    if (len != NULL)
        *len = r->flen[i];
    return r->text + r->start[i];
}

size_t tn_csv_nfields(const tn_csv_reader_t *r) {
    return r->nfields;
}

/* ---- typed mapping ------------------------------------------------------- */

typedef enum col_type { COL_STR, COL_TAGS, COL_NUM, COL_SINCE } col_type_t;

typedef struct col {
    const char *name;
    col_type_t type;
    int required;
} col_t;

/* docs/protocol.md, "Data model"; required = what no record can do without. */
static const col_t node_cols[] = {
    { "id", COL_STR, 1 },        { "kind", COL_STR, 1 },      { "name", COL_STR, 1 },
    { "name_zh", COL_STR, 0 },   { "country", COL_STR, 0 },   { "parent", COL_STR, 0 },
    { "region", COL_STR, 0 },    { "subregion", COL_STR, 0 }, { "tags", COL_TAGS, 0 },
    { "lat", COL_NUM, 0 },       { "lon", COL_NUM, 0 },       { "population", COL_NUM, 0 },
    { NULL, COL_STR, 0 }
};

static const col_t pair_cols[] = {
    { "a", COL_STR, 1 },         { "b", COL_STR, 1 },          { "kind", COL_STR, 0 },
    { "since", COL_SINCE, 0 },   { "source", COL_STR, 0 },     { "confidence", COL_STR, 0 },
    { NULL, COL_STR, 0 }
};

#define OOM (-2)     /* convert(): out of memory, as opposed to a bad value (-1) */

static int is_space(char c) {
    return c == ' ' || c == '\t';
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* A decimal number as a spreadsheet writes it: [-+]digits[.digits][e[-+]digits].
 * Checked by hand because strtod() also takes "inf", "nan" and hex. */
static int is_number(const char *s) {
    size_t i = 0, d = 0;
    if (s[i] == '-' || s[i] == '+')
        i++;
    while (is_digit(s[i])) { i++; d++; }
    if (s[i] == '.') {
        i++;
        while (is_digit(s[i])) { i++; d++; }
    }
    if (d == 0)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        if (s[i] == '-' || s[i] == '+')
            i++;
        if (!is_digit(s[i]))
            return 0;
        while (is_digit(s[i]))
            i++;
    }
    return s[i] == '\0';
}

/* Parse an all-digit (optionally signed) integer that fits int64. */
static int parse_int(const char *s, int64_t *out) {
    const char *p = (*s == '-' || *s == '+') ? s + 1 : s;
    if (*p == '\0')
        return 0;
    for (const char *q = p; *q; q++)
        if (!is_digit(*q))
            return 0;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    *out = (int64_t) v;
    return 1;
}

/* Convert one non-empty cell into 'slot' (nil). 0; -1 with a reason in
 * 'why' for a bad value; OOM. */
static int convert(const col_t *c, const char *cell, size_t len, tn_val_t *slot,
                   char *why, size_t whylen) {
    switch (c->type) {
    case COL_STR:
        return tn_val_set_strn(slot, cell, len) == 0 ? 0 : OOM;

    case COL_SINCE: {
        int64_t y;
        if (parse_int(cell, &y) && cell[0] != '-' && cell[0] != '+')
            *slot = tn_val_int(y);
        else if (tn_val_set_strn(slot, cell, len) != 0)
            return OOM;
        return 0;
    }

    case COL_NUM: {
        char buf[64];
        size_t b = 0, e = len;
        while (b < e && is_space(cell[b])) b++;
        while (e > b && is_space(cell[e - 1])) e--;
        if (e - b >= sizeof buf) {
            snprintf(why, whylen, "number is too long");
            return -1;
        }
        memcpy(buf, cell + b, e - b);
        buf[e - b] = '\0';
        int64_t i;
        if (parse_int(buf, &i)) {
            *slot = tn_val_int(i);
            return 0;
        }
        if (!is_number(buf)) {
            snprintf(why, whylen, "must be a number, got \"%s\"", TN_CLIP(buf, 40));
            return -1;
        }
        double d = strtod(buf, NULL);    /* the C locale: the service never sets one */
        if (!isfinite(d)) {
            snprintf(why, whylen, "number is out of range");
            return -1;
        }
        *slot = tn_val_float(d);
        return 0;
    }

    case COL_TAGS: {
        if (tn_val_set_arr(slot, 4) != 0)
            return OOM;
        size_t i = 0;
        while (i <= len) {
            size_t j = i;
            while (j < len && cell[j] != ';')
                j++;
            size_t b = i, e = j;
            while (b < e && is_space(cell[b])) b++;
            while (e > b && is_space(cell[e - 1])) e--;
            if (e > b) {
                tn_val_t *t = tn_arr_push(slot);
                if (t == NULL || tn_val_set_strn(t, cell + b, e - b) != 0)
                    return OOM;
            }
            i = j + 1;
        }
        return 0;
    }
    }
    return -1;
}

/* The shared body of tn_csv_nodes and tn_csv_pairs. 'what' names the file
 * kind in messages ("nodes", "pairs"). */
static tn_code_t map_records(const char *buf, size_t len, const col_t *cols, const char *what,
                             tn_val_t *out, tn_error_t *err) {
    tn_csv_reader_t r;
    tn_csv_status_t st;
    const col_t **map = NULL;      /* header position -> column */
    size_t ncols = 0, nbad = 0;
    int64_t first_line = 0;
    char first_why[192] = "";
    tn_code_t rc = TN_OK;

    tn_val_free(out);
    if (tn_val_set_arr(out, 64) != 0)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    tn_csv_reader_init(&r, buf, len);

/* Count a bad line, keep the first reason for the message, add a detail. */
#define BAD_LINE(line, field, ...) do {                                        \
        nbad++;                                                                \
        if (first_line == 0) {                                                 \
            first_line = (line);                                               \
            snprintf(first_why, sizeof first_why, __VA_ARGS__);                \
        }                                                                      \
        tn_error_detail(err, (line), (field), __VA_ARGS__);                    \
    } while (0)

    /* The header. */
    st = tn_csv_read(&r);
    if (st == TN_CSV_NOMEM)
        goto nomem;
    if (st == TN_CSV_END) {
        BAD_LINE(1, NULL, "a header row is required (the input is empty)");
        goto done;
    }
    if (st == TN_CSV_BAD) {
        BAD_LINE(r.row_line, NULL, "header: %s", r.why);
        goto done;
    }
    ncols = tn_csv_nfields(&r);
    if ((map = calloc(ncols, sizeof *map)) == NULL)
        goto nomem;
    for (size_t i = 0; i < ncols; i++) {
        const char *name = tn_csv_field(&r, i, NULL);
        for (const col_t *c = cols; c->name; c++)
            if (strcmp(c->name, name) == 0)
                map[i] = c;
        if (map[i] == NULL) {
            BAD_LINE(r.row_line, name, "unknown column \"%s\"", TN_CLIP(name, 60));
            continue;
        }
        for (size_t k = 0; k < i; k++)
            if (map[k] == map[i]) {
                BAD_LINE(r.row_line, name, "duplicate column \"%s\"", name);
                map[i] = NULL;
                break;
            }
    }
    for (const col_t *c = cols; c->name; c++) {
        if (!c->required)
            continue;
        size_t i = 0;
        while (i < ncols && map[i] != c)
            i++;
        if (i == ncols)
            BAD_LINE(r.row_line, c->name, "required column \"%s\" is missing", c->name);
    }
    if (nbad > 0)
        goto done;           /* rows cannot be read against a broken header */

    /* The records. */
    while ((st = tn_csv_read(&r)) != TN_CSV_END) {
        if (st == TN_CSV_NOMEM)
            goto nomem;
        if (st == TN_CSV_BAD) {
            const char *f = r.bad_field >= 0 && (size_t) r.bad_field < ncols
                                ? map[r.bad_field]->name : NULL;
            BAD_LINE(r.row_line, f, "%s", r.why);
            continue;
        }
        if (tn_csv_nfields(&r) != ncols) {
            BAD_LINE(r.row_line, NULL, "has %zu fields, the header has %zu",
                     tn_csv_nfields(&r), ncols);
            continue;
        }
        tn_val_t rec = TN_VAL_NIL;
        int rec_bad = 0;
        if (tn_val_set_map(&rec, ncols) != 0)
            goto nomem;
        for (size_t i = 0; i < ncols; i++) {
            size_t flen = 0;
            const char *cell = tn_csv_field(&r, i, &flen);
            if (flen == 0)
                continue;                    /* empty cell = field absent */
            tn_val_t *slot = tn_map_add(&rec, map[i]->name);
            char why[128];
            int cv = slot == NULL ? OOM : convert(map[i], cell, flen, slot, why, sizeof why);
            if (cv == OOM) {
                tn_val_free(&rec);
                goto nomem;
            }
            if (cv != 0) {
                BAD_LINE(r.row_line, map[i]->name, "%s", why);
                rec_bad = 1;
            }
        }
        if (rec_bad || nbad > 0) {
            tn_val_free(&rec);               /* the result is dropped anyway */
            continue;
        }
        if (tn_arr_push_take(out, &rec) != 0)
            goto nomem;
    }
#undef BAD_LINE

done:
    if (nbad > 0) {
        tn_val_free(out);
        rc = tn_error_set(err, TN_ERR_INVALID_PARAMS, "%s CSV: %zu bad line%s; line %lld: %s",
                          what, nbad, nbad == 1 ? "" : "s", (long long) first_line, first_why);
    }
    free(map);
    tn_csv_reader_destroy(&r);
    return rc;

nomem:
    tn_val_free(out);
    free(map);
    tn_csv_reader_destroy(&r);
    return tn_error_set(err, TN_ERR_INTERNAL, "out of memory reading %s CSV", what);
}

tn_code_t tn_csv_nodes(const char *buf, size_t len, tn_val_t *out_array, tn_error_t *err) {
    return map_records(buf, len, node_cols, "nodes", out_array, err);
}

tn_code_t tn_csv_pairs(const char *buf, size_t len, tn_val_t *out_array, tn_error_t *err) {
    return map_records(buf, len, pair_cols, "pairs", out_array, err);
}
