/*
 * imports.c -- streamed imports: import.begin / chunk / commit / abort.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imports.h"
#include "server_state.h"
#include "spool.h"
#include "writes.h"

/* ---- streamed imports (docs/protocol.md, "Methods") ----
 * Records are staged until commit, invisible to anyone, in a spool file
 * (spool.c), not in memory; commit reads them back and hands the whole
 * batch to the writer as one import.batch, so it is atomic and durable
 * like any batch. A dropped connection drops its imports. Detail indices
 * in a failed commit count records across all chunks, in the order they
 * arrived. All connections together may stage max_staged_records: past
 * that a chunk is answered busy, since commits and aborts free room. */

#define MAX_IMPORTS_PER_CONN 4

typedef struct tn_import {
    struct tn_import *next;
    char token[33];
    tn_spool_t *spool;              /* the staged records */
    tn_val_t mode, dry_run;         /* as given to import.begin (or nil) */
    int64_t total;                  /* announced record count, -1 unknown */
    int progress;
} tn_import_t;

static size_t staged(const tn_import_t *im) {
    return tn_spool_count(im->spool, TN_SPOOL_NODES) + tn_spool_count(im->spool, TN_SPOOL_PAIRS);
}

/* Free an import and give its share of the server-wide cap back. */
static void import_free(tn_server_t *srv, tn_import_t *im) {
    if (im->spool) {
        srv->staged_records -= staged(im);
        tn_spool_free(im->spool);
    }
    tn_val_free(&im->mode);
    tn_val_free(&im->dry_run);
    free(im);
}

void tn_imports_drop(tn_caller_t *c) {
    while (c->imports) {
        tn_import_t *im = c->imports;
        c->imports = im->next;
        import_free(c->srv, im);
    }
    c->nimports = 0;
}

static tn_import_t *import_find(const tn_call_t *call, const tn_val_t *opts) {
    tn_caller_t *c = call->caller;
    const char *tok = tn_val_str(tn_map_get(opts, "import"));
    if (tok == NULL) {
        tn_reply_code(call, TN_ERR_INVALID_PARAMS, "%s", "import: the token from import.begin is required");
        return NULL;
    }
    for (tn_import_t *im = c->imports; im; im = im->next)
        if (strcmp(im->token, tok) == 0)
            return im;
    tn_reply_code(call, TN_ERR_NOT_FOUND, "no import %s on this connection", TN_CLIP(tok, 40));
    return NULL;
}

static void random_token(char *out) {
    unsigned char raw[16];
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(raw, 1, sizeof raw, f) : 0;
    if (f)
        fclose(f);
    if (got != sizeof raw) {
        /* Tokens only name an import on its own connection: uniqueness,
         * not secrecy, is what matters here. */
        static uint64_t counter;
        uint64_t v = tn_now_ns() ^ ++counter;
        memcpy(raw, &v, sizeof v);
        memcpy(raw + 8, &counter, sizeof counter);
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

void tn_m_import_begin(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    tn_caller_t *c = call->caller;
    if (c->nimports >= MAX_IMPORTS_PER_CONN)
        return tn_reply_code(call, TN_ERR_BUSY, "%s", "too many imports open on this connection");
    const tn_val_t *mode = tn_map_get(opts, "mode"), *dry = tn_map_get(opts, "dry_run");
    const tn_val_t *total = tn_map_get(opts, "total"), *prog = tn_map_get(opts, "progress");
    const char *ms = tn_val_str(mode);
    if (mode && mode->type != TN_V_NIL && (!ms || (strcmp(ms, "upsert") && strcmp(ms, "replace"))))
        return tn_reply_code(call, TN_ERR_INVALID_PARAMS, "%s", "mode: must be upsert or replace");
    if (dry && dry->type != TN_V_NIL && dry->type != TN_V_BOOL)
        return tn_reply_code(call, TN_ERR_INVALID_PARAMS, "%s", "dry_run: must be a boolean");
    if (prog && prog->type != TN_V_NIL && prog->type != TN_V_BOOL)
        return tn_reply_code(call, TN_ERR_INVALID_PARAMS, "%s", "progress: must be a boolean");
    int64_t tot = -1;
    if (total && total->type != TN_V_NIL && (!tn_val_as_int(total, &tot) || tot < 0))
        return tn_reply_code(call, TN_ERR_INVALID_PARAMS, "%s", "total: must be a count of records");
    tn_import_t *im = calloc(1, sizeof *im);
    if (im == NULL || (mode && tn_val_copy(&im->mode, mode) != 0)
        || (dry && tn_val_copy(&im->dry_run, dry) != 0)) {
        if (im)
            import_free(srv, im);
        return tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
    }
    tn_error_t err = TN_ERROR_INIT;
    if ((im->spool = tn_spool_new(tn_writer_data_dir(srv->writer), &err)) == NULL) {
        import_free(srv, im);
        tn_reply_error(call, &err);
        tn_error_clear(&err);
        return;
    }
    im->total = tot;
    im->progress = prog && prog->type == TN_V_BOOL && prog->u.b;
    random_token(im->token);
    im->next = c->imports;
    c->imports = im;
    c->nimports++;
    tn_val_t res = TN_VAL_NIL;
    if (tn_val_set_map(&res, 1) != 0 || tn_map_add_str(&res, "import", im->token) != 0)
        tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(call, &res);
    tn_val_free(&res);
}

void tn_m_import_chunk(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    tn_caller_t *c = call->caller;
    tn_import_t *im = import_find(call, opts);
    if (im == NULL)
        return;
    const char *names[2] = { "nodes", "pairs" };
    const tn_val_t *src[2];
    size_t add = 0;
    for (int k = 0; k < 2; k++) {
        src[k] = tn_map_get(opts, names[k]);
        if (src[k] && src[k]->type == TN_V_NIL)
            src[k] = NULL;
        if (src[k] && src[k]->type != TN_V_ARR)
            return tn_reply_code(call, TN_ERR_INVALID_PARAMS, "%s: must be an array of records", names[k]);
        add += src[k] ? src[k]->u.a.n : 0;
    }
    size_t have = staged(im);
    if (have + add > srv->cfg.max_import_records)
        return tn_reply_code(call, TN_ERR_TOO_LARGE, "%s",
                          "the import would pass the server's limit on staged records");
    tn_error_t err = TN_ERROR_INIT;
    if (srv->staged_records + add > srv->cfg.max_staged_records) {
        tn_error_set(&err, TN_ERR_BUSY, "the server already stages %zu records for imports (limit "
                     "%zu for all connections); commit or abort imports, or try again later",
                     srv->staged_records, srv->cfg.max_staged_records);
        tn_reply_error(call, &err);
        return;
    }
    tn_code_t src_rc = TN_OK;
    tn_spool_mark(im->spool);
    for (int k = 0; k < 2 && src_rc == TN_OK; k++)
        for (size_t i = 0; src[k] && i < src[k]->u.a.n && src_rc == TN_OK; i++)
            src_rc = tn_spool_put(im->spool, k == 0 ? TN_SPOOL_NODES : TN_SPOOL_PAIRS,
                                  &src[k]->u.a.items[i], &err);
    if (src_rc == TN_OK)
        src_rc = tn_spool_flush(im->spool, &err);
    if (src_rc != TN_OK) {
        tn_spool_rollback(im->spool);   /* a chunk is staged whole or not at all */
        tn_reply_error(call, &err);
        tn_error_clear(&err);
        return;
    }
    srv->staged_records += add;
    if (im->progress) {
        tn_val_t p = TN_VAL_NIL;
        if (tn_val_set_map(&p, 3) == 0 && tn_map_add_int(&p, "msgid", call->msgid) == 0
            && tn_map_add_int(&p, "done", (int64_t) (have + add)) == 0
            && (im->total >= 0 ? tn_map_add_int(&p, "total", im->total) : tn_map_add_nil(&p, "total")) == 0)
            tn_notify(c, "progress", &p);
        tn_val_free(&p);
    }
    tn_val_t res = TN_VAL_NIL;
    int rc = tn_val_set_map(&res, 3) | tn_map_add_str(&res, "import", im->token)
             | tn_map_add_int(&res, "nodes", (int64_t) tn_spool_count(im->spool, TN_SPOOL_NODES))
             | tn_map_add_int(&res, "pairs", (int64_t) tn_spool_count(im->spool, TN_SPOOL_PAIRS));
    if (rc != 0)
        tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(call, &res);
    tn_val_free(&res);
}

static void import_unlink(tn_caller_t *c, tn_import_t *im) {
    for (tn_import_t **pp = &c->imports; *pp; pp = &(*pp)->next)
        if (*pp == im) {
            *pp = im->next;
            c->nimports--;
            return;
        }
}

/* The caller's import that opts name, out of its list (the commit or
 * abort ends it); NULL when answered with an error. */
static tn_import_t *import_take(const tn_call_t *call, const tn_val_t *opts) {
    tn_import_t *im = import_find(call, opts);
    if (im != NULL)
        import_unlink(call->caller, im);
    return im;
}

void tn_m_import_commit(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    tn_import_t *im = import_take(call, opts);
    if (im == NULL)
        return;
    tn_val_t batch = TN_VAL_NIL, nodes, pairs;
    tn_error_t err = TN_ERROR_INIT;
    if (tn_spool_read(im->spool, &nodes, &pairs, &err) != TN_OK) {
        import_free(srv, im);
        tn_reply_error(call, &err);
        tn_error_clear(&err);
        return;
    }
    int rc = tn_val_set_map(&batch, 4) | tn_map_add_take(&batch, "nodes", &nodes)
             | tn_map_add_take(&batch, "pairs", &pairs);
    if (im->mode.type != TN_V_NIL)
        rc |= tn_map_add_take(&batch, "mode", &im->mode);
    if (im->dry_run.type != TN_V_NIL)
        rc |= tn_map_add_take(&batch, "dry_run", &im->dry_run);
    tn_val_free(&nodes);
    tn_val_free(&pairs);
    import_free(srv, im);
    if (rc != 0) {
        tn_val_free(&batch);
        return tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
    }
    /* Journalled as the import.batch it becomes. */
    tn_writes_submit(srv, call, "import.batch", TN_JOB_CHANGE, TN_CHANGE_BATCH, &batch);
}

void tn_m_import_abort(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    tn_import_t *im = import_take(call, opts);
    if (im == NULL)
        return;
    import_free(srv, im);
    tn_m_reply_true(call, "aborted");
}
