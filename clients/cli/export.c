/*
 * export.c -- `twinnet export` (docs/import-export.md): page through
 * node.list and pair.list and write CSV, JSON Lines or GraphML
 * (export_write.c). The epoch is compared before and after, so the files
 * are one consistent state of the graph; files are written beside their
 * final names and renamed at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "export.h"

static void export_usage(FILE *out) {
    fprintf(out,
            "usage: twinnet export --format csv|jsonl|graphml --out PATH\n"
            "\n"
            "Write the whole graph with every node and pair attribute.\n"
            "  csv      PATH is a directory (created if needed) that gets nodes.csv and\n"
            "           pairs.csv, in the layout `twinnet import` and the built-in dataset use\n"
            "  jsonl    PATH is a file: one {\"node\": {...}} or {\"pair\": {...}} per line\n"
            "  graphml  PATH is a file: GraphML with typed keys for every attribute\n"
            "           (opens in Gephi, Cytoscape, igraph, NetworkX)\n"
            "PATH - writes jsonl or graphml to standard output.\n");
}

/* tn_cli_list_all callbacks: one record of node.list / pair.list out. */
static void export_node(void *ex, tn_val_t *rec) {
    tn_cli_export_record(ex, rec, 0);
}

static void export_pair(void *ex, tn_val_t *rec) {
    tn_cli_export_record(ex, rec, 1);
}

/* node.find of every node of 'kind' (and of country cc unless NULL), at
 * most 'cap' of them, into *res. */
static tn_code_t find_nodes(tn_client_t *cl, const char *kind, const char *cc, int64_t cap, tn_val_t *res,
                            tn_error_t *err) {
    tn_val_t opts = TN_VAL_NIL;
    if (tn_val_set_map(&opts, cc ? 4 : 3) != 0 || tn_map_add_str(&opts, "q", "") != 0
        || tn_map_add_str(&opts, "kind", kind) != 0 || (cc && tn_map_add_str(&opts, "country", cc) != 0)
        || tn_map_add_int(&opts, "limit", cap) != 0)
        tn_cli_die_oom();
    tn_code_t rc = tn_cli_request(cl, "node.find", &opts, res, err);
    tn_val_free(&opts);
    return rc;
}

/* Every node: node.list, or (older servers) node.find split by kind and
 * country so that no call reaches its 1000-item cap. */
static tn_code_t export_nodes(tn_client_t *cl, tn_cli_exporter_t *ex, tn_error_t *err) {
    tn_val_t res = TN_VAL_NIL;
    tn_code_t rc = tn_cli_list_all(cl, "node.list", export_node, ex, err);
    if (rc != TN_ERR_METHOD_NOT_FOUND)
        return rc;
    tn_error_clear(err);
    /* Fallback. Countries first, then each country's provinces and cities. */
    const int64_t cap = 1000;
    rc = find_nodes(cl, "country", NULL, cap, &res, err);
    if (rc != TN_OK)
        return rc;
    tn_val_t countries = TN_VAL_NIL;
    const tn_val_t *items = tn_cli_items(&res, "items");
    if (items == NULL || items->u.a.n >= (size_t) cap || tn_val_copy(&countries, items) != 0) {
        tn_val_free(&res);
        return tn_error_set(err, TN_ERR_TOO_LARGE, "the server has no node.list and node.find cannot list "
                            "more than %lld nodes of one kind and country", (long long) cap);
    }
    tn_val_free(&res);
    for (size_t i = 0; i < countries.u.a.n; i++)
        tn_cli_export_record(ex, &countries.u.a.items[i], 0);
    /* Every province and city names its country (docs/protocol.md, "Data model"). */
    for (size_t i = 0; i < countries.u.a.n && rc == TN_OK; i++) {
        const char *cc = tn_val_str(tn_map_get(&countries.u.a.items[i], "id"));
        static const char *const kinds[] = { "province", "city" };
        for (int k = 0; k < 2 && rc == TN_OK && cc; k++) {
            rc = find_nodes(cl, kinds[k], cc, cap, &res, err);
            if (rc != TN_OK)
                break;
            const tn_val_t *it = tn_cli_items(&res, "items");
            if (it && it->u.a.n >= (size_t) cap)
                rc = tn_error_set(err, TN_ERR_TOO_LARGE, "the server has no node.list and %s has %lld or more "
                                  "%s nodes (node.find's cap)", cc, (long long) cap, kinds[k]);
            for (size_t j = 0; it && j < it->u.a.n && rc == TN_OK; j++)
                tn_cli_export_record(ex, &it->u.a.items[j], 0);
            tn_val_free(&res);
        }
    }
    tn_val_free(&countries);
    return rc;
}

static tn_code_t server_epoch(tn_client_t *cl, int64_t *epoch, tn_error_t *err) {
    tn_val_t res = TN_VAL_NIL;
    tn_code_t rc = tn_cli_request(cl, "server.info", NULL, &res, err);
    if (rc == TN_OK)
        *epoch = tn_cli_res_int(&res, "epoch");
    tn_val_free(&res);
    return rc;
}

static char *path_join(const char *a, const char *b) {
    tn_cli_sbuf_t s = { NULL, 0, 0 };
    tn_cli_sb_printf(&s, "%s%s%s", a, a[0] && a[strlen(a) - 1] == '/' ? "" : (b[0] == '.' ? "" : "/"), b);
    return s.p;
}

int tn_cli_export(int argc, char **argv, int i, tn_cli_globals_t *g) {
    tn_cli_xopt_t o[] = { { "--format", 1, 0, { 0 }, 0 }, { "--out", 1, 0, { 0 }, 0 } };
    tn_cli_xparse(argc, argv, i, g, o, 2, export_usage, "export");
    if (!o[0].n || !o[1].n)
        tn_cli_xbad(export_usage, "export needs --format and --out");
    tn_cli_xfmt_t fmt;
    const char *f = o[0].vals[0], *out = o[1].vals[0];
    if (strcmp(f, "csv") == 0)
        fmt = TN_XFMT_CSV;
    else if (strcmp(f, "jsonl") == 0)
        fmt = TN_XFMT_JSONL;
    else if (strcmp(f, "graphml") == 0)
        fmt = TN_XFMT_GRAPHML;
    else
        tn_cli_xbad(export_usage, "--format is csv, jsonl or graphml, got \"%s\"", f);
    int to_stdout = strcmp(out, "-") == 0;
    if (to_stdout && fmt == TN_XFMT_CSV) {
        fprintf(stderr, "twinnet: csv export writes two files: --out must be a directory\n");
        return TN_EXIT_USAGE;
    }
    if (fmt == TN_XFMT_CSV && mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "twinnet: cannot create directory %s: %s\n", out, strerror(errno));
        return TN_EXIT_SERVER;
    }
    /* Files are written beside their final names and renamed at the end:
     * an interrupted export never leaves a half file under the real name. */
    char *final[2] = { NULL, NULL }, *tmp[2] = { NULL, NULL };
    if (fmt == TN_XFMT_CSV) {
        final[0] = path_join(out, "nodes.csv");
        final[1] = path_join(out, "pairs.csv");
    } else if (!to_stdout) {
        final[0] = strdup(out);
    }
    for (int k = 0; k < 2; k++)
        if (final[k]) {
            tn_cli_sbuf_t s = { NULL, 0, 0 };
            tn_cli_sb_printf(&s, "%s.tmp%ld", final[k], (long) getpid());
            tmp[k] = s.p;
        }
    int code = 0;
    tn_client_t *cl = tn_cli_transfer_connect(g, &code);
    if (cl == NULL)
        goto done;
    tn_error_t err = TN_ERROR_INIT;
    tn_cli_exporter_t ex;
    for (int attempt = 0;; attempt++) {
        memset(&ex, 0, sizeof ex);
        ex.fmt = fmt;
        ex.nf = to_stdout ? stdout : fopen(tmp[0], "w");
        ex.pf = fmt == TN_XFMT_CSV ? fopen(tmp[1], "w") : NULL;
        if (ex.nf == NULL || (fmt == TN_XFMT_CSV && ex.pf == NULL)) {
            fprintf(stderr, "twinnet: cannot write %s: %s\n", ex.nf ? tmp[1] : tmp[0], strerror(errno));
            code = TN_EXIT_SERVER;
            break;
        }
        int64_t e0 = -1, e1 = -2;
        tn_code_t rc = server_epoch(cl, &e0, &err);
        tn_cli_export_begin(&ex);
        if (rc == TN_OK)
            rc = export_nodes(cl, &ex, &err);
        if (rc == TN_OK)
            rc = tn_cli_list_all(cl, "pair.list", export_pair, &ex, &err);
        tn_cli_export_end(&ex);
        if (rc == TN_OK)
            rc = server_epoch(cl, &e1, &err);
        int werr = 0;
        if (!to_stdout)
            werr |= fclose(ex.nf) != 0;
        else
            werr |= fflush(stdout) != 0;
        if (ex.pf)
            werr |= fclose(ex.pf) != 0;
        if (rc != TN_OK) {
            code = tn_cli_report_call_error(cl, &err);
            break;
        }
        if (werr) {
            fprintf(stderr, "twinnet: writing the export failed: %s\n", strerror(errno));
            code = TN_EXIT_SERVER;
            break;
        }
        if (e0 == e1) {
            for (int k = 0; k < 2; k++)
                if (final[k] && rename(tmp[k], final[k]) != 0) {
                    fprintf(stderr, "twinnet: cannot rename %s to %s: %s\n", tmp[k], final[k], strerror(errno));
                    code = TN_EXIT_SERVER;
                }
            if (code == 0)
                fprintf(to_stdout ? stderr : stdout, "exported %zu nodes and %zu pairs (epoch %lld) to %s\n",
                        ex.nodes, ex.pairs, (long long) e0, to_stdout ? "standard output" : out);
            break;
        }
        if (to_stdout || attempt >= 4) {
            fprintf(stderr, "twinnet: the graph changed while it was being exported (epoch %lld -> %lld)%s\n",
                    (long long) e0, (long long) e1, to_stdout ? "; the output mixes two states" : "; try again");
            code = TN_EXIT_SERVER;
            break;
        }
    }
    tn_error_clear(&err);
    tn_client_close(cl);
done:
    for (int k = 0; k < 2; k++) {
        if (tmp[k])
            unlink(tmp[k]);
        free(tmp[k]);
        free(final[k]);
    }
    return code;
}
