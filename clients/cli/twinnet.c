/*
 * twinnet.c -- the `twinnet` command-line client (docs/cli.md).
 *
 * Each subcommand maps to one server method: its arguments become the
 * options map (flag --as-of becomes key "as_of"), the result is printed
 * either as JSON (--json) or by a printer made for that result's shape
 * (PROTOCOL.md section 5), as aligned tables whose widths count terminal
 * columns, not bytes, so Chinese names line up.
 *
 * The CLI checks only what it must to build a request (a number is a
 * number); the server owns validation, and its errors are printed as they
 * come. Exit codes: 0 ok, 1 server error, 2 bad arguments, 3 server
 * unreachable (cannot connect, connection lost, no reply in time).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "tn_client.h"

enum { EXIT_SERVER = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

/* ---- command table ---- */

typedef enum argkind {
    A_STR,      /* string as given */
    A_INT,      /* integer */
    A_NUM,      /* any number */
    A_FLAG,     /* no value: true */
    A_YEAR      /* an integer year, or a date string such as "2001-05" */
} argkind_t;

typedef struct opt {
    const char *flag;     /* "--as-of" */
    const char *key;      /* "as_of" */
    argkind_t kind;
    const char *meta;     /* "Y" */
    const char *help;
} opt_t;

typedef void (*printer_t)(const tn_val_t *res);

typedef struct cmd {
    const char *name;
    const char *method;
    const char *pos_key;      /* key of the one positional argument, or NULL */
    const char *pos_meta;
    const opt_t *opts;        /* NULL-terminated */
    printer_t print;
    const char *summary;
} cmd_t;

#define PAIR_FILTERS \
    { "--as-of", "as_of", A_INT, "Y", "only pairs established by year Y (and undated ones)" }, \
    { "--min-confidence", "min_confidence", A_STR, "C", "low (all, default), medium or high" }

static const opt_t no_opts[] = { { NULL, NULL, A_STR, NULL, NULL } };

static const opt_t stats_opts[] = {
    PAIR_FILTERS,
    { NULL, NULL, A_STR, NULL, NULL },
};

static const opt_t centrality_opts[] = {
    { "--metric", "metric", A_STR, "M",
      "degree, betweenness, closeness, harmonic, eigenvector, pagerank or constraint (required)" },
    { "--graph", "graph", A_STR, "G", "partnerships (default) or full" },
    { "--top", "top", A_INT, "N", "show the N best (default 20)" },
    { "--kind", "kind", A_STR, "K", "report only country, province or city nodes" },
    { "--country", "country", A_STR, "CC", "report only nodes of this country" },
    { "--normalized", "normalized", A_FLAG, NULL, "normalize the scores" },
    { "--cutoff", "cutoff", A_INT, "N", "count only paths of at most N steps" },
    { "--damping", "damping", A_NUM, "D", "PageRank damping factor (default 0.85)" },
    PAIR_FILTERS,
    { NULL, NULL, A_STR, NULL, NULL },
};

static const opt_t coverage_opts[] = {
    { "--by", "by", A_STR, "B", "region (default), subregion, tag, country or unit" },
    { "--tag", "tag", A_STR, "T", "with --by tag: the tag whose countries are counted" },
    { "--kind", "kind", A_STR, "K", "sister, friendly or any (default)" },
    { "--home", "home", A_STR, "ID", "home node (default: the server's)" },
    PAIR_FILTERS,
    { NULL, NULL, A_STR, NULL, NULL },
};

static const opt_t gaps_opts[] = {
    { "--region", "region", A_STR, "R", "only candidate countries in this region" },
    { "--subregion", "subregion", A_STR, "S", "only candidate countries in this sub-region" },
    { "--tag", "tag", A_STR, "T", "only candidate countries with this tag (e.g. bri)" },
    { "--limit", "limit", A_INT, "N", "at most N uncovered countries (default 50)" },
    { "--home", "home", A_STR, "ID", "home node (default: the server's)" },
    PAIR_FILTERS,
    { NULL, NULL, A_STR, NULL, NULL },
};

static const opt_t recommend_opts[] = {
    { "--top", "top", A_INT, "N", "show the N best (default 10)" },
    { "--country", "country", A_STR, "CC", "only candidates in this country" },
    { "--region", "region", A_STR, "R", "only candidates in this region" },
    PAIR_FILTERS,
    { NULL, NULL, A_STR, NULL, NULL },
};

static const opt_t neighbors_opts[] = {
    { "--kind", "kind", A_STR, "K", "sister, friendly or any (default)" },
    { NULL, NULL, A_STR, NULL, NULL },
};

static const opt_t find_opts[] = {
    { "--kind", "kind", A_STR, "K", "country, province or city" },
    { "--country", "country", A_STR, "CC", "only nodes of this country" },
    { "--limit", "limit", A_INT, "N", "at most N matches (default 20)" },
    { NULL, NULL, A_STR, NULL, NULL },
};

static const opt_t pairs_opts[] = {
    { "--unit", "unit", A_STR, "ID", "pairs with this node at one end" },
    { "--country", "country", A_STR, "CC", "pairs with an end in this country" },
    { "--region", "region", A_STR, "R", "pairs with an end in this region" },
    { "--since-from", "since_from", A_YEAR, "Y", "established in or after Y" },
    { "--since-to", "since_to", A_YEAR, "Y", "established in or before Y" },
    { "--limit", "limit", A_INT, "N", "at most N pairs" },
    { "--offset", "offset", A_INT, "N", "skip the first N pairs" },
    PAIR_FILTERS,
    { NULL, NULL, A_STR, NULL, NULL },
};

static void print_ping(const tn_val_t *res);
static void print_info(const tn_val_t *res);
static void print_methods(const tn_val_t *res);
static void print_stats(const tn_val_t *res);
static void print_centrality(const tn_val_t *res);
static void print_coverage(const tn_val_t *res);
static void print_gaps(const tn_val_t *res);
static void print_recommend(const tn_val_t *res);
static void print_node(const tn_val_t *res);
static void print_neighbors(const tn_val_t *res);
static void print_find(const tn_val_t *res);
static void print_pairs(const tn_val_t *res);
static void print_metrics(const tn_val_t *res);

static const cmd_t commands[] = {
    { "ping", "server.ping", NULL, NULL, no_opts, print_ping, "check that the server answers" },
    { "info", "server.info", NULL, NULL, no_opts, print_info, "server version, uptime, epoch and home" },
    { "methods", "server.methods", NULL, NULL, no_opts, print_methods, "list the server's methods" },
    { "stats", "graph.stats", NULL, NULL, stats_opts, print_stats, "node and pair counts, and the home's figures" },
    { "centrality", "query.centrality", NULL, NULL, centrality_opts, print_centrality,
      "rank nodes by a centrality metric" },
    { "coverage", "query.coverage", NULL, NULL, coverage_opts, print_coverage,
      "which countries the home's partnerships reach, by group" },
    { "gaps", "query.gaps", NULL, NULL, gaps_opts, print_gaps,
      "uncovered countries, idle units and under-covered regions" },
    { "recommend", "query.recommend", "unit", "UNIT", recommend_opts, print_recommend,
      "suggest new partners for a province or city" },
    { "node", "node.get", "id", "ID", no_opts, print_node, "show one node" },
    { "neighbors", "node.neighbors", "id", "ID", neighbors_opts, print_neighbors, "the partners of a node" },
    { "find", "node.find", "q", "TEXT", find_opts, print_find, "search nodes by id or name" },
    { "pairs", "pair.list", NULL, NULL, pairs_opts, print_pairs, "list partnerships" },
    { "metrics", "metrics.get", NULL, NULL, no_opts, print_metrics, "the dashboard snapshot" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* ---- usage ---- */

static void usage(FILE *out) {
    fprintf(out,
            "usage: twinnet [--host H] [--port P] [--json] [--timeout S] COMMAND [ARGS]\n"
            "\n"
            "Query a twinnetd server (Hunan's sister-city graph).\n"
            "\n"
            "global options:\n"
            "  --host H      server address (default 127.0.0.1)\n"
            "  --port P      server port (default 7700)\n"
            "  --json        print the raw result as JSON\n"
            "  --timeout S   seconds to wait for the server (default 30)\n"
            "  --help        this text; `twinnet COMMAND --help` describes a command\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-12s %s\n", "call", "call any METHOD with a JSON options object");
    fprintf(out,
            "\n"
            "environment: TWINNET_TOKEN, if set, is sent with `auth` before the command.\n"
            "exit codes: 0 ok, 1 server error, 2 bad arguments, 3 server unreachable.\n");
}

static void cmd_usage(FILE *out, const cmd_t *c) {
    fprintf(out, "usage: twinnet %s", c->name);
    if (c->pos_meta)
        fprintf(out, " %s", c->pos_meta);
    if (c->opts[0].flag)
        fprintf(out, " [OPTIONS]");
    fprintf(out, "\n\n%s (method %s).\n", c->summary, c->method);
    if (c->opts[0].flag)
        fprintf(out, "\noptions:\n");
    for (const opt_t *o = c->opts; o->flag; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->flag, o->meta ? " " : "", o->meta ? o->meta : "");
        fprintf(out, "  %-22s %s\n", left, o->help);
    }
}

static void call_usage(FILE *out) {
    fprintf(out,
            "usage: twinnet call METHOD [JSON-OPTIONS]\n"
            "\n"
            "Call any method; the options are one JSON object, e.g.\n"
            "  twinnet call query.centrality '{\"metric\": \"degree\", \"top\": 5}'\n"
            "The result is printed as JSON.\n");
}

/* A usage error: say what is wrong, show how it is done, exit 2. */
static void bad_args(const cmd_t *c, int is_call, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

static void bad_args(const cmd_t *c, int is_call, const char *fmt, ...) {
    va_list ap;
    fputs("twinnet: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    if (c)
        cmd_usage(stderr, c);
    else if (is_call)
        call_usage(stderr);
    else
        usage(stderr);
    exit(EXIT_USAGE);
}

/* ---- text output ---- */

/* A growable string for cells. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf_t;

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf_t *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t) n < room) {
            b->len += (size_t) n;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 64;
        while (ncap < b->len + (size_t) n + 1)
            ncap *= 2;
        char *p = realloc(b->p, ncap);
        if (p == NULL) {
            fputs("twinnet: out of memory\n", stderr);
            exit(EXIT_SERVER);
        }
        b->p = p;
        b->cap = ncap;
    }
}

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

/* Print s padded with spaces to 'width' columns. */
static void put_padded(const char *s, size_t width, int right) {
    size_t w = display_width(s);
    size_t pad = w < width ? width - w : 0;
    if (right)
        printf("%*s%s", (int) pad, "", s);
    else
        printf("%s%*s", s, (int) pad, "");
}

/* Append text, turning control characters into '?' so that data from the
 * server cannot move the cursor or recolour the terminal. */
static void sb_text(sbuf_t *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char) s[i];
        sb_printf(b, "%c", ch < 0x20 || ch == 0x7f ? '?' : (char) ch);
    }
}

typedef enum cellfmt { F_AUTO, F_RATIO, F_SCORE } cellfmt_t;

/* One value as cell text: strings as they are, numbers compact, arrays
 * joined with ", ", maps as "k: v" lists, nil as "". */
static void sb_val(sbuf_t *b, const tn_val_t *v, cellfmt_t fmt) {
    if (v == NULL)
        return;
    switch (v->type) {
    case TN_V_NIL:
        break;
    case TN_V_BOOL:
        sb_printf(b, "%s", v->u.b ? "yes" : "no");
        break;
    case TN_V_INT:
        sb_printf(b, "%lld", (long long) v->u.i);
        break;
    case TN_V_FLOAT:
        if (fmt == F_RATIO)
            sb_printf(b, "%.3f", v->u.f);
        else if (fmt == F_SCORE)
            sb_printf(b, "%.6g", v->u.f);
        else if (v->u.f == floor(v->u.f) && fabs(v->u.f) < 1e15)
            sb_printf(b, "%.0f", v->u.f);
        else
            sb_printf(b, "%.6g", v->u.f);
        break;
    case TN_V_STR:
        sb_text(b, v->u.s.p, v->u.s.len);
        break;
    case TN_V_ARR:
        for (size_t i = 0; i < v->u.a.n; i++) {
            if (i)
                sb_printf(b, ", ");
            sb_val(b, &v->u.a.items[i], fmt);
        }
        break;
    case TN_V_MAP:
        for (size_t i = 0; i < v->u.m.n; i++) {
            if (i)
                sb_printf(b, ", ");
            sb_text(b, v->u.m.kv[i].key, v->u.m.kv[i].klen);
            sb_printf(b, ": ");
            if (v->u.m.kv[i].val.type == TN_V_MAP || v->u.m.kv[i].val.type == TN_V_ARR) {
                sb_printf(b, "(");
                sb_val(b, &v->u.m.kv[i].val, fmt);
                sb_printf(b, ")");
            } else {
                sb_val(b, &v->u.m.kv[i].val, fmt);
            }
        }
        break;
    }
}

/* Cell text of v, malloc'd. */
static char *cell(const tn_val_t *v, cellfmt_t fmt) {
    sbuf_t b = { NULL, 0, 0 };
    sb_printf(&b, "%s", "");
    sb_val(&b, v, fmt);
    return b.p;
}

/* Follow a dotted path of map keys ("node.id"); NULL when absent. */
static const tn_val_t *get(const tn_val_t *v, const char *path) {
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

static const tn_val_t *items_of(const tn_val_t *res, const char *key) {
    const tn_val_t *it = get(res, key);
    return it != NULL && it->type == TN_V_ARR ? it : NULL;
}

typedef struct col {
    const char *head;
    const char *path;     /* "" for the row number */
    int right;
    cellfmt_t fmt;
} col_t;

/* Print an array of maps as an aligned table, one column per col_t. A
 * column whose path is "" holds the row number from 1. */
static void print_table(const tn_val_t *rows, const col_t *cols, size_t ncols) {
    size_t n = rows ? rows->u.a.n : 0;
    if (n == 0) {
        printf("(none)\n");
        return;
    }
    char **cells = calloc(n * ncols, sizeof *cells);
    size_t *width = calloc(ncols, sizeof *width);
    if (cells == NULL || width == NULL) {
        fputs("twinnet: out of memory\n", stderr);
        exit(EXIT_SERVER);
    }
    for (size_t c = 0; c < ncols; c++)
        width[c] = display_width(cols[c].head);
    for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; c < ncols; c++) {
            char *s;
            if (cols[c].path[0] == '\0') {
                sbuf_t b = { NULL, 0, 0 };
                sb_printf(&b, "%zu", r + 1);
                s = b.p;
            } else {
                s = cell(get(&rows->u.a.items[r], cols[c].path), cols[c].fmt);
            }
            cells[r * ncols + c] = s;
            size_t w = display_width(s);
            if (w > width[c])
                width[c] = w;
        }
    }
    /* The last column is not padded, so lines carry no trailing blanks. */
    for (size_t c = 0; c < ncols; c++) {
        if (c)
            fputs("  ", stdout);
        put_padded(cols[c].head, c + 1 < ncols || cols[c].right ? width[c] : 0, cols[c].right);
    }
    putchar('\n');
    for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; c < ncols; c++) {
            if (c)
                fputs("  ", stdout);
            put_padded(cells[r * ncols + c], c + 1 < ncols || cols[c].right ? width[c] : 0,
                       cols[c].right);
            free(cells[r * ncols + c]);
        }
        putchar('\n');
    }
    free(cells);
    free(width);
}

/* "label   value" lines; labels padded to the longest. */
typedef struct line {
    const char *label;
    char *text;          /* malloc'd; NULL lines are skipped */
} line_t;

static void print_lines(line_t *lines, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (lines[i].text && display_width(lines[i].label) > w)
            w = display_width(lines[i].label);
    for (size_t i = 0; i < n; i++) {
        if (lines[i].text == NULL)
            continue;
        put_padded(lines[i].label, w, 0);
        printf("  %s\n", lines[i].text);
        free(lines[i].text);
    }
}

/* Every key of a map as "key  value" lines, in the server's order. */
static void print_kv(const tn_val_t *map) {
    if (map == NULL || map->type != TN_V_MAP) {
        char *s = cell(map, F_AUTO);
        printf("%s\n", s);
        free(s);
        return;
    }
    line_t *lines = calloc(map->u.m.n + 1, sizeof *lines);
    if (lines == NULL)
        exit(EXIT_SERVER);
    for (size_t i = 0; i < map->u.m.n; i++) {
        lines[i].label = map->u.m.kv[i].key;
        lines[i].text = cell(&map->u.m.kv[i].val, F_AUTO);
    }
    print_lines(lines, map->u.m.n);
    free(lines);
}

/* sprintf into a new string (for line_t texts). */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char *p = malloc(n < 0 ? 1 : (size_t) n + 1);
    if (p == NULL)
        exit(EXIT_SERVER);
    va_start(ap, f);
    vsnprintf(p, n < 0 ? 1 : (size_t) n + 1, f, ap);
    va_end(ap);
    return p;
}

/* Cell text of res[path] (""), as a new string; NULL when absent. */
static char *field(const tn_val_t *res, const char *path, cellfmt_t f) {
    const tn_val_t *v = get(res, path);
    return v ? cell(v, f) : NULL;
}

/* ---- one printer per result shape (PROTOCOL.md section 5) ---- */

static void print_ping(const tn_val_t *res) {
    print_kv(res);
}

static void print_info(const tn_val_t *res) {
    print_kv(res);
}

static void print_methods(const tn_val_t *res) {
    static const col_t cols[] = {
        { "method", "name", 0, F_AUTO }, { "role", "role", 0, F_AUTO },
        { "slow", "slow", 0, F_AUTO }, { "options", "params", 0, F_AUTO },
    };
    print_table(items_of(res, "items"), cols, 4);
}

/* Fill 'l' with the summary lines of a graph.stats result; returns count. */
static size_t stats_lines(const tn_val_t *res, line_t *l) {
    size_t n = 0;
    char *s;
    l[n].label = "epoch";
    l[n++].text = field(res, "epoch", F_AUTO);
    if (get(res, "nodes")) {
        char *c = field(res, "nodes.country", F_AUTO), *p = field(res, "nodes.province", F_AUTO),
             *y = field(res, "nodes.city", F_AUTO);
        l[n].label = "nodes";
        l[n++].text = fmt("%s countries, %s provinces, %s cities", c ? c : "?", p ? p : "?", y ? y : "?");
        free(c), free(p), free(y);
    }
    if (get(res, "pairs")) {
        char *t = field(res, "pairs.total", F_AUTO), *s1 = field(res, "pairs.sister", F_AUTO),
             *f = field(res, "pairs.friendly", F_AUTO);
        l[n].label = "pairs";
        l[n++].text = fmt("%s (%s sister, %s friendly)", t ? t : "?", s1 ? s1 : "?", f ? f : "?");
        free(t), free(s1), free(f);
    }
    if (get(res, "home")) {
        char *id = field(res, "home.id", F_AUTO), *u = field(res, "home.units", F_AUTO),
             *p = field(res, "home.pairs", F_AUTO), *c = field(res, "home.countries", F_AUTO);
        l[n].label = "home";
        l[n++].text = fmt("%s: %s units, %s pairs with %s countries", id ? id : "?", u ? u : "?",
                          p ? p : "?", c ? c : "?");
        free(id), free(u), free(p), free(c);
    }
    /* The dataset's verified reference figures, when the server has them. */
    if ((s = field(res, "home.reference", F_AUTO)) != NULL) {
        l[n].label = "reference";
        l[n++].text = s;
    }
    if ((s = field(res, "home.note", F_AUTO)) != NULL) {
        l[n].label = "note";
        l[n++].text = s;
    }
    return n;
}

static void print_stats(const tn_val_t *res) {
    line_t l[8] = { { NULL, NULL } };
    print_lines(l, stats_lines(res, l));
}

static void print_centrality(const tn_val_t *res) {
    static const col_t cols[] = {
        { "#", "", 1, F_AUTO }, { "id", "id", 0, F_AUTO }, { "name", "name", 0, F_AUTO },
        { "score", "score", 1, F_SCORE },
    };
    char *m = field(res, "metric", F_AUTO), *g = field(res, "graph", F_AUTO), *e = field(res, "epoch", F_AUTO);
    printf("%s centrality on the %s graph (epoch %s)\n", m ? m : "?", g ? g : "?", e ? e : "?");
    free(m), free(g), free(e);
    print_table(items_of(res, "items"), cols, 4);
}

static void print_coverage(const tn_val_t *res) {
    static const col_t groups[] = {
        { "group", "group", 0, F_AUTO }, { "countries", "countries", 1, F_AUTO },
        { "covered", "covered", 1, F_AUTO }, { "ratio", "ratio", 1, F_RATIO },
        { "pairs", "pairs", 1, F_AUTO }, { "units", "units", 1, F_AUTO },
    };
    static const col_t countries[] = {
        { "id", "id", 0, F_AUTO }, { "name", "name", 0, F_AUTO }, { "region", "region", 0, F_AUTO },
        { "pairs", "pairs", 1, F_AUTO }, { "units", "units", 1, F_AUTO },
    };
    static const col_t units[] = {
        { "id", "id", 0, F_AUTO }, { "name", "name", 0, F_AUTO }, { "pairs", "pairs", 1, F_AUTO },
        { "countries", "countries", 1, F_AUTO }, { "regions", "regions", 1, F_AUTO },
    };
    const tn_val_t *items = items_of(res, "items");
    char *h = field(res, "home", F_AUTO), *e = field(res, "epoch", F_AUTO);
    char *tc = field(res, "total.countries", F_AUTO), *cv = field(res, "total.covered", F_AUTO),
         *tp = field(res, "total.pairs", F_AUTO);
    printf("home %s (epoch %s): %s of %s countries covered, %s pairs\n", h ? h : "?", e ? e : "?",
           cv ? cv : "?", tc ? tc : "?", tp ? tp : "?");
    free(h), free(e), free(tc), free(cv), free(tp);
    /* The row shape says which grouping the server used. */
    const tn_val_t *first = items && items->u.a.n ? &items->u.a.items[0] : NULL;
    if (first && tn_map_get(first, "group"))
        print_table(items, groups, 6);
    else if (first && tn_map_get(first, "region"))
        print_table(items, countries, 5);
    else if (first && tn_map_get(first, "regions"))
        print_table(items, units, 5);
    else if (first)
        print_table(items, countries, 2);
    else
        print_table(NULL, groups, 6);
}

static void print_gaps(const tn_val_t *res) {
    static const col_t uncovered[] = {
        { "id", "id", 0, F_AUTO }, { "name", "name", 0, F_AUTO }, { "region", "region", 0, F_AUTO },
        { "subregion", "subregion", 0, F_AUTO }, { "tags", "tags", 0, F_AUTO },
        { "peer pairs", "peer_pairs", 1, F_AUTO },
    };
    static const col_t idle[] = { { "id", "id", 0, F_AUTO }, { "name", "name", 0, F_AUTO } };
    static const col_t under[] = {
        { "group", "group", 0, F_AUTO }, { "ratio", "ratio", 1, F_RATIO },
        { "overall", "overall", 1, F_RATIO },
    };
    const tn_val_t *u = items_of(res, "uncovered"), *i = items_of(res, "idle_units"),
                   *r = items_of(res, "under_covered");
    printf("Uncovered countries (%zu)\n", u ? u->u.a.n : 0);
    print_table(u, uncovered, 6);
    printf("\nIdle units (%zu)\n", i ? i->u.a.n : 0);
    print_table(i, idle, 2);
    printf("\nUnder-covered regions (%zu)\n", r ? r->u.a.n : 0);
    print_table(r, under, 3);
}

static void print_recommend(const tn_val_t *res) {
    static const col_t cols[] = {
        { "#", "", 1, F_AUTO }, { "id", "id", 0, F_AUTO }, { "name", "name", 0, F_AUTO },
        { "country", "country", 0, F_AUTO }, { "score", "score", 1, F_SCORE },
        { "reasons", "reasons", 0, F_AUTO },
    };
    char *u = field(res, "unit", F_AUTO), *e = field(res, "epoch", F_AUTO);
    printf("Suggested partners for %s (epoch %s)\n", u ? u : "?", e ? e : "?");
    free(u), free(e);
    print_table(items_of(res, "items"), cols, 6);
}

static void print_node(const tn_val_t *res) {
    print_kv(res);
}

static void print_neighbors(const tn_val_t *res) {
    static const col_t cols[] = {
        { "id", "node.id", 0, F_AUTO }, { "name", "node.name", 0, F_AUTO },
        { "name_zh", "node.name_zh", 0, F_AUTO }, { "country", "node.country", 0, F_AUTO },
        { "pair", "pair.kind", 0, F_AUTO }, { "since", "pair.since", 0, F_AUTO },
        { "confidence", "pair.confidence", 0, F_AUTO },
    };
    print_table(items_of(res, "items"), cols, 7);
}

static void print_find(const tn_val_t *res) {
    static const col_t cols[] = {
        { "id", "id", 0, F_AUTO }, { "kind", "kind", 0, F_AUTO }, { "name", "name", 0, F_AUTO },
        { "name_zh", "name_zh", 0, F_AUTO }, { "country", "country", 0, F_AUTO },
    };
    print_table(items_of(res, "items"), cols, 5);
}

static void print_pairs(const tn_val_t *res) {
    static const col_t cols[] = {
        { "a", "a", 0, F_AUTO }, { "b", "b", 0, F_AUTO }, { "kind", "kind", 0, F_AUTO },
        { "since", "since", 0, F_AUTO }, { "confidence", "confidence", 0, F_AUTO },
    };
    const tn_val_t *items = items_of(res, "items");
    char *t = field(res, "total", F_AUTO);
    printf("%zu of %s pairs\n", items ? items->u.a.n : 0, t ? t : "?");
    free(t);
    print_table(items, cols, 5);
}

static void print_metrics(const tn_val_t *res) {
    const tn_val_t *nm = get(res, "not_modified");
    if (nm && nm->type == TN_V_BOOL && nm->u.b) {
        char *e = field(res, "epoch", F_AUTO);
        printf("not modified (epoch %s)\n", e ? e : "?");
        free(e);
        return;
    }
    line_t l[16] = { { NULL, NULL } };
    const tn_val_t *graph = get(res, "graph");
    size_t n = graph ? stats_lines(graph, l) : 0;
    if (n > 0) {                   /* the snapshot's own epoch, not the graph's */
        free(l[0].text);
        l[0].text = field(res, "epoch", F_AUTO);
    }
    if (get(res, "coverage.total")) {
        char *cv = field(res, "coverage.total.covered", F_AUTO),
             *tc = field(res, "coverage.total.countries", F_AUTO),
             *tp = field(res, "coverage.total.pairs", F_AUTO);
        l[n].label = "coverage";
        l[n++].text = fmt("%s of %s countries, %s pairs", cv ? cv : "?", tc ? tc : "?", tp ? tp : "?");
        free(cv), free(tc), free(tp);
    }
    if (get(res, "server")) {
        char *up = field(res, "server.uptime_s", F_AUTO), *cn = field(res, "server.connections", F_AUTO),
             *rq = field(res, "server.requests_total", F_AUTO), *er = field(res, "server.errors_total", F_AUTO),
             *p50 = field(res, "server.latency_us.p50", F_AUTO), *p99 = field(res, "server.latency_us.p99", F_AUTO);
        l[n].label = "server";
        l[n++].text = fmt("up %s s, %s connections, %s requests, %s errors, latency p50 %s us, p99 %s us",
                          up ? up : "?", cn ? cn : "?", rq ? rq : "?", er ? er : "?", p50 ? p50 : "?",
                          p99 ? p99 : "?");
        free(up), free(cn), free(rq), free(er), free(p50), free(p99);
    }
    print_lines(l, n);
    const tn_val_t *tl = items_of(res, "timeline");
    if (tl) {
        static const col_t cols[] = {
            { "year", "year", 1, F_AUTO }, { "pairs", "pairs", 1, F_AUTO },
            { "cumulative", "cumulative", 1, F_AUTO },
        };
        printf("\nTimeline\n");
        print_table(tl, cols, 3);
    }
    const tn_val_t *cov = items_of(res, "coverage.items");
    if (cov) {
        static const col_t cols[] = {
            { "group", "group", 0, F_AUTO }, { "countries", "countries", 1, F_AUTO },
            { "covered", "covered", 1, F_AUTO }, { "ratio", "ratio", 1, F_RATIO },
            { "pairs", "pairs", 1, F_AUTO }, { "units", "units", 1, F_AUTO },
        };
        printf("\nCoverage by region\n");
        print_table(cov, cols, 6);
    }
}

/* ---- errors ---- */

/* "error: <code>: <message>" and one line per detail of invalid_params. */
static void print_error(const tn_error_t *err) {
    fprintf(stderr, "error: %s: %s\n", tn_code_name(err->code), err->message);
    const tn_val_t *d = &err->data;
    if (d->type == TN_V_NIL)
        return;
    if (d->type != TN_V_ARR) {
        char *j = tn_val_to_json(d);
        fprintf(stderr, "  data: %s\n", j ? j : "?");
        free(j);
        return;
    }
    for (size_t i = 0; i < d->u.a.n; i++) {
        const tn_val_t *it = &d->u.a.items[i];
        char *idx = field(it, "index", F_AUTO), *fld = field(it, "field", F_AUTO),
             *why = field(it, "reason", F_AUTO);
        if (why == NULL) {             /* not the documented shape: show it whole */
            char *j = tn_val_to_json(it);
            fprintf(stderr, "  %s\n", j ? j : "?");
            free(j);
        } else if (fld && fld[0]) {
            fprintf(stderr, "  [%s] %s: %s\n", idx ? idx : "?", fld, why);
        } else {
            fprintf(stderr, "  [%s] %s\n", idx ? idx : "?", why);
        }
        free(idx), free(fld), free(why);
    }
}

/* ---- argument parsing ---- */

typedef struct globals {
    const char *host;
    int port;
    int json;
    int timeout_ms;
} globals_t;

static int parse_ll(const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return 0;
    *out = v;
    return 1;
}

static int parse_num(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Split "--flag=value"; returns the flag length and sets *value (or NULL). */
static size_t split_flag(const char *arg, const char **value) {
    const char *eq = strchr(arg, '=');
    *value = eq ? eq + 1 : NULL;
    return eq ? (size_t) (eq - arg) : strlen(arg);
}

/* If argv[*i] is a global option, consume it (and its value) and return 1. */
static int take_global(int argc, char **argv, int *i, globals_t *g, const cmd_t *c, int is_call) {
    const char *a = argv[*i], *val;
    size_t n = split_flag(a, &val);
    static const char *const with_value[] = { "--host", "--port", "--timeout" };
    if (n == 6 && strncmp(a, "--json", n) == 0) {
        if (val)
            bad_args(c, is_call, "--json takes no value");
        g->json = 1;
        return 1;
    }
    for (size_t k = 0; k < 3; k++) {
        if (strlen(with_value[k]) != n || strncmp(a, with_value[k], n) != 0)
            continue;
        if (val == NULL) {
            if (*i + 1 >= argc)
                bad_args(c, is_call, "%s needs a value", with_value[k]);
            val = argv[++*i];
        }
        long long p;
        double secs;
        if (k == 0) {
            g->host = val;
        } else if (k == 1) {
            if (!parse_ll(val, &p) || p < 1 || p > 65535)
                bad_args(c, is_call, "--port must be a number in 1..65535, got \"%s\"", val);
            g->port = (int) p;
        } else {
            if (!parse_num(val, &secs) || secs <= 0 || secs > 86400)
                bad_args(c, is_call, "--timeout must be a number of seconds, got \"%s\"", val);
            g->timeout_ms = (int) ceil(secs * 1000);
        }
        return 1;
    }
    return 0;
}

static int is_help(const char *a) {
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Add one option value to the options map, converting by kind. */
static void add_option(const cmd_t *c, tn_val_t *opts, const opt_t *o, const char *val) {
    long long i;
    double d;
    if (tn_map_get(opts, o->key))
        bad_args(c, 0, "%s given twice", o->flag);
    int rc = 0;
    switch (o->kind) {
    case A_FLAG:
        rc = tn_map_add_bool(opts, o->key, 1);
        break;
    case A_INT:
        if (!parse_ll(val, &i))
            bad_args(c, 0, "%s needs an integer, got \"%s\"", o->flag, val);
        rc = tn_map_add_int(opts, o->key, i);
        break;
    case A_NUM:
        if (!parse_num(val, &d))
            bad_args(c, 0, "%s needs a number, got \"%s\"", o->flag, val);
        rc = tn_map_add_float(opts, o->key, d);
        break;
    case A_YEAR:
        rc = parse_ll(val, &i) ? tn_map_add_int(opts, o->key, i) : tn_map_add_str(opts, o->key, val);
        break;
    case A_STR:
        rc = tn_map_add_str(opts, o->key, val);
        break;
    }
    if (rc != 0) {
        fputs("twinnet: out of memory\n", stderr);
        exit(EXIT_SERVER);
    }
}

/* ---- main ---- */

/* Run one call and print its outcome; returns the exit code. */
static int run(tn_client_t *cl, const globals_t *g, const char *method, const tn_val_t *opts,
               printer_t print) {
    tn_val_t res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_code_t rc = tn_client_call(cl, method, opts, &res, &err);
    int code = 0;
    if (rc != TN_OK) {
        if (tn_client_broken(cl)) {
            fprintf(stderr, "error: %s\n", err.message);
            code = EXIT_UNREACHABLE;
        } else {
            print_error(&err);
            code = EXIT_SERVER;
        }
    } else if (g->json || print == NULL) {
        char *j = tn_val_to_json(&res);
        printf("%s\n", j ? j : "null");
        free(j);
    } else {
        print(&res);
    }
    tn_val_free(&res);
    tn_error_clear(&err);
    return code;
}

/* Send TWINNET_TOKEN with `auth`. A server without auth answers
 * method_not_found, which is fine; 0 to go on, else an exit code. */
static int authenticate(tn_client_t *cl, const char *token) {
    tn_val_t opts = TN_VAL_NIL, res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    int code = 0;
    if (tn_val_set_map(&opts, 1) != 0 || tn_map_add_str(&opts, "token", token) != 0)
        return EXIT_SERVER;
    tn_code_t rc = tn_client_call(cl, "auth", &opts, &res, &err);
    if (rc != TN_OK && rc != TN_ERR_METHOD_NOT_FOUND) {
        if (tn_client_broken(cl)) {
            fprintf(stderr, "error: %s\n", err.message);
            code = EXIT_UNREACHABLE;
        } else {
            print_error(&err);
            code = EXIT_SERVER;
        }
    }
    tn_val_free(&opts);
    tn_val_free(&res);
    tn_error_clear(&err);
    return code;
}

int main(int argc, char **argv) {
    globals_t g = { "127.0.0.1", 7700, 0, 30000 };
    const cmd_t *c = NULL;
    int is_call = 0;
    const char *pos[2] = { NULL, NULL };
    int npos = 0;
    tn_val_t opts = TN_VAL_NIL;

    if (tn_val_set_map(&opts, 8) != 0)
        return EXIT_SERVER;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (is_help(a)) {
            if (c)
                cmd_usage(stdout, c);
            else if (is_call)
                call_usage(stdout);
            else
                usage(stdout);
            return 0;
        }
        if (take_global(argc, argv, &i, &g, c, is_call))
            continue;
        if (c == NULL && !is_call) {
            /* The first word that is not a global option names the command. */
            if (a[0] == '-')
                bad_args(NULL, 0, "unknown option %s", a);
            if (strcmp(a, "help") == 0) {
                usage(stdout);
                return 0;
            }
            if (strcmp(a, "call") == 0) {
                is_call = 1;
                continue;
            }
            for (size_t k = 0; k < NCOMMANDS; k++)
                if (strcmp(a, commands[k].name) == 0)
                    c = &commands[k];
            if (c == NULL)
                bad_args(NULL, 0, "unknown command \"%s\"", a);
            continue;
        }
        if (a[0] == '-' && a[1] == '-' && !is_call) {
            const char *val;
            size_t n = split_flag(a, &val);
            const opt_t *o = c->opts;
            for (; o->flag; o++)
                if (strlen(o->flag) == n && strncmp(o->flag, a, n) == 0)
                    break;
            if (o->flag == NULL)
                bad_args(c, 0, "unknown option %.*s for %s", (int) n, a, c->name);
            if (o->kind == A_FLAG && val)
                bad_args(c, 0, "%s takes no value", o->flag);
            if (o->kind != A_FLAG && val == NULL) {
                if (i + 1 >= argc)
                    bad_args(c, 0, "%s needs a value (%s)", o->flag, o->meta);
                val = argv[++i];
            }
            add_option(c, &opts, o, val);
            continue;
        }
        if (npos >= 2 || (c && (c->pos_key == NULL || npos >= 1)))
            bad_args(c, is_call, "unexpected argument \"%s\"", a);
        pos[npos++] = a;
    }
    if (c == NULL && !is_call)
        bad_args(NULL, 0, "no command given");

    const char *method;
    printer_t print = NULL;
    if (is_call) {
        if (npos < 1)
            bad_args(NULL, 1, "call needs a METHOD");
        method = pos[0];
        if (npos == 2) {
            char why[200];
            tn_val_free(&opts);
            if (tn_val_from_json(pos[1], strlen(pos[1]), &opts, why, sizeof why) != 0)
                bad_args(NULL, 1, "options are not valid JSON: %s", why);
            if (opts.type != TN_V_MAP)
                bad_args(NULL, 1, "options must be a JSON object");
        }
    } else {
        method = c->method;
        print = c->print;
        if (c->pos_key) {
            if (npos < 1)
                bad_args(c, 0, "%s needs %s", c->name, c->pos_meta);
            if (tn_map_add_str(&opts, c->pos_key, pos[0]) != 0)
                return EXIT_SERVER;
        }
        if (strcmp(c->name, "centrality") == 0 && tn_map_get(&opts, "metric") == NULL)
            bad_args(c, 0, "centrality needs --metric");
    }

    char why[300];
    tn_client_t *cl = tn_client_connect(g.host, g.port, g.timeout_ms, why, sizeof why);
    if (cl == NULL) {
        fprintf(stderr, "error: %s\n", why);
        tn_val_free(&opts);
        return EXIT_UNREACHABLE;
    }
    int code = 0;
    const char *token = getenv("TWINNET_TOKEN");
    if (token && token[0])
        code = authenticate(cl, token);
    if (code == 0)
        code = run(cl, &g, method, opts.u.m.n ? &opts : NULL, print);
    tn_client_close(cl);
    tn_val_free(&opts);
    return code;
}
