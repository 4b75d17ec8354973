/*
 * progress.c -- calls that show the server's "progress" notifications
 * (["progress", [{"msgid", "done", "total"}]], sent at most every 200 ms
 * while a query runs and after each import.chunk) as a bar on stderr.
 *
 * The bar is drawn only when stderr is a terminal, so piped or redirected
 * output never holds carriage returns; it is erased before the result is
 * printed. The envelope is read here rather than in the client library,
 * which drops notifications while it waits for a response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void tn_cli_progress_bar(const char *label, int64_t done, int64_t total, const char *unit) {
    const int width = 30;
    if (total <= 0) {
        fprintf(stderr, "\r%s %lld %s\033[K", label, (long long) done, unit);
        fflush(stderr);
        return;
    }
    if (done > total)
        done = total;
    int fill = (int) ((double) done / (double) total * width);
    fprintf(stderr, "\r%s [", label);
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '#' : '-', stderr);
    fprintf(stderr, "] %3d%% %lld/%lld %s\033[K", (int) (100.0 * (double) done / (double) total), (long long) done,
            (long long) total, unit);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

tn_code_t tn_cli_code_by_name(const char *name) {
    for (int k = TN_OK + 1; k < TN_CODE_COUNT; k++)
        if (name != NULL && strcmp(name, tn_code_name((tn_code_t) k)) == 0)
            return (tn_code_t) k;
    return TN_ERR_INTERNAL;
}

/* The integer at items[k] of an array value, or -1. */
static int64_t item_int(const tn_val_t *arr, size_t k) {
    int64_t v;
    return arr->type == TN_V_ARR && k < arr->u.a.n && tn_val_as_int(&arr->u.a.items[k], &v) ? v : -1;
}

tn_code_t tn_cli_request_progress(tn_client_t *cl, const char *method, const tn_val_t *opts, tn_val_t *res,
                                  tn_error_t *err, const char *label,
                                  void (*on_progress)(void *arg, int64_t done, int64_t total), void *arg) {
    int bar = on_progress == NULL && isatty(2);
    if (!bar && on_progress == NULL)
        return tn_cli_request(cl, method, opts, res, err);
    tn_val_free(res);
    tn_error_clear(err);
    /* Ask a query for progress on a copy of its options. */
    tn_val_t mine = TN_VAL_NIL;
    const tn_val_t *send = opts;
    if (strncmp(method, "query.", 6) == 0) {
        if ((opts && tn_val_copy(&mine, opts) != 0) || (!opts && tn_val_set_map(&mine, 1) != 0))
            tn_cli_die_oom();
        if (tn_map_get(&mine, "progress") == NULL && tn_map_add_bool(&mine, "progress", 1) != 0)
            tn_cli_die_oom();
        send = &mine;
    }
    uint32_t id;
    tn_code_t rc = tn_client_send(cl, method, send, &id, err);
    tn_val_free(&mine);
    if (rc != TN_OK)
        return rc;
    int drawn = 0;
    for (;;) {
        tn_val_t m = TN_VAL_NIL;
        rc = tn_client_recv(cl, &m, err);
        if (rc != TN_OK)
            break;
        const tn_val_t *it = m.type == TN_V_ARR ? m.u.a.items : NULL;
        size_t n = m.type == TN_V_ARR ? m.u.a.n : 0;
        if (n == 3 && item_int(&m, 0) == 2 && strcmp(tn_val_str(&it[1]) ? tn_val_str(&it[1]) : "", "progress") == 0
            && it[2].type == TN_V_ARR && it[2].u.a.n == 1) {
            const tn_val_t *p = &it[2].u.a.items[0];
            int64_t pid = -1, done = 0, total = -1;
            tn_val_as_int(tn_map_get(p, "msgid"), &pid);
            tn_val_as_int(tn_map_get(p, "done"), &done);
            tn_val_as_int(tn_map_get(p, "total"), &total);
            if (pid == (int64_t) id) {
                if (on_progress) {
                    on_progress(arg, done, total);
                } else if (done < total || total <= 0) {
                    tn_cli_progress_bar(label, done, total, "");
                    drawn = 1;
                }
            }
        } else if (n == 4 && item_int(&m, 0) == 1 && item_int(&m, 1) == (int64_t) id) {
            tn_val_t *items = m.u.a.items;
            if (items[2].type == TN_V_MAP) {
                const char *name = tn_val_str(tn_map_get(&items[2], "code"));
                const char *msg = tn_val_str(tn_map_get(&items[2], "message"));
                rc = tn_error_set(err, tn_cli_code_by_name(name), "%s", msg ? msg : "");
                tn_val_t *data = (tn_val_t *) tn_map_get(&items[2], "data");
                if (data && data->type != TN_V_NIL) {
                    tn_val_free(&err->data);
                    err->data = *data;          /* moved out of the reply */
                    *data = TN_VAL_NIL;
                }
            } else if (items[2].type != TN_V_NIL) {
                rc = tn_error_set(err, TN_ERR_INTERNAL, "malformed response from %s: error is not a map",
                                  tn_client_peer(cl));
            } else {
                *res = items[3];
                items[3] = TN_VAL_NIL;
                rc = TN_OK;
            }
            tn_val_free(&m);
            break;
        }
        tn_val_free(&m);                 /* other notifications, other replies */
    }
    if (drawn) {
        fputs("\r\033[K", stderr);       /* erase the bar before the result */
        fflush(stderr);
    }
    return rc;
}
