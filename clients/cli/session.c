/*
 * session.c -- talking to the server for every `twinnet` command: connect
 * and authenticate, make a call, and report a call that failed.
 *
 * A failed call is either a transport failure, which leaves the client
 * broken (exit 3, "error: cannot connect ..."), or an error reply from the
 * server (exit 1, "error: <code>: <message>" and its details).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

/* Send TWINNET_TOKEN with `auth`. A server without auth answers
 * method_not_found, which is fine; 0 to go on, else an exit code. */
static int authenticate(tn_client_t *cl, const char *token) {
    tn_val_t opts = TN_VAL_NIL, res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    int code = 0;
    if (tn_val_set_map(&opts, 1) != 0 || tn_map_add_str(&opts, "token", token) != 0)
        return TN_EXIT_SERVER;
    tn_code_t rc = tn_client_call(cl, "auth", &opts, &res, &err);
    if (rc != TN_OK && rc != TN_ERR_METHOD_NOT_FOUND)
        code = tn_cli_report_call_error(cl, &err);
    tn_val_free(&opts);
    tn_val_free(&res);
    tn_error_clear(&err);
    return code;
}

tn_client_t *tn_cli_connect(const tn_cli_globals_t *g, int timeout_ms, int *code) {
    char why[300];
    tn_client_t *cl = tn_client_connect(g->host, g->port, timeout_ms, why, sizeof why);
    if (cl == NULL) {
        fprintf(stderr, "error: %s\n", why);
        *code = TN_EXIT_UNREACHABLE;
        return NULL;
    }
    const char *token = getenv("TWINNET_TOKEN");
    *code = token && token[0] ? authenticate(cl, token) : 0;
    if (*code != 0) {
        tn_client_close(cl);
        return NULL;
    }
    return cl;
}

tn_code_t tn_cli_request(tn_client_t *cl, const char *method, const tn_val_t *opts, tn_val_t *res,
                         tn_error_t *err) {
    tn_val_free(res);
    return tn_client_call(cl, method, opts, res, err);
}

tn_code_t tn_cli_list_all(tn_client_t *cl, const char *method, void (*each)(void *arg, tn_val_t *rec), void *arg,
                          tn_error_t *err) {
    tn_val_t opts = TN_VAL_NIL, res = TN_VAL_NIL;
    const int64_t page = 10000;
    for (int64_t offset = 0;; offset += page) {
        if (tn_val_set_map(&opts, 2) != 0 || tn_map_add_int(&opts, "limit", page) != 0
            || tn_map_add_int(&opts, "offset", offset) != 0)
            tn_cli_die_oom();
        tn_code_t rc = tn_cli_request(cl, method, &opts, &res, err);
        tn_val_free(&opts);
        if (rc != TN_OK)
            return rc;
        tn_val_t *items = (tn_val_t *) tn_cli_items(&res, "items");
        size_t n = items ? items->u.a.n : 0;
        for (size_t i = 0; i < n; i++)
            each(arg, &items->u.a.items[i]);
        int64_t total = tn_cli_res_int(&res, "total");
        tn_val_free(&res);
        if (n == 0 || offset + (int64_t) n >= total)
            return TN_OK;
    }
}

void tn_cli_print_error(const tn_error_t *err) {
    fprintf(stderr, "%serror:%s %s: %s\n", tn_cli_style(stderr, TN_STYLE_ERROR),
            tn_cli_style(stderr, TN_STYLE_RESET), tn_code_name(err->code),
            err->message);
    const tn_val_t *d = &err->data;
    if (d->type == TN_V_NIL)
        return;
    if (d->type != TN_V_ARR) {
        char *j = tn_val_to_json(d);
        fprintf(stderr, "  data: %s\n", j ? j : "?");
        free(j);
        return;
    }
    for (size_t i = 0; i < d->u.a.n; i++) {
        const tn_val_t *it = &d->u.a.items[i];
        char *idx = tn_cli_field(it, "index", TN_CELL_AUTO), *fld = tn_cli_field(it, "field", TN_CELL_AUTO),
             *why = tn_cli_field(it, "reason", TN_CELL_AUTO);
        if (why == NULL) {             /* not the documented shape: show it whole */
            char *j = tn_val_to_json(it);
            fprintf(stderr, "  %s\n", j ? j : "?");
            free(j);
        } else if (fld && fld[0]) {
            fprintf(stderr, "  [%s] %s: %s\n", idx ? idx : "?", fld, why);
        } else {
            fprintf(stderr, "  [%s] %s\n", idx ? idx : "?", why);
        }
        free(idx), free(fld), free(why);
    }
}

int tn_cli_report_call_error(tn_client_t *cl, const tn_error_t *err) {
    if (tn_client_broken(cl)) {
        fprintf(stderr, "%serror:%s %s\n", tn_cli_style(stderr, TN_STYLE_ERROR), tn_cli_style(stderr, TN_STYLE_RESET),
                err->message);
        return TN_EXIT_UNREACHABLE;
    }
    tn_cli_print_error(err);
    return TN_EXIT_SERVER;
}

void tn_cli_print_json(const tn_val_t *v) {
    char *j = tn_val_to_json(v);
    printf("%s\n", j ? j : "null");
    free(j);
}
