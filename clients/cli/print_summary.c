/*
 * print_summary.c -- printers for the summary results: graph.stats and the
 * metrics.get dashboard snapshot, which repeats the stats summary
 * (docs/protocol.md). Absent figures show as "?".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Fill 'l' with the summary lines of a graph.stats result; returns count
 * (at most 7). */
static size_t stats_lines(const tn_val_t *res, tn_cli_line_t *l) {
    size_t n = 0;
    char *s;
    l[n].label = "epoch";
    l[n++].text = tn_cli_field(res, "epoch", TN_CELL_AUTO);
    if (tn_cli_get(res, "nodes")) {
        char *c = tn_cli_field(res, "nodes.country", TN_CELL_AUTO),
             *p = tn_cli_field(res, "nodes.province", TN_CELL_AUTO),
             *y = tn_cli_field(res, "nodes.city", TN_CELL_AUTO);
        l[n].label = "nodes";
        l[n++].text = tn_cli_fmt("%s countries, %s provinces, %s cities", c ? c : "?", p ? p : "?", y ? y : "?");
        free(c), free(p), free(y);
    }
    if (tn_cli_get(res, "pairs")) {
        char *t = tn_cli_field(res, "pairs.total", TN_CELL_AUTO),
             *s1 = tn_cli_field(res, "pairs.sister", TN_CELL_AUTO),
             *f = tn_cli_field(res, "pairs.friendly", TN_CELL_AUTO);
        l[n].label = "pairs";
        l[n++].text = tn_cli_fmt("%s (%s sister, %s friendly)", t ? t : "?", s1 ? s1 : "?", f ? f : "?");
        free(t), free(s1), free(f);
    }
    if (tn_cli_get(res, "home")) {
        char *id = tn_cli_field(res, "home.id", TN_CELL_AUTO), *u = tn_cli_field(res, "home.units", TN_CELL_AUTO),
             *p = tn_cli_field(res, "home.pairs", TN_CELL_AUTO),
             *c = tn_cli_field(res, "home.countries", TN_CELL_AUTO);
        l[n].label = "home";
        l[n++].text = tn_cli_fmt("%s: %s units, %s pairs with %s countries", id ? id : "?", u ? u : "?",
                                 p ? p : "?", c ? c : "?");
        free(id), free(u), free(p), free(c);
    }
    /* The dataset's verified reference figures, when the server has them. */
    if ((s = tn_cli_field(res, "home.reference", TN_CELL_AUTO)) != NULL) {
        l[n].label = "reference";
        l[n++].text = s;
    }
    if ((s = tn_cli_field(res, "home.note", TN_CELL_AUTO)) != NULL) {
        l[n].label = "note";
        l[n++].text = s;
    }
    /* Peer data loaded beside the home's own pairs (not counted in home). */
    if (tn_cli_get(res, "home.peers")) {
        char *d = tn_cli_field(res, "home.peers.dataset", TN_CELL_AUTO),
             *p = tn_cli_field(res, "home.peers.pairs", TN_CELL_AUTO),
             *c = tn_cli_field(res, "home.peers.confidence", TN_CELL_AUTO);
        l[n].label = "peers";
        l[n++].text = tn_cli_fmt("%s: %s pairs of other provinces (%s confidence), not counted in home",
                                 d ? d : "?", p ? p : "?", c ? c : "?");
        free(d), free(p), free(c);
    }
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
    char *cn = tn_cli_field(res, "server.connections", TN_CELL_AUTO),
         *rq = tn_cli_field(res, "server.requests_total", TN_CELL_AUTO),
         *p50 = tn_cli_field(res, "server.latency_us.p50", TN_CELL_AUTO),
         *p99 = tn_cli_field(res, "server.latency_us.p99", TN_CELL_AUTO);
    if (cn) {
        l[k].label = "server";
        l[k++].text = tn_cli_fmt("%s connections, %s requests, latency p50 %s us, p99 %s us", cn, rq ? rq : "?",
                                 p50 ? p50 : "?", p99 ? p99 : "?");
    }
    free(cn), free(rq), free(p50), free(p99);
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
    if (tn_cli_get(res, "coverage.total")) {
        char *cv = tn_cli_field(res, "coverage.total.covered", TN_CELL_AUTO),
             *tc = tn_cli_field(res, "coverage.total.countries", TN_CELL_AUTO),
             *tp = tn_cli_field(res, "coverage.total.pairs", TN_CELL_AUTO);
        l[n].label = "coverage";
        l[n++].text = tn_cli_fmt("%s of %s countries, %s pairs", cv ? cv : "?", tc ? tc : "?", tp ? tp : "?");
        free(cv), free(tc), free(tp);
    }
    if (tn_cli_get(res, "server")) {
        char *up = tn_cli_field(res, "server.uptime_s", TN_CELL_AUTO),
             *cn = tn_cli_field(res, "server.connections", TN_CELL_AUTO),
             *rq = tn_cli_field(res, "server.requests_total", TN_CELL_AUTO),
             *er = tn_cli_field(res, "server.errors_total", TN_CELL_AUTO),
             *p50 = tn_cli_field(res, "server.latency_us.p50", TN_CELL_AUTO),
             *p99 = tn_cli_field(res, "server.latency_us.p99", TN_CELL_AUTO);
        l[n].label = "server";
        l[n++].text = tn_cli_fmt("up %s s, %s connections, %s requests, %s errors, latency p50 %s us, p99 %s us",
                                 up ? up : "?", cn ? cn : "?", rq ? rq : "?", er ? er : "?", p50 ? p50 : "?",
                                 p99 ? p99 : "?");
        free(up), free(cn), free(rq), free(er), free(p50), free(p99);
    }
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
