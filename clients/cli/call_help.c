/*
 * call_help.c -- `twinnet call --help`: the methods and their options as
 * the server itself describes them (server.methods), so the help can never
 * disagree with what the server accepts.
 */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

/* "integer 1..100000, default 20" and the like. */
static void print_option(FILE *out, const tn_val_t *o) {
    const char *name = tn_val_str(tn_map_get(o, "name")), *type = tn_val_str(tn_map_get(o, "type"));
    const tn_val_t *req = tn_map_get(o, "required"), *ch = tn_map_get(o, "choices");
    const char *dflt = tn_val_str(tn_map_get(o, "default"));
    int64_t lo, hi;
    double flo, fhi;
    fprintf(out, "      %-16s %s", name ? name : "?", type ? type : "any");
    if (ch != NULL && ch->type == TN_V_ARR) {
        for (size_t i = 0; i < ch->u.a.n; i++)
            fprintf(out, "%s%s", i ? "|" : " ", tn_val_str(&ch->u.a.items[i]) ? tn_val_str(&ch->u.a.items[i]) : "?");
    } else if (tn_val_as_int(tn_map_get(o, "min"), &lo) && tn_val_as_int(tn_map_get(o, "max"), &hi)
               && tn_map_get(o, "min")->type == TN_V_INT) {
        if (hi == INT64_MAX)
            fprintf(out, " >= %" PRId64, lo);
        else
            fprintf(out, " %" PRId64 "..%" PRId64, lo, hi);
    } else if (tn_val_as_num(tn_map_get(o, "min"), &flo) && tn_val_as_num(tn_map_get(o, "max"), &fhi)) {
        fprintf(out, " %g..%g", flo, fhi);
    }
    if (req != NULL && req->type == TN_V_BOOL && req->u.b)
        fputs(", required", out);
    if (dflt != NULL)
        fprintf(out, ", default %s", dflt);
    fputc('\n', out);
}

/* Print the methods of a server.methods answer ('only': just that one).
 * Returns how many were printed. */
static size_t print_methods(FILE *out, const tn_val_t *res, const char *only) {
    const tn_val_t *items = tn_map_get(res, "items");
    size_t shown = 0;
    for (size_t i = 0; items != NULL && items->type == TN_V_ARR && i < items->u.a.n; i++) {
        const tn_val_t *m = &items->u.a.items[i];
        const char *name = tn_val_str(tn_map_get(m, "name"));
        const tn_val_t *slow = tn_map_get(m, "slow"), *opts = tn_map_get(m, "options");
        if (name == NULL || (only != NULL && strcmp(only, name) != 0))
            continue;
        const char *role = tn_val_str(tn_map_get(m, "role")), *d = tn_val_str(tn_map_get(m, "description"));
        fprintf(out, "  %-20s [%s%s] %s\n", name, role ? role : "?",
                slow && slow->type == TN_V_BOOL && slow->u.b ? ", slow" : "", d ? d : "");
        for (size_t k = 0; opts != NULL && opts->type == TN_V_ARR && k < opts->u.a.n; k++)
            print_option(out, &opts->u.a.items[k]);
        shown++;
    }
    return shown;
}

int tn_cli_call_help(tn_cli_globals_t *g, const char *method) {
    tn_cli_call_usage(stdout);
    int code = 0;
    tn_client_t *cl = tn_cli_connect(g, g->timeout_ms, &code);
    if (cl == NULL) {
        fputs("\n(the server is not reachable, so its methods cannot be listed)\n", stdout);
        return 0;
    }
    tn_val_t res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    if (tn_client_call(cl, "server.methods", NULL, &res, &err) != TN_OK) {
        code = tn_cli_report_call_error(cl, &err);
    } else {
        fputs("\nMethods (as the server describes them; options: type, range, default):\n", stdout);
        if (print_methods(stdout, &res, method) == 0 && method != NULL)
            printf("  no method %s on this server\n", method);
    }
    tn_val_free(&res);
    tn_error_clear(&err);
    tn_client_close(cl);
    return code;
}
