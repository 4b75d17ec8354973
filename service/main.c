/*
 * main.c -- twinnetd: parse the command line, load the data, serve.
 *
 * The flags are one table (flags[] below): parsing and --help are both
 * read from it, so a flag cannot be accepted without being documented or
 * the other way round. Adding a flag is one row; most rows reuse a generic
 * setter (a string, a switch, a bounded integer) that writes the field the
 * row names by offset.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "dataset.h"
#include "log.h"
#include "qpool.h"
#include "qwarm.h"
#include "registry.h"
#include "server.h"
#include "store.h"

/* Everything the command line sets. */
typedef struct opts {
    tn_config_t cfg;
    tn_store_opts_t sopts;
    int empty;
    tn_dataset_t dataset;  /* what a new graph starts from (--dataset) */
    const char *data_dir;
    const char *tokens;
    int workers;                  /* igraph worker processes; 0: the igraph thread */
    int test_hooks;
} opts_t;

/* What a setter tells the parser. */
typedef enum { FLAG_OK, FLAG_EXIT, FLAG_BAD } flag_rc_t;

/* The C type of the field an integer flag writes. */
typedef enum { INT_SIZE, INT_INT, INT_U64 } int_kind_t;

typedef struct flag flag_t;
typedef flag_rc_t (*flag_set_fn)(const flag_t *f, opts_t *o, const char *v);

struct flag {
    const char *name;
    const char *alias;     /* another spelling, or NULL */
    const char *arg;       /* the value's name in --help; NULL: takes no value */
    const char *help;      /* lines after the first start with '\n' */
    flag_set_fn set;
    size_t off;            /* the field in opts_t, for the generic setters */
    /* Integer flags: values outside [lo, hi] are not of the wanted form
     * ("wants a positive integer"); above cap (if nonzero) they are refused
     * as too large, naming the cap and cap_unit. */
    int_kind_t kind;
    size_t lo, hi, cap;
    const char *cap_unit;
};

static void *field(opts_t *o, const flag_t *f) {
    return (char *) o + f->off;
}

static int parse_size(const char *s, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s || s[0] == '-')
        return -1;
    *out = (size_t) v;
    return 0;
}

/* "HOST:PORT", "[v6]:PORT" or ":PORT". */
static int parse_hostport(const char *s, char *hostbuf, size_t hostlen, int *port_out) {
    const char *colon = strrchr(s, ':');
    if (colon == NULL)
        return -1;
    size_t hl = (size_t) (colon - s);
    const char *host = s;
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        host = s + 1;
        hl -= 2;
    }
    if (hl >= hostlen)
        return -1;
    if (hl > 0) {
        memcpy(hostbuf, host, hl);
        hostbuf[hl] = '\0';
    }
    size_t port;
    if (parse_size(colon + 1, &port) != 0 || port > 65535)
        return -1;
    *port_out = (int) port;
    return 0;
}

static int parse_listen(const char *s, tn_config_t *cfg) {
    return parse_hostport(s, cfg->host, sizeof cfg->host, &cfg->port);
}

/* ---- generic setters: the row says which field ---- */

static flag_rc_t set_str(const flag_t *f, opts_t *o, const char *v) {
    *(const char **) field(o, f) = v;
    return FLAG_OK;
}

static flag_rc_t set_switch(const flag_t *f, opts_t *o, const char *v) {
    (void) v;
    *(int *) field(o, f) = 1;
    return FLAG_OK;
}

static flag_rc_t set_int(const flag_t *f, opts_t *o, const char *v) {
    size_t n;
    if (parse_size(v, &n) != 0 || n < f->lo || n > f->hi) {
        fprintf(stderr, "twinnetd: %s wants a %s integer, got '%s'\n", f->name,
                f->lo > 0 ? "positive" : "non-negative", v);
        return FLAG_BAD;
    }
    if (f->cap != 0 && n > f->cap) {
        fprintf(stderr, "twinnetd: %s is at most %zu%s\n", f->name, f->cap,
                f->cap_unit ? f->cap_unit : "");
        return FLAG_BAD;
    }
    switch (f->kind) {
    case INT_SIZE: *(size_t *) field(o, f) = n; break;
    case INT_INT:  *(int *) field(o, f) = (int) n; break;
    case INT_U64:  *(uint64_t *) field(o, f) = (uint64_t) n; break;
    }
    return FLAG_OK;
}

/* ---- setters of one flag each ---- */

static void usage(FILE *out);

static flag_rc_t set_help(const flag_t *f, opts_t *o, const char *v) {
    (void) f, (void) o, (void) v;
    usage(stdout);
    return FLAG_EXIT;
}

static flag_rc_t set_version(const flag_t *f, opts_t *o, const char *v) {
    (void) f, (void) o, (void) v;
    printf("twinnetd %s\n", TN_VERSION);
    return FLAG_EXIT;
}

/* A flag's value was refused: "twinnetd: <what>, got '<v>'". */
static flag_rc_t bad_value(const char *what, const char *v) {
    fprintf(stderr, "twinnetd: %s, got '%s'\n", what, v);
    return FLAG_BAD;
}

static flag_rc_t set_listen(const flag_t *f, opts_t *o, const char *v) {
    (void) f;
    return parse_listen(v, &o->cfg) == 0 ? FLAG_OK : bad_value("--listen wants HOST:PORT", v);
}

/* --http HOST:PORT or none. Given on the command line, a failed bind is
 * an error; the default address only warns (the port may be taken). */
static flag_rc_t set_http(const flag_t *f, opts_t *o, const char *v) {
    (void) f;
    if (strcmp(v, "none") == 0) {
        o->cfg.http_port = -1;
    } else if (parse_hostport(v, o->cfg.http_host, sizeof o->cfg.http_host, &o->cfg.http_port) != 0) {
        return bad_value("--http wants HOST:PORT or none", v);
    }
    o->cfg.http_required = 1;
    return FLAG_OK;
}

static flag_rc_t set_fsync(const flag_t *f, opts_t *o, const char *v) {
    (void) f;
    return tn_fsync_parse(v, &o->sopts.fsync) == 0 ? FLAG_OK : bad_value("--fsync is always, everysec or no", v);
}

static flag_rc_t set_log_level(const flag_t *f, opts_t *o, const char *v) {
    (void) f, (void) o;
    static const char *const lv[] = { "debug", "info", "warn", "error" };
    for (int k = 0; k < 4; k++)
        if (strcmp(v, lv[k]) == 0) {
            tn_log_set_level((tn_log_level_t) k);
            return FLAG_OK;
        }
    fprintf(stderr, "twinnetd: unknown log level '%s'\n", v);
    return FLAG_BAD;
}

static flag_rc_t set_dataset(const flag_t *f, opts_t *o, const char *v) {
    (void) f;
    return tn_dataset_parse(v, &o->dataset) == 0 ? FLAG_OK : bad_value("--dataset is hunan+china or hunan", v);
}

/* ---- the table ---- */

#define OFF(member) offsetof(opts_t, member)
#define STR(name, arg, member, help) { name, NULL, arg, help, set_str, OFF(member), 0, 0, 0, 0, NULL }
#define SWITCH(name, member, help) { name, NULL, NULL, help, set_switch, OFF(member), 0, 0, 0, 0, NULL }
#define CUSTOM(name, alias, arg, fn, help) { name, alias, arg, help, fn, 0, 0, 0, 0, 0, NULL }
/* An integer in [lo, hi], at most cap (0: no cap beyond hi). */
#define INT(name, member, kind, lo, hi, cap, unit, help) \
    { name, NULL, "N", help, set_int, OFF(member), kind, lo, hi, cap, unit }

#define ONE_TB ((size_t) 1 << 40)

static const flag_t flags[] = {
    CUSTOM("--listen", NULL, "HOST:PORT", set_listen,
           "listen address (default 127.0.0.1:7700; port 0 = any free)"),
    CUSTOM("--http", NULL, "HOST:PORT", set_http,
           "read-only HTTP port: dashboard, /metrics, /api, /events"
           "\n(default 127.0.0.1:7701; none = off; same token rules)"),
    STR("--http-port-file", "FILE", cfg.http_port_file,
        "write the bound HTTP port to FILE once listening"),
    STR("--home", "ID", cfg.home, "the home node (default CN-430000, Hunan)"),
    STR("--data", "DIR", data_dir,
        "keep the graph in DIR (snapshot + journal); without it the"
        "\ngraph lives in memory only. A new DIR starts from the"
        "\nbuilt-in dataset (--dataset), or empty with --empty"),
    CUSTOM("--dataset", NULL, "NAME", set_dataset,
           "built-in data to start from: hunan+china (default: Hunan's"
           "\nverified pairs and the other Chinese provinces' pairs as"
           "\npeer evidence) or hunan (Hunan's verified pairs alone)"),
    CUSTOM("--fsync", NULL, "POLICY", set_fsync,
           "always (default: fsync before each reply), everysec, no"),
    INT("--compact-bytes", sopts.compact_bytes, INT_U64, 1, SIZE_MAX, 0, NULL,
        "write a new snapshot when the journal passes N bytes (64 MiB)"),
    SWITCH("--empty", empty, "start with an empty graph instead of the built-in dataset"),
    SWITCH("--accept-lost-changes", sopts.accept_lost,
           "start although the audit trail records changes the journal"
           "\nlost (docs/durability.md); new epochs go above them"),
    STR("--tokens", "FILE", tokens,
        "access tokens, one 'role name token' per line (mode 600);"
        "\nrequired to listen on a non-loopback address"),
    { "--idle-timeout", NULL, "S", "close connections idle S seconds (default 300, 0 = never)",
      set_int, OFF(cfg.idle_timeout_s), INT_INT, 0, 86400000, 0, NULL },
    { "--message-timeout", NULL, "MS", "a started message must complete within MS (default 10000)",
      set_int, OFF(cfg.message_timeout_ms), INT_INT, 0, 86400000, 0, NULL },
    INT("--max-connections", cfg.max_connections, INT_SIZE, 1, SIZE_MAX, 0, NULL, "default 1024"),
    INT("--max-request-bytes", cfg.limits.max_bytes, INT_SIZE, 1, SIZE_MAX, 0, NULL,
        "default 8388608 (8 MiB)"),
    INT("--max-depth", cfg.limits.max_depth, INT_INT, 1, SIZE_MAX, TN_FRAME_MAX_DEPTH, NULL,
        "nesting of arrays/maps, default 16 (at most 32)"),
    INT("--max-queued", cfg.max_queued, INT_SIZE, 1, SIZE_MAX, 0, NULL,
        "queued jobs per worker before 'busy', default 1024"),
    INT("--max-staged-records", cfg.max_staged_records, INT_SIZE, 1, SIZE_MAX, 0, NULL,
        "records staged by all streamed imports together before"
        "\nimport.chunk answers 'busy', default 20000000"),
    INT("--max-inflight", cfg.max_inflight, INT_SIZE, 1, ONE_TB, 0, NULL,
        "answers one client may be owed before the server stops"
        "\nreading it (pipelining backpressure), default 64"),
    INT("--output-soft", cfg.out_soft, INT_SIZE, 1, ONE_TB, 0, NULL,
        "unsent reply bytes above which a client is not read, 256 KiB"),
    INT("--output-hard", cfg.out_hard, INT_SIZE, 1, ONE_TB, 0, NULL,
        "unsent reply bytes above which it is disconnected, 64 MiB"),
    { "--auth-timeout", NULL, "S", "with --tokens: seconds to authenticate, default 10",
      set_int, OFF(cfg.auth_timeout_s), INT_INT, 1, ONE_TB, 86400, " seconds" },
    { "--workers", NULL, "N", "igraph worker processes: queries run in parallel and"
      "\nbetweenness/closeness/harmonic split over them (default: one"
      "\nper online CPU; 0: one igraph thread in the daemon)",
      set_int, OFF(workers), INT_INT, 0, 1000000, TN_MAX_WORKERS, NULL },
    SWITCH("--test-hooks", test_hooks, "honour TN_TEST_* variables that crash workers (tests only)"),
    STR("--port-file", "FILE", cfg.port_file, "write the bound port to FILE once listening"),
    CUSTOM("--log-level", NULL, "LEVEL", set_log_level, "debug, info (default), warn, error"),
    CUSTOM("--version", NULL, NULL, set_version, "print the version and exit"),
    CUSTOM("--help", "-h", NULL, set_help, "this text"),
};

#define NFLAGS (sizeof flags / sizeof flags[0])

/* Each flag's line, then its help; continuation lines line up under it. */
static void usage(FILE *out) {
    fprintf(out, "usage: twinnetd [options]\n");
    for (size_t i = 0; i < NFLAGS; i++) {
        const flag_t *f = &flags[i];
        char head[64];
        snprintf(head, sizeof head, "%s%s%s%s%s", f->name, f->alias ? ", " : "",
                 f->alias ? f->alias : "", f->arg ? " " : "", f->arg ? f->arg : "");
        fprintf(out, "  %-25s ", head);
        for (const char *h = f->help; *h; ) {
            const char *nl = strchr(h, '\n');
            size_t len = nl ? (size_t) (nl - h) : strlen(h);
            fprintf(out, "%.*s\n", (int) len, h);
            if (nl == NULL)
                break;
            fprintf(out, "  %-25s ", "");
            h = nl + 1;
        }
    }
}

static const flag_t *find_flag(const char *a) {
    for (size_t i = 0; i < NFLAGS; i++)
        if (strcmp(a, flags[i].name) == 0 || (flags[i].alias && strcmp(a, flags[i].alias) == 0))
            return &flags[i];
    return NULL;
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, opts_t *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const flag_t *f = find_flag(a);
        if (f == NULL) {
            fprintf(stderr, "twinnetd: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        const char *v = NULL;
        if (f->arg) {
            if (i + 1 >= argc) {
                fprintf(stderr, "twinnetd: %s needs a value\n", a);
                return 2;
            }
            v = argv[++i];
        }
        switch (f->set(f, o, v)) {
        case FLAG_OK: break;
        case FLAG_EXIT: return 0;
        case FLAG_BAD: return 2;
        }
    }
    return -1;
}

/* One igraph worker process per online CPU, so independent queries use
 * every core; at least one (0 is the opt-out to the daemon's thread). */
static int default_workers(void) {
#ifdef __SANITIZE_ADDRESS__
    /* gcc 12's AddressSanitizer allocator is not fork-safe in a threaded
     * process: a child forked while another thread holds one of its locks
     * hangs in its first malloc (seen in the sanitizer pass). There the
     * default is the daemon's igraph thread; --workers N still forks. */
    return 0;
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > TN_MAX_WORKERS ? TN_MAX_WORKERS : (int) n;
}

/* Without tokens the server is for this machine only (docs/security.md):
 * loopback addresses are 127.0.0.0/8 and ::1. */
static int is_loopback(const char *host) {
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

int main(int argc, char **argv) {
    /* A resident query worker (qwarm.h), started by the daemon itself. */
    if (argc == 2 && strcmp(argv[1], TN_QWARM_ARG) == 0)
        return tn_qwarm_main(3);
    opts_t o = { .sopts = { TN_FSYNC_ALWAYS, 0, TN_DATASET_DEFAULT, tn_registry_change_kind, 0 },
                 .dataset = TN_DATASET_DEFAULT, .workers = default_workers() };
    tn_config_default(&o.cfg);
    int rc0 = parse_args(argc, argv, &o);
    if (rc0 >= 0)
        return rc0;
    tn_config_t cfg = o.cfg;
    /* Keep freed memory for reuse: every epoch allocates and frees arrays
     * of the graph's size, and on this kind of virtual machine a page
     * fault costs about 11 us, so handing them back to the kernel and
     * faulting them in again cost more than the work done in them. Blocks
     * up to 32 MiB come from the heap, and up to 64 MiB of free space
     * stays at its top. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    tn_qpool_configure(o.workers, o.test_hooks);
    tn_store_opts_t sopts = o.sopts;
    int empty = o.empty;
    const char *data_dir = o.data_dir;
    const char *tokens = o.tokens;
    if (cfg.out_soft >= cfg.out_hard) {
        fprintf(stderr, "twinnetd: --output-soft (%zu) must be below --output-hard (%zu)\n",
                cfg.out_soft, cfg.out_hard);
        return 2;
    }
    if (tokens) {
        char aerr[512];
        if ((cfg.auth = tn_auth_load(tokens, aerr, sizeof aerr)) == NULL) {
            fprintf(stderr, "twinnetd: %s\n", aerr);
            return 2;
        }
    } else if (cfg.http_port >= 0 && !is_loopback(cfg.http_host)) {
        fprintf(stderr,
                "twinnetd: refusing to serve HTTP on %s: without a token file the HTTP port, like "
                "the RPC port, accepts loopback addresses only. Start with --tokens FILE, or "
                "--http 127.0.0.1:PORT, or --http none.\n",
                cfg.http_host);
        return 2;
    } else if (!is_loopback(cfg.host)) {
        fprintf(stderr,
                "twinnetd: refusing to listen on %s: without a token file the server accepts "
                "loopback addresses only (127.0.0.1, ::1). Create a file with one "
                "'role name token' line per user (roles read, write, admin; tokens of at least "
                "%d characters, e.g. from `openssl rand -hex 24`), chmod 600 it, and start with "
                "--tokens FILE.\n",
                cfg.host, TN_TOKEN_MIN);
        return 2;
    }

    tn_model_t *model = NULL;
    tn_store_t *store = NULL;
    tn_error_t lerr = TN_ERROR_INIT;
    if (data_dir) {
        sopts.seed_dataset = empty ? TN_DATASET_NONE : o.dataset;
        if (tn_store_open(data_dir, &sopts, cfg.home, &store, &model, &lerr) != TN_OK) {
            fprintf(stderr, "twinnetd: cannot start from %s: %s\n", data_dir, lerr.message);
            tn_error_clear(&lerr);
            goto fail;
        }
    } else {
        model = tn_model_new(cfg.home);
        if (model == NULL) {
            fprintf(stderr, "twinnetd: out of memory\n");
            goto fail;
        }
        if (!empty && tn_dataset_load(model, o.dataset, &lerr) != TN_OK) {
            fprintf(stderr, "twinnetd: the built-in dataset does not load: %s: %s\n",
                    tn_code_name(lerr.code), lerr.message);
            tn_error_clear(&lerr);
            tn_model_free(model);
            goto fail;
        }
    }
    char err[256];
    tn_server_t *srv = tn_server_new(&cfg, model, store, err, sizeof err);
    if (srv == NULL) {
        fprintf(stderr, "twinnetd: %s\n", err);
        goto fail;
    }
    int rc = tn_server_run(srv);
    tn_server_free(srv);
    tn_auth_free(cfg.auth);
    return rc == 0 ? 0 : 1;
fail:
    tn_auth_free(cfg.auth);
    return 1;
}
