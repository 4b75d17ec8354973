/*
 * main.c -- twinnetd: parse the command line, load the data, serve.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "dataset.h"
#include "log.h"
#include "server.h"
#include "store.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: twinnetd [options]\n"
            "  --listen HOST:PORT        listen address (default 127.0.0.1:7700; port 0 = any free)\n"
            "  --home ID                 the home node (default CN-430000, Hunan)\n"
            "  --data DIR                keep the graph in DIR (snapshot + journal); without it the\n"
            "                            graph lives in memory only. A new DIR starts from the\n"
            "                            built-in dataset (or empty with --empty)\n"
            "  --fsync POLICY            always (default: fsync before each reply), everysec, no\n"
            "  --compact-bytes N         write a new snapshot when the journal passes N bytes (64 MiB)\n"
            "  --empty                   start with an empty graph instead of the built-in dataset\n"
            "  --accept-lost-changes     start although the audit trail records changes the journal\n"
            "                            lost (see docs/durability.md); new epochs go above them\n"
            "  --tokens FILE             access tokens, one 'role name token' per line (mode 600);\n"
            "                            required to listen on a non-loopback address\n"
            "  --idle-timeout S          close connections idle S seconds (default 300, 0 = never)\n"
            "  --message-timeout MS      a started message must complete within MS (default 10000)\n"
            "  --max-connections N       default 1024\n"
            "  --max-request-bytes N     default 8388608 (8 MiB)\n"
            "  --max-depth N             nesting of arrays/maps, default 16 (at most 32)\n"
            "  --max-queued N            queued jobs per worker before 'busy', default 1024\n"
            "  --max-staged-records N    records staged by all streamed imports together before\n"
            "                            import.chunk answers 'busy', default 20000000\n"
            "  --max-inflight N          answers one client may be owed before the server stops\n"
            "                            reading it (pipelining backpressure), default 64\n"
            "  --output-soft N           unsent reply bytes above which a client is not read, 4 MiB\n"
            "  --output-hard N           unsent reply bytes above which it is disconnected, 64 MiB\n"
            "  --auth-timeout S          with --tokens: seconds to authenticate, default 10\n"
            "  --port-file FILE          write the bound port to FILE once listening\n"
            "  --log-level LEVEL         debug, info (default), warn, error\n"
            "  --version, --help\n");
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
static int parse_listen(const char *s, tn_config_t *cfg) {
    const char *colon = strrchr(s, ':');
    if (colon == NULL)
        return -1;
    size_t hl = (size_t) (colon - s);
    const char *host = s;
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        host = s + 1;
        hl -= 2;
    }
    if (hl >= sizeof cfg->host)
        return -1;
    if (hl > 0) {
        memcpy(cfg->host, host, hl);
        cfg->host[hl] = '\0';
    }
    size_t port;
    if (parse_size(colon + 1, &port) != 0 || port > 65535)
        return -1;
    cfg->port = (int) port;
    return 0;
}

/* Without tokens the server is for this machine only (PROTOCOL.md section 5,
 * Auth): loopback addresses are 127.0.0.0/8 and ::1. */
static int is_loopback(const char *host) {
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

int main(int argc, char **argv) {
    tn_config_t cfg;
    tn_config_default(&cfg);
    int empty = 0;
    const char *data_dir = NULL;
    const char *tokens = NULL;
    tn_store_opts_t sopts = { TN_FSYNC_ALWAYS, 0, 1, 0 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t n;
#define NEED_VALUE() do { if (v == NULL) { fprintf(stderr, "twinnetd: %s needs a value\n", a); return 2; } i++; } while (0)
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("twinnetd %s\n", TN_VERSION);
            return 0;
        } else if (strcmp(a, "--empty") == 0) {
            empty = 1;
        } else if (strcmp(a, "--accept-lost-changes") == 0) {
            sopts.accept_lost = 1;
        } else if (strcmp(a, "--max-staged-records") == 0) {
            NEED_VALUE();
            if (parse_size(v, &n) != 0 || n == 0) {
                fprintf(stderr, "twinnetd: --max-staged-records wants a positive integer, got '%s'\n", v);
                return 2;
            }
            cfg.max_staged_records = n;
        } else if (strcmp(a, "--listen") == 0) {
            NEED_VALUE();
            if (parse_listen(v, &cfg) != 0) {
                fprintf(stderr, "twinnetd: --listen wants HOST:PORT, got '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--data") == 0) {
            NEED_VALUE();
            data_dir = v;
        } else if (strcmp(a, "--fsync") == 0) {
            NEED_VALUE();
            if (tn_fsync_parse(v, &sopts.fsync) != 0) {
                fprintf(stderr, "twinnetd: --fsync is always, everysec or no, got '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--compact-bytes") == 0) {
            NEED_VALUE();
            if (parse_size(v, &n) != 0 || n == 0) {
                fprintf(stderr, "twinnetd: --compact-bytes wants a positive integer, got '%s'\n", v);
                return 2;
            }
            sopts.compact_bytes = n;
        } else if (strcmp(a, "--tokens") == 0) {
            NEED_VALUE();
            tokens = v;
        } else if (strcmp(a, "--idle-timeout") == 0 || strcmp(a, "--message-timeout") == 0) {
            NEED_VALUE();
            if (parse_size(v, &n) != 0 || n > 86400000) {
                fprintf(stderr, "twinnetd: %s wants a non-negative integer, got '%s'\n", a, v);
                return 2;
            }
            if (a[2] == 'i')
                cfg.idle_timeout_s = (int) n;
            else
                cfg.message_timeout_ms = (int) n;
        } else if (strcmp(a, "--home") == 0) {
            NEED_VALUE();
            cfg.home = v;
        } else if (strcmp(a, "--port-file") == 0) {
            NEED_VALUE();
            cfg.port_file = v;
        } else if (strcmp(a, "--log-level") == 0) {
            NEED_VALUE();
            static const char *const lv[] = { "debug", "info", "warn", "error" };
            int found = 0;
            for (int k = 0; k < 4; k++)
                if (strcmp(v, lv[k]) == 0) {
                    tn_log_set_level((tn_log_level_t) k);
                    found = 1;
                }
            if (!found) {
                fprintf(stderr, "twinnetd: unknown log level '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--max-inflight") == 0 || strcmp(a, "--output-soft") == 0
                   || strcmp(a, "--output-hard") == 0 || strcmp(a, "--auth-timeout") == 0) {
            NEED_VALUE();
            if (parse_size(v, &n) != 0 || n == 0 || n > ((size_t) 1 << 40)) {
                fprintf(stderr, "twinnetd: %s wants a positive integer, got '%s'\n", a, v);
                return 2;
            }
            if (strcmp(a, "--max-inflight") == 0)
                cfg.max_inflight = n;
            else if (strcmp(a, "--output-soft") == 0)
                cfg.out_soft = n;
            else if (strcmp(a, "--output-hard") == 0)
                cfg.out_hard = n;
            else if (n > 86400) {
                fprintf(stderr, "twinnetd: --auth-timeout is at most 86400 seconds\n");
                return 2;
            } else
                cfg.auth_timeout_s = (int) n;
        } else if (strcmp(a, "--max-connections") == 0 || strcmp(a, "--max-request-bytes") == 0
                   || strcmp(a, "--max-depth") == 0 || strcmp(a, "--max-queued") == 0) {
            NEED_VALUE();
            if (parse_size(v, &n) != 0 || n == 0) {
                fprintf(stderr, "twinnetd: %s wants a positive integer, got '%s'\n", a, v);
                return 2;
            }
            if (strcmp(a, "--max-connections") == 0)
                cfg.max_connections = n;
            else if (strcmp(a, "--max-request-bytes") == 0)
                cfg.limits.max_bytes = n;
            else if (strcmp(a, "--max-queued") == 0)
                cfg.max_queued = n;
            else if (n > TN_FRAME_MAX_DEPTH) {
                fprintf(stderr, "twinnetd: --max-depth is at most %d\n", TN_FRAME_MAX_DEPTH);
                return 2;
            } else
                cfg.limits.max_depth = (int) n;
        } else {
            fprintf(stderr, "twinnetd: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
#undef NEED_VALUE
    }
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
        sopts.seed_builtin = !empty;
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
        if (!empty && tn_dataset_load_builtin(model, &lerr) != TN_OK) {
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
