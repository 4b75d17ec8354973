/*
 * import_set.c -- the records `twinnet import` has read and the problems
 * it has found: collecting both, turning error details (local or from the
 * server) into "file:line: field: reason" problems, and printing them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

void tn_cli_import_init(tn_cli_import_set_t *S) {
    memset(S, 0, sizeof *S);
    if (tn_val_set_arr(&S->nodes, 1024) != 0 || tn_val_set_arr(&S->pairs, 1024) != 0)
        tn_cli_die_oom();
}

void tn_cli_import_destroy(tn_cli_import_set_t *S) {
    for (size_t k = 0; k < S->nprobs; k++) {
        free(S->probs[k].field);
        free(S->probs[k].reason);
    }
    free(S->probs);
    tn_val_free(&S->nodes);
    tn_val_free(&S->pairs);
    free(S->nloc);
    free(S->ploc);
}

void tn_cli_import_problem(tn_cli_import_set_t *S, int file, int64_t line, const char *field, const char *fmt, ...) {
    S->probs = tn_cli_grow(S->probs, &S->probs_cap, S->nprobs, sizeof *S->probs, 64);
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    tn_cli_problem_t *p = &S->probs[S->nprobs];
    p->file = file;
    p->line = line;
    p->seq = S->nprobs++;
    p->field = field && field[0] ? strdup(field) : NULL;
    p->reason = strdup(reason);
    if (p->reason == NULL || (field && field[0] && p->field == NULL))
        tn_cli_die_oom();
}

void tn_cli_import_push(tn_cli_import_set_t *S, int is_pair, tn_val_t *rec, int file, int64_t line) {
    tn_val_t *arr = is_pair ? &S->pairs : &S->nodes;
    tn_cli_loc_t **locs = is_pair ? &S->ploc : &S->nloc;
    size_t *cap = is_pair ? &S->ploc_cap : &S->nloc_cap;
    size_t n = arr->u.a.n;
    *locs = tn_cli_grow(*locs, cap, n, sizeof **locs, 1024);
    if (tn_arr_push_take(arr, rec) != 0)
        tn_cli_die_oom();
    (*locs)[n] = (tn_cli_loc_t){ file, line };
}

/* "nodes.country" -> "country": the file already says which kind. */
static const char *bare_field(const char *f) {
    if (f == NULL)
        return NULL;
    if (strncmp(f, "nodes.", 6) == 0)
        return f + 6;
    if (strncmp(f, "pairs.", 6) == 0)
        return f + 6;
    return f;
}

void tn_cli_import_details(tn_cli_import_set_t *S, int file, int64_t line, const tn_error_t *err) {
    const tn_val_t *d = &err->data;
    if (d->type != TN_V_ARR || d->u.a.n == 0) {
        tn_cli_import_problem(S, file, line < 0 ? 0 : line, NULL, "%s", err->message);
        return;
    }
    for (size_t i = 0; i < d->u.a.n; i++) {
        const tn_val_t *it = &d->u.a.items[i];
        int64_t at = line;
        if (at < 0 && !tn_val_as_int(tn_map_get(it, "index"), &at))
            at = 0;
        const char *why = tn_val_str(tn_map_get(it, "reason"));
        tn_cli_import_problem(S, file, at, bare_field(tn_val_str(tn_map_get(it, "field"))), "%s",
                              why ? why : err->message);
    }
}

/* The id at the end of a reference reason ("no such node: JP-x"). */
static const char *reason_id(const char *why) {
    const char *p = why ? strrchr(why, ':') : NULL;
    return p && p[1] == ' ' ? p + 2 : NULL;
}

void tn_cli_import_server_problems(tn_cli_import_set_t *S, const tn_error_t *err, const size_t *sent_n, size_t kn,
                                   const size_t *sent_p, size_t kp, const tn_hmap_t *bad_ids) {
    const tn_val_t *d = &err->data;
    if (d->type != TN_V_ARR || d->u.a.n == 0) {
        tn_cli_import_problem(S, 0, 0, NULL, "the server refused the import: %s: %s", tn_code_name(err->code),
                              err->message);
        return;
    }
    for (size_t i = 0; i < d->u.a.n; i++) {
        const tn_val_t *it = &d->u.a.items[i];
        const char *field = tn_val_str(tn_map_get(it, "field"));
        const char *why = tn_val_str(tn_map_get(it, "reason"));
        int64_t idx = -1;
        tn_val_as_int(tn_map_get(it, "index"), &idx);
        int is_pair = field && strncmp(field, "pairs.", 6) == 0;
        size_t lim = is_pair ? kp : kn;
        const char *ref = reason_id(why);
        size_t dummy;
        if (ref && bad_ids && tn_hmap_get(bad_ids, ref, &dummy))
            continue;                    /* already reported: that node was rejected locally */
        if (idx < 0 || (size_t) idx >= lim) {
            tn_cli_import_problem(S, 0, 0, field, "record %lld: %s", (long long) idx, why ? why : "?");
            continue;
        }
        tn_cli_loc_t l = is_pair ? S->ploc[sent_p[idx]] : S->nloc[sent_n[idx]];
        tn_cli_import_problem(S, l.file, l.line, bare_field(field), "%s", why ? why : "?");
    }
    if (d->u.a.n >= TN_ERROR_MAX_DETAILS)
        tn_cli_import_problem(S, S->nfiles - 1, 0, NULL,
                              "note: the server reports at most %d problems at a time; fix these and run again",
                              TN_ERROR_MAX_DETAILS);
}

static int cmp_problem(const void *x, const void *y) {
    const tn_cli_problem_t *a = x, *b = y;
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void tn_cli_import_print_problems(tn_cli_import_set_t *S) {
    qsort(S->probs, S->nprobs, sizeof *S->probs, cmp_problem);
    for (size_t i = 0; i < S->nprobs; i++) {
        const tn_cli_problem_t *p = &S->probs[i];
        tn_cli_sbuf_t b = { NULL, 0, 0 };
        tn_cli_sb_printf(&b, "%s", S->files[p->file]);
        if (p->line > 0)
            tn_cli_sb_printf(&b, ":%lld", (long long) p->line);
        tn_cli_sb_printf(&b, ": ");
        if (p->field) {
            tn_cli_sb_text(&b, p->field, strlen(p->field));
            tn_cli_sb_printf(&b, ": ");
        }
        tn_cli_sb_text(&b, p->reason, strlen(p->reason));
        fprintf(stderr, "%s\n", b.p);
        free(b.p);
    }
}
