/*
 * print_query.c -- printers for the analysis queries: query.centrality,
 * query.coverage and query.gaps (docs/protocol.md, "Methods"); query.recommend
 * and query.plan are in advice.c.
 * Each prints a heading line, then its rows as tables.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const tn_cli_col_t tn_cli_group_cols[TN_CLI_NGROUP_COLS] = {
    { "group", "group", 0, TN_CELL_AUTO }, { "countries", "countries", 1, TN_CELL_AUTO },
    { "covered", "covered", 1, TN_CELL_AUTO }, { "ratio", "ratio", 1, TN_CELL_RATIO },
    { "pairs", "pairs", 1, TN_CELL_AUTO }, { "units", "units", 1, TN_CELL_AUTO },
};

void tn_cli_print_centrality(const tn_val_t *res) {
    static const tn_cli_col_t cols[] = {
        { "#", "", 1, TN_CELL_AUTO }, { "id", "id", 0, TN_CELL_AUTO }, { "name", "name", 0, TN_CELL_AUTO },
        { "score", "score", 1, TN_CELL_SCORE },
    };
    char *m = tn_cli_field(res, "metric", TN_CELL_AUTO), *g = tn_cli_field(res, "graph", TN_CELL_AUTO),
         *e = tn_cli_field(res, "epoch", TN_CELL_AUTO);
    printf("%s centrality on the %s graph (epoch %s)\n", m ? m : "?", g ? g : "?", e ? e : "?");
    free(m), free(g), free(e);
    tn_cli_print_table(tn_cli_items(res, "items"), cols, 4);
}

void tn_cli_print_coverage(const tn_val_t *res) {
    static const tn_cli_col_t countries[] = {
        { "id", "id", 0, TN_CELL_AUTO }, { "name", "name", 0, TN_CELL_AUTO },
        { "region", "region", 0, TN_CELL_AUTO }, { "pairs", "pairs", 1, TN_CELL_AUTO },
        { "units", "units", 1, TN_CELL_AUTO },
    };
    static const tn_cli_col_t units[] = {
        { "id", "id", 0, TN_CELL_AUTO }, { "name", "name", 0, TN_CELL_AUTO }, { "pairs", "pairs", 1, TN_CELL_AUTO },
        { "countries", "countries", 1, TN_CELL_AUTO }, { "regions", "regions", 1, TN_CELL_AUTO },
    };
    const tn_val_t *items = tn_cli_items(res, "items");
    char *h = tn_cli_field(res, "home", TN_CELL_AUTO), *e = tn_cli_field(res, "epoch", TN_CELL_AUTO);
    char *tc = tn_cli_field(res, "total.countries", TN_CELL_AUTO),
         *cv = tn_cli_field(res, "total.covered", TN_CELL_AUTO), *tp = tn_cli_field(res, "total.pairs", TN_CELL_AUTO);
    printf("home %s (epoch %s): %s of %s countries covered, %s pairs\n", h ? h : "?", e ? e : "?",
           cv ? cv : "?", tc ? tc : "?", tp ? tp : "?");
    free(h), free(e), free(tc), free(cv), free(tp);
    /* The row shape says which grouping the server used. */
    const tn_val_t *first = items && items->u.a.n ? &items->u.a.items[0] : NULL;
    if (first && tn_map_get(first, "group"))
        tn_cli_print_table(items, tn_cli_group_cols, TN_CLI_NGROUP_COLS);
    else if (first && tn_map_get(first, "region"))
        tn_cli_print_table(items, countries, 5);
    else if (first && tn_map_get(first, "regions"))
        tn_cli_print_table(items, units, 5);
    else if (first)
        tn_cli_print_table(items, countries, 2);
    else
        tn_cli_print_table(NULL, tn_cli_group_cols, TN_CLI_NGROUP_COLS);
}

void tn_cli_print_gaps(const tn_val_t *res) {
    static const tn_cli_col_t uncovered[] = {
        { "id", "id", 0, TN_CELL_AUTO }, { "name", "name", 0, TN_CELL_AUTO },
        { "region", "region", 0, TN_CELL_AUTO }, { "subregion", "subregion", 0, TN_CELL_AUTO },
        { "tags", "tags", 0, TN_CELL_AUTO }, { "peer pairs", "peer_pairs", 1, TN_CELL_AUTO },
    };
    static const tn_cli_col_t idle[] = { { "id", "id", 0, TN_CELL_AUTO }, { "name", "name", 0, TN_CELL_AUTO } };
    static const tn_cli_col_t under[] = {
        { "group", "group", 0, TN_CELL_AUTO }, { "ratio", "ratio", 1, TN_CELL_RATIO },
        { "overall", "overall", 1, TN_CELL_RATIO },
    };
    const tn_val_t *u = tn_cli_items(res, "uncovered"), *i = tn_cli_items(res, "idle_units"),
                   *r = tn_cli_items(res, "under_covered");
    printf("Uncovered countries (%zu)\n", u ? u->u.a.n : 0);
    tn_cli_print_table(u, uncovered, 6);
    printf("\nIdle units (%zu)\n", i ? i->u.a.n : 0);
    tn_cli_print_table(i, idle, 2);
    printf("\nUnder-covered regions (%zu)\n", r ? r->u.a.n : 0);
    tn_cli_print_table(r, under, 3);
}
