/*
 * import_send.c -- the upload of `twinnet import`: the checked records go
 * to the server as one streamed import (import.begin, import.chunk...,
 * import.commit), with progress on stderr: on a terminal a bar fed by the
 * server's progress notifications (import.begin asks for them), otherwise
 * a plain line per tenth. The commit is atomic, so the
 * server's reference checks either pass and the whole import is applied,
 * or fail and nothing is.
 */
#include <stdio.h>
#include <unistd.h>

#include "import.h"

/* Progress: a bar on a terminal, a plain line per tenth otherwise. */
typedef struct progress {
    int tty;
    size_t total, last_tenth;
    const char *what;
} progress_t;

static void progress_show(progress_t *pg, size_t done) {
    if (pg->total == 0)
        return;
    if (pg->tty) {
        tn_cli_progress_bar(pg->what, (int64_t) done, (int64_t) pg->total, "records");
        return;
    }
    size_t tenth = (size_t) (10.0 * (double) done / (double) pg->total);
    if (tenth > pg->last_tenth || done >= pg->total) {
        if (done < pg->total || pg->last_tenth < 10)
            fprintf(stderr, "%s: %zu/%zu records (%d%%)\n", pg->what, done, pg->total,
                    (int) (100.0 * (double) done / (double) pg->total));
        pg->last_tenth = done >= pg->total ? 10 : tenth;
    }
}

/* A progress notification of import.chunk: records staged so far. */
static void on_progress(void *arg, int64_t done, int64_t total) {
    (void) total;
    progress_show(arg, done > 0 ? (size_t) done : 0);
}

tn_code_t tn_cli_import_stream(tn_client_t *cl, tn_cli_import_set_t *S, const char *nok, const char *pok,
                               const char *mode, int dry_run, size_t chunk, int quiet, size_t *sent_n,
                               size_t *sent_p, tn_val_t *result, tn_error_t *err) {
    size_t nn = S->nodes.u.a.n, np = S->pairs.u.a.n, total = 0, kn = 0, kp = 0;
    for (size_t i = 0; i < nn; i++)
        if (nok[i])
            sent_n[kn++] = i;
    for (size_t i = 0; i < np; i++)
        if (pok[i])
            sent_p[kp++] = i;
    total = kn + kp;
    tn_val_t opts = TN_VAL_NIL, res = TN_VAL_NIL;
    int rc = tn_val_set_map(&opts, 5) | tn_map_add_int(&opts, "total", (int64_t) total)
             | tn_map_add_bool(&opts, "dry_run", dry_run);
    if (mode)
        rc |= tn_map_add_str(&opts, "mode", mode);
    if (rc != 0)
        tn_cli_die_oom();
    int tty = isatty(2) && !quiet;
    if (tty && tn_map_add_bool(&opts, "progress", 1) != 0)
        tn_cli_die_oom();
    tn_code_t code = tn_cli_request(cl, "import.begin", &opts, &res, err);
    tn_val_free(&opts);
    if (code != TN_OK)
        return code;
    char token[80];
    const char *import_id = tn_val_str(tn_map_get(&res, "import"));
    snprintf(token, sizeof token, "%s", import_id ? import_id : "");
    progress_t pg = { tty, total, 0, dry_run ? "checking" : "sending" };
    size_t done = 0;
    while (done < total) {
        /* The chunk's arrays borrow the records (shallow copies) and give
         * them back before they are freed. */
        tn_val_t arr[2] = { TN_VAL_NIL, TN_VAL_NIL };
        size_t end = done + chunk < total ? done + chunk : total;
        if (tn_val_set_map(&opts, 3) != 0 || tn_map_add_str(&opts, "import", token) != 0)
            tn_cli_die_oom();
        for (size_t k = done; k < end; k++) {
            int is_pair = k >= kn;
            tn_val_t *a = &arr[is_pair];
            if (a->type == TN_V_NIL && tn_val_set_arr(a, end - done) != 0)
                tn_cli_die_oom();
            tn_val_t *slot = tn_arr_push(a);
            if (slot == NULL)
                tn_cli_die_oom();
            *slot = is_pair ? S->pairs.u.a.items[sent_p[k - kn]] : S->nodes.u.a.items[sent_n[k]];
        }
        tn_val_t *slots[2] = { NULL, NULL };
        if (arr[0].type == TN_V_ARR && (slots[0] = tn_map_add(&opts, "nodes")) == NULL)
            tn_cli_die_oom();
        if (slots[0])
            *slots[0] = arr[0];
        if (arr[1].type == TN_V_ARR && (slots[1] = tn_map_add(&opts, "pairs")) == NULL)
            tn_cli_die_oom();
        if (slots[1])
            *slots[1] = arr[1];
        code = pg.tty ? tn_cli_request_progress(cl, "import.chunk", &opts, &res, err, pg.what, on_progress, &pg)
                      : tn_cli_request(cl, "import.chunk", &opts, &res, err);
        for (int k = 0; k < 2; k++) {
            const tn_val_t *a = tn_map_get(&opts, k ? "pairs" : "nodes");
            if (a)
                ((tn_val_t *) a)->u.a.n = 0;    /* give the borrowed records back */
        }
        tn_val_free(&opts);
        if (code != TN_OK) {
            if (pg.tty)
                fputc('\n', stderr);
            tn_val_free(&res);
            return code;
        }
        done = end;
        if (!quiet && !pg.tty)
            progress_show(&pg, done);
    }
    if (!quiet && !pg.tty && total > 0)
        fprintf(stderr, "%s: committing %zu records\n", pg.what, total);
    if (tn_val_set_map(&opts, 1) != 0 || tn_map_add_str(&opts, "import", token) != 0)
        tn_cli_die_oom();
    code = tn_cli_request(cl, "import.commit", &opts, &res, err);
    tn_val_free(&opts);
    if (code == TN_OK) {
        *result = res;
        return TN_OK;
    }
    tn_val_free(&res);
    return code;
}
