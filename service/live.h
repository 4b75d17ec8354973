/*
 * live.h -- the server's live figures, added to every answer of a live
 * query (metrics.get): gathered once (tn_live_gather), then either added
 * to a value tree (handlers.h, tn_m_live_figures) or, for a cached answer,
 * written as MessagePack bytes straight after the cached map's entries
 * (tn_live_reply), instead of copying the value tree and encoding all of
 * it again for every request.
 */
#ifndef TN_LIVE_H
#define TN_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "reply.h"

struct tn_server;

/* {"server": {"uptime_s", "connections", "requests_total",
 * "errors_total", "latency_us": {"p50", "p99"}}} */
typedef struct tn_live_figures {
    int64_t uptime_s;
    int64_t connections;
    int64_t requests_total;
    int64_t errors_total;
    int64_t p50_us, p99_us;
} tn_live_figures_t;

/* The figures at monotonic time now_ns (tn_now_ns). */
void tn_live_gather(const struct tn_server *srv, uint64_t now_ns, tn_live_figures_t *f);

/* Answer 'call' with the encoded map 'enc' plus "server": 0 when
 * answered, -1 when 'enc' is not a map or memory ran out (nothing sent:
 * the caller answers another way). Loop thread only. */
int tn_live_reply(struct tn_server *srv, const tn_call_t *call, const char *enc, size_t len);

#endif
