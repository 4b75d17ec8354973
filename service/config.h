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
    int default_deadline_ms;      /* queries without deadline_ms: 10000 */
    int max_deadline_ms;          /* cap on deadline_ms: 600000 */
    size_t max_import_records;    /* staged records per streamed import: 10M */
    struct tn_auth *auth;         /* tokens; NULL: none (loopback only, all admin) */
    tn_frame_limits_t preauth_limits; /* frames before auth: 4 KiB */
    int max_auth_failures;        /* close after this many: 3 */
    int auth_delay_ms;            /* first failed auth answered after this; doubles: 250 */
    int auth_timeout_s;           /* with tokens: close a client not authenticated by then: 10 */
    int idle_timeout_s;           /* close a connection idle this long: 300 (0 = never) */
    int message_timeout_ms;       /* a started message must complete within: 10000 */
    const char *port_file;        /* if set, write the bound port there (tests) */
} tn_config_t;

void tn_config_default(tn_config_t *cfg);

#endif
