/*
 * import.c -- `twinnet import` (docs/import-export.md): read every file,
 * check every record locally, then hand the records to the server as one
 * streamed import, and print the summary or every problem found.
 *
 * With local problems the good records are still sent as a dry run, so
 * that one pass shows every bad line, the server's reference checks
 * included; nothing is imported then. The other files of the command are
 * listed in import.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"

#define IMPORT_DEFAULT_CHUNK 5000

static void import_usage(FILE *out) {
    fprintf(out,
            "usage: twinnet import [--nodes FILE]... [--pairs FILE]... [--jsonl FILE]...\n"
            "                      [--mode upsert|replace] [--dry-run] [--chunk N] [--quiet]\n"
            "       twinnet import --pairs-by-name FILE... [--dry-run] [--chunk N] [--quiet]\n"
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
            "  --pairs-by-name FILE   a twinning list naming both ends by place name and\n"
            "                         country (a_name, a_country_iso2, b_name, b_country_iso2,\n"
            "                         established_year, source_dataset): ends are matched by\n"
            "                         normalised name, missing cities are created, ambiguous\n"
            "                         names are reported (docs/import-export.md)\n"
            "  --mode M               upsert (default: add or update) or replace (the graph\n"
            "                         becomes exactly the imported records)\n"
            "  --dry-run              check everything, including references, import nothing\n"
            "  --chunk N              records per import.chunk (default %d)\n"
            "  --quiet                no progress output\n",
            IMPORT_DEFAULT_CHUNK);
}

/* The commit result: what was (or, in a dry run, would be) changed. */
void tn_cli_import_print_summary(const tn_val_t *res, int dry_run, size_t nn, size_t np) {
    if (dry_run)
        printf("dry run: %zu nodes and %zu pairs are valid; nothing was imported. It would give:\n", nn, np);
    else
        printf("imported %zu nodes and %zu pairs (epoch %lld)\n", nn, np, (long long) tn_cli_res_int(res, "epoch"));
    printf("  %-6s %9s %9s %9s %9s\n", "", "added", "updated", "unchanged", "removed");
    printf("  %-6s %9lld %9lld %9lld %9lld\n", "nodes", (long long) tn_cli_res_int(res, "nodes_added"),
           (long long) tn_cli_res_int(res, "nodes_updated"), (long long) tn_cli_res_int(res, "nodes_unchanged"),
           (long long) tn_cli_res_int(res, "nodes_removed"));
    printf("  %-6s %9lld %9lld %9lld %9lld\n", "pairs", (long long) tn_cli_res_int(res, "pairs_added"),
           (long long) tn_cli_res_int(res, "pairs_updated"), (long long) tn_cli_res_int(res, "pairs_unchanged"),
           (long long) tn_cli_res_int(res, "pairs_removed"));
}

int tn_cli_import(int argc, char **argv, int i, tn_cli_globals_t *g) {
    tn_cli_xopt_t o[] = {
        { "--nodes", 1, 1, { 0 }, 0 }, { "--pairs", 1, 1, { 0 }, 0 }, { "--jsonl", 1, 1, { 0 }, 0 },
        { "--mode", 1, 0, { 0 }, 0 },  { "--dry-run", 0, 0, { 0 }, 0 }, { "--chunk", 1, 0, { 0 }, 0 },
        { "--quiet", 0, 0, { 0 }, 0 },  { "--pairs-by-name", 1, 1, { 0 }, 0 },
    };
    tn_cli_xparse(argc, argv, i, g, o, sizeof o / sizeof o[0], import_usage, "import");
    long long chunk = IMPORT_DEFAULT_CHUNK;
    if (o[5].n && (!tn_cli_parse_ll(o[5].vals[0], &chunk) || chunk < 1 || chunk > 1000000))
        tn_cli_xbad(import_usage, "--chunk needs a number of records from 1 to 1000000, got \"%s\"", o[5].vals[0]);
    const char *mode = o[3].n ? o[3].vals[0] : NULL;
    if (mode && strcmp(mode, "upsert") != 0 && strcmp(mode, "replace") != 0)
        tn_cli_xbad(import_usage, "--mode is upsert or replace, got \"%s\"", mode);
    int dry_run = o[4].n > 0, quiet = o[6].n > 0;
    tn_cli_import_set_t S;
    tn_cli_import_init(&S);
    if (o[7].n) {
        if (o[0].n || o[1].n || o[2].n || mode)
            tn_cli_xbad(import_usage, "--pairs-by-name goes alone: not with --nodes, --pairs, --jsonl or --mode");
        for (int j = 0; j < o[7].n; j++)
            S.files[S.nfiles++] = o[7].vals[j];
        int rc = tn_cli_import_byname(&S, dry_run, (size_t) chunk, quiet, g);
        tn_cli_import_destroy(&S);
        return rc;
    }
    int kinds[TN_CLI_MAX_FILES];
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < o[k].n; j++) {
            if (S.nfiles >= TN_CLI_MAX_FILES) {
                fprintf(stderr, "twinnet: at most %d files\n", TN_CLI_MAX_FILES);
                tn_cli_import_destroy(&S);
                return TN_EXIT_USAGE;
            }
            kinds[S.nfiles] = k;
            S.files[S.nfiles++] = o[k].vals[j];
        }
    if (S.nfiles == 0)
        tn_cli_xbad(import_usage, "import needs --nodes, --pairs or --jsonl");
    for (int f = 0; f < S.nfiles; f++) {
        if (kinds[f] == 2)
            tn_cli_import_load_jsonl(&S, f);
        else
            tn_cli_import_load_csv(&S, f, kinds[f] == 1);
    }
    size_t nn = S.nodes.u.a.n, np = S.pairs.u.a.n;
    char *nok = malloc(nn + 1), *pok = malloc(np + 1);
    size_t *sent_n = malloc((nn + 1) * sizeof *sent_n), *sent_p = malloc((np + 1) * sizeof *sent_p);
    tn_hmap_t bad_ids;
    tn_hmap_init(&bad_ids);
    if (!nok || !pok || !sent_n || !sent_p)
        tn_cli_die_oom();
    tn_cli_import_check(&S, nok, pok, &bad_ids);
    size_t local_problems = S.nprobs;
    if (!quiet && !isatty(2))
        fprintf(stderr, "read %zu nodes and %zu pairs from %d file%s%s\n", nn, np, S.nfiles,
                S.nfiles == 1 ? "" : "s", local_problems ? " (with problems)" : "");

    int code = 0;
    tn_client_t *cl = tn_cli_transfer_connect(g, &code);
    if (cl == NULL)
        goto out;
    tn_val_t res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    /* With local problems the rest is still checked by the server (dry
     * run), so that one pass shows every bad line; nothing is imported. */
    int check_only = dry_run || local_problems > 0;
    tn_code_t rc = tn_cli_import_stream(cl, &S, nok, pok, mode, check_only, (size_t) chunk, quiet, sent_n,
                                        sent_p, &res, &err);
    size_t kn = 0, kp = 0;
    for (size_t k = 0; k < nn; k++)
        kn += nok[k] != 0;
    for (size_t k = 0; k < np; k++)
        kp += pok[k] != 0;
    if (rc == TN_ERR_INVALID_PARAMS && err.data.type == TN_V_ARR) {
        tn_cli_import_server_problems(&S, &err, sent_n, kn, sent_p, kp, local_problems ? &bad_ids : NULL);
    } else if (rc != TN_OK) {
        code = tn_cli_report_call_error(cl, &err);
        if (local_problems)
            tn_cli_import_print_problems(&S);
        tn_error_clear(&err);
        tn_client_close(cl);
        goto out;
    }
    tn_error_clear(&err);
    tn_client_close(cl);
    if (S.nprobs > 0) {
        tn_cli_import_print_problems(&S);
        size_t lines = S.nprobs;
        fprintf(stderr, "twinnet: %zu problem%s; nothing imported\n", lines, lines == 1 ? "" : "s");
        code = TN_EXIT_SERVER;
        tn_val_free(&res);
        goto out;
    }
    if (g->json)
        tn_cli_print_json(&res);
    else
        tn_cli_import_print_summary(&res, dry_run, nn, np);
    tn_val_free(&res);
out:
    tn_cli_import_destroy(&S);
    tn_hmap_destroy(&bad_ids);
    free(nok);
    free(pok);
    free(sent_n);
    free(sent_p);
    return code;
}
