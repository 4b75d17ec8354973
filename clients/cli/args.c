/*
 * args.c -- argument parsing helpers of the `twinnet` CLI: numbers, the
 * "--flag=value" form, global options, query options, and usage errors.
 *
 * Only what is needed to build a request is checked here (a number is a
 * number); the server owns validation.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void tn_cli_show_usage(FILE *out, const tn_cli_cmd_t *c, int is_call) {
    if (c)
        tn_cli_cmd_usage(out, c);
    else if (is_call)
        tn_cli_call_usage(out);
    else
        tn_cli_usage(out);
}

/* The first part of a usage error: "twinnet: <message>" and a blank line. */
static void say_bad_args(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void say_bad_args(const char *fmt, va_list ap) {
    fputs("twinnet: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n\n", stderr);
}

void tn_cli_bad_args(const tn_cli_cmd_t *c, int is_call, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say_bad_args(fmt, ap);
    va_end(ap);
    tn_cli_show_usage(stderr, c, is_call);
    exit(TN_EXIT_USAGE);
}

void tn_cli_xbad(void (*use)(FILE *), const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say_bad_args(fmt, ap);
    va_end(ap);
    use(stderr);
    exit(TN_EXIT_USAGE);
}

int tn_cli_parse_ll(const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return 0;
    *out = v;
    return 1;
}

int tn_cli_parse_num(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

size_t tn_cli_split_flag(const char *arg, const char **value) {
    const char *eq = strchr(arg, '=');
    *value = eq ? eq + 1 : NULL;
    return eq ? (size_t) (eq - arg) : strlen(arg);
}

int tn_cli_is_help(int argc, char **argv, int i) {
    return strcmp(argv[i], "--help") == 0 || (strcmp(argv[i], "-h") == 0 && i + 1 >= argc);
}

int tn_cli_take_global(int argc, char **argv, int *i, tn_cli_globals_t *g, const tn_cli_cmd_t *c,
                       int is_call) {
    const char *a = argv[*i], *val;
    size_t n = tn_cli_split_flag(a, &val);
    static const char *const with_value[] = { "--host", "--port", "--timeout", "--color" };
    /* Short forms as in redis-cli: -h HOST, -p PORT (no "=" form). */
    if (strcmp(a, "-h") == 0 || strcmp(a, "-p") == 0) {
        n = strlen(with_value[a[1] == 'h' ? 0 : 1]);
        a = with_value[a[1] == 'h' ? 0 : 1];
        val = NULL;
    }
    if (n == 6 && strncmp(a, "--json", n) == 0) {
        if (val)
            tn_cli_bad_args(c, is_call, "--json takes no value");
        g->json = 1;
        return 1;
    }
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++) {
        if (strlen(with_value[k]) != n || strncmp(a, with_value[k], n) != 0)
            continue;
        if (val == NULL) {
            if (*i + 1 >= argc)
                tn_cli_bad_args(c, is_call, "%s needs a value", argv[*i]);
            val = argv[++*i];
        }
        long long p;
        double secs;
        if (k == 0) {
            g->host = val;
        } else if (k == 1) {
            if (!tn_cli_parse_ll(val, &p) || p < 1 || p > 65535)
                tn_cli_bad_args(c, is_call, "--port must be a number in 1..65535, got \"%s\"", val);
            g->port = (int) p;
        } else if (k == 2) {
            if (!tn_cli_parse_num(val, &secs) || secs <= 0 || secs > 86400)
                tn_cli_bad_args(c, is_call, "--timeout must be a number of seconds, got \"%s\"", val);
            g->timeout_ms = (int) ceil(secs * 1000);
            g->timeout_set = 1;
        } else {
            int mode = strcmp(val, "auto") == 0     ? TN_COLOR_AUTO
                       : strcmp(val, "always") == 0 ? TN_COLOR_ALWAYS
                       : strcmp(val, "never") == 0  ? TN_COLOR_NEVER
                                                    : -1;
            if (mode < 0)
                tn_cli_bad_args(c, is_call, "--color is auto, always or never, got \"%s\"", val);
            tn_cli_set_color(mode);
        }
        return 1;
    }
    return 0;
}

const tn_cli_opt_t *tn_cli_take_flag(int argc, char **argv, int *i, const tn_cli_cmd_t *c, const char **val) {
    const char *a = argv[*i];
    size_t n = tn_cli_split_flag(a, val);
    const tn_cli_opt_t *o = c->opts;
    for (; o->flag; o++)
        if (strlen(o->flag) == n && strncmp(o->flag, a, n) == 0)
            break;
    if (o->flag == NULL)
        tn_cli_bad_args(c, 0, "unknown option %.*s for %s", (int) n, a, c->name);
    int flag = o->kind == TN_ARG_FLAG || o->kind == TN_ARG_FLAG_OFF;
    if (flag && *val)
        tn_cli_bad_args(c, 0, "%s takes no value", o->flag);
    if (!flag && *val == NULL) {
        if (*i + 1 >= argc)
            tn_cli_bad_args(c, 0, "%s needs a value (%s)", o->flag, o->meta);
        *val = argv[++*i];
    }
    return o;
}

void tn_cli_add_option(const tn_cli_cmd_t *c, tn_val_t *opts, const tn_cli_opt_t *o, const char *val) {
    long long i;
    double d;
    if (tn_map_get(opts, o->key))
        tn_cli_bad_args(c, 0, "%s given twice", o->flag);
    int rc = 0;
    switch (o->kind) {
    case TN_ARG_FLAG:
    case TN_ARG_FLAG_OFF:
        rc = tn_map_add_bool(opts, o->key, o->kind == TN_ARG_FLAG);
        break;
    case TN_ARG_INT:
        if (!tn_cli_parse_ll(val, &i))
            tn_cli_bad_args(c, 0, "%s needs an integer, got \"%s\"", o->flag, val);
        rc = tn_map_add_int(opts, o->key, i);
        break;
    case TN_ARG_NUM:
        if (!tn_cli_parse_num(val, &d))
            tn_cli_bad_args(c, 0, "%s needs a number, got \"%s\"", o->flag, val);
        rc = tn_map_add_float(opts, o->key, d);
        break;
    case TN_ARG_YEAR:
        rc = tn_cli_parse_ll(val, &i) ? tn_map_add_int(opts, o->key, i) : tn_map_add_str(opts, o->key, val);
        break;
    case TN_ARG_STR:
        rc = tn_map_add_str(opts, o->key, val);
        break;
    }
    if (rc != 0)
        tn_cli_die_oom();
}
