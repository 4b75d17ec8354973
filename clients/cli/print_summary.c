/*
 * print_summary.c -- printers for the summary results: graph.stats and the
 * metrics.get dashboard snapshot, which repeats the stats summary
 * (docs/protocol.md). Absent figures show as "?".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A summary line: shown when res has 'when', as 'text' filled from res
 * (tn_cli_fill). */
typedef struct summary_line {
    const char *label, *when, *text;
} summary_line_t;

/* Append to l[*n] the lines of 'lines' whose 'when' res has. */
static void add_lines(const tn_val_t *res, const summary_line_t *lines, size_t nlines, tn_cli_line_t *l, size_t *n) {
    for (size_t k = 0; k < nlines; k++) {
        if (tn_cli_get(res, lines[k].when) == NULL)
            continue;
        l[*n].label = lines[k].label;
        l[(*n)++].text = tn_cli_fill(res, lines[k].text);
    }
}

/* Fill 'l' with the summary lines of a graph.stats result; returns count
 * (at most 7). */
static size_t stats_lines(const tn_val_t *res, tn_cli_line_t *l) {
    static const summary_line_t lines[] = {
        { "nodes", "nodes", "{nodes.country} countries, {nodes.province} provinces, {nodes.city} cities" },
        { "pairs", "pairs", "{pairs.total} ({pairs.sister} sister, {pairs.friendly} friendly)" },
        { "home", "home", "{home.id}: {home.units} units, {home.pairs} pairs with {home.countries} countries" },
        /* The dataset's verified reference figures, when the server has them. */
        { "reference", "home.reference", "{home.reference}" },
        { "note", "home.note", "{home.note}" },
        /* Peer data loaded beside the home's own pairs (not counted in home). */
        { "peers", "home.peers",
          "{home.peers.dataset}: {home.peers.pairs} pairs of other provinces ({home.peers.confidence} confidence), "
          "not counted in home" },
    };
    size_t n = 0;
    l[n].label = "epoch";
    l[n++].text = tn_cli_field(res, "epoch", TN_CELL_AUTO);
    add_lines(res, lines, sizeof lines / sizeof lines[0], l, &n);
    return n;
}

void tn_cli_print_stats(const tn_val_t *res) {
    tn_cli_line_t l[8] = { { NULL, NULL } };
    tn_cli_print_lines(l, stats_lines(res, l));
}

/* "Africa 9/54, Americas 4/35, ..." from coverage items, or NULL. */
static char *coverage_brief(const tn_val_t *res) {
    const tn_val_t *cov = tn_cli_items(res, "coverage.items");
    if (cov == NULL)
        return NULL;
    tn_cli_sbuf_t b = { NULL, 0, 0 };
    char *cv = tn_cli_field(res, "coverage.total.covered", TN_CELL_AUTO),
         *tc = tn_cli_field(res, "coverage.total.countries", TN_CELL_AUTO);
    tn_cli_sb_printf(&b, "%s of %s countries", cv ? cv : "?", tc ? tc : "?");
    free(cv), free(tc);
    for (size_t i = 0; i < cov->u.a.n; i++) {
        char *g = tn_cli_field(&cov->u.a.items[i], "group", TN_CELL_AUTO),
             *c = tn_cli_field(&cov->u.a.items[i], "covered", TN_CELL_AUTO),
             *n = tn_cli_field(&cov->u.a.items[i], "countries", TN_CELL_AUTO);
        tn_cli_sb_printf(&b, "%s", i ? ", " : ": ");
        tn_cli_sb_text(&b, g ? g : "?", g ? strlen(g) : 1);
        tn_cli_sb_printf(&b, " %s/%s", c ? c : "?", n ? n : "?");
        free(g), free(c), free(n);
    }
    return b.p;
}

void tn_cli_print_metrics_brief(const tn_val_t *res) {
    tn_cli_line_t l[16] = { { NULL, NULL } };
    const tn_val_t *graph = tn_cli_get(res, "graph");
    size_t n = graph ? stats_lines(graph, l) : 0;
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {          /* epoch and the dataset's notes are said elsewhere */
        if (strcmp(l[j].label, "epoch") == 0 || strcmp(l[j].label, "note") == 0 || strcmp(l[j].label, "reference") == 0)
            free(l[j].text);
        else
            l[k++] = l[j];
    }
    l[k].label = "coverage";
    l[k++].text = coverage_brief(res);
    static const summary_line_t server[] = {
        { "server", "server.connections",
          "{server.connections} connections, {server.requests_total} requests, latency p50 {server.latency_us.p50} "
          "us, p99 {server.latency_us.p99} us" },
    };
    add_lines(res, server, 1, l, &k);
    tn_cli_print_lines(l, k);
}

void tn_cli_print_metrics(const tn_val_t *res) {
    const tn_val_t *nm = tn_cli_get(res, "not_modified");
    if (nm && nm->type == TN_V_BOOL && nm->u.b) {
        char *e = tn_cli_field(res, "epoch", TN_CELL_AUTO);
        printf("not modified (epoch %s)\n", e ? e : "?");
        free(e);
        return;
    }
    tn_cli_line_t l[16] = { { NULL, NULL } };
    const tn_val_t *graph = tn_cli_get(res, "graph");
    size_t n = graph ? stats_lines(graph, l) : 0;
    if (n > 0) {                   /* the snapshot's own epoch, not the graph's */
        free(l[0].text);
        l[0].text = tn_cli_field(res, "epoch", TN_CELL_AUTO);
    }
    static const summary_line_t lines[] = {
        { "coverage", "coverage.total",
          "{coverage.total.covered} of {coverage.total.countries} countries, {coverage.total.pairs} pairs" },
        { "server", "server",
          "up {server.uptime_s} s, {server.connections} connections, {server.requests_total} requests, "
          "{server.errors_total} errors, latency p50 {server.latency_us.p50} us, p99 {server.latency_us.p99} us" },
    };
    add_lines(res, lines, sizeof lines / sizeof lines[0], l, &n);
    tn_cli_print_lines(l, n);
    const tn_val_t *tl = tn_cli_items(res, "timeline");
    if (tl) {
        static const tn_cli_col_t cols[] = {
            { "year", "year", 1, TN_CELL_AUTO }, { "pairs", "pairs", 1, TN_CELL_AUTO },
            { "cumulative", "cumulative", 1, TN_CELL_AUTO },
        };
        printf("\nTimeline\n");
        tn_cli_print_table(tl, cols, 3);
    }
    const tn_val_t *cov = tn_cli_items(res, "coverage.items");
    if (cov) {
        printf("\nCoverage by region\n");
        tn_cli_print_table(cov, tn_cli_group_cols, TN_CLI_NGROUP_COLS);
    }
}
