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

#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "csv.h"
#include "hmap.h"
#include "record.h"
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
    fprintf(out, "  %-12s %s\n", "import", "load nodes and pairs from CSV or JSON Lines files");
    fprintf(out, "  %-12s %s\n", "export", "write the whole graph as CSV, JSON Lines or GraphML");
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
    int timeout_set;      /* --timeout given (import/export wait longer by default) */
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
            g->timeout_set = 1;
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

/* ---- import and export (docs/import-export.md) ----
 *
 * import: read every file, check every record locally (CSV syntax and
 * types through graph/csv.c, record fields through graph/record.c,
 * duplicates), then hand the records to the server as one streamed import
 * (import.begin/chunk/commit). The commit is atomic, so the server's
 * reference checks (countries, parents, pair ends) either pass and the
 * whole import is applied, or fail and nothing is. Every problem is
 * reported as "file:line: field: reason", server details included: a
 * detail's index is the position of the record among those sent, which
 * maps back to the line it came from.
 *
 * export: page through node.list and pair.list and write CSV, JSON Lines or
 * GraphML; the epoch is compared before and after, so the files are one
 * consistent state of the graph.
 */

#define IMPORT_DEFAULT_CHUNK 5000
#define TRANSFER_TIMEOUT_MS 600000
#define MAX_FILES 32

static void die_oom(void) {
    fputs("twinnet: out of memory\n", stderr);
    exit(EXIT_SERVER);
}

/* Read a whole file into a malloc'd buffer (NUL-terminated); NULL with errno. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        die_oom();
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            char *p = realloc(buf, cap);
            if (p == NULL)
                die_oom();
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

/* Where a record came from. */
typedef struct loc {
    int file;
    int64_t line;
} loc_t;

typedef struct problem {
    int file;
    int64_t line;           /* 0: about the whole file */
    size_t seq;             /* report order among equal lines */
    char *field;            /* NULL: none */
    char *reason;
} problem_t;

typedef struct import_set {
    const char *files[MAX_FILES];
    int nfiles;
    tn_val_t nodes, pairs;  /* arrays of records */
    loc_t *nloc, *ploc;
    size_t nloc_cap, ploc_cap;
    problem_t *probs;
    size_t nprobs, probs_cap;
} import_set_t;

static void add_problem(import_set_t *S, int file, int64_t line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void add_problem(import_set_t *S, int file, int64_t line, const char *field, const char *fmt, ...) {
    if (S->nprobs == S->probs_cap) {
        S->probs_cap = S->probs_cap ? S->probs_cap * 2 : 64;
        problem_t *p = realloc(S->probs, S->probs_cap * sizeof *p);
        if (p == NULL)
            die_oom();
        S->probs = p;
    }
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    problem_t *p = &S->probs[S->nprobs];
    p->file = file;
    p->line = line;
    p->seq = S->nprobs++;
    p->field = field && field[0] ? strdup(field) : NULL;
    p->reason = strdup(reason);
    if (p->reason == NULL || (field && field[0] && p->field == NULL))
        die_oom();
}

static void push_record(import_set_t *S, int is_pair, tn_val_t *rec, int file, int64_t line) {
    tn_val_t *arr = is_pair ? &S->pairs : &S->nodes;
    loc_t **locs = is_pair ? &S->ploc : &S->nloc;
    size_t *cap = is_pair ? &S->ploc_cap : &S->nloc_cap;
    size_t n = arr->u.a.n;
    if (n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        loc_t *p = realloc(*locs, *cap * sizeof *p);
        if (p == NULL)
            die_oom();
        *locs = p;
    }
    if (tn_arr_push_take(arr, rec) != 0)
        die_oom();
    (*locs)[n] = (loc_t){ file, line };
}

/* "nodes.country" -> "country": the file already says which kind. */
static const char *bare_field(const char *f) {
    if (f == NULL)
        return NULL;
    if (strncmp(f, "nodes.", 6) == 0)
        return f + 6;
    if (strncmp(f, "pairs.", 6) == 0)
        return f + 6;
    return f;
}

/* Copy the {index, field, reason} details of err into problems at 'line'
 * (line < 0: each detail's index is its line). */
static void details_to_problems(import_set_t *S, int file, int64_t line, const tn_error_t *err) {
    const tn_val_t *d = &err->data;
    if (d->type != TN_V_ARR || d->u.a.n == 0) {
        add_problem(S, file, line < 0 ? 0 : line, NULL, "%s", err->message);
        return;
    }
    for (size_t i = 0; i < d->u.a.n; i++) {
        const tn_val_t *it = &d->u.a.items[i];
        int64_t at = line;
        if (at < 0 && !tn_val_as_int(tn_map_get(it, "index"), &at))
            at = 0;
        const char *why = tn_val_str(tn_map_get(it, "reason"));
        add_problem(S, file, at, bare_field(tn_val_str(tn_map_get(it, "field"))), "%s",
                    why ? why : err->message);
    }
}

/* Bytes of the record the reader is about to read start at r->pos (blank
 * lines before it included, which the mapping skips). */
static void load_csv(import_set_t *S, int fi, int is_pairs) {
    const char *path = S->files[fi];
    size_t len;
    char *buf = slurp(path, &len);
    if (buf == NULL) {
        add_problem(S, fi, 0, NULL, "cannot read: %s", strerror(errno));
        return;
    }
    tn_code_t (*map)(const char *, size_t, tn_val_t *, tn_error_t *) = is_pairs ? tn_csv_pairs : tn_csv_nodes;
    tn_val_t arr = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_csv_reader_t r;
    tn_code_t rc = map(buf, len, &arr, &err);
    if (rc == TN_ERR_INTERNAL)
        die_oom();
    tn_csv_reader_init(&r, buf, len);
    tn_csv_status_t st = tn_csv_read(&r);
    int64_t header_line = r.row_line;
    size_t header_end = r.pos;
    if (rc == TN_OK) {
        /* Good file: the k-th record is the k-th row the reader finds. */
        size_t k = 0;
        while ((st = tn_csv_read(&r)) != TN_CSV_END && k < arr.u.a.n) {
            if (st == TN_CSV_NOMEM)
                die_oom();
            push_record(S, is_pairs, &arr.u.a.items[k], fi, r.row_line);
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
        details_to_problems(S, fi, -1, &err);
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
        die_oom();
    for (size_t i = 0; i < nnames; i++)
        if ((names[i] = strdup(tn_csv_field(&r, i, NULL))) == NULL)
            die_oom();
    char *mini = NULL;
    size_t mini_cap = 0;
    size_t hstart = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    size_t hlen = header_end - hstart;
    for (;;) {
        size_t start = r.pos;
        st = tn_csv_read(&r);
        if (st == TN_CSV_END)
            break;
        if (st == TN_CSV_NOMEM)
            die_oom();
        if (st == TN_CSV_BAD) {
            const char *f = r.bad_field >= 0 && (size_t) r.bad_field < nnames ? names[r.bad_field] : NULL;
            add_problem(S, fi, r.row_line, f, "%s", r.why);
            continue;
        }
        size_t rlen = r.pos - start;
        size_t need = hlen + 1 + rlen + 1;
        if (need > mini_cap) {
            mini_cap = need * 2;
            if ((mini = realloc(mini, mini_cap)) == NULL)
                die_oom();
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
            die_oom();
        if (rc1 != TN_OK)
            details_to_problems(S, fi, r.row_line, &e1);
        else
            for (size_t k = 0; k < one.u.a.n; k++) {
                push_record(S, is_pairs, &one.u.a.items[k], fi, r.row_line);
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
static void load_jsonl(import_set_t *S, int fi) {
    const char *path = S->files[fi];
    size_t len;
    char *buf = slurp(path, &len);
    if (buf == NULL) {
        add_problem(S, fi, 0, NULL, "cannot read: %s", strerror(errno));
        return;
    }
    size_t pos = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
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
            add_problem(S, fi, line, NULL, "invalid JSON: %s", w);
            continue;
        }
        if (v.type != TN_V_MAP) {
            add_problem(S, fi, line, NULL, "expected a JSON object (a node or a pair record)");
            tn_val_free(&v);
            continue;
        }
        const tn_val_t *node = tn_map_get(&v, "node"), *pair = tn_map_get(&v, "pair");
        int is_pair;
        tn_val_t rec = TN_VAL_NIL;
        if (v.u.m.n == 1 && (node || pair)) {
            const tn_val_t *inner = node ? node : pair;
            if (inner->type != TN_V_MAP) {
                add_problem(S, fi, line, node ? "node" : "pair", "must be an object");
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
                add_problem(S, fi, line, NULL, "%s",
                            has_id ? "ambiguous record: has both \"id\" (a node) and \"a\"/\"b\" (a pair)"
                                   : "not a node (needs \"id\") or a pair (needs \"a\" and \"b\"); or wrap "
                                     "it as {\"node\": {...}} / {\"pair\": {...}}");
                tn_val_free(&v);
                continue;
            }
            is_pair = has_ab;
            rec = v;
        }
        push_record(S, is_pair, &rec, fi, line);
    }
    free(buf);
}

/* Local record checks: fields (record.c) and duplicates across all files.
 * Sets ok[] per record; collects the ids of rejected nodes in *bad_ids so
 * that the server's "no such node" for them is not reported twice. */
static void check_records(import_set_t *S, char *nok, char *pok, tn_hmap_t *bad_ids) {
    tn_hmap_t seen;
    size_t nn = S->nodes.u.a.n, np = S->pairs.u.a.n;
    char **keys = calloc((nn + np) ? nn + np : 1, sizeof *keys);
    if (keys == NULL)
        die_oom();
    tn_hmap_init(&seen);
    if (tn_hmap_reserve(&seen, nn > np ? nn : np) != 0)
        die_oom();
    for (size_t i = 0; i < nn; i++) {
        const tn_val_t *v = &S->nodes.u.a.items[i];
        tn_node_t *n = NULL;
        tn_error_t e = TN_ERROR_INIT;
        nok[i] = 1;
        if (tn_node_from_val(v, (int64_t) i, &n, &e) != TN_OK) {
            if (e.code == TN_ERR_INTERNAL)
                die_oom();
            details_to_problems(S, S->nloc[i].file, S->nloc[i].line, &e);
            tn_error_clear(&e);
            nok[i] = 0;
            const char *id = tn_val_str(tn_map_get(v, "id"));
            if (id && tn_hmap_put(bad_ids, id, i) != 0)
                die_oom();
            continue;
        }
        size_t first;
        if (tn_hmap_get(&seen, n->id, &first)) {
            add_problem(S, S->nloc[i].file, S->nloc[i].line, "id", "duplicate node id %s (first at %s:%lld)",
                        n->id, S->files[S->nloc[first].file], (long long) S->nloc[first].line);
            nok[i] = 0;
        } else {
            if ((keys[i] = strdup(n->id)) == NULL || tn_hmap_put(&seen, keys[i], i) != 0)
                die_oom();
        }
        tn_node_release(n);
    }
    tn_hmap_destroy(&seen);
    tn_hmap_init(&seen);
    if (tn_hmap_reserve(&seen, np) != 0)
        die_oom();
    for (size_t i = 0; i < np; i++) {
        tn_pair_t *p = NULL;
        tn_error_t e = TN_ERROR_INIT;
        pok[i] = 1;
        if (tn_pair_from_val(&S->pairs.u.a.items[i], (int64_t) i, &p, &e) != TN_OK) {
            if (e.code == TN_ERR_INTERNAL)
                die_oom();
            details_to_problems(S, S->ploc[i].file, S->ploc[i].line, &e);
            tn_error_clear(&e);
            pok[i] = 0;
            continue;
        }
        size_t first;
        if (tn_hmap_get(&seen, p->key, &first)) {
            add_problem(S, S->ploc[i].file, S->ploc[i].line, "pair", "duplicate pair %s - %s (first at %s:%lld)",
                        p->a, p->b, S->files[S->ploc[first].file], (long long) S->ploc[first].line);
            pok[i] = 0;
        } else {
            if ((keys[nn + i] = strdup(p->key)) == NULL || tn_hmap_put(&seen, keys[nn + i], i) != 0)
                die_oom();
        }
        tn_pair_release(p);
    }
    tn_hmap_destroy(&seen);
    for (size_t i = 0; i < nn + np; i++)
        free(keys[i]);
    free(keys);
}

static int cmp_problem(const void *x, const void *y) {
    const problem_t *a = x, *b = y;
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void print_problems(import_set_t *S) {
    qsort(S->probs, S->nprobs, sizeof *S->probs, cmp_problem);
    for (size_t i = 0; i < S->nprobs; i++) {
        const problem_t *p = &S->probs[i];
        sbuf_t b = { NULL, 0, 0 };
        sb_printf(&b, "%s", S->files[p->file]);
        if (p->line > 0)
            sb_printf(&b, ":%lld", (long long) p->line);
        sb_printf(&b, ": ");
        if (p->field) {
            sb_text(&b, p->field, strlen(p->field));
            sb_printf(&b, ": ");
        }
        sb_text(&b, p->reason, strlen(p->reason));
        fprintf(stderr, "%s\n", b.p);
        free(b.p);
    }
}

/* Progress: a bar on a terminal, a plain line per tenth otherwise. */
typedef struct progress {
    int tty;
    size_t total, last_tenth;
    const char *what;
} progress_t;

static void progress_show(progress_t *pg, size_t done) {
    if (pg->total == 0)
        return;
    if (pg->tty) {
        int width = 30, fill = (int) ((double) done / (double) pg->total * width);
        fprintf(stderr, "\r%s [", pg->what);
        for (int i = 0; i < width; i++)
            fputc(i < fill ? '#' : '-', stderr);
        fprintf(stderr, "] %3d%% %zu/%zu records", (int) (100.0 * (double) done / (double) pg->total), done,
                pg->total);
        if (done >= pg->total)
            fputc('\n', stderr);
        fflush(stderr);
        return;
    }
    size_t tenth = (size_t) (10.0 * (double) done / (double) pg->total);
    if (tenth > pg->last_tenth || done >= pg->total) {
        if (done < pg->total || pg->last_tenth < 10)
            fprintf(stderr, "%s: %zu/%zu records (%d%%)\n", pg->what, done, pg->total,
                    (int) (100.0 * (double) done / (double) pg->total));
        pg->last_tenth = done >= pg->total ? 10 : tenth;
    }
}

/* Call and return the code; transport failures print and are flagged. */
static tn_code_t xcall(tn_client_t *cl, const char *method, const tn_val_t *opts, tn_val_t *res,
                       tn_error_t *err) {
    tn_val_free(res);
    return tn_client_call(cl, method, opts, res, err);
}

static int report_call_error(tn_client_t *cl, tn_error_t *err) {
    if (tn_client_broken(cl)) {
        fprintf(stderr, "error: %s\n", err->message);
        return EXIT_UNREACHABLE;
    }
    print_error(err);
    return EXIT_SERVER;
}

/* Stream the records marked ok as one import. sent_n/sent_p map the index
 * of each record sent (what the server's details count) to its index in S.
 * Returns TN_OK with the commit result, or the error (err filled). */
static tn_code_t stream_import(tn_client_t *cl, import_set_t *S, const char *nok, const char *pok,
                               const char *mode, int dry_run, size_t chunk, int quiet,
                               size_t *sent_n, size_t *sent_p, tn_val_t *result, tn_error_t *err) {
    size_t nn = S->nodes.u.a.n, np = S->pairs.u.a.n, total = 0, kn = 0, kp = 0;
    for (size_t i = 0; i < nn; i++)
        if (nok[i])
            sent_n[kn++] = i;
    for (size_t i = 0; i < np; i++)
        if (pok[i])
            sent_p[kp++] = i;
    total = kn + kp;
    tn_val_t opts = TN_VAL_NIL, res = TN_VAL_NIL;
    int rc = tn_val_set_map(&opts, 4) | tn_map_add_int(&opts, "total", (int64_t) total)
             | tn_map_add_bool(&opts, "dry_run", dry_run);
    if (mode)
        rc |= tn_map_add_str(&opts, "mode", mode);
    if (rc != 0)
        die_oom();
    tn_code_t code = xcall(cl, "import.begin", &opts, &res, err);
    tn_val_free(&opts);
    if (code != TN_OK)
        return code;
    char token[80];
    snprintf(token, sizeof token, "%s", tn_val_str(tn_map_get(&res, "import")) ? tn_val_str(tn_map_get(&res, "import")) : "");
    progress_t pg = { isatty(2) && !quiet, total, 0, dry_run ? "checking" : "sending" };
    size_t done = 0;
    while (done < total) {
        /* The chunk's arrays borrow the records (shallow copies) and give
         * them back before they are freed. */
        tn_val_t arr[2] = { TN_VAL_NIL, TN_VAL_NIL };
        size_t end = done + chunk < total ? done + chunk : total;
        if (tn_val_set_map(&opts, 3) != 0 || tn_map_add_str(&opts, "import", token) != 0)
            die_oom();
        for (size_t k = done; k < end; k++) {
            int is_pair = k >= kn;
            tn_val_t *a = &arr[is_pair];
            if (a->type == TN_V_NIL && tn_val_set_arr(a, end - done) != 0)
                die_oom();
            tn_val_t *slot = tn_arr_push(a);
            if (slot == NULL)
                die_oom();
            *slot = is_pair ? S->pairs.u.a.items[sent_p[k - kn]] : S->nodes.u.a.items[sent_n[k]];
        }
        tn_val_t *slots[2] = { NULL, NULL };
        if (arr[0].type == TN_V_ARR && (slots[0] = tn_map_add(&opts, "nodes")) == NULL)
            die_oom();
        if (slots[0])
            *slots[0] = arr[0];
        if (arr[1].type == TN_V_ARR && (slots[1] = tn_map_add(&opts, "pairs")) == NULL)
            die_oom();
        if (slots[1])
            *slots[1] = arr[1];
        code = xcall(cl, "import.chunk", &opts, &res, err);
        for (int k = 0; k < 2; k++) {
            const tn_val_t *a = tn_map_get(&opts, k ? "pairs" : "nodes");
            if (a)
                ((tn_val_t *) a)->u.a.n = 0;    /* give the borrowed records back */
        }
        tn_val_free(&opts);
        if (code != TN_OK) {
            if (pg.tty)
                fputc('\n', stderr);
            tn_val_free(&res);
            return code;
        }
        done = end;
        if (!quiet)
            progress_show(&pg, done);
    }
    if (!quiet && !pg.tty && total > 0)
        fprintf(stderr, "%s: committing %zu records\n", pg.what, total);
    if (tn_val_set_map(&opts, 1) != 0 || tn_map_add_str(&opts, "import", token) != 0)
        die_oom();
    code = xcall(cl, "import.commit", &opts, &res, err);
    tn_val_free(&opts);
    if (code == TN_OK) {
        *result = res;
        return TN_OK;
    }
    tn_val_free(&res);
    return code;
}

/* The id at the end of a reference reason ("no such node: JP-x"). */
static const char *reason_id(const char *why) {
    const char *p = why ? strrchr(why, ':') : NULL;
    return p && p[1] == ' ' ? p + 2 : NULL;
}

/* Map the server's details (indices among the records sent) to lines. */
static void server_problems(import_set_t *S, const tn_error_t *err, const size_t *sent_n, size_t kn,
                            const size_t *sent_p, size_t kp, const tn_hmap_t *bad_ids) {
    const tn_val_t *d = &err->data;
    if (d->type != TN_V_ARR || d->u.a.n == 0) {
        add_problem(S, 0, 0, NULL, "the server refused the import: %s: %s", tn_code_name(err->code), err->message);
        return;
    }
    for (size_t i = 0; i < d->u.a.n; i++) {
        const tn_val_t *it = &d->u.a.items[i];
        const char *field = tn_val_str(tn_map_get(it, "field"));
        const char *why = tn_val_str(tn_map_get(it, "reason"));
        int64_t idx = -1;
        tn_val_as_int(tn_map_get(it, "index"), &idx);
        int is_pair = field && strncmp(field, "pairs.", 6) == 0;
        size_t lim = is_pair ? kp : kn;
        const char *ref = reason_id(why);
        size_t dummy;
        if (ref && bad_ids && tn_hmap_get(bad_ids, ref, &dummy))
            continue;                    /* already reported: that node was rejected locally */
        if (idx < 0 || (size_t) idx >= lim) {
            add_problem(S, 0, 0, field, "record %lld: %s", (long long) idx, why ? why : "?");
            continue;
        }
        loc_t l = is_pair ? S->ploc[sent_p[idx]] : S->nloc[sent_n[idx]];
        add_problem(S, l.file, l.line, bare_field(field), "%s", why ? why : "?");
    }
    if (d->u.a.n >= TN_ERROR_MAX_DETAILS)
        add_problem(S, S->nfiles - 1, 0, NULL,
                    "note: the server reports at most %d problems at a time; fix these and run again",
                    TN_ERROR_MAX_DETAILS);
}

static void import_usage(FILE *out) {
    fprintf(out,
            "usage: twinnet import [--nodes FILE]... [--pairs FILE]... [--jsonl FILE]...\n"
            "                      [--mode upsert|replace] [--dry-run] [--chunk N] [--quiet]\n"
            "\n"
            "Load nodes and pairs from CSV files (with a header; the columns of\n"
            "datasets/README.md) and JSON Lines files (one record per line: {\"node\": {...}},\n"
            "{\"pair\": {...}}, or a bare record). Every record is checked first; any bad\n"
            "line is reported as FILE:LINE: FIELD: REASON and nothing is imported.\n"
            "Otherwise the records are streamed to the server (import.begin/chunk/commit)\n"
            "and applied atomically. FILE - reads standard input.\n"
            "\n"
            "options:\n"
            "  --nodes FILE           nodes CSV\n"
            "  --pairs FILE           pairs CSV\n"
            "  --jsonl FILE           JSON Lines with nodes and/or pairs\n"
            "  --mode M               upsert (default: add or update) or replace (the graph\n"
            "                         becomes exactly the imported records)\n"
            "  --dry-run              check everything, including references, import nothing\n"
            "  --chunk N              records per import.chunk (default %d)\n"
            "  --quiet                no progress output\n",
            IMPORT_DEFAULT_CHUNK);
}

static void export_usage(FILE *out) {
    fprintf(out,
            "usage: twinnet export --format csv|jsonl|graphml --out PATH\n"
            "\n"
            "Write the whole graph with every node and pair attribute.\n"
            "  csv      PATH is a directory (created if needed) that gets nodes.csv and\n"
            "           pairs.csv, in the layout `twinnet import` and the built-in dataset use\n"
            "  jsonl    PATH is a file: one {\"node\": {...}} or {\"pair\": {...}} per line\n"
            "  graphml  PATH is a file: GraphML with typed keys for every attribute\n"
            "           (opens in Gephi, Cytoscape, igraph, NetworkX)\n"
            "PATH - writes jsonl or graphml to standard output.\n");
}

/* Parse a transfer command's arguments: options of the command and global
 * ones, anywhere. 'vals' gets the value of each known flag. */
typedef struct xopt {
    const char *flag;
    int has_value;
    int repeat;
    const char *vals[MAX_FILES];
    int n;
} xopt_t;

static void xparse(int argc, char **argv, int i, globals_t *g, xopt_t *opts, size_t nopts,
                   void (*use)(FILE *), const char *cmd) {
    for (; i < argc; i++) {
        const char *a = argv[i], *val;
        if (is_help(a)) {
            use(stdout);
            exit(0);
        }
        if (take_global(argc, argv, &i, g, NULL, 0))
            continue;
        size_t n = split_flag(a, &val);
        xopt_t *o = NULL;
        for (size_t k = 0; k < nopts; k++)
            if (strlen(opts[k].flag) == n && strncmp(opts[k].flag, a, n) == 0)
                o = &opts[k];
        if (o == NULL) {
            fprintf(stderr, "twinnet: %s %s \"%s\"\n\n", a[0] == '-' ? "unknown option for" : "unexpected argument for",
                    cmd, a);
            use(stderr);
            exit(EXIT_USAGE);
        }
        if (!o->has_value && val) {
            fprintf(stderr, "twinnet: %s takes no value\n\n", o->flag);
            use(stderr);
            exit(EXIT_USAGE);
        }
        if (o->has_value && val == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "twinnet: %s needs a value\n\n", o->flag);
                use(stderr);
                exit(EXIT_USAGE);
            }
            val = argv[++i];
        }
        if (o->n > 0 && !o->repeat) {
            fprintf(stderr, "twinnet: %s given twice\n\n", o->flag);
            use(stderr);
            exit(EXIT_USAGE);
        }
        if (o->n >= MAX_FILES) {
            fprintf(stderr, "twinnet: at most %d %s options\n", MAX_FILES, o->flag);
            exit(EXIT_USAGE);
        }
        o->vals[o->n++] = val ? val : "";
    }
}

static tn_client_t *transfer_connect(globals_t *g, int *code) {
    char why[300];
    tn_client_t *cl = tn_client_connect(g->host, g->port, g->timeout_set ? g->timeout_ms : TRANSFER_TIMEOUT_MS,
                                        why, sizeof why);
    if (cl == NULL) {
        fprintf(stderr, "error: %s\n", why);
        *code = EXIT_UNREACHABLE;
        return NULL;
    }
    const char *token = getenv("TWINNET_TOKEN");
    *code = token && token[0] ? authenticate(cl, token) : 0;
    if (*code != 0) {
        tn_client_close(cl);
        return NULL;
    }
    return cl;
}

static int64_t res_int(const tn_val_t *res, const char *key) {
    int64_t v = 0;
    tn_val_as_int(tn_map_get(res, key), &v);
    return v;
}

static int cmd_import(int argc, char **argv, int i, globals_t *g) {
    xopt_t o[] = {
        { "--nodes", 1, 1, { 0 }, 0 }, { "--pairs", 1, 1, { 0 }, 0 }, { "--jsonl", 1, 1, { 0 }, 0 },
        { "--mode", 1, 0, { 0 }, 0 },  { "--dry-run", 0, 0, { 0 }, 0 }, { "--chunk", 1, 0, { 0 }, 0 },
        { "--quiet", 0, 0, { 0 }, 0 },
    };
    xparse(argc, argv, i, g, o, sizeof o / sizeof o[0], import_usage, "import");
    long long chunk = IMPORT_DEFAULT_CHUNK;
    if (o[5].n && (!parse_ll(o[5].vals[0], &chunk) || chunk < 1 || chunk > 1000000)) {
        fprintf(stderr, "twinnet: --chunk needs a number of records from 1 to 1000000, got \"%s\"\n\n",
                o[5].vals[0]);
        import_usage(stderr);
        return EXIT_USAGE;
    }
    const char *mode = o[3].n ? o[3].vals[0] : NULL;
    if (mode && strcmp(mode, "upsert") != 0 && strcmp(mode, "replace") != 0) {
        fprintf(stderr, "twinnet: --mode is upsert or replace, got \"%s\"\n\n", mode);
        import_usage(stderr);
        return EXIT_USAGE;
    }
    int dry_run = o[4].n > 0, quiet = o[6].n > 0;
    import_set_t S;
    memset(&S, 0, sizeof S);
    if (tn_val_set_arr(&S.nodes, 1024) != 0 || tn_val_set_arr(&S.pairs, 1024) != 0)
        die_oom();
    int kinds[MAX_FILES];
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < o[k].n; j++) {
            if (S.nfiles >= MAX_FILES) {
                fprintf(stderr, "twinnet: at most %d files\n", MAX_FILES);
                return EXIT_USAGE;
            }
            kinds[S.nfiles] = k;
            S.files[S.nfiles++] = o[k].vals[j];
        }
    if (S.nfiles == 0) {
        fprintf(stderr, "twinnet: import needs --nodes, --pairs or --jsonl\n\n");
        import_usage(stderr);
        return EXIT_USAGE;
    }
    for (int f = 0; f < S.nfiles; f++) {
        if (kinds[f] == 2)
            load_jsonl(&S, f);
        else
            load_csv(&S, f, kinds[f] == 1);
    }
    size_t nn = S.nodes.u.a.n, np = S.pairs.u.a.n;
    char *nok = malloc(nn + 1), *pok = malloc(np + 1);
    size_t *sent_n = malloc((nn + 1) * sizeof *sent_n), *sent_p = malloc((np + 1) * sizeof *sent_p);
    tn_hmap_t bad_ids;
    tn_hmap_init(&bad_ids);
    if (!nok || !pok || !sent_n || !sent_p)
        die_oom();
    check_records(&S, nok, pok, &bad_ids);
    size_t local_problems = S.nprobs;
    if (!quiet && !isatty(2))
        fprintf(stderr, "read %zu nodes and %zu pairs from %d file%s%s\n", nn, np, S.nfiles,
                S.nfiles == 1 ? "" : "s", local_problems ? " (with problems)" : "");

    int code = 0;
    tn_client_t *cl = transfer_connect(g, &code);
    if (cl == NULL)
        goto out;
    tn_val_t res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    /* With local problems the rest is still checked by the server (dry
     * run), so that one pass shows every bad line; nothing is imported. */
    int check_only = dry_run || local_problems > 0;
    tn_code_t rc = stream_import(cl, &S, nok, pok, mode, check_only, (size_t) chunk, quiet, sent_n, sent_p,
                                 &res, &err);
    size_t kn = 0, kp = 0;
    for (size_t k = 0; k < nn; k++)
        kn += nok[k] != 0;
    for (size_t k = 0; k < np; k++)
        kp += pok[k] != 0;
    if (rc == TN_ERR_INVALID_PARAMS && err.data.type == TN_V_ARR) {
        server_problems(&S, &err, sent_n, kn, sent_p, kp, local_problems ? &bad_ids : NULL);
    } else if (rc != TN_OK) {
        code = report_call_error(cl, &err);
        if (local_problems)
            print_problems(&S);
        tn_error_clear(&err);
        tn_client_close(cl);
        goto out;
    }
    tn_error_clear(&err);
    tn_client_close(cl);
    if (S.nprobs > 0) {
        print_problems(&S);
        size_t lines = S.nprobs;
        fprintf(stderr, "twinnet: %zu problem%s; nothing imported\n", lines, lines == 1 ? "" : "s");
        code = EXIT_SERVER;
        tn_val_free(&res);
        goto out;
    }
    if (g->json) {
        char *j = tn_val_to_json(&res);
        printf("%s\n", j ? j : "null");
        free(j);
    } else {
        if (dry_run)
            printf("dry run: %zu nodes and %zu pairs are valid; nothing was imported. It would give:\n", nn, np);
        else
            printf("imported %zu nodes and %zu pairs (epoch %lld)\n", nn, np, (long long) res_int(&res, "epoch"));
        printf("  %-6s %9s %9s %9s %9s\n", "", "added", "updated", "unchanged", "removed");
        printf("  %-6s %9lld %9lld %9lld %9lld\n", "nodes", (long long) res_int(&res, "nodes_added"),
               (long long) res_int(&res, "nodes_updated"), (long long) res_int(&res, "nodes_unchanged"),
               (long long) res_int(&res, "nodes_removed"));
        printf("  %-6s %9lld %9lld %9lld %9lld\n", "pairs", (long long) res_int(&res, "pairs_added"),
               (long long) res_int(&res, "pairs_updated"), (long long) res_int(&res, "pairs_unchanged"),
               (long long) res_int(&res, "pairs_removed"));
    }
    tn_val_free(&res);
out:
    for (size_t k = 0; k < S.nprobs; k++) {
        free(S.probs[k].field);
        free(S.probs[k].reason);
    }
    free(S.probs);
    tn_hmap_destroy(&bad_ids);
    tn_val_free(&S.nodes);
    tn_val_free(&S.pairs);
    free(S.nloc);
    free(S.ploc);
    free(nok);
    free(pok);
    free(sent_n);
    free(sent_p);
    return code;
}

/* ---- export ---- */

typedef enum { FMT_CSV, FMT_JSONL, FMT_GRAPHML } xfmt_t;

static const char *const node_fields[] = { "id", "kind", "name", "name_zh", "country", "parent", "region",
                                           "subregion", "tags", "lat", "lon", "population", NULL };
static const char *const pair_fields[] = { "a", "b", "kind", "since", "source", "confidence", NULL };

typedef struct exporter {
    xfmt_t fmt;
    FILE *nf, *pf;          /* csv: two files; others: nf only */
    size_t nodes, pairs;
} exporter_t;

/* The shortest decimal that reads back as the same double. */
static void num_text(double d, char *buf, size_t cap) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

/* A scalar as text (strings as is, numbers compact, tags joined by ';'). */
static void val_text(sbuf_t *b, const tn_val_t *v) {
    char num[40];
    switch (v->type) {
    case TN_V_STR:
        sb_printf(b, "%s", v->u.s.p);
        break;
    case TN_V_INT:
        sb_printf(b, "%lld", (long long) v->u.i);
        break;
    case TN_V_FLOAT:
        num_text(v->u.f, num, sizeof num);
        sb_printf(b, "%s", num);
        break;
    case TN_V_BOOL:
        sb_printf(b, "%s", v->u.b ? "true" : "false");
        break;
    case TN_V_ARR:
        for (size_t i = 0; i < v->u.a.n; i++) {
            if (i)
                sb_printf(b, ";");
            val_text(b, &v->u.a.items[i]);
        }
        break;
    default:
        break;
    }
}

static void csv_cell(FILE *f, const char *s) {
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_row(FILE *f, const tn_val_t *rec, const char *const *fields) {
    for (size_t i = 0; fields[i]; i++) {
        if (i)
            fputc(',', f);
        const tn_val_t *v = tn_map_get(rec, fields[i]);
        if (v == NULL || v->type == TN_V_NIL)
            continue;
        sbuf_t b = { NULL, 0, 0 };
        sb_printf(&b, "%s", "");
        val_text(&b, v);
        csv_cell(f, b.p);
        free(b.p);
    }
    fputc('\n', f);
}

/* XML text: escape markup, and replace what XML 1.0 forbids. */
static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                fputc('?', f);
            else
                fputc(c, f);
        }
    }
}

typedef struct gkey {
    const char *id, *field, *type;
} gkey_t;

static const gkey_t gml_node_keys[] = {
    { "n_label", "label", "string" }, { "n_kind", "kind", "string" },       { "n_name", "name", "string" },
    { "n_name_zh", "name_zh", "string" }, { "n_country", "country", "string" }, { "n_parent", "parent", "string" },
    { "n_region", "region", "string" }, { "n_subregion", "subregion", "string" }, { "n_tags", "tags", "string" },
    { "n_lat", "lat", "double" },     { "n_lon", "lon", "double" },         { "n_population", "population", "double" },
    { NULL, NULL, NULL },
};

static const gkey_t gml_edge_keys[] = {
    { "e_kind", "kind", "string" }, { "e_since", "since", "string" }, { "e_since_year", "since_year", "int" },
    { "e_source", "source", "string" }, { "e_confidence", "confidence", "string" }, { NULL, NULL, NULL },
};

static void gml_data(FILE *f, const char *key, const tn_val_t *v) {
    if (v == NULL || v->type == TN_V_NIL)
        return;
    sbuf_t b = { NULL, 0, 0 };
    sb_printf(&b, "%s", "");
    val_text(&b, v);
    fprintf(f, "<data key=\"%s\">", key);
    xml_text(f, b.p);
    fputs("</data>", f);
    free(b.p);
}

static void export_begin(exporter_t *ex) {
    if (ex->fmt == FMT_CSV) {
        for (size_t i = 0; node_fields[i]; i++)
            fprintf(ex->nf, "%s%s", i ? "," : "", node_fields[i]);
        fputc('\n', ex->nf);
        for (size_t i = 0; pair_fields[i]; i++)
            fprintf(ex->pf, "%s%s", i ? "," : "", pair_fields[i]);
        fputc('\n', ex->pf);
    } else if (ex->fmt == FMT_GRAPHML) {
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\"\n"
              "    xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
              "    xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns "
              "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n", ex->nf);
        for (const gkey_t *k = gml_node_keys; k->id; k++)
            fprintf(ex->nf, "  <key id=\"%s\" for=\"node\" attr.name=\"%s\" attr.type=\"%s\"/>\n", k->id, k->field,
                    k->type);
        for (const gkey_t *k = gml_edge_keys; k->id; k++)
            fprintf(ex->nf, "  <key id=\"%s\" for=\"edge\" attr.name=\"%s\" attr.type=\"%s\"/>\n", k->id, k->field,
                    k->type);
        fputs("  <graph id=\"twinnet\" edgedefault=\"undirected\">\n", ex->nf);
    }
}

/* Keep only the protocol's fields (list results may add others). */
static void export_record(exporter_t *ex, const tn_val_t *rec, int is_pair) {
    const char *const *fields = is_pair ? pair_fields : node_fields;
    if (ex->fmt == FMT_CSV) {
        csv_row(is_pair ? ex->pf : ex->nf, rec, fields);
    } else if (ex->fmt == FMT_JSONL) {
        tn_val_t w = TN_VAL_NIL, inner = TN_VAL_NIL;
        if (tn_val_set_map(&w, 1) != 0 || tn_val_set_map(&inner, 12) != 0)
            die_oom();
        for (size_t i = 0; fields[i]; i++) {
            const tn_val_t *v = tn_map_get(rec, fields[i]);
            tn_val_t c;
            if (v == NULL || v->type == TN_V_NIL)
                continue;
            if (tn_val_copy(&c, v) != 0 || tn_map_add_take(&inner, fields[i], &c) != 0)
                die_oom();
        }
        if (tn_map_add_take(&w, is_pair ? "pair" : "node", &inner) != 0)
            die_oom();
        char *j = tn_val_to_json(&w);
        if (j == NULL)
            die_oom();
        fprintf(ex->nf, "%s\n", j);
        free(j);
        tn_val_free(&w);
    } else if (!is_pair) {
        fputs("    <node id=\"", ex->nf);
        xml_text(ex->nf, tn_val_str(tn_map_get(rec, "id")) ? tn_val_str(tn_map_get(rec, "id")) : "");
        fputs("\">", ex->nf);
        for (const gkey_t *k = gml_node_keys; k->id; k++)
            gml_data(ex->nf, k->id, tn_map_get(rec, strcmp(k->field, "label") == 0 ? "name" : k->field));
        fputs("</node>\n", ex->nf);
    } else {
        const char *a = tn_val_str(tn_map_get(rec, "a")), *b = tn_val_str(tn_map_get(rec, "b"));
        fprintf(ex->nf, "    <edge id=\"e%zu\" source=\"", ex->pairs);
        xml_text(ex->nf, a ? a : "");
        fputs("\" target=\"", ex->nf);
        xml_text(ex->nf, b ? b : "");
        fputs("\">", ex->nf);
        const tn_val_t *since = tn_map_get(rec, "since");
        for (const gkey_t *k = gml_edge_keys; k->id; k++) {
            if (strcmp(k->field, "since_year") == 0) {
                int64_t y = 0;
                const char *s = tn_val_str(since);
                if (since && !tn_val_as_int(since, &y) && s && strlen(s) >= 4)
                    y = strtoll(s, NULL, 10);
                if (y > 0) {
                    tn_val_t yv = tn_val_int(y);
                    gml_data(ex->nf, k->id, &yv);
                }
                continue;
            }
            gml_data(ex->nf, k->id, tn_map_get(rec, k->field));
        }
        fputs("</edge>\n", ex->nf);
    }
    if (is_pair)
        ex->pairs++;
    else
        ex->nodes++;
}

static void export_end(exporter_t *ex) {
    if (ex->fmt == FMT_GRAPHML)
        fputs("  </graph>\n</graphml>\n", ex->nf);
}

/* Every node, page by page: node.list, or (older servers) node.find split
 * by kind and country so that no call reaches its 1000-item cap. */
static tn_code_t export_nodes(tn_client_t *cl, exporter_t *ex, tn_error_t *err) {
    tn_val_t opts = TN_VAL_NIL, res = TN_VAL_NIL;
    const int64_t page = 10000;
    tn_code_t rc = TN_OK;
    for (int64_t offset = 0;; offset += page) {
        if (tn_val_set_map(&opts, 2) != 0 || tn_map_add_int(&opts, "limit", page) != 0
            || tn_map_add_int(&opts, "offset", offset) != 0)
            die_oom();
        rc = xcall(cl, "node.list", &opts, &res, err);
        tn_val_free(&opts);
        if (rc != TN_OK)
            break;
        const tn_val_t *items = items_of(&res, "items");
        size_t n = items ? items->u.a.n : 0;
        for (size_t i = 0; i < n; i++)
            export_record(ex, &items->u.a.items[i], 0);
        int64_t total = res_int(&res, "total");
        tn_val_free(&res);
        if (n == 0 || offset + (int64_t) n >= total)
            return TN_OK;
    }
    if (rc != TN_ERR_METHOD_NOT_FOUND)
        return rc;
    tn_error_clear(err);
    /* Fallback. Countries first, then each country's provinces and cities. */
    const int64_t cap = 1000;
    if (tn_val_set_map(&opts, 3) != 0 || tn_map_add_str(&opts, "q", "") != 0
        || tn_map_add_str(&opts, "kind", "country") != 0 || tn_map_add_int(&opts, "limit", cap) != 0)
        die_oom();
    rc = xcall(cl, "node.find", &opts, &res, err);
    tn_val_free(&opts);
    if (rc != TN_OK)
        return rc;
    tn_val_t countries = TN_VAL_NIL;
    const tn_val_t *items = items_of(&res, "items");
    if (items == NULL || items->u.a.n >= (size_t) cap || tn_val_copy(&countries, items) != 0) {
        tn_val_free(&res);
        return tn_error_set(err, TN_ERR_TOO_LARGE, "the server has no node.list and node.find cannot list "
                            "more than %lld nodes of one kind and country", (long long) cap);
    }
    tn_val_free(&res);
    for (size_t i = 0; i < countries.u.a.n; i++)
        export_record(ex, &countries.u.a.items[i], 0);
    /* Every province and city names its country (PROTOCOL.md section 3). */
    for (size_t i = 0; i < countries.u.a.n && rc == TN_OK; i++) {
        const char *cc = tn_val_str(tn_map_get(&countries.u.a.items[i], "id"));
        static const char *const kinds[] = { "province", "city" };
        for (int k = 0; k < 2 && rc == TN_OK && cc; k++) {
            if (tn_val_set_map(&opts, 4) != 0 || tn_map_add_str(&opts, "q", "") != 0
                || tn_map_add_str(&opts, "kind", kinds[k]) != 0 || tn_map_add_str(&opts, "country", cc) != 0
                || tn_map_add_int(&opts, "limit", cap) != 0)
                die_oom();
            rc = xcall(cl, "node.find", &opts, &res, err);
            tn_val_free(&opts);
            if (rc != TN_OK)
                break;
            const tn_val_t *it = items_of(&res, "items");
            if (it && it->u.a.n >= (size_t) cap)
                rc = tn_error_set(err, TN_ERR_TOO_LARGE, "the server has no node.list and %s has %lld or more "
                                  "%s nodes (node.find's cap)", cc, (long long) cap, kinds[k]);
            for (size_t j = 0; it && j < it->u.a.n && rc == TN_OK; j++)
                export_record(ex, &it->u.a.items[j], 0);
            tn_val_free(&res);
        }
    }
    tn_val_free(&countries);
    return rc;
}

static tn_code_t export_pairs(tn_client_t *cl, exporter_t *ex, tn_error_t *err) {
    tn_val_t opts = TN_VAL_NIL, res = TN_VAL_NIL;
    const int64_t page = 10000;
    for (int64_t offset = 0;; offset += page) {
        if (tn_val_set_map(&opts, 2) != 0 || tn_map_add_int(&opts, "limit", page) != 0
            || tn_map_add_int(&opts, "offset", offset) != 0)
            die_oom();
        tn_code_t rc = xcall(cl, "pair.list", &opts, &res, err);
        tn_val_free(&opts);
        if (rc != TN_OK)
            return rc;
        const tn_val_t *items = items_of(&res, "items");
        size_t n = items ? items->u.a.n : 0;
        for (size_t i = 0; i < n; i++)
            export_record(ex, &items->u.a.items[i], 1);
        int64_t total = res_int(&res, "total");
        tn_val_free(&res);
        if (n == 0 || offset + (int64_t) n >= total)
            return TN_OK;
    }
}

static tn_code_t server_epoch(tn_client_t *cl, int64_t *epoch, tn_error_t *err) {
    tn_val_t res = TN_VAL_NIL;
    tn_code_t rc = xcall(cl, "server.info", NULL, &res, err);
    if (rc == TN_OK)
        *epoch = res_int(&res, "epoch");
    tn_val_free(&res);
    return rc;
}

static char *path_join(const char *a, const char *b) {
    sbuf_t s = { NULL, 0, 0 };
    sb_printf(&s, "%s%s%s", a, a[0] && a[strlen(a) - 1] == '/' ? "" : (b[0] == '.' ? "" : "/"), b);
    return s.p;
}

static int cmd_export(int argc, char **argv, int i, globals_t *g) {
    xopt_t o[] = { { "--format", 1, 0, { 0 }, 0 }, { "--out", 1, 0, { 0 }, 0 } };
    xparse(argc, argv, i, g, o, 2, export_usage, "export");
    if (!o[0].n || !o[1].n) {
        fprintf(stderr, "twinnet: export needs --format and --out\n\n");
        export_usage(stderr);
        return EXIT_USAGE;
    }
    xfmt_t fmt;
    const char *f = o[0].vals[0], *out = o[1].vals[0];
    if (strcmp(f, "csv") == 0)
        fmt = FMT_CSV;
    else if (strcmp(f, "jsonl") == 0)
        fmt = FMT_JSONL;
    else if (strcmp(f, "graphml") == 0)
        fmt = FMT_GRAPHML;
    else {
        fprintf(stderr, "twinnet: --format is csv, jsonl or graphml, got \"%s\"\n\n", f);
        export_usage(stderr);
        return EXIT_USAGE;
    }
    int to_stdout = strcmp(out, "-") == 0;
    if (to_stdout && fmt == FMT_CSV) {
        fprintf(stderr, "twinnet: csv export writes two files: --out must be a directory\n");
        return EXIT_USAGE;
    }
    if (fmt == FMT_CSV && mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "twinnet: cannot create directory %s: %s\n", out, strerror(errno));
        return EXIT_SERVER;
    }
    /* Files are written beside their final names and renamed at the end:
     * an interrupted export never leaves a half file under the real name. */
    char *final[2] = { NULL, NULL }, *tmp[2] = { NULL, NULL };
    if (fmt == FMT_CSV) {
        final[0] = path_join(out, "nodes.csv");
        final[1] = path_join(out, "pairs.csv");
    } else if (!to_stdout) {
        final[0] = strdup(out);
    }
    for (int k = 0; k < 2; k++)
        if (final[k]) {
            sbuf_t s = { NULL, 0, 0 };
            sb_printf(&s, "%s.tmp%ld", final[k], (long) getpid());
            tmp[k] = s.p;
        }
    int code = 0;
    tn_client_t *cl = transfer_connect(g, &code);
    if (cl == NULL)
        goto done;
    tn_error_t err = TN_ERROR_INIT;
    exporter_t ex;
    for (int attempt = 0;; attempt++) {
        memset(&ex, 0, sizeof ex);
        ex.fmt = fmt;
        ex.nf = to_stdout ? stdout : fopen(tmp[0], "w");
        ex.pf = fmt == FMT_CSV ? fopen(tmp[1], "w") : NULL;
        if (ex.nf == NULL || (fmt == FMT_CSV && ex.pf == NULL)) {
            fprintf(stderr, "twinnet: cannot write %s: %s\n", ex.nf ? tmp[1] : tmp[0], strerror(errno));
            code = EXIT_SERVER;
            break;
        }
        int64_t e0 = -1, e1 = -2;
        tn_code_t rc = server_epoch(cl, &e0, &err);
        export_begin(&ex);
        if (rc == TN_OK)
            rc = export_nodes(cl, &ex, &err);
        if (rc == TN_OK)
            rc = export_pairs(cl, &ex, &err);
        export_end(&ex);
        if (rc == TN_OK)
            rc = server_epoch(cl, &e1, &err);
        int werr = 0;
        if (!to_stdout)
            werr |= fclose(ex.nf) != 0;
        else
            werr |= fflush(stdout) != 0;
        if (ex.pf)
            werr |= fclose(ex.pf) != 0;
        if (rc != TN_OK) {
            code = report_call_error(cl, &err);
            break;
        }
        if (werr) {
            fprintf(stderr, "twinnet: writing the export failed: %s\n", strerror(errno));
            code = EXIT_SERVER;
            break;
        }
        if (e0 == e1) {
            for (int k = 0; k < 2; k++)
                if (final[k] && rename(tmp[k], final[k]) != 0) {
                    fprintf(stderr, "twinnet: cannot rename %s to %s: %s\n", tmp[k], final[k], strerror(errno));
                    code = EXIT_SERVER;
                }
            if (code == 0)
                fprintf(to_stdout ? stderr : stdout, "exported %zu nodes and %zu pairs (epoch %lld) to %s\n",
                        ex.nodes, ex.pairs, (long long) e0, to_stdout ? "standard output" : out);
            break;
        }
        if (to_stdout || attempt >= 4) {
            fprintf(stderr, "twinnet: the graph changed while it was being exported (epoch %lld -> %lld)%s\n",
                    (long long) e0, (long long) e1, to_stdout ? "; the output mixes two states" : "; try again");
            code = EXIT_SERVER;
            break;
        }
    }
    tn_error_clear(&err);
    tn_client_close(cl);
done:
    for (int k = 0; k < 2; k++) {
        if (tmp[k])
            unlink(tmp[k]);
        free(tmp[k]);
        free(final[k]);
    }
    return code;
}

int main(int argc, char **argv) {
    globals_t g = { "127.0.0.1", 7700, 0, 30000, 0 };
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
            if (strcmp(a, "import") == 0)
                return cmd_import(argc, argv, i + 1, &g);
            if (strcmp(a, "export") == 0)
                return cmd_export(argc, argv, i + 1, &g);
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
