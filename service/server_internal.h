/*
 * server_internal.h -- what server.c, conn.c and methods.c share: the
 * server and connection structs. Not for other modules.
 */
#ifndef TN_SERVER_INTERNAL_H
#define TN_SERVER_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "codec.h"
#include "frame.h"
#include "hmap.h"
#include "jobs.h"
#include "model.h"
#include "server.h"
#include "snap.h"
#include "stats.h"
#include "writer.h"

struct event_base;
struct evconnlistener;
struct bufferevent;
struct event;

typedef struct tn_conn tn_conn_t;

struct tn_conn {
    tn_server_t *srv;
    uint64_t id;
    char idkey[24];               /* decimal id: key in srv->conn_ids */
    struct bufferevent *bev;
    char peer[64];
    tn_conn_t *prev, *next;
    uint8_t *ibuf;                /* bytes of the message being framed */
    size_t ilen, icap;
    tn_frame_t frame;
    int closing;                  /* reply sent; free once output drains */
    int reading_paused;           /* backpressure: output over the soft limit */
    int subscribed;               /* metrics.subscribe */
    int throttled;                /* too many answers owed: not reading */
    int eof;                      /* peer half-closed: finish replies, then close */
    size_t jobs_in_flight;
    char token_name[64];          /* who authenticated ("" = nobody) */
    const char *role_name;        /* "read", "write", "admin" */
    int role;                     /* the connection's role (methods.c roles) */
    int auth_failures;
    int preauth_refused;          /* calls refused before auth (closed after a few) */
    int auth_pending;             /* a failed auth's reply is being held back */
    uint32_t auth_msgid;
    uint64_t auth_t0;
    struct event *auth_timer;
    struct event *msg_timer;      /* a partial message must complete in time */
    struct event *idle_timer;
    struct event *auth_deadline;  /* with tokens: authenticate within auth_timeout_s */
    struct event *close_timer;    /* closing: output not drained by then is dropped */
    struct tn_import *imports;    /* streamed imports under way */
    size_t nimports;
};

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
    tn_job_t *live;               /* jobs in flight (for cancel), doubly linked */
    tn_conn_t *conns;
    size_t nconns;
    uint64_t next_conn_id;
    tn_hmap_t conn_ids;
    tn_hmap_t cache;              /* result cache of the current epoch: key -> slot */
    struct cache_entry *cache_entries;
    size_t ncache, cache_cap;
    size_t cache_bytes;           /* encoded bytes kept */
    struct auth_penalty *penalty; /* TN_AUTH_PENALTY_MAX entries */
    size_t npenalty;
    size_t staged_records;        /* streamed-import records staged by all connections */
    uint64_t auth_fail_next_ns;   /* the server-wide failed-auth budget's next slot */
    uint64_t cache_epoch;
    tn_stats_t stats;
    struct timespec started;
    /* Reused encode buffer (loop thread only). */
    char *obuf;
    size_t olen, ocap;
};

/* Failed-auth pacing per client address (methods.c). */
#define TN_AUTH_PENALTY_MAX 1024
typedef struct auth_penalty {
    char addr[64];
    uint64_t next_ns;             /* the next failure from here is answered then */
} auth_penalty_t;

typedef struct cache_entry {
    char *key;
    tn_val_t result;
    char *enc;                    /* the result, encoded once (MessagePack) */
    size_t enc_len;
} cache_entry_t;

/* auth_pace.c: in how many ms a failed auth from peer may be answered. */
int tn_auth_pace_ms(tn_server_t *srv, const char *peer, int conn_delay_ms);

/* conn.c */
void tn_conn_accept(tn_server_t *srv, int fd, const char *peer);
tn_conn_t *tn_conn_find(tn_server_t *srv, uint64_t id);
/* Queue bytes for the client (applies the output limits). */
void tn_conn_send(tn_conn_t *c, const char *buf, size_t len);
void tn_conn_free(tn_conn_t *c);
void tn_conn_close_after_flush(tn_conn_t *c);
/* Stop / resume reading requests (auth delay). */
void tn_conn_pause(tn_conn_t *c);
void tn_conn_resume(tn_conn_t *c);

/* methods.c */
/* Handle one decoded message from c. */
void tn_methods_dispatch(tn_conn_t *c, const tn_val_t *msg, uint64_t started_ns);
/* Send progress notifications for running queries that asked for them. */
void tn_methods_progress_tick(tn_server_t *srv);
/* A finished job comes back here (loop thread). */
void tn_methods_job_done(tn_job_t *job, void *arg);
/* Reply helpers: encode into srv->obuf and send. */
void tn_reply_result(tn_conn_t *c, uint32_t msgid, const tn_val_t *result, uint64_t started_ns);
void tn_reply_error(tn_conn_t *c, uint32_t msgid, const tn_error_t *err, uint64_t started_ns);
/* Drop the per-epoch snapshot and cache after a change. */
void tn_server_epoch_changed(tn_server_t *srv, uint64_t epoch);
/* Cancel and forget the jobs of a connection that went away. */
void tn_methods_conn_gone(tn_server_t *srv, tn_conn_t *c);
/* Drop the streamed imports a connection left unfinished. */
void tn_methods_conn_imports_free(tn_conn_t *c);

uint64_t tn_now_ns(void);
int64_t tn_server_uptime_s(const tn_server_t *srv);

/* reply.c */
/* Send what is encoded in srv->obuf (if rc is 0) and empty it. */
void tn_reply_send_buffer(tn_conn_t *c, int rc);
/* An error reply with a printf-style message taking one string. */
void tn_reply_code(tn_conn_t *c, uint32_t msgid, uint64_t t0, tn_code_t code, const char *fmt,
                   const char *arg);
/* A query's result; metrics.get gets its live server section added. */
void tn_reply_query(tn_conn_t *c, uint32_t msgid, const char *method, const tn_val_t *result,
                    uint64_t t0);

/* cache.c */
void tn_cache_clear(tn_server_t *srv);
const cache_entry_t *tn_cache_get(tn_server_t *srv, const char *key);
const cache_entry_t *tn_cache_put(tn_server_t *srv, uint64_t epoch, const char *key, tn_val_t *result);
void tn_reply_cached(tn_conn_t *c, uint32_t msgid, const char *method, const cache_entry_t *e,
                     uint64_t t0);
/* The cache key of a query (malloc'd), or NULL on out-of-memory. */
char *tn_cache_key(const char *method, const tn_val_t *opts);

/* methods.c: queue a change (or a save) for the writer; takes 'opts'. */
void tn_methods_submit_write(tn_conn_t *c, uint32_t msgid, const char *method, tn_job_kind_t kind,
                             tn_val_t *opts, uint64_t t0);

/* imports.c: the streamed-import methods. */
void tn_m_import_begin(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0);
void tn_m_import_chunk(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0);
void tn_m_import_commit(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0);
void tn_m_import_abort(tn_conn_t *c, uint32_t msgid, const tn_val_t *opts, uint64_t t0);

#endif
