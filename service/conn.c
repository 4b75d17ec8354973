/*
 * conn.c -- one client connection: bytes in, frames out, replies back.
 *
 * Bytes are copied from libevent's input buffer into a flat per-connection
 * buffer and scanned there (frame.c) before msgpack-c sees them, so the
 * decoder only ever gets one complete message that passed the limits. A
 * scan resumes where it stopped, so a message dribbling in costs O(n).
 *
 * Closing: after a fatal protocol error we reply, stop reading and free the
 * connection once its output has drained (libevent drops unsent output on
 * bufferevent_free). EOF with replies still owed waits for them (a client
 * may half-close after its last request). Errors free at once.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "server_internal.h"

#define READ_CHUNK 65536

typedef struct tn_deferred {
    tn_server_t *srv;
    uint64_t id;
} tn_deferred_t;

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void arm_idle(tn_conn_t *c);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void fail_conn(tn_conn_t *c, tn_code_t code, const char *msg);
static int process_buffer(tn_conn_t *c);

/* libevent's read timeout restarts on every byte, so a peer sending one
 * byte a second would hold a connection forever: a message must instead
 * complete within message_timeout_ms of its first byte. */
static void msg_timeout_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_conn_t *c = arg;
    if (c->ilen == 0 || c->closing)
        return;
    fail_conn(c, TN_ERR_TIMEOUT, "message not completed in time");
}

static void arm_msg_timer(tn_conn_t *c) {
    int ms = c->srv->cfg.message_timeout_ms;
    if (c->msg_timer == NULL || ms <= 0 || evtimer_pending(c->msg_timer, NULL))
        return;
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(c->msg_timer, &tv);
}

/* Idle connections are closed, except those waiting for their answers or
 * subscribed to events (dashboards are quiet by design) and taking them.
 * Idle means: no request from a client owed nothing, and no full drain of
 * its replies, for idle_timeout_s. */
static void idle_timeout_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_conn_t *c = arg;
    if (c->closing)
        return;
    size_t pending = evbuffer_get_length(bufferevent_get_output(c->bev));
    if (c->jobs_in_flight > 0 || (c->subscribed && pending == 0)) {
        arm_idle(c);
        return;
    }
    tn_log(TN_LOG_INFO, "closing %s: idle for %d s (%zu bytes of replies unread)", c->peer,
           c->srv->cfg.idle_timeout_s, pending);
    tn_conn_close_after_flush(c);
}

static void arm_idle(tn_conn_t *c) {
    int s = c->srv->cfg.idle_timeout_s;
    if (c->idle_timer == NULL || s <= 0)
        return;
    struct timeval tv = { s, 0 };
    evtimer_add(c->idle_timer, &tv);
}

static void auth_deadline_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_conn_t *c = arg;
    if (c->role != TN_ROLE_NONE || c->closing || c->auth_pending)
        return;
    tn_log(TN_LOG_INFO, "closing %s: not authenticated within %d s", c->peer,
           c->srv->cfg.auth_timeout_s);
    fail_conn(c, TN_ERR_UNAUTHORIZED, "not authenticated in time");
}

void tn_conn_pause(tn_conn_t *c) {
    bufferevent_disable(c->bev, EV_READ);
}

void tn_conn_resume(tn_conn_t *c) {
    if (c->closing || c->reading_paused || c->auth_pending || c->throttled)
        return;
    bufferevent_enable(c->bev, EV_READ);
    uint64_t id = c->id;
    if (process_buffer(c) != 0 || tn_conn_find(c->srv, id) != c)
        return;
    conn_read_cb(c->bev, c);
}

tn_conn_t *tn_conn_find(tn_server_t *srv, uint64_t id) {
    char key[24];
    size_t slot;
    snprintf(key, sizeof key, "%" PRIu64, id);
    if (!tn_hmap_get(&srv->conn_ids, key, &slot))
        return NULL;
    return (tn_conn_t *) (uintptr_t) slot;
}

void tn_conn_accept(tn_server_t *srv, int fd, const char *peer) {
    srv->stats.connections_total++;
    if (srv->nconns >= srv->cfg.max_connections) {
        /* PROTOCOL.md section 2: busy when shedding connections. A best-effort
         * error frame, then close: the client learns why. */
        tn_error_t err = TN_ERROR_INIT;
        char *buf = NULL;
        size_t len = 0, cap = 0;
        tn_error_set(&err, TN_ERR_BUSY, "too many connections (limit %zu)", srv->cfg.max_connections);
        if (tn_rpc_encode_error(0, &err, &buf, &len, &cap) == 0) {
            ssize_t w = write(fd, buf, len);
            (void) w;
        }
        free(buf);
        close(fd);
        srv->stats.rejected_connections++;
        tn_log(TN_LOG_WARN, "connection from %s refused: limit of %zu reached", peer,
               srv->cfg.max_connections);
        return;
    }
    tn_conn_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return;
    }
    c->srv = srv;
    c->id = ++srv->next_conn_id;
    snprintf(c->idkey, sizeof c->idkey, "%" PRIu64, c->id);
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    /* Without a token file every (loopback) client is trusted as admin;
     * with one, nobody is anything until auth. */
    c->role = srv->cfg.auth ? TN_ROLE_NONE : TN_ROLE_ADMIN;
    c->role_name = tn_role_name(c->role);
    tn_frame_reset(&c->frame);
    c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL || tn_hmap_put(&srv->conn_ids, c->idkey, (size_t) (uintptr_t) c) != 0) {
        if (c->bev)
            bufferevent_free(c->bev);
        else
            close(fd);
        free(c);
        return;
    }
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->msg_timer = evtimer_new(srv->base, msg_timeout_cb, c);
    if (srv->cfg.auth && srv->cfg.auth_timeout_s > 0) {
        /* An anonymous client may not hold a connection slot for long,
         * pinging or not. */
        struct timeval tv = { srv->cfg.auth_timeout_s, 0 };
        c->auth_deadline = evtimer_new(srv->base, auth_deadline_cb, c);
        if (c->auth_deadline)
            evtimer_add(c->auth_deadline, &tv);
    }
    c->idle_timer = evtimer_new(srv->base, idle_timeout_cb, c);
    arm_idle(c);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
}

void tn_conn_free(tn_conn_t *c) {
    if (c == NULL)
        return;
    tn_server_t *srv = c->srv;
    tn_methods_conn_gone(srv, c);
    tn_methods_conn_imports_free(c);
    tn_hmap_del(&srv->conn_ids, c->idkey);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    bufferevent_free(c->bev);
    if (c->msg_timer)
        event_free(c->msg_timer);
    if (c->idle_timer)
        event_free(c->idle_timer);
    if (c->auth_timer)
        event_free(c->auth_timer);
    if (c->auth_deadline)
        event_free(c->auth_deadline);
    if (c->close_timer)
        event_free(c->close_timer);
    free(c->ibuf);
    free(c);
}

static void deferred_free_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_deferred_t *d = arg;
    tn_conn_t *c = tn_conn_find(d->srv, d->id);   /* it may be gone already */
    free(d);
    tn_conn_free(c);
}

/* Free c on the next loop pass: callers up the stack may still use it
 * (Redis's freeClientAsync). Looked up by id then, never by pointer. */
static void schedule_free(tn_conn_t *c) {
    static const struct timeval now = { 0, 0 };
    tn_deferred_t *d = malloc(sizeof *d);
    if (d == NULL)
        return;                     /* it is closing; EOF or an error frees it */
    d->srv = c->srv;
    d->id = c->id;
    if (event_base_once(c->srv->base, -1, EV_TIMEOUT, deferred_free_cb, d, &now) != 0)
        free(d);
}

/* A closing connection whose peer does not read would wait for its output
 * to drain forever, holding memory and a slot: after close_linger_ms its
 * replies are dropped and it is freed. */
static void close_deadline_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_conn_t *c = arg;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    tn_log(TN_LOG_INFO, "closing %s: %zu bytes of replies not read within %d ms; dropped", c->peer,
           evbuffer_get_length(out), c->srv->cfg.close_linger_ms);
    tn_conn_free(c);                /* a timer callback: nobody up the stack holds c */
}

void tn_conn_close_after_flush(tn_conn_t *c) {
    c->closing = 1;
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        tn_conn_free(c);            /* last statement: c is gone */
        return;
    }
    int ms = c->srv->cfg.close_linger_ms;
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    if (c->close_timer == NULL)
        c->close_timer = evtimer_new(c->srv->base, close_deadline_cb, c);
    if (c->close_timer == NULL || evtimer_add(c->close_timer, &tv) != 0)
        schedule_free(c);           /* no timer: do not risk waiting forever */
}

/* Output limits: before auth they are tiny, so an anonymous peer cannot
 * make us hold its unread replies. */
static size_t out_soft(const tn_conn_t *c) {
    return c->role == TN_ROLE_NONE ? c->srv->cfg.preauth_out_soft : c->srv->cfg.out_soft;
}

static size_t out_hard(const tn_conn_t *c) {
    return c->role == TN_ROLE_NONE ? c->srv->cfg.preauth_out_hard : c->srv->cfg.out_hard;
}

void tn_conn_send(tn_conn_t *c, const char *buf, size_t len) {
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t pending = evbuffer_get_length(out);
    if (pending + len > out_hard(c)) {
        /* A client that does not read its replies is disconnected, not
         * buffered without bound (PROTOCOL.md section 6). The free happens
         * from the write callback's caller path via closing + drop. */
        tn_log(TN_LOG_WARN, "closing %s: %zu bytes of replies unread (limit %zu)", c->peer,
               pending + len, out_hard(c));
        c->closing = 1;
        bufferevent_disable(c->bev, EV_READ);
        evbuffer_drain(out, pending);
        schedule_free(c);
        return;
    }
    evbuffer_add(out, buf, len);
    if (!c->reading_paused && pending + len > out_soft(c)) {
        /* Backpressure: read no more requests until the client catches up;
         * the write callback fires again once output falls below half. */
        c->reading_paused = 1;
        bufferevent_disable(c->bev, EV_READ);
        bufferevent_setwatermark(c->bev, EV_WRITE, out_soft(c) / 2, 0);
    }
}

/* Reply to a fatal framing or decoding error and hang up: after a parse
 * error the byte stream cannot be resynchronised. */
static void fail_conn(tn_conn_t *c, tn_code_t code, const char *msg) {
    tn_error_t err = TN_ERROR_INIT;
    tn_error_set(&err, code, "%s", msg);
    /* The msgid is unknown: 0 by convention (docs/protocol-notes.md). */
    tn_reply_error(c, 0, &err, tn_now_ns());
    tn_log(TN_LOG_INFO, "closing %s: %s", c->peer, msg);
    tn_conn_close_after_flush(c);
}

/* Frame and dispatch whatever complete messages the buffer holds. Returns
 * 0 to go on, -1 if c was freed or is closing. */
static int process_buffer(tn_conn_t *c) {
    while (c->ilen > 0 && !c->closing && !c->reading_paused && !c->auth_pending) {
        if (c->jobs_in_flight >= c->srv->cfg.max_inflight) {
            /* A client that pipelines faster than we answer is slowed
             * down, not refused: read its next request once one of its
             * answers has gone out (methods.c resumes us). */
            c->throttled = 1;
            bufferevent_disable(c->bev, EV_READ);
            return 0;
        }
        /* Before auth, frames are held to a few KiB (issue 4; Redis's
         * CVE-2021-32675 fix): an anonymous peer cannot make us buffer much. */
        const tn_frame_limits_t *lim = c->role == TN_ROLE_NONE ? &c->srv->cfg.preauth_limits
                                                               : &c->srv->cfg.limits;
        tn_frame_status_t st = tn_frame_scan(&c->frame, c->ibuf, c->ilen, lim);
        if (st == TN_FRAME_MORE) {
            arm_msg_timer(c);
            return 0;
        }
        if (st == TN_FRAME_INVALID) {
            int too_big = c->frame.reason == TN_FRAME_R_TOO_BIG;
            char msg[160];
            snprintf(msg, sizeof msg, "%s", tn_frame_reason(&c->frame));
            fail_conn(c, too_big ? TN_ERR_TOO_LARGE : TN_ERR_PARSE, msg);
            return -1;
        }
        size_t n = c->frame.pos;
        uint64_t t0 = tn_now_ns();
        tn_val_t msgv = TN_VAL_NIL;
        tn_error_t err = TN_ERROR_INIT;
        tn_code_t rc = tn_codec_decode(c->ibuf, n, &msgv, &err);
        memmove(c->ibuf, c->ibuf + n, c->ilen - n);
        c->ilen -= n;
        tn_frame_reset(&c->frame);
        if (rc == TN_ERR_PARSE || rc == TN_ERR_INTERNAL) {
            fail_conn(c, rc, err.message[0] ? err.message : "message is not valid MessagePack");
            tn_error_clear(&err);
            return -1;
        }
        if (rc != TN_OK) {
            /* Valid MessagePack that is not a message we accept (e.g. an ext
             * type): the stream is intact, so the connection lives on. */
            tn_reply_error(c, 0, &err, t0);
            tn_error_clear(&err);
            continue;
        }
        uint64_t id = c->id;
        if (c->ilen == 0 && c->msg_timer)
            evtimer_del(c->msg_timer);
        tn_methods_dispatch(c, &msgv, t0);
        tn_val_free(&msgv);
        if (tn_conn_find(c->srv, id) != c)
            return -1;
    }
    return c->closing ? -1 : 0;
}

static void conn_read_cb(struct bufferevent *bev, void *arg) {
    tn_conn_t *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    /* Requests count as activity only from a client that has taken all
     * its replies: one that never reads must not stay "busy" on requests
     * it sent long ago. The write callback counts a full drain instead. */
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        arm_idle(c);
    while (!c->closing && !c->reading_paused && !c->auth_pending && !c->throttled
           && evbuffer_get_length(in) > 0) {
        size_t avail = evbuffer_get_length(in);
        size_t n = avail < READ_CHUNK ? avail : READ_CHUNK;
        if (c->ilen + n > c->icap) {
            size_t ncap = c->icap ? c->icap : 4096;
            while (ncap < c->ilen + n)
                ncap *= 2;
            uint8_t *p = realloc(c->ibuf, ncap);
            if (p == NULL) {
                fail_conn(c, TN_ERR_INTERNAL, "out of memory");
                return;
            }
            c->ibuf = p;
            c->icap = ncap;
        }
        c->ilen += (size_t) evbuffer_remove(in, c->ibuf + c->ilen, n);
        if (process_buffer(c) != 0)
            return;
    }
}

static void conn_write_cb(struct bufferevent *bev, void *arg) {
    tn_conn_t *c = arg;
    size_t pending = evbuffer_get_length(bufferevent_get_output(bev));
    if (c->closing) {
        if (pending == 0)
            tn_conn_free(c);        /* last statement: c is gone */
        return;
    }
    if (pending == 0)
        arm_idle(c);                /* it took every reply: it is alive */
    if (c->reading_paused && pending <= out_soft(c) / 2) {
        c->reading_paused = 0;
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        bufferevent_enable(bev, EV_READ);
        if (process_buffer(c) != 0)
            return;
        conn_read_cb(bev, c);       /* bytes that arrived while paused */
    }
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg) {
    (void) bev;
    tn_conn_t *c = arg;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !c->closing) {
        c->eof = 1;
        if (c->jobs_in_flight == 0)
            tn_conn_close_after_flush(c);
        return;
    }
    tn_conn_free(c);
}
