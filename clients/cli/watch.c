/*
 * watch.c -- `twinnet watch`: a compact summary of the graph (metrics.get)
 * that is printed again after every change, driven by the server's
 * "event" notifications (metrics.subscribe), not by polling.
 *
 * On a terminal the screen is cleared and redrawn; when piped, each
 * summary is appended after a blank line, so a log of refreshes can be
 * kept. Events that arrive while a summary is being fetched are counted,
 * so a change is never missed: when the summary shown is older than the
 * newest event, it is fetched again at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void watch_usage(FILE *out) {
    fprintf(out,
            "usage: twinnet watch [--count N]\n"
            "\n"
            "Print a compact summary (nodes, pairs, home, coverage by region, server)\n"
            "and print it again after every change: the server sends an event per\n"
            "applied change (metrics.subscribe). On a terminal the screen is redrawn;\n"
            "piped, each summary is appended. Stop with Ctrl-C.\n"
            "\n"
            "options:\n"
            "  --count N   stop after N summaries (the first one included)\n"
            "  --timeout S stop (exit 3) when no change comes for S seconds (default: wait)\n");
}

/* The epoch of an ["event", [{"type": "epoch", "epoch"}]] notification, or -1. */
static int64_t event_epoch(const tn_val_t *m) {
    if (m->type != TN_V_ARR || m->u.a.n != 3)
        return -1;
    const tn_val_t *it = m->u.a.items;
    const char *method = tn_val_str(&it[1]);
    int64_t kind, epoch;
    if (!tn_val_as_int(&it[0], &kind) || kind != 2 || method == NULL || strcmp(method, "event") != 0
        || it[2].type != TN_V_ARR || it[2].u.a.n != 1)
        return -1;
    return tn_val_as_int(tn_map_get(&it[2].u.a.items[0], "epoch"), &epoch) ? epoch : -1;
}

/* Call method, keeping the newest event epoch seen meanwhile in *newest. */
static tn_code_t call_noting_events(tn_client_t *cl, const char *method, tn_val_t *res, tn_error_t *err,
                                    int64_t *newest) {
    uint32_t id;
    tn_error_clear(err);
    tn_code_t rc = tn_client_send(cl, method, NULL, &id, err);
    while (rc == TN_OK) {
        tn_val_t m = TN_VAL_NIL;
        if ((rc = tn_client_recv(cl, &m, err)) != TN_OK)
            break;
        int64_t e = event_epoch(&m), kind, mid;
        if (e > *newest)
            *newest = e;
        if (m.type == TN_V_ARR && m.u.a.n == 4 && tn_val_as_int(&m.u.a.items[0], &kind) && kind == 1
            && tn_val_as_int(&m.u.a.items[1], &mid) && mid == (int64_t) id) {
            tn_val_t *items = m.u.a.items;
            if (items[2].type == TN_V_MAP) {
                const char *code = tn_val_str(tn_map_get(&items[2], "code"));
                const char *msg = tn_val_str(tn_map_get(&items[2], "message"));
                rc = tn_error_set(err, tn_cli_code_by_name(code), "%s", msg ? msg : "");
            } else if (items[2].type != TN_V_NIL) {
                rc = tn_error_set(err, TN_ERR_INTERNAL, "malformed response: error is not a map");
            } else {
                *res = items[3];
                items[3] = TN_VAL_NIL;
            }
            tn_val_free(&m);
            return rc;
        }
        tn_val_free(&m);
    }
    return rc;
}

int tn_cli_watch(int argc, char **argv, int i, tn_cli_globals_t *g) {
    tn_cli_xopt_t o[] = { { "--count", 1, 0, { 0 }, 0 } };
    tn_cli_xparse(argc, argv, i, g, o, 1, watch_usage, "watch");
    long long count = 0;
    if (o[0].n && (!tn_cli_parse_ll(o[0].vals[0], &count) || count < 1))
        tn_cli_xbad(watch_usage, "--count needs a number of summaries, at least 1, got \"%s\"", o[0].vals[0]);
    int code = 0;
    /* Waiting for the next change has no time limit unless --timeout. */
    tn_client_t *cl = tn_cli_connect(g, g->timeout_set ? g->timeout_ms : 0, &code);
    if (cl == NULL)
        return code;
    tn_val_t res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    int64_t newest = -1;
    tn_code_t rc = tn_cli_request(cl, "metrics.subscribe", NULL, &res, &err);
    int tty = isatty(1);
    for (long long shown = 0; rc == TN_OK;) {
        tn_val_free(&res);
        if ((rc = call_noting_events(cl, "metrics.get", &res, &err, &newest)) != TN_OK)
            break;
        int64_t epoch = tn_cli_res_int(&res, "epoch");
        char when[16] = "";
        time_t now = time(NULL);
        struct tm tmv;
        if (localtime_r(&now, &tmv))
            strftime(when, sizeof when, "%H:%M:%S", &tmv);
        if (tty)
            fputs("\033[H\033[2J", stdout);
        else if (shown > 0)
            putchar('\n');
        printf("%stwinnet watch %s  epoch %lld  at %s%s\n", tn_cli_style(stdout, TN_STYLE_HEAD), tn_client_peer(cl),
               (long long) epoch, when, tn_cli_style(stdout, TN_STYLE_RESET));
        if (g->json)
            tn_cli_print_json(&res);
        else
            tn_cli_print_metrics_brief(&res);
        fflush(stdout);
        if (count && ++shown >= count)
            break;
        /* Wait for an event newer than what is shown. */
        while (newest <= epoch) {
            tn_val_t m = TN_VAL_NIL;
            if ((rc = tn_client_recv(cl, &m, &err)) != TN_OK)
                break;
            int64_t e = event_epoch(&m);
            if (e > newest)
                newest = e;
            tn_val_free(&m);
        }
    }
    if (rc != TN_OK)
        code = tn_cli_report_call_error(cl, &err);
    tn_val_free(&res);
    tn_error_clear(&err);
    tn_client_close(cl);
    return code;
}
