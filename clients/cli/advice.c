/*
 * advice.c -- the advice commands of `twinnet`: `recommend` (query.recommend)
 * and `plan` (query.plan): their options and their printers. Both print a
 * table first, then the reasons, one per line, under the row number they
 * belong to, so long explanations never stretch the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const tn_cli_opt_t tn_cli_recommend_opts[] = {
    { "--top", "top", TN_ARG_INT, "N", "show the N best (default 10)" },
    { "--country", "country", TN_ARG_STR, "CC", "only candidates in this country" },
    { "--region", "region", TN_ARG_STR, "R", "only candidates in this region" },
    { "--tag", "tag", TN_ARG_STR, "T", "only candidates in countries with this tag (e.g. bri)" },
    { "--kind", "kind", TN_ARG_STR, "K", "only province or only city candidates" },
    { "--include-home", "exclude_home", TN_ARG_FLAG_OFF, NULL,
      "also list partners of the home's other units (exclude_home false)" },
    TN_CLI_PAIR_FILTERS,
    TN_CLI_OPT_END,
};

const tn_cli_opt_t tn_cli_plan_opts[] = {
    { "--unit", "unit", TN_ARG_STR, "ID", "the home to plan for (default: the server's)" },
    { "--target", "target", TN_ARG_STR, "T", "all (default), a region, a sub-region or a tag (e.g. bri)" },
    { "--budget", "budget", TN_ARG_INT, "N", "at most N steps, 1 to 50 (default 5)" },
    TN_CLI_PAIR_FILTERS,
    TN_CLI_OPT_END,
};

/* One line per string of the array at 'key' of map 'm': the first line
 * starts with 'first' (a row number), padded to 'width', the others with
 * 'width' spaces; each text follows 'mark'. */
static void print_reasons(const tn_val_t *m, const char *key, const char *first, int width,
                          const char *mark) {
    const tn_val_t *why = tn_map_get(m, key);
    for (size_t i = 0; why != NULL && why->type == TN_V_ARR && i < why->u.a.n; i++) {
        char *t = tn_cli_cell(&why->u.a.items[i], TN_CELL_AUTO);
        printf("%-*s  %s%s\n", width, i == 0 ? first : "", mark, t);
        free(t);
    }
}

void tn_cli_print_recommend(const tn_val_t *res) {
    static const tn_cli_col_t cols[] = {
        { "#", "", 1, TN_CELL_AUTO }, { "id", "id", 0, TN_CELL_AUTO }, { "name", "name", 0, TN_CELL_AUTO },
        { "country", "country", 0, TN_CELL_AUTO }, { "score", "score", 1, TN_CELL_SCORE },
    };
    const tn_val_t *items = tn_cli_items(res, "items");
    char *u = tn_cli_field(res, "unit", TN_CELL_AUTO), *e = tn_cli_field(res, "epoch", TN_CELL_AUTO);
    printf("Suggested partners for %s (epoch %s)\n", u ? u : "?", e ? e : "?");
    free(u), free(e);
    tn_cli_print_table(items, cols, 5);
    if (items == NULL || items->u.a.n == 0)
        return;
    printf("\nWhy\n");
    for (size_t i = 0; i < items->u.a.n; i++) {
        char num[24];
        snprintf(num, sizeof num, "%zu", i + 1);
        print_reasons(&items->u.a.items[i], "reasons", num, (int) strlen(num), "");
    }
}

/* "covered of countries (ratio)" of the map at 'key', malloc'd. */
static char *coverage(const tn_val_t *res, const char *key) {
    char path[32];
    snprintf(path, sizeof path, "%s.covered", key);
    char *c = tn_cli_field(res, path, TN_CELL_AUTO);
    snprintf(path, sizeof path, "%s.countries", key);
    char *n = tn_cli_field(res, path, TN_CELL_AUTO);
    snprintf(path, sizeof path, "%s.ratio", key);
    char *r = tn_cli_field(res, path, TN_CELL_RATIO);
    char *out = tn_cli_fmt("%s of %s (%s)", c ? c : "?", n ? n : "?", r ? r : "?");
    free(c), free(n), free(r);
    return out;
}

void tn_cli_print_plan(const tn_val_t *res) {
    static const tn_cli_col_t cols[] = {
        { "#", "", 1, TN_CELL_AUTO }, { "unit", "unit", 0, TN_CELL_AUTO },
        { "country", "country", 0, TN_CELL_AUTO }, { "peer pairs", "peer_pairs", 1, TN_CELL_AUTO },
        { "candidates", "candidates", 0, TN_CELL_AUTO },
    };
    const tn_val_t *steps = tn_cli_items(res, "steps");
    char *u = tn_cli_field(res, "unit", TN_CELL_AUTO), *e = tn_cli_field(res, "epoch", TN_CELL_AUTO),
         *t = tn_cli_field(res, "target", TN_CELL_AUTO);
    char *b = coverage(res, "before"), *a = coverage(res, "after");
    printf("Plan for %s, target %s (epoch %s)\ncovered now %s; after the plan %s\n", u ? u : "?",
           t ? t : "?", e ? e : "?", b, a);
    free(u), free(e), free(t), free(b), free(a);
    /* The candidates column shows ids only: a copy of each step with the
     * candidates' ids in place of their maps. */
    tn_val_t rows = TN_VAL_NIL;
    if (tn_val_set_arr(&rows, steps ? steps->u.a.n : 0) != 0)
        exit(TN_EXIT_SERVER);
    for (size_t i = 0; steps != NULL && i < steps->u.a.n; i++) {
        const tn_val_t *st = &steps->u.a.items[i], *cands = tn_map_get(st, "candidates");
        tn_val_t row = TN_VAL_NIL, ids = TN_VAL_NIL;
        int bad = tn_val_set_map(&row, 4) | tn_val_set_arr(&ids, 3);
        for (const char *k = "unit\0country\0peer_pairs\0"; *k; k += strlen(k) + 1) {
            tn_val_t *slot = tn_map_add(&row, k);
            const tn_val_t *src = tn_map_get(st, k);
            bad |= slot == NULL || (src != NULL && tn_val_copy(slot, src) != 0);
        }
        for (size_t c = 0; cands != NULL && cands->type == TN_V_ARR && c < cands->u.a.n; c++)
            bad |= tn_arr_push_str(&ids, tn_val_str(tn_map_get(&cands->u.a.items[c], "id")));
        bad |= tn_map_add_take(&row, "candidates", &ids);
        bad |= tn_arr_push_take(&rows, &row);
        if (bad)
            exit(TN_EXIT_SERVER);
    }
    tn_cli_print_table(&rows, cols, 5);
    tn_val_free(&rows);
    if (steps == NULL || steps->u.a.n == 0)
        return;
    printf("\nWhy\n");
    for (size_t i = 0; i < steps->u.a.n; i++) {
        const tn_val_t *st = &steps->u.a.items[i], *cands = tn_map_get(st, "candidates");
        char num[24];
        snprintf(num, sizeof num, "%zu", i + 1);
        print_reasons(st, "reasons", num, (int) strlen(num), "");
        if (cands != NULL && cands->type == TN_V_ARR && cands->u.a.n > 0)
            print_reasons(&cands->u.a.items[0], "reasons", "", (int) strlen(num), "- ");
    }
}
