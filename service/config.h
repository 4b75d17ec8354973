/*
 * config.h -- the server's configuration (what main.c's flags set).
 */
#ifndef TN_CONFIG_H
#define TN_CONFIG_H

#include <stddef.h>

#include "frame.h"

typedef struct tn_config {
    char host[256];               /* listen address; default 127.0.0.1 */
    int port;                     /* default 7700; 0 = any free port */
    const char *home;             /* NULL = CN-430000 */
    size_t max_connections;       /* default 1024 */
    tn_frame_limits_t limits;     /* request size, depth, items, strings */
    size_t max_queued;            /* per worker queue; default 1024 */
    size_t max_inflight;          /* answers one connection may be owed before we stop
                                     reading it (pipelining backpressure); default 64 */
    size_t out_soft;              /* stop reading a client whose unsent replies pass this */
    size_t out_hard;              /* and close it past this */
    size_t preauth_out_soft;      /* the same before auth: 2 KiB */
    size_t preauth_out_hard;      /* 16 KiB */
    int close_linger_ms;          /* a closing connection's replies must drain within: 2000 */
    int default_deadline_ms;      /* queries without deadline_ms: 10000 */
    int max_deadline_ms;          /* cap on deadline_ms: 600000 */
    size_t max_import_records;    /* staged records per streamed import: 10M */
    size_t max_staged_records;    /* staged records of all imports together: 20M */
    struct tn_auth *auth;         /* tokens; NULL: none (loopback only, all admin) */
    tn_frame_limits_t preauth_limits; /* frames before auth: 4 KiB */
    int max_auth_failures;        /* close after this many: 3 */
    int auth_delay_ms;            /* first failed auth answered after this; doubles: 250 */
    int auth_fail_rate;           /* failed auths answered per second, server-wide: 5 */
    int auth_timeout_s;           /* with tokens: close a client not authenticated by then: 10 */
    int idle_timeout_s;           /* close a connection idle this long: 300 (0 = never) */
    int message_timeout_ms;       /* a started message must complete within: 10000 */
    const char *port_file;        /* if set, write the bound port there (tests) */
    /* HTTP side port (http.h). */
    char http_host[256];          /* default 127.0.0.1 */
    int http_port;                /* default 7701; 0 = any free; -1 = no HTTP port */
    int http_required;            /* 0: the default address; a failed bind is only a warning */
    size_t http_max_connections;  /* HTTP connections at once: 128 */
    size_t http_max_events;       /* /events clients at once: 32 */
    int http_timeout_s;           /* an idle or slow HTTP client is closed after: 15 */
    const char *http_port_file;   /* if set, write the bound HTTP port there (tests) */
} tn_config_t;

void tn_config_default(tn_config_t *cfg);

#endif
