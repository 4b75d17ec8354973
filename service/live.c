/*
 * live.c -- the live figures, and their splice into a cached encoded map
 * (live.h).
 *
 * A MessagePack map is a header (its entry count) followed by its entries,
 * so adding one entry is a new header, the old entries' bytes as they
 * are, and the new key and value. The "server" entry is written by hand
 * (rawrpc.h) into the very bytes the codec would encode from the tree
 * tn_m_live_figures builds: no tree, no allocation per request.
 */
#include "live.h"

#include <stdlib.h>
#include <string.h>

#include "rawrpc.h"
#include "server_state.h"

static char *obuf;                  /* the loop thread's reply buffer */
static size_t ocap;

void tn_live_gather(const struct tn_server *srv, uint64_t now_ns, tn_live_figures_t *f) {
    f->uptime_s = (int64_t) (now_ns / 1000000000u) - (int64_t) srv->started.tv_sec;
    f->connections = (int64_t) srv->nconns;
    f->requests_total = (int64_t) srv->stats.requests_total;
    f->errors_total = (int64_t) srv->stats.errors_total;
    f->p50_us = (int64_t) tn_stats_quantile(&srv->stats, 0.50);
    f->p99_us = (int64_t) tn_stats_quantile(&srv->stats, 0.99);
}

/* A string key, then a non-negative integer, as the codec writes them. */
static size_t put_key(uint8_t *out, const char *key) {
    size_t n = strlen(key);
    size_t h = tn_raw_str_head(out, (uint32_t) n);
    memcpy(out + h, key, n);
    return h + n;
}

static size_t put_int(uint8_t *out, const char *key, int64_t v) {
    size_t o = put_key(out, key);
    return o + tn_raw_uint(out + o, v < 0 ? 0 : (uint64_t) v);
}

/* The "server" entry (key and value): at most SERVER_ENTRY_MAX bytes. */
#define SERVER_ENTRY_MAX 160
static size_t put_server_entry(uint8_t *out, const tn_live_figures_t *f) {
    size_t o = put_key(out, "server");
    o += tn_raw_map_head(out + o, 5);
    o += put_int(out + o, "uptime_s", f->uptime_s);
    o += put_int(out + o, "connections", f->connections);
    o += put_int(out + o, "requests_total", f->requests_total);
    o += put_int(out + o, "errors_total", f->errors_total);
    o += put_key(out + o, "latency_us");
    o += tn_raw_map_head(out + o, 2);
    o += put_int(out + o, "p50", f->p50_us);
    o += put_int(out + o, "p99", f->p99_us);
    return o;
}

int tn_live_reply(struct tn_server *srv, const tn_call_t *call, const char *enc, size_t len) {
    const unsigned char *p = (const unsigned char *) enc;
    size_t n, hdr;
    if (enc == NULL || len == 0)
        return -1;
    if (p[0] >= 0x80 && p[0] <= 0x8f)
        n = p[0] & 0x0f, hdr = 1;
    else if (p[0] == 0xde && len >= 3)
        n = (size_t) p[1] << 8 | p[2], hdr = 3;
    else
        return -1;                  /* not a map, or one too big to bother */
    if (n + 1 > 0xffff)
        return -1;
    size_t need = 3 + (len - hdr) + SERVER_ENTRY_MAX;
    if (need > ocap) {
        char *q = realloc(obuf, need);
        if (q == NULL)
            return -1;
        obuf = q;
        ocap = need;
    }
    tn_live_figures_t f;
    tn_live_gather(srv, call->t0, &f);
    size_t o = tn_raw_map_head((uint8_t *) obuf, (uint32_t) (n + 1));
    memcpy(obuf + o, enc + hdr, len - hdr);
    o += len - hdr;
    o += put_server_entry((uint8_t *) obuf + o, &f);
    tn_reply_encoded(call, obuf, o);
    return 0;
}
