/*
 * main.c -- the `twinnet` command-line client (docs/cli.md): global
 * options before the command, the table of commands, the usage.
 *
 * Each query subcommand maps to one server method: its arguments become the
 * options map (flag --as-of becomes key "as_of"), the result is printed
 * either as JSON (--json) or by a printer made for that result's shape
 * (docs/protocol.md, "Methods"), as aligned tables whose widths count terminal
 * columns, not bytes, so Chinese names line up.
 *
 * The CLI checks only what it must to build a request (a number is a
 * number); the server owns validation, and its errors are printed as they
 * come. Exit codes: 0 ok, 1 server error, 2 bad arguments, 3 server
 * unreachable (cannot connect, connection lost, no reply in time).
 *
 * The files:
 *   main.c            this: global options, dispatch, usage
 *   cli.h             what the files share, with contracts
 *   args.c            option parsing helpers and usage errors
 *   query_cmds.c      the query commands and `call`: option tables, run
 *   call_help.c       `twinnet call --help`: methods and options from server.methods
 *   session.c         connect, authenticate, report failed calls
 *   sbuf.c, cell.c    growable strings; result values as cell text
 *   table.c           aligned, CJK-aware tables and "label  value" lines
 *   print_*.c         one printer per result shape
 *   plan_cmds.c       timeline, overlap, communities, whatif (their own arguments)
 *   transfer.c        what import and export share: parsing, connecting
 *   term.c            colour on a terminal, none when piped or NO_COLOR
 *   progress.c        calls that show the server's progress notifications
 *   watch.c           twinnet watch
 *   import*.c         twinnet import (import.h)
 *   export*.c         twinnet export (export.h)
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The commands that are not a query of one method. */
static const struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv, int i, tn_cli_globals_t *g);   /* from argv[i] */
} commands[] = {
    { "timeline", "a unit's partnerships per year (default unit: the home)", tn_cli_timeline },
    { "overlap", "where 2 to 8 provinces or cities compete, and what each has alone", tn_cli_overlap },
    { "communities", "densely tied groups of partners (Louvain or Leiden)", tn_cli_communities },
    { "whatif", "compare queries before/after hypothetical pairs (nothing saved)", tn_cli_whatif },
    { "import", "load nodes and pairs from CSV or JSON Lines files", tn_cli_import },
    { "export", "write the whole graph as CSV, JSON Lines or GraphML", tn_cli_export },
    { "call", "call any METHOD with a JSON options object", tn_cli_call },
    { "watch", "a compact summary, refreshed after every change", tn_cli_watch },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

void tn_cli_usage(FILE *out) {
    fprintf(out,
            "usage: twinnet [-h HOST] [-p PORT] [--json] [--timeout S] [--color WHEN] COMMAND [ARGS]\n"
            "\n"
            "Query a twinnetd server (Hunan's sister-city graph).\n"
            "\n"
            "global options:\n"
            "  -h, --host H  server address (default 127.0.0.1)\n"
            "  -p, --port P  server port (default 7700)\n"
            "  --json        print the raw result as JSON\n"
            "  --timeout S   seconds to wait for the server (default 30)\n"
            "  --color WHEN  auto (default: on a terminal, unless NO_COLOR is set), always, never\n"
            "  --help        this text (so is -h alone); `twinnet COMMAND --help` describes a command\n"
            "\n"
            "commands:\n");
    tn_cli_list_commands(out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "environment: TWINNET_TOKEN, if set, is sent with `auth` before the command;\n"
            "NO_COLOR, if set and not empty, turns colour off.\n"
            "exit codes: 0 ok, 1 server error, 2 bad arguments, 3 server unreachable.\n");
}

int main(int argc, char **argv) {
    tn_cli_globals_t g = { "127.0.0.1", 7700, 0, 30000, 0 };

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (tn_cli_is_help(argc, argv, i)) {
            tn_cli_usage(stdout);
            return 0;
        }
        if (tn_cli_take_global(argc, argv, &i, &g, NULL, 0))
            continue;
        /* The first word that is not a global option names the command. */
        if (a[0] == '-')
            tn_cli_bad_args(NULL, 0, "unknown option %s", a);
        if (strcmp(a, "help") == 0) {
            tn_cli_usage(stdout);
            return 0;
        }
        for (size_t k = 0; k < NCOMMANDS; k++)
            if (strcmp(a, commands[k].name) == 0)
                return commands[k].run(argc, argv, i + 1, &g);
        const tn_cli_cmd_t *c = tn_cli_find_command(a);
        if (c == NULL)
            tn_cli_bad_args(NULL, 0, "unknown command \"%s\"", a);
        return tn_cli_query(argc, argv, i + 1, &g, c);
    }
    tn_cli_bad_args(NULL, 0, "no command given");
}
