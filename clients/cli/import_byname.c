/*
 * import_byname.c -- `twinnet import --pairs-by-name FILE`: twinning lists
 * that name both ends of each pair by place name and country, not by id
 * (docs/import-export.md, "Pairs by name").
 *
 * Columns: a_name, a_country_iso2, b_name, b_country_iso2 (required);
 * established_year (-> since), source_dataset (-> source), confidence
 * (default medium), kind (default sister); with cn_province_code (and
 * cn_province_en / cn_province_zh) a Chinese end is looked for, and made,
 * under that province. Other columns are ignored.
 *
 * Each end is matched against the server's province and city nodes of its
 * country by name key (namekey.h), on "name" and "name_zh". One match is
 * that node; two or more is a problem ("ambiguous"), never a guess; none
 * makes a new city node "<ISO2>-<slug>" (a Chinese end under a province:
 * "CN-<code>-<slug>" with that parent, as datasets/tools/convert_twinning.py
 * names them), with "-2", "-3"... when the id is taken. A pair the server
 * already has is left as it is (a list from the web must not overwrite a
 * verified date or source); a row repeating an earlier row's pair is
 * skipped. Every bad row is reported as file:line: field: reason and then
 * nothing is imported. When nothing is new, nothing is sent (no empty
 * change, no new epoch). What remains goes through the ordinary streamed
 * import (import_send.c), so it is applied atomically or not at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "import.h"
#include "namekey.h"

#define MAX_LISTED 4        /* node ids named in an "ambiguous" problem */

/* Every node that has one name key in one scope ("JP" or "CN-430000"). */
typedef struct name_entry {
    size_t ids[MAX_LISTED];  /* indices into by->nodes (distinct) */
    size_t n;                /* distinct nodes, may pass MAX_LISTED */
} name_entry_t;

/* A matched or made end, for the report. */
typedef struct end_note {
    char *name, *country, *id;
    int created;
    int file;
    int64_t line;
} end_note_t;

typedef struct byname {
    tn_cli_import_set_t *S;
    tn_val_t nodes;          /* the server's nodes */
    tn_hmap_t ids;           /* node id -> index in nodes (server's), or SIZE_MAX-1 for new */
    tn_hmap_t countries;     /* country id -> 1 */
    tn_hmap_t names;         /* "scope\037key" -> index in entries */
    name_entry_t *entries;
    size_t nentries, entries_cap;
    tn_hmap_t made;          /* "scope\037key" -> index in S->nodes of a new node */
    tn_hmap_t pairs;         /* "a\037b" (a < b) of the server's pairs -> 1 */
    tn_hmap_t seen;          /* the same for this import's pairs -> index in S->pairs */
    tn_hmap_t noted;         /* "scope\037key" -> index in notes */
    end_note_t *notes;
    size_t nnotes, notes_cap;
    char **owned;            /* strings the maps point at */
    size_t nowned, owned_cap;
    size_t present, repeated, rows;
} byname_t;

/* fn (tn_hmap_init or tn_hmap_destroy) on every map of by: one list, so
 * that a map added to byname_t is set up and freed alike. */
static void each_map(byname_t *by, void (*fn)(tn_hmap_t *)) {
    tn_hmap_t *maps[] = { &by->ids, &by->countries, &by->names, &by->made, &by->pairs, &by->seen, &by->noted };
    for (size_t k = 0; k < sizeof maps / sizeof maps[0]; k++)
        fn(maps[k]);
}

static char *own(byname_t *by, char *s) {
    if (s == NULL)
        tn_cli_die_oom();
    by->owned = tn_cli_grow(by->owned, &by->owned_cap, by->nowned, sizeof *by->owned, 256);
    return by->owned[by->nowned++] = s;
}

/* "scope\037key" (the unit separator cannot occur in a key or an id). */
static char *scoped(byname_t *by, const char *scope, const char *key) {
    return own(by, tn_cli_fmt("%s\037%s", scope, key));
}

static void take_record(void *all, tn_val_t *rec) {
    if (tn_arr_push_take(all, rec) != 0)
        tn_cli_die_oom();
}

/* Every record of a paged list method into *all (an array). */
static tn_code_t fetch_all(tn_client_t *cl, const char *method, tn_val_t *all, tn_error_t *err) {
    if (tn_val_set_arr(all, 1024) != 0)
        tn_cli_die_oom();
    return tn_cli_list_all(cl, method, take_record, all, err);
}

static const char *node_str(const tn_val_t *node, const char *key) {
    const char *s = tn_val_str(tn_map_get(node, key));
    return s ? s : "";
}

/* Add node i under name key 'key' of 'scope'. */
static void index_name(byname_t *by, const char *scope, const char *name, size_t i) {
    char *key = tn_cli_name_key(name);
    if (key == NULL)
        tn_cli_die_oom();
    if (key[0] == '\0') {
        free(key);
        return;
    }
    char *k = scoped(by, scope, key);
    free(key);
    size_t e;
    if (!tn_hmap_get(&by->names, k, &e)) {
        by->entries = tn_cli_grow(by->entries, &by->entries_cap, by->nentries, sizeof *by->entries, 1024);
        e = by->nentries++;
        by->entries[e].n = 0;
        if (tn_hmap_put(&by->names, k, e) != 0)
            tn_cli_die_oom();
    }
    name_entry_t *en = &by->entries[e];
    for (size_t j = 0; j < en->n && j < MAX_LISTED; j++)
        if (en->ids[j] == i)
            return;
    if (en->n < MAX_LISTED)
        en->ids[en->n] = i;
    en->n++;
}

/* The Chinese province ("CN-" + 6 digits) that node i is, or lies under
 * by its parent chain; NULL when none. */
static const char *cn_province_of(byname_t *by, size_t i) {
    for (int hops = 0; hops < 16; hops++) {
        const tn_val_t *nd = &by->nodes.u.a.items[i];
        const char *id = node_str(nd, "id");
        if (strcmp(node_str(nd, "kind"), "province") == 0 && strncmp(id, "CN-", 3) == 0 && strlen(id) == 9)
            return id;
        size_t p;
        if (!tn_hmap_get(&by->ids, node_str(nd, "parent"), &p))
            return NULL;
        i = p;
    }
    return NULL;
}

/* Index the server's nodes and pairs. */
static void index_server(byname_t *by, tn_val_t *pairs) {
    size_t n = by->nodes.u.a.n;
    if (tn_hmap_reserve(&by->ids, n) != 0)
        tn_cli_die_oom();
    for (size_t i = 0; i < n; i++) {
        const tn_val_t *nd = &by->nodes.u.a.items[i];
        const char *id = tn_val_str(tn_map_get(nd, "id"));
        if (id && tn_hmap_put(&by->ids, id, i) != 0)
            tn_cli_die_oom();
        if (id && strcmp(node_str(nd, "kind"), "country") == 0 && tn_hmap_put(&by->countries, id, 1) != 0)
            tn_cli_die_oom();
    }
    for (size_t i = 0; i < n; i++) {
        const tn_val_t *nd = &by->nodes.u.a.items[i];
        const char *kind = node_str(nd, "kind"), *cc = node_str(nd, "country");
        if (strcmp(kind, "province") != 0 && strcmp(kind, "city") != 0)
            continue;
        const char *prov = strcmp(cc, "CN") == 0 ? cn_province_of(by, i) : NULL;
        static const char *const fields[] = { "name", "name_zh" };
        for (int f = 0; f < 2; f++) {
            const char *nm = tn_val_str(tn_map_get(nd, fields[f]));
            if (nm == NULL)
                continue;
            index_name(by, cc, nm, i);
            if (prov)
                index_name(by, prov, nm, i);
        }
    }
    for (size_t i = 0; i < pairs->u.a.n; i++) {
        const char *a = node_str(&pairs->u.a.items[i], "a"), *b = node_str(&pairs->u.a.items[i], "b");
        char *k = strcmp(a, b) < 0 ? scoped(by, a, b) : scoped(by, b, a);
        if (tn_hmap_put(&by->pairs, k, 1) != 0)
            tn_cli_die_oom();
    }
}

static int id_taken(byname_t *by, const char *id) {
    size_t dummy;
    return tn_hmap_get(&by->ids, id, &dummy);
}

/* A free id: base, else base-2, base-3, ... */
static char *free_id(byname_t *by, const char *base) {
    if (!id_taken(by, base))
        return own(by, strdup(base));
    for (int k = 2;; k++) {
        char *id = tn_cli_fmt("%s-%d", base, k);
        if (!id_taken(by, id))
            return own(by, id);
        free(id);
    }
}

/* FNV-1a of s: the stable id part of a name with no Latin letters. */
static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 16777619u;
    return h;
}

static void note_end(byname_t *by, const char *skey, const char *name, const char *country, const char *id,
                     int created, int file, int64_t line) {
    size_t dummy;
    if (tn_hmap_get(&by->noted, skey, &dummy))
        return;
    by->notes = tn_cli_grow(by->notes, &by->notes_cap, by->nnotes, sizeof *by->notes, 256);
    end_note_t *nt = &by->notes[by->nnotes];
    nt->name = own(by, strdup(name));
    nt->country = own(by, strdup(country));
    nt->id = own(by, strdup(id));
    nt->created = created;
    nt->file = file;
    nt->line = line;
    if (tn_hmap_put(&by->noted, skey, by->nnotes++) != 0)
        tn_cli_die_oom();
}

/* Make a new node record (city, or a Chinese province) and push it to S. */
static const char *make_node(byname_t *by, const char *id, const char *kind, const char *name, const char *name_zh,
                             const char *country, const char *parent, int file, int64_t line) {
    tn_val_t rec = TN_VAL_NIL;
    if (tn_val_set_map(&rec, 6) != 0 || tn_map_add_str(&rec, "id", id) != 0 || tn_map_add_str(&rec, "kind", kind) != 0
        || tn_map_add_str(&rec, "name", name) != 0 || tn_map_add_str(&rec, "country", country) != 0
        || (name_zh && name_zh[0] && tn_map_add_str(&rec, "name_zh", name_zh) != 0)
        || (parent && tn_map_add_str(&rec, "parent", parent) != 0))
        tn_cli_die_oom();
    if (tn_hmap_put(&by->ids, id, SIZE_MAX - 1) != 0)
        tn_cli_die_oom();
    tn_cli_import_push(by->S, 0, &rec, file, line);
    return id;
}

/* The columns of a by-name file: index of each, or -1. */
enum { C_ANAME, C_ACC, C_BNAME, C_BCC, C_YEAR, C_SOURCE, C_CONF, C_KIND, C_PCODE, C_PEN, C_PZH, NCOLS };
static const char *const col_names[NCOLS] = {
    "a_name", "a_country_iso2", "b_name", "b_country_iso2", "established_year", "source_dataset",
    "confidence", "kind", "cn_province_code", "cn_province_en", "cn_province_zh",
};

/* One row being read. */
typedef struct row {
    const char *f[NCOLS];    /* field text ("" when the column is absent) */
    int file;
    int64_t line;
} row_t;

/* The Chinese province of a row's Chinese end: "CN-<code>", made if the
 * server lacks it and the row names it; NULL when the row has no code.
 * Sets *bad on a malformed code. */
static const char *row_province(byname_t *by, const row_t *r, int *bad) {
    const char *code = r->f[C_PCODE];
    if (code[0] == '\0')
        return NULL;
    int ok = strlen(code) == 6 && code[0] >= '1' && code[0] <= '9';
    for (int k = 1; ok && k < 6; k++)
        ok = code[k] >= '0' && code[k] <= '9';
    if (!ok || strcmp(code + 2, "0000") != 0) {
        tn_cli_import_problem(by->S, r->file, r->line, "cn_province_code",
                              "must be a 6-digit province code ending in 0000, got \"%s\"", code);
        *bad = 1;
        return NULL;
    }
    char *pid = own(by, tn_cli_fmt("CN-%s", code));
    if (!id_taken(by, pid)) {
        if (r->f[C_PEN][0] == '\0') {
            tn_cli_import_problem(by->S, r->file, r->line, "cn_province_code",
                                  "province %s is not on the server and cn_province_en does not name it", pid);
            *bad = 1;
            return NULL;
        }
        make_node(by, pid, "province", r->f[C_PEN], r->f[C_PZH], "CN", NULL, r->file, r->line);
        note_end(by, scoped(by, pid, "\037province"), r->f[C_PEN], "CN", pid, 1, r->file, r->line);
    }
    return pid;
}

/* The node id of end 'end' (0: a_*, 1: b_*) of row r, matched or made;
 * NULL with a problem added. */
static const char *resolve_end(byname_t *by, const row_t *r, int end) {
    int cn = end ? C_BNAME : C_ANAME, cc = end ? C_BCC : C_ACC;
    const char *name = r->f[cn], *iso = r->f[cc];
    tn_cli_import_set_t *S = by->S;
    size_t dummy;
    if (strlen(iso) != 2 || iso[0] < 'A' || iso[0] > 'Z' || iso[1] < 'A' || iso[1] > 'Z') {
        tn_cli_import_problem(S, r->file, r->line, col_names[cc], "must be an ISO 3166-1 alpha-2 code such as JP, got \"%s\"",
                              iso);
        return NULL;
    }
    if (!tn_hmap_get(&by->countries, iso, &dummy)) {
        tn_cli_import_problem(S, r->file, r->line, col_names[cc], "the server has no country node %s", iso);
        return NULL;
    }
    char *key = tn_cli_name_key(name);
    if (key == NULL)
        tn_cli_die_oom();
    own(by, key);
    if (key[0] == '\0') {
        tn_cli_import_problem(S, r->file, r->line, col_names[cn], "%s", name[0] ? "has no letters or digits" : "is empty");
        return NULL;
    }
    const char *scope = iso;
    if (end == 0 && strcmp(iso, "CN") == 0) {      /* the cn_province_* columns describe the a end */
        int bad = 0;
        const char *prov = row_province(by, r, &bad);
        if (bad)
            return NULL;
        if (prov) {
            /* The province itself: "Shandong" or "Shandong Province". */
            char *pk = own(by, tn_cli_name_key(r->f[C_PEN]));
            char *pk2 = own(by, tn_cli_fmt("%s province", pk));
            size_t pi;
            if (pk[0] && (strcmp(key, pk) == 0 || strcmp(key, pk2) == 0)) {
                if (tn_hmap_get(&by->ids, prov, &pi) && pi != SIZE_MAX - 1)
                    note_end(by, scoped(by, prov, key), name, iso, prov, 0, r->file, r->line);
                return prov;
            }
            scope = prov;
        }
    }
    char *skey = scoped(by, scope, key);
    size_t e;
    if (tn_hmap_get(&by->names, skey, &e)) {
        const name_entry_t *en = &by->entries[e];
        if (en->n == 1) {
            const char *id = node_str(&by->nodes.u.a.items[en->ids[0]], "id");
            note_end(by, skey, name, iso, id, 0, r->file, r->line);
            return id;
        }
        tn_cli_sbuf_t b = { NULL, 0, 0 };
        for (size_t j = 0; j < en->n && j < MAX_LISTED; j++) {
            const tn_val_t *nd = &by->nodes.u.a.items[en->ids[j]];
            tn_cli_sb_printf(&b, "%s%s (%s)", j ? ", " : "", node_str(nd, "id"), node_str(nd, "name"));
        }
        if (en->n > MAX_LISTED)
            tn_cli_sb_printf(&b, " and %zu more", en->n - MAX_LISTED);
        tn_cli_import_problem(S, r->file, r->line, col_names[cn],
                              "ambiguous: \"%s\" in %s matches %zu nodes: %s; import this row by id instead", name,
                              scope, en->n, b.p);
        free(b.p);
        return NULL;
    }
    size_t k;
    if (tn_hmap_get(&by->made, skey, &k))
        return node_str(&S->nodes.u.a.items[k], "id");
    /* A new city. */
    char *slug = own(by, tn_cli_name_slug(name));
    char *base = slug[0] ? tn_cli_fmt("%s-%s", scope, slug) : tn_cli_fmt("%s-n%08x", scope, (unsigned) fnv1a(key));
    own(by, base);
    const char *id = free_id(by, base);
    char *trimmed = own(by, strdup(name));
    size_t tl = strlen(trimmed), ts = 0;
    while (tl > 0 && (trimmed[tl - 1] == ' ' || trimmed[tl - 1] == '\t'))
        trimmed[--tl] = '\0';
    while (trimmed[ts] == ' ' || trimmed[ts] == '\t')
        ts++;
    size_t at = S->nodes.u.a.n;
    make_node(by, id, "city", trimmed + ts, NULL, iso, scope == iso ? NULL : scope, r->file, r->line);
    if (tn_hmap_put(&by->made, skey, at) != 0)
        tn_cli_die_oom();
    note_end(by, skey, trimmed + ts, iso, id, 1, r->file, r->line);
    return id;
}

/* One data row: both ends, then the pair. */
static void take_row(byname_t *by, const row_t *r) {
    tn_cli_import_set_t *S = by->S;
    by->rows++;
    const char *a = resolve_end(by, r, 0);
    const char *b = resolve_end(by, r, 1);
    int64_t year = 0;
    const char *y = r->f[C_YEAR];
    int year_ok = 1;
    if (y[0]) {
        long long v;
        year_ok = tn_cli_parse_ll(y, &v) && v >= 1 && v <= 9999;
        if (year_ok)
            year = v;
        else
            tn_cli_import_problem(S, r->file, r->line, "established_year", "must be a year such as 1998, got \"%s\"", y);
    }
    if (a == NULL || b == NULL || !year_ok)
        return;
    if (strcmp(a, b) == 0) {
        tn_cli_import_problem(S, r->file, r->line, NULL, "both ends are the same node %s", a);
        return;
    }
    char *pk = strcmp(a, b) < 0 ? scoped(by, a, b) : scoped(by, b, a);
    size_t dummy;
    if (tn_hmap_get(&by->pairs, pk, &dummy)) {
        by->present++;
        return;
    }
    if (tn_hmap_get(&by->seen, pk, &dummy)) {
        by->repeated++;
        return;
    }
    if (tn_hmap_put(&by->seen, pk, S->pairs.u.a.n) != 0)
        tn_cli_die_oom();
    tn_val_t rec = TN_VAL_NIL;
    const char *conf = r->f[C_CONF][0] ? r->f[C_CONF] : "medium";
    if (tn_val_set_map(&rec, 6) != 0 || tn_map_add_str(&rec, "a", a) != 0 || tn_map_add_str(&rec, "b", b) != 0
        || (r->f[C_KIND][0] && tn_map_add_str(&rec, "kind", r->f[C_KIND]) != 0)
        || (year && tn_map_add_int(&rec, "since", year) != 0)
        || (r->f[C_SOURCE][0] && tn_map_add_str(&rec, "source", r->f[C_SOURCE]) != 0)
        || tn_map_add_str(&rec, "confidence", conf) != 0)
        tn_cli_die_oom();
    tn_cli_import_push(S, 1, &rec, r->file, r->line);
}

/* Read file fi of S: the header, then every row. */
static void read_byname(byname_t *by, int fi, const char *buf, size_t len) {
    tn_cli_import_set_t *S = by->S;
    tn_csv_reader_t r;
    tn_csv_reader_init(&r, buf, len);
    tn_csv_status_t st = tn_csv_read(&r);
    if (st != TN_CSV_ROW) {
        if (st == TN_CSV_NOMEM)
            tn_cli_die_oom();
        tn_cli_import_problem(S, fi, st == TN_CSV_BAD ? r.row_line : 0, NULL, "%s",
                              st == TN_CSV_BAD ? r.why : "empty file: no header");
        tn_csv_reader_destroy(&r);
        return;
    }
    int col[NCOLS];
    int64_t header_line = r.row_line;
    size_t nhead = tn_csv_nfields(&r);
    for (int c = 0; c < NCOLS; c++) {
        col[c] = -1;
        for (size_t i = 0; i < nhead; i++)
            if (strcmp(tn_csv_field(&r, i, NULL), col_names[c]) == 0)
                col[c] = (int) i;
    }
    int missing = 0;
    for (int c = 0; c <= C_BCC; c++)
        if (col[c] < 0) {
            tn_cli_import_problem(S, fi, header_line, NULL, "missing column %s (a by-name list needs a_name, "
                                  "a_country_iso2, b_name, b_country_iso2)", col_names[c]);
            missing = 1;
        }
    if (missing) {
        tn_csv_reader_destroy(&r);
        return;
    }
    while ((st = tn_csv_read(&r)) != TN_CSV_END) {
        if (st == TN_CSV_NOMEM)
            tn_cli_die_oom();
        if (st == TN_CSV_BAD) {
            tn_cli_import_problem(S, fi, r.row_line, NULL, "%s", r.why);
            continue;
        }
        if (tn_csv_nfields(&r) != nhead) {
            tn_cli_import_problem(S, fi, r.row_line, NULL, "%zu fields, the header has %zu", tn_csv_nfields(&r), nhead);
            continue;
        }
        row_t row = { { 0 }, fi, r.row_line };
        for (int c = 0; c < NCOLS; c++)
            row.f[c] = col[c] >= 0 ? tn_csv_field(&r, (size_t) col[c], NULL) : "";
        take_row(by, &row);
    }
    tn_csv_reader_destroy(&r);
}

/* Read a whole file ("-": standard input); NULL with a problem added. */
static char *slurp(tn_cli_import_set_t *S, int fi, size_t *len) {
    const char *path = S->files[fi];
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        tn_cli_import_problem(S, fi, 0, NULL, "cannot read: %s", strerror(errno));
        return NULL;
    }
    tn_cli_sbuf_t b = { NULL, 0, 0 };
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + got + 1 > b.cap) {
            b.cap = (b.len + got + 1) * 2;
            if ((b.p = realloc(b.p, b.cap)) == NULL)
                tn_cli_die_oom();
        }
        memcpy(b.p + b.len, chunk, got);
        b.len += got;
    }
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad) {
        tn_cli_import_problem(S, fi, 0, NULL, "cannot read: read error");
        free(b.p);
        return NULL;
    }
    if (b.p == NULL && (b.p = malloc(1)) == NULL)
        tn_cli_die_oom();
    b.p[b.len] = '\0';
    *len = b.len;
    return b.p;
}

static int cmp_note(const void *x, const void *y) {
    const end_note_t *a = x, *b = y;
    if (a->created != b->created)
        return a->created ? -1 : 1;
    return strcmp(a->id, b->id) != 0 ? strcmp(a->id, b->id) : strcmp(a->name, b->name);
}

/* The report: new nodes and (dry run) matched names as tables. */
static void print_notes(byname_t *by, int dry_run) {
    qsort(by->notes, by->nnotes, sizeof *by->notes, cmp_note);
    size_t created = 0, matched = 0;
    for (size_t i = 0; i < by->nnotes; i++)
        by->notes[i].created ? created++ : matched++;
    tn_val_t rows[2] = { TN_VAL_NIL, TN_VAL_NIL };
    for (int k = 0; k < 2; k++)
        if (tn_val_set_arr(&rows[k], 16) != 0)
            tn_cli_die_oom();
    for (size_t i = 0; i < by->nnotes; i++) {
        const end_note_t *nt = &by->notes[i];
        tn_val_t *slot = tn_arr_push(&rows[nt->created ? 0 : 1]);
        char *where = tn_cli_fmt("%s:%lld", by->S->files[nt->file], (long long) nt->line);
        if (slot == NULL || tn_val_set_map(slot, 4) != 0 || tn_map_add_str(slot, "id", nt->id) != 0
            || tn_map_add_str(slot, "name", nt->name) != 0 || tn_map_add_str(slot, "country", nt->country) != 0
            || tn_map_add_str(slot, "where", where) != 0)
            tn_cli_die_oom();
        free(where);
    }
    printf("%s %zu node%s; matched %zu name%s to existing nodes\n", dry_run ? "would create" : "created", created,
           created == 1 ? "" : "s", matched, matched == 1 ? "" : "s");
    static const tn_cli_col_t cols[] = {
        { "id", "id", 0, TN_CELL_AUTO },
        { "name", "name", 0, TN_CELL_AUTO },
        { "country", "country", 0, TN_CELL_AUTO },
        { "first line", "where", 0, TN_CELL_AUTO },
    };
    if (created)
        tn_cli_print_table(&rows[0], cols, 4);
    if (dry_run && matched) {
        printf("matched:\n");
        tn_cli_print_table(&rows[1], cols, 4);
    }
    tn_val_free(&rows[0]);
    tn_val_free(&rows[1]);
    printf("%zu row%s: %zu new pair%s, %zu already on the server (left as they are), %zu repeating an earlier row\n",
           by->rows, by->rows == 1 ? "" : "s", by->S->pairs.u.a.n, by->S->pairs.u.a.n == 1 ? "" : "s", by->present,
           by->repeated);
}

/* --json: {"result", "created": [node...], "matched": [{name, country, id}...], "rows", "present", "repeated"}. */
static void print_json(byname_t *by, tn_val_t *res) {
    tn_val_t out = TN_VAL_NIL, *slot;
    if (tn_val_set_map(&out, 6) != 0 || (slot = tn_map_add(&out, "result")) == NULL)
        tn_cli_die_oom();
    *slot = *res;
    *res = TN_VAL_NIL;
    tn_val_t *created = tn_map_add(&out, "created"), *matched = created ? tn_map_add(&out, "matched") : NULL;
    if (matched == NULL || tn_val_copy(created, &by->S->nodes) != 0 || tn_val_set_arr(matched, by->nnotes) != 0)
        tn_cli_die_oom();
    for (size_t i = 0; i < by->nnotes; i++) {
        const end_note_t *nt = &by->notes[i];
        if (nt->created)
            continue;
        tn_val_t *m = tn_arr_push(matched);
        if (m == NULL || tn_val_set_map(m, 3) != 0 || tn_map_add_str(m, "name", nt->name) != 0
            || tn_map_add_str(m, "country", nt->country) != 0 || tn_map_add_str(m, "id", nt->id) != 0)
            tn_cli_die_oom();
    }
    if (tn_map_add_int(&out, "rows", (int64_t) by->rows) != 0 || tn_map_add_int(&out, "present", (int64_t) by->present) != 0
        || tn_map_add_int(&out, "repeated", (int64_t) by->repeated) != 0)
        tn_cli_die_oom();
    tn_cli_print_json(&out);
    tn_val_free(&out);
}

int tn_cli_import_byname(tn_cli_import_set_t *S, int dry_run, size_t chunk, int quiet, tn_cli_globals_t *g) {
    int code = 0;
    tn_client_t *cl = tn_cli_transfer_connect(g, &code);
    if (cl == NULL)
        return code;
    byname_t by;
    memset(&by, 0, sizeof by);
    by.S = S;
    each_map(&by, tn_hmap_init);
    tn_val_t pairs = TN_VAL_NIL, res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    char *nok = NULL, *pok = NULL;
    size_t *sent_n = NULL, *sent_p = NULL;
    tn_hmap_t bad_ids;
    tn_hmap_init(&bad_ids);
    tn_code_t rc = fetch_all(cl, "node.list", &by.nodes, &err);
    if (rc == TN_OK)
        rc = fetch_all(cl, "pair.list", &pairs, &err);
    if (rc != TN_OK) {
        code = tn_cli_report_call_error(cl, &err);
        goto out;
    }
    index_server(&by, &pairs);
    for (int f = 0; f < S->nfiles; f++) {
        size_t len = 0;
        char *buf = slurp(S, f, &len);
        if (buf)
            read_byname(&by, f, buf, len);
        free(buf);
    }
    size_t nn = S->nodes.u.a.n, np = S->pairs.u.a.n;
    nok = malloc(nn + 1), pok = malloc(np + 1);
    sent_n = malloc((nn + 1) * sizeof *sent_n), sent_p = malloc((np + 1) * sizeof *sent_p);
    if (!nok || !pok || !sent_n || !sent_p)
        tn_cli_die_oom();
    if (S->nprobs == 0)
        tn_cli_import_check(S, nok, pok, &bad_ids);     /* fields such as kind and confidence */
    if (S->nprobs == 0 && nn + np > 0) {
        rc = tn_cli_import_stream(cl, S, nok, pok, "upsert", dry_run, chunk, quiet, sent_n, sent_p, &res, &err);
        if (rc == TN_ERR_INVALID_PARAMS && err.data.type == TN_V_ARR) {
            tn_cli_import_server_problems(S, &err, sent_n, nn, sent_p, np, NULL);
        } else if (rc != TN_OK) {
            code = tn_cli_report_call_error(cl, &err);
            goto out;
        }
    }
    if (S->nprobs > 0) {
        tn_cli_import_print_problems(S);
        fprintf(stderr, "twinnet: %zu problem%s; nothing imported\n", S->nprobs, S->nprobs == 1 ? "" : "s");
        code = TN_EXIT_SERVER;
        goto out;
    }
    if (g->json) {
        print_json(&by, &res);
    } else {
        print_notes(&by, dry_run);
        if (nn + np > 0)
            tn_cli_import_print_summary(&res, dry_run, nn, np);
        else
            printf("nothing new to import; the server was not changed\n");
    }
out:
    tn_error_clear(&err);
    tn_val_free(&res);
    tn_val_free(&pairs);
    tn_val_free(&by.nodes);
    tn_client_close(cl);
    each_map(&by, tn_hmap_destroy);
    tn_hmap_destroy(&bad_ids);
    free(by.entries);
    free(by.notes);
    for (size_t i = 0; i < by.nowned; i++)
        free(by.owned[i]);
    free(by.owned);
    free(nok);
    free(pok);
    free(sent_n);
    free(sent_p);
    return code;
}
