/*
 * config.c -- the server's defaults (config.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

void tn_config_default(tn_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 7700;
    cfg->max_connections = 1024;
    tn_frame_limits_default(&cfg->limits);
    cfg->max_queued = 1024;
    cfg->max_inflight = 64;
    cfg->out_soft = 256u << 10;
    cfg->out_hard = 64u << 20;
    cfg->preauth_out_soft = 2048;
    cfg->preauth_out_hard = 16384;
    cfg->close_linger_ms = 2000;
    cfg->default_deadline_ms = 10000;
    cfg->max_deadline_ms = 600000;
    cfg->max_import_records = 10000000;
    cfg->max_staged_records = 20000000;
    cfg->preauth_limits = (tn_frame_limits_t){ 4096, 4, 16, 1024 };
    cfg->max_auth_failures = 3;
    cfg->auth_delay_ms = 250;
    cfg->auth_fail_rate = 5;
    cfg->idle_timeout_s = 300;
    cfg->message_timeout_ms = 10000;
    cfg->auth_timeout_s = 10;
    snprintf(cfg->http_host, sizeof cfg->http_host, "127.0.0.1");
    cfg->http_port = 7701;
    cfg->http_max_connections = 128;
    cfg->http_max_events = 32;
    cfg->http_timeout_s = 15;
}
