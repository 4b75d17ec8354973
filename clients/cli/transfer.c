/*
 * transfer.c -- what `twinnet import` and `twinnet export` share: parsing
 * their arguments (their own options and global ones, anywhere) and
 * connecting with the long transfer timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Import and export wait this long for each reply unless --timeout. */
#define TRANSFER_TIMEOUT_MS 600000

void tn_cli_xparse(int argc, char **argv, int i, tn_cli_globals_t *g, tn_cli_xopt_t *opts, size_t nopts,
                   void (*use)(FILE *), const char *cmd) {
    for (; i < argc; i++) {
        const char *a = argv[i], *val;
        if (tn_cli_is_help(argc, argv, i)) {
            use(stdout);
            exit(0);
        }
        if (tn_cli_take_global(argc, argv, &i, g, NULL, 0))
            continue;
        size_t n = tn_cli_split_flag(a, &val);
        tn_cli_xopt_t *o = NULL;
        for (size_t k = 0; k < nopts; k++)
            if (strlen(opts[k].flag) == n && strncmp(opts[k].flag, a, n) == 0)
                o = &opts[k];
        if (o == NULL)
            tn_cli_xbad(use, "%s %s \"%s\"", a[0] == '-' ? "unknown option for" : "unexpected argument for", cmd, a);
        if (!o->has_value && val)
            tn_cli_xbad(use, "%s takes no value", o->flag);
        if (o->has_value && val == NULL) {
            if (i + 1 >= argc)
                tn_cli_xbad(use, "%s needs a value", o->flag);
            val = argv[++i];
        }
        if (o->n > 0 && !o->repeat)
            tn_cli_xbad(use, "%s given twice", o->flag);
        if (o->n >= TN_CLI_MAX_FILES) {
            fprintf(stderr, "twinnet: at most %d %s options\n", TN_CLI_MAX_FILES, o->flag);
            exit(TN_EXIT_USAGE);
        }
        o->vals[o->n++] = val ? val : "";
    }
}

tn_client_t *tn_cli_transfer_connect(const tn_cli_globals_t *g, int *code) {
    return tn_cli_connect(g, g->timeout_set ? g->timeout_ms : TRANSFER_TIMEOUT_MS, code);
}
