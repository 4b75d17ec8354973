/*
 * query_cmds.c -- the query subcommands of `twinnet` (one server method
 * each: stats, centrality, coverage, ...) and `call`: their option tables,
 * their usage, and the run from arguments to printed result.
 *
 * Options map to method options by name (--as-of becomes "as_of"); the
 * result is printed as JSON with --json, else by the command's printer
 * (print_*.c). `call` takes any method and one JSON object of options, and
 * always prints JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define OPT_HOME { "--home", "home", TN_ARG_STR, "ID", "home node (default: the server's)" }

static const tn_cli_opt_t no_opts[] = { TN_CLI_OPT_END };

static const tn_cli_opt_t stats_opts[] = {
    TN_CLI_PAIR_FILTERS,
    TN_CLI_OPT_END,
};

static const tn_cli_opt_t centrality_opts[] = {
    { "--metric", "metric", TN_ARG_STR, "M",
      "degree, betweenness, closeness, harmonic, eigenvector, pagerank or constraint (required)" },
    { "--graph", "graph", TN_ARG_STR, "G", "partnerships (default) or full" },
    { "--top", "top", TN_ARG_INT, "N", "show the N best (default 20)" },
    { "--kind", "kind", TN_ARG_STR, "K", "report only country, province or city nodes" },
    { "--country", "country", TN_ARG_STR, "CC", "report only nodes of this country" },
    { "--normalized", "normalized", TN_ARG_FLAG, NULL, "normalize the scores" },
    { "--cutoff", "cutoff", TN_ARG_INT, "N", "count only paths of at most N steps" },
    { "--damping", "damping", TN_ARG_NUM, "D", "PageRank damping factor (default 0.85)" },
    TN_CLI_PAIR_FILTERS,
    TN_CLI_OPT_END,
};

static const tn_cli_opt_t coverage_opts[] = {
    { "--by", "by", TN_ARG_STR, "B", "region (default), subregion, tag, country or unit" },
    { "--tag", "tag", TN_ARG_STR, "T", "with --by tag: the tag whose countries are counted" },
    TN_CLI_OPT_PAIR_KIND,
    OPT_HOME,
    TN_CLI_PAIR_FILTERS,
    TN_CLI_OPT_END,
};

static const tn_cli_opt_t gaps_opts[] = {
    { "--region", "region", TN_ARG_STR, "R", "only candidate countries in this region" },
    { "--subregion", "subregion", TN_ARG_STR, "S", "only candidate countries in this sub-region" },
    { "--tag", "tag", TN_ARG_STR, "T", "only candidate countries with this tag (e.g. bri)" },
    { "--limit", "limit", TN_ARG_INT, "N", "at most N uncovered countries (default 50)" },
    OPT_HOME,
    TN_CLI_PAIR_FILTERS,
    TN_CLI_OPT_END,
};

static const tn_cli_opt_t neighbors_opts[] = {
    TN_CLI_OPT_PAIR_KIND,
    TN_CLI_OPT_END,
};

static const tn_cli_opt_t find_opts[] = {
    { "--kind", "kind", TN_ARG_STR, "K", "country, province or city" },
    { "--country", "country", TN_ARG_STR, "CC", "only nodes of this country" },
    { "--limit", "limit", TN_ARG_INT, "N", "at most N matches (default 20)" },
    TN_CLI_OPT_END,
};

static const tn_cli_opt_t pairs_opts[] = {
    { "--unit", "unit", TN_ARG_STR, "ID", "pairs with this node at one end" },
    { "--country", "country", TN_ARG_STR, "CC", "pairs with an end in this country" },
    { "--region", "region", TN_ARG_STR, "R", "pairs with an end in this region" },
    { "--since-from", "since_from", TN_ARG_YEAR, "Y", "established in or after Y" },
    { "--since-to", "since_to", TN_ARG_YEAR, "Y", "established in or before Y" },
    { "--limit", "limit", TN_ARG_INT, "N", "at most N pairs" },
    { "--offset", "offset", TN_ARG_INT, "N", "skip the first N pairs" },
    TN_CLI_PAIR_FILTERS,
    TN_CLI_OPT_END,
};

static const tn_cli_cmd_t commands[] = {
    { "ping", "server.ping", NULL, NULL, no_opts, tn_cli_print_kv, "check that the server answers" },
    { "info", "server.info", NULL, NULL, no_opts, tn_cli_print_kv, "server version, uptime, epoch and home" },
    { "methods", "server.methods", NULL, NULL, no_opts, tn_cli_print_methods, "list the server's methods" },
    { "stats", "graph.stats", NULL, NULL, stats_opts, tn_cli_print_stats,
      "node and pair counts, and the home's figures" },
    { "centrality", "query.centrality", NULL, NULL, centrality_opts, tn_cli_print_centrality,
      "rank nodes by a centrality metric" },
    { "coverage", "query.coverage", NULL, NULL, coverage_opts, tn_cli_print_coverage,
      "which countries the home's partnerships reach, by group" },
    { "gaps", "query.gaps", NULL, NULL, gaps_opts, tn_cli_print_gaps,
      "uncovered countries, idle units and under-covered regions" },
    { "recommend", "query.recommend", "unit", "UNIT", tn_cli_recommend_opts, tn_cli_print_recommend,
      "suggest new partners for a province or city" },
    { "plan", "query.plan", NULL, NULL, tn_cli_plan_opts, tn_cli_print_plan,
      "which unit should seek a partner in which uncovered country, and with whom" },
    { "node", "node.get", "id", "ID", no_opts, tn_cli_print_kv, "show one node" },
    { "neighbors", "node.neighbors", "id", "ID", neighbors_opts, tn_cli_print_neighbors, "the partners of a node" },
    { "find", "node.find", "q", "TEXT", find_opts, tn_cli_print_find, "search nodes by id or name" },
    { "pairs", "pair.list", NULL, NULL, pairs_opts, tn_cli_print_pairs, "list partnerships" },
    { "metrics", "metrics.get", NULL, NULL, no_opts, tn_cli_print_metrics, "the dashboard snapshot" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const tn_cli_cmd_t *tn_cli_find_command(const char *name) {
    for (size_t k = 0; k < NCOMMANDS; k++)
        if (strcmp(name, commands[k].name) == 0)
            return &commands[k];
    return NULL;
}

void tn_cli_list_commands(FILE *out) {
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
}

void tn_cli_cmd_usage(FILE *out, const tn_cli_cmd_t *c) {
    fprintf(out, "usage: twinnet %s", c->name);
    if (c->pos_meta)
        fprintf(out, " %s", c->pos_meta);
    if (c->opts[0].flag)
        fprintf(out, " [OPTIONS]");
    fprintf(out, "\n\n%s (method %s).\n", c->summary, c->method);
    if (c->opts[0].flag)
        fprintf(out, "\noptions:\n");
    for (const tn_cli_opt_t *o = c->opts; o->flag; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->flag, o->meta ? " " : "", o->meta ? o->meta : "");
        fprintf(out, "  %-22s %s\n", left, o->help);
    }
}

void tn_cli_call_usage(FILE *out) {
    fprintf(out,
            "usage: twinnet call METHOD [JSON-OPTIONS]\n"
            "\n"
            "Call any method; the options are one JSON object, e.g.\n"
            "  twinnet call query.centrality '{\"metric\": \"degree\", \"top\": 5}'\n"
            "The result is printed as JSON. `twinnet call [METHOD] --help` lists the\n"
            "server's methods (or METHOD) with their options, as the server reports them.\n");
}

/* Run one call and print its outcome; returns the exit code. */
static int run(tn_client_t *cl, const tn_cli_globals_t *g, const char *method, const tn_val_t *opts,
               tn_cli_printer_t print) {
    tn_val_t res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_code_t rc = tn_cli_request_progress(cl, method, opts, &res, &err, method, NULL, NULL);
    int code = 0;
    if (rc != TN_OK)
        code = tn_cli_report_call_error(cl, &err);
    else if (g->json || print == NULL)
        tn_cli_print_json(&res);
    else
        print(&res);
    tn_val_free(&res);
    tn_error_clear(&err);
    return code;
}

int tn_cli_query(int argc, char **argv, int i, tn_cli_globals_t *g, const tn_cli_cmd_t *c) {
    int is_call = c == NULL;
    const char *pos[2] = { NULL, NULL };
    int npos = 0;
    tn_val_t opts = TN_VAL_NIL;

    int want_help = 0;
    if (tn_val_set_map(&opts, 8) != 0)
        return TN_EXIT_SERVER;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (tn_cli_is_help(argc, argv, i) && is_call) {
            want_help = 1;            /* after the globals: it asks the server */
            continue;
        }
        if (tn_cli_is_help(argc, argv, i)) {
            tn_cli_show_usage(stdout, c, is_call);
            tn_val_free(&opts);
            return 0;
        }
        if (tn_cli_take_global(argc, argv, &i, g, c, is_call))
            continue;
        if (a[0] == '-' && a[1] == '-' && !is_call) {
            const char *val;
            const tn_cli_opt_t *o = tn_cli_take_flag(argc, argv, &i, c, &val);
            tn_cli_add_option(c, &opts, o, val);
            continue;
        }
        if (npos >= 2 || (c && (c->pos_key == NULL || npos >= 1)))
            tn_cli_bad_args(c, is_call, "unexpected argument \"%s\"", a);
        pos[npos++] = a;
    }

    const char *method;
    tn_cli_printer_t print = NULL;
    if (want_help) {
        tn_val_free(&opts);
        return tn_cli_call_help(g, npos >= 1 ? pos[0] : NULL);
    }
    if (is_call) {
        if (npos < 1)
            tn_cli_bad_args(NULL, 1, "call needs a METHOD");
        method = pos[0];
        if (npos == 2) {
            char why[200];
            tn_val_free(&opts);
            if (tn_val_from_json(pos[1], strlen(pos[1]), &opts, why, sizeof why) != 0)
                tn_cli_bad_args(NULL, 1, "options are not valid JSON: %s", why);
            if (opts.type != TN_V_MAP)
                tn_cli_bad_args(NULL, 1, "options must be a JSON object");
        }
    } else {
        method = c->method;
        print = c->print;
        if (c->pos_key) {
            if (npos < 1)
                tn_cli_bad_args(c, 0, "%s needs %s", c->name, c->pos_meta);
            if (tn_map_add_str(&opts, c->pos_key, pos[0]) != 0) {
                tn_val_free(&opts);
                return TN_EXIT_SERVER;
            }
        }
        if (strcmp(c->name, "centrality") == 0 && tn_map_get(&opts, "metric") == NULL)
            tn_cli_bad_args(c, 0, "centrality needs --metric");
    }

    int code = 0;
    tn_client_t *cl = tn_cli_connect(g, g->timeout_ms, &code);
    if (cl != NULL) {
        code = run(cl, g, method, opts.u.m.n ? &opts : NULL, print);
        tn_client_close(cl);
    }
    tn_val_free(&opts);
    return code;
}

int tn_cli_call(int argc, char **argv, int i, tn_cli_globals_t *g) {
    return tn_cli_query(argc, argv, i, g, NULL);
}
