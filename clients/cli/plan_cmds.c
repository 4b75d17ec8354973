/*
 * plan_cmds.c -- the planning commands of `twinnet`: timeline, overlap,
 * communities and whatif (docs/cli.md). Their arguments do not fit the
 * one-optional-positional shape of the query commands (overlap takes two
 * to eight homes, whatif repeats --add and names queries after "--"), so
 * they parse here, with the same option rules, global options and
 * printing (--json prints the raw result).
 *
 * whatif: --add A:B and --remove A:B may repeat; --node JSON adds a
 * hypothetical node. Words after "--" name the read methods to compare, by
 * their command names (coverage -> query.coverage, stats -> graph.stats)
 * or wire names, each optionally followed by ":" and a JSON options
 * object (centrality:{"metric":"degree"}). Without words: stats and
 * coverage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PLAN_FILTERS TN_CLI_PAIR_FILTERS, TN_CLI_OPT_PAIR_KIND

static const tn_cli_opt_t timeline_opts[] = {
    { "--by", "by", TN_ARG_STR, "B", "none (default), region or unit: one series per group" },
    PLAN_FILTERS,
    TN_CLI_OPT_END,
};

static const tn_cli_opt_t overlap_opts[] = {
    PLAN_FILTERS,
    TN_CLI_OPT_END,
};

static const tn_cli_opt_t communities_opts[] = {
    { "--algorithm", "algorithm", TN_ARG_STR, "A", "multilevel (Louvain, default) or leiden" },
    { "--graph", "graph", TN_ARG_STR, "G", "partnerships (default) or full" },
    { "--resolution", "resolution", TN_ARG_NUM, "R", "modularity resolution (default 1.0)" },
    { "--seed", "seed", TN_ARG_INT, "N", "random seed (default 1); same seed, same answer" },
    { "--top", "top", TN_ARG_INT, "N", "show the N largest communities (default 20)" },
    { "--members", "members", TN_ARG_FLAG, NULL, "also list every node's community" },
    PLAN_FILTERS,
    TN_CLI_OPT_END,
};

/* whatif's own options are handled in whatif(); these are for the usage
 * and the pass-through filters. */
static const tn_cli_opt_t whatif_opts[] = {
    { "--add", NULL, TN_ARG_STR, "A:B", "a hypothetical pair (repeatable); A:B:friendly for a friendly one" },
    { "--remove", NULL, TN_ARG_STR, "A:B", "a pair to leave out (repeatable)" },
    { "--node", NULL, TN_ARG_STR, "JSON", "a hypothetical node, as a JSON object (repeatable)" },
    PLAN_FILTERS,
    TN_CLI_OPT_END,
};

static const tn_cli_cmd_t cmd_timeline = {
    "timeline", "query.timeline", "unit", "[UNIT]", timeline_opts, tn_cli_print_timeline,
    "a unit's partnerships per year (default unit: the home)"
};
static const tn_cli_cmd_t cmd_overlap = {
    "overlap", "query.overlap", "homes", "HOME HOME [HOME...]", overlap_opts, tn_cli_print_overlap,
    "where 2 to 8 provinces or cities compete, and what each has alone"
};
static const tn_cli_cmd_t cmd_communities = {
    "communities", "query.communities", NULL, NULL, communities_opts, tn_cli_print_communities,
    "densely tied groups of partners (Louvain or Leiden)"
};
static const tn_cli_cmd_t cmd_whatif = {
    "whatif", "query.whatif", NULL, "[-- QUERY...]", whatif_opts, tn_cli_print_whatif,
    "compare read queries before and after hypothetical pairs (nothing is saved)"
};

/* CLI names of the read methods whatif may compare. */
static const struct { const char *word, *method; } query_words[] = {
    { "stats", "graph.stats" }, { "coverage", "query.coverage" }, { "gaps", "query.gaps" },
    { "centrality", "query.centrality" }, { "recommend", "query.recommend" },
    { "timeline", "query.timeline" }, { "overlap", "query.overlap" }, { "plan", "query.plan" },
};

static void push_str_or_die(tn_val_t *arr, const char *s) {
    if (tn_arr_push_str(arr, s) != 0)
        tn_cli_die_oom();
}

/* "A:B[:kind]" as a pair map {a, b[, kind]}; a usage error otherwise. */
static void pair_arg(const tn_cli_cmd_t *c, const char *flag, const char *s, int allow_kind, tn_val_t *arr) {
    const char *colon = strchr(s, ':');
    const char *second = colon ? strchr(colon + 1, ':') : NULL;
    if (colon == NULL || colon == s || colon[1] == '\0' || colon + 1 == second || (second && !allow_kind))
        tn_cli_bad_args(c, 0, "%s needs A:B%s, not \"%s\"", flag, allow_kind ? "[:KIND]" : "", s);
    tn_val_t p = TN_VAL_NIL;
    size_t blen = second ? (size_t) (second - colon - 1) : strlen(colon + 1);
    int bad = tn_val_set_map(&p, 3);
    tn_val_t *a = tn_map_add(&p, "a"), *b;
    bad |= a == NULL || tn_val_set_strn(a, s, (size_t) (colon - s)) != 0;
    b = bad ? NULL : tn_map_add(&p, "b");
    bad |= b == NULL || tn_val_set_strn(b, colon + 1, blen) != 0;
    if (second)
        bad |= tn_map_add_str(&p, "kind", second + 1);
    bad |= tn_arr_push_take(arr, &p);
    if (bad)
        tn_cli_die_oom();
}

/* A query word after "--": NAME or NAME:{json}. */
static void query_arg(const tn_cli_cmd_t *c, const char *w, tn_val_t *queries) {
    const char *colon = strchr(w, ':');
    size_t n = colon ? (size_t) (colon - w) : strlen(w);
    const char *method = NULL;
    for (size_t k = 0; k < sizeof query_words / sizeof query_words[0]; k++)
        if (strlen(query_words[k].word) == n && strncmp(query_words[k].word, w, n) == 0)
            method = query_words[k].method;
    char *name = tn_cli_fmt("%.*s", (int) n, w);
    tn_val_t q = TN_VAL_NIL;
    int bad = tn_val_set_map(&q, 2);
    /* Wire names pass as given; the server says which it accepts. */
    bad |= tn_map_add_str(&q, "method", method ? method : name);
    free(name);
    if (colon) {
        char why[200];
        tn_val_t o = TN_VAL_NIL;
        if (tn_val_from_json(colon + 1, strlen(colon + 1), &o, why, sizeof why) != 0 || o.type != TN_V_MAP)
            tn_cli_bad_args(c, 0, "options of \"%.*s\" must be a JSON object%s%s", (int) n, w,
                            o.type == TN_V_NIL ? ": " : "", o.type == TN_V_NIL ? why : "");
        bad |= tn_map_add_take(&q, "options", &o);
    }
    bad |= tn_arr_push_take(queries, &q);
    if (bad)
        tn_cli_die_oom();
}

/* Parse argv[i..] for command c into opts; positionals go to pos (at most
 * maxpos), whatif's repeated options into the arrays of opts. */
static void parse(int argc, char **argv, int i, tn_cli_globals_t *g, const tn_cli_cmd_t *c, tn_val_t *opts,
                  const char **pos, int maxpos, int *npos) {
    int is_whatif = c == &cmd_whatif;
    tn_val_t add = TN_VAL_NIL, rem = TN_VAL_NIL, nodes = TN_VAL_NIL, queries = TN_VAL_NIL;
    if (tn_val_set_arr(&add, 4) | tn_val_set_arr(&rem, 4) | tn_val_set_arr(&nodes, 2) | tn_val_set_arr(&queries, 4))
        tn_cli_die_oom();
    *npos = 0;
    for (; i < argc; i++) {
        const char *a = argv[i], *val;
        if (tn_cli_is_help(argc, argv, i)) {
            tn_cli_cmd_usage(stdout, c);
            if (is_whatif)
                printf("\nAfter --, the read methods to compare: stats, coverage, gaps, centrality,\n"
                       "recommend, timeline, overlap, plan (or wire names), each optionally with\n"
                       "options as NAME:JSON, e.g. centrality:'{\"metric\":\"degree\"}'.\n"
                       "Default: stats coverage. Example:\n"
                       "  twinnet whatif --add CN-431300:RW-muhanga -- coverage gaps\n");
            exit(0);
        }
        if (is_whatif && strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                query_arg(c, argv[i], &queries);
            break;
        }
        if (tn_cli_take_global(argc, argv, &i, g, c, 0))
            continue;
        if (a[0] == '-' && a[1] == '-') {
            const tn_cli_opt_t *o = tn_cli_take_flag(argc, argv, &i, c, &val);
            if (o->key != NULL) {
                tn_cli_add_option(c, opts, o, val);
            } else if (strcmp(o->flag, "--add") == 0) {
                pair_arg(c, o->flag, val, 1, &add);
            } else if (strcmp(o->flag, "--remove") == 0) {
                pair_arg(c, o->flag, val, 0, &rem);
            } else {
                char why[200];
                tn_val_t n = TN_VAL_NIL;
                if (tn_val_from_json(val, strlen(val), &n, why, sizeof why) != 0 || n.type != TN_V_MAP)
                    tn_cli_bad_args(c, 0, "--node needs a JSON object%s%s", n.type == TN_V_NIL ? ": " : "",
                                    n.type == TN_V_NIL ? why : "");
                if (tn_arr_push_take(&nodes, &n) != 0)
                    tn_cli_die_oom();
            }
            continue;
        }
        if (*npos >= maxpos)
            tn_cli_bad_args(c, 0, "unexpected argument \"%s\"", a);
        pos[(*npos)++] = a;
    }
    if (is_whatif) {
        if (queries.u.a.n == 0) {
            query_arg(c, "stats", &queries);
            query_arg(c, "coverage", &queries);
        }
        int bad = 0;
        if (nodes.u.a.n)
            bad |= tn_map_add_take(opts, "nodes", &nodes);
        if (add.u.a.n)
            bad |= tn_map_add_take(opts, "add", &add);
        if (rem.u.a.n)
            bad |= tn_map_add_take(opts, "remove", &rem);
        bad |= tn_map_add_take(opts, "queries", &queries);
        if (bad)
            tn_cli_die_oom();
    }
    tn_val_free(&add);
    tn_val_free(&rem);
    tn_val_free(&nodes);
    tn_val_free(&queries);
}

/* Call c->method with opts and print; returns the exit code. */
static int call(tn_cli_globals_t *g, const tn_cli_cmd_t *c, tn_val_t *opts) {
    int code = 0;
    tn_client_t *cl = tn_cli_connect(g, g->timeout_ms, &code);
    if (cl != NULL) {
        tn_val_t res = TN_VAL_NIL;
        tn_error_t err = TN_ERROR_INIT;
        if (tn_client_call(cl, c->method, opts->u.m.n ? opts : NULL, &res, &err) != TN_OK)
            code = tn_cli_report_call_error(cl, &err);
        else if (g->json)
            tn_cli_print_json(&res);
        else
            c->print(&res);
        tn_val_free(&res);
        tn_error_clear(&err);
        tn_client_close(cl);
    }
    tn_val_free(opts);
    return code;
}

static int run(int argc, char **argv, int i, tn_cli_globals_t *g, const tn_cli_cmd_t *c, int minpos, int maxpos) {
    const char *pos[16];
    int npos = 0;
    tn_val_t opts = TN_VAL_NIL;
    if (tn_val_set_map(&opts, 8) != 0)
        tn_cli_die_oom();
    parse(argc, argv, i, g, c, &opts, pos, maxpos, &npos);
    if (npos < minpos)
        tn_cli_bad_args(c, 0, "%s needs %s", c->name, c->pos_meta);
    if (c == &cmd_overlap) {
        tn_val_t homes = TN_VAL_NIL;
        if (tn_val_set_arr(&homes, (size_t) npos) != 0)
            tn_cli_die_oom();
        for (int k = 0; k < npos; k++)
            push_str_or_die(&homes, pos[k]);
        if (tn_map_add_take(&opts, "homes", &homes) != 0)
            tn_cli_die_oom();
    } else if (npos == 1 && c->pos_key && tn_map_add_str(&opts, c->pos_key, pos[0]) != 0) {
        tn_cli_die_oom();
    }
    return call(g, c, &opts);
}

int tn_cli_timeline(int argc, char **argv, int i, tn_cli_globals_t *g) {
    return run(argc, argv, i, g, &cmd_timeline, 0, 1);
}

/* More than 8 homes still go to the server, which explains the limit. */
int tn_cli_overlap(int argc, char **argv, int i, tn_cli_globals_t *g) {
    return run(argc, argv, i, g, &cmd_overlap, 2, 16);
}

int tn_cli_communities(int argc, char **argv, int i, tn_cli_globals_t *g) {
    return run(argc, argv, i, g, &cmd_communities, 0, 0);
}

int tn_cli_whatif(int argc, char **argv, int i, tn_cli_globals_t *g) {
    return run(argc, argv, i, g, &cmd_whatif, 0, 0);
}
