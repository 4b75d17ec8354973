/*
 * print_lists.c -- printers for the plain listings, one table each:
 * server.methods, node.neighbors, node.find and pair.list
 * (docs/protocol.md, "Methods"). Single maps (server.ping, server.info, node.get) are printed
 * as they come by tn_cli_print_kv.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

void tn_cli_print_methods(const tn_val_t *res) {
    static const tn_cli_col_t cols[] = {
        { "method", "name", 0, TN_CELL_AUTO }, { "role", "role", 0, TN_CELL_AUTO },
        { "slow", "slow", 0, TN_CELL_AUTO }, { "options", "params", 0, TN_CELL_AUTO },
    };
    tn_cli_print_table(tn_cli_items(res, "items"), cols, 4);
}

void tn_cli_print_neighbors(const tn_val_t *res) {
    static const tn_cli_col_t cols[] = {
        { "id", "node.id", 0, TN_CELL_AUTO }, { "name", "node.name", 0, TN_CELL_AUTO },
        { "name_zh", "node.name_zh", 0, TN_CELL_AUTO }, { "country", "node.country", 0, TN_CELL_AUTO },
        { "pair", "pair.kind", 0, TN_CELL_AUTO }, { "since", "pair.since", 0, TN_CELL_AUTO },
        { "confidence", "pair.confidence", 0, TN_CELL_AUTO },
    };
    tn_cli_print_table(tn_cli_items(res, "items"), cols, 7);
}

void tn_cli_print_find(const tn_val_t *res) {
    static const tn_cli_col_t cols[] = {
        { "id", "id", 0, TN_CELL_AUTO }, { "kind", "kind", 0, TN_CELL_AUTO }, { "name", "name", 0, TN_CELL_AUTO },
        { "name_zh", "name_zh", 0, TN_CELL_AUTO }, { "country", "country", 0, TN_CELL_AUTO },
    };
    tn_cli_print_table(tn_cli_items(res, "items"), cols, 5);
}

void tn_cli_print_pairs(const tn_val_t *res) {
    static const tn_cli_col_t cols[] = {
        { "a", "a", 0, TN_CELL_AUTO }, { "b", "b", 0, TN_CELL_AUTO }, { "kind", "kind", 0, TN_CELL_AUTO },
        { "since", "since", 0, TN_CELL_AUTO }, { "confidence", "confidence", 0, TN_CELL_AUTO },
    };
    const tn_val_t *items = tn_cli_items(res, "items");
    char *t = tn_cli_field(res, "total", TN_CELL_AUTO);
    printf("%zu of %s pairs\n", items ? items->u.a.n : 0, t ? t : "?");
    free(t);
    tn_cli_print_table(items, cols, 5);
}
