/*
 * server_state.h -- the server's state, shared by the files that serve
 * requests (dispatch.c, the method handlers, conn.c, server.c). It knows
 * no transport: connections are conn.c's, callers (caller.h) are all the
 * rest see of them.
 */
#ifndef TN_SERVER_STATE_H
#define TN_SERVER_STATE_H

#include <stdint.h>
#include <time.h>

#include "cache.h"
#include "caller.h"
#include "config.h"
#include "jobs.h"
#include "mstats.h"
#include "snap.h"
#include "stats.h"
#include "writer.h"

struct event_base;
struct evconnlistener;
struct event;
struct tn_conn;

typedef struct tn_server tn_server_t;

/* Failed-auth pacing per client address (m_auth.c). */
#define TN_AUTH_PENALTY_MAX 1024
typedef struct auth_penalty {
    char addr[64];
    uint64_t next_ns;             /* the next failure from here is answered then */
} auth_penalty_t;

struct tn_server {
    tn_config_t cfg;
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *sigint, *sigterm;
    struct event *progress_timer; /* reports query progress every 200 ms */
    int port;
    tn_writer_t *writer;          /* owns the live model (write thread) */
    tn_snap_t *snap;              /* the published snapshot queries run on */
    uint64_t epoch;               /* its epoch, as the loop last saw it */
    tn_jobs_t *jobs;
    /* Query jobs in flight (for cancel and progress), doubly linked. An
     * index, never an owner: jobs.c owns each job from submit until it hands
     * it back (or it is withdrawn); tn_jobs_stop frees the rest. */
    tn_job_t *live;
    struct tn_conn *conns;        /* conn.c's list */
    size_t nconns;
    tn_caller_t **subs;           /* metrics.subscribe: callers held by reference */
    size_t nsubs, subs_cap;
    tn_cache_t cache;             /* answers of the current epoch */
    auth_penalty_t *penalty;      /* TN_AUTH_PENALTY_MAX entries */
    size_t npenalty;
    uint64_t auth_fail_next_ns;   /* the server-wide failed-auth budget's next slot */
    size_t staged_records;        /* streamed-import records staged by all callers */
    tn_stats_t stats;
    tn_mstats_t mstats;           /* answers by method and code (GET /metrics) */
    uint64_t cache_hits, cache_misses;
    struct tn_http *http;         /* the HTTP side port (http.h); NULL when off */
    struct timespec started;
    /* Reused encode buffer of the RPC transport (conn.c, loop thread only). */
    char *obuf;
    size_t olen, ocap;
};

int64_t tn_server_uptime_s(const tn_server_t *srv);

#endif
