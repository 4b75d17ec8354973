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
#include "codec.h"
#include "conn.h"
#include "dispatch.h"
#include "frame.h"
#include "imports.h"
#include "log.h"
#include "reply.h"

#define READ_CHUNK 65536

/* A connection is a caller (its first member) plus the socket side. The
 * caller's reference count keeps the memory alive after the socket is
 * closed, as long as a job or a timer still names it. */
typedef struct tn_conn tn_conn_t;
struct tn_conn {
    tn_caller_t caller;
    tn_server_t *srv;
    struct bufferevent *bev;
    tn_conn_t *prev, *next;
    uint8_t *ibuf;                /* bytes of the message being framed */
    size_t ilen, icap;
    tn_frame_t frame;
    int closing;                  /* reply sent; free once output drains */
    int reading_paused;           /* backpressure: output over the soft limit */
    int throttled;                /* too many answers owed: not reading */
    int eof;                      /* peer half-closed: finish replies, then close */
    struct event *msg_timer;      /* a partial message must complete in time */
    struct event *idle_timer;
    struct event *auth_deadline;  /* with tokens: authenticate within auth_timeout_s */
    struct event *close_timer;    /* closing: output not drained by then is dropped */
};

static void conn_close_now(tn_conn_t *c);
static void close_after_flush(tn_conn_t *c);
static size_t out_soft(const tn_conn_t *c);
static size_t out_hard(const tn_conn_t *c);
static void conn_send(tn_conn_t *c, const char *buf, size_t len);
static void conn_pause(tn_conn_t *c);
static void conn_resume(tn_conn_t *c);

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
    if (c->caller.jobs_in_flight > 0 || (c->caller.subscribed && pending == 0)) {
        arm_idle(c);
        return;
    }
    tn_log(TN_LOG_INFO, "closing %s: idle for %d s (%zu bytes of replies unread)", c->caller.peer,
           c->srv->cfg.idle_timeout_s, pending);
    close_after_flush(c);
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
    if (c->caller.role != TN_ROLE_NONE || c->closing || c->caller.auth_pending)
        return;
    tn_log(TN_LOG_INFO, "closing %s: not authenticated within %d s", c->caller.peer,
           c->srv->cfg.auth_timeout_s);
    fail_conn(c, TN_ERR_UNAUTHORIZED, "not authenticated in time");
}

static void conn_pause(tn_conn_t *c) {
    bufferevent_disable(c->bev, EV_READ);
}

/* Read again. May close c: callers hold a reference or touch c no more. */
static void conn_resume(tn_conn_t *c) {
    if (c->closing || c->reading_paused || c->caller.auth_pending || c->throttled)
        return;
    bufferevent_enable(c->bev, EV_READ);
    if (process_buffer(c) != 0)
        return;
    conn_read_cb(c->bev, c);
}

/* ---- the caller interface ---- */

static tn_conn_t *conn_of(tn_caller_t *caller) {
    return (tn_conn_t *) caller;  /* the caller is the first member */
}

static void op_result(tn_caller_t *caller, uint32_t msgid, const tn_val_t *result) {
    tn_conn_t *c = conn_of(caller);
    tn_server_t *srv = c->srv;
    srv->olen = 0;
    if (tn_rpc_encode_result(msgid, result, &srv->obuf, &srv->olen, &srv->ocap) != 0) {
        tn_error_t err = TN_ERROR_INIT;
        tn_error_set(&err, TN_ERR_INTERNAL, "out of memory encoding the result");
        srv->olen = 0;
        if (tn_rpc_encode_error(msgid, &err, &srv->obuf, &srv->olen, &srv->ocap) != 0)
            srv->olen = 0;
    }
    if (srv->olen > 0)
        conn_send(c, srv->obuf, srv->olen);
    srv->olen = 0;
}

/* A response around bytes already encoded: [1, msgid as uint32, nil, ...]
 * written by hand, so a cached answer costs a copy. */
static void op_result_encoded(tn_caller_t *caller, uint32_t msgid, const char *enc, size_t len) {
    tn_conn_t *c = conn_of(caller);
    uint8_t head[8] = { 0x94, 0x01, 0xce, (uint8_t) (msgid >> 24), (uint8_t) (msgid >> 16),
                        (uint8_t) (msgid >> 8), (uint8_t) msgid, 0xc0 };
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->closing)
        return;
    /* The head and the body leave together, under the same output limits. */
    size_t pending = evbuffer_get_length(out);
    if (pending + sizeof head + len > out_hard(c)) {
        conn_send(c, NULL, sizeof head + len);       /* closes it */
        return;
    }
    evbuffer_add(out, head, sizeof head);
    conn_send(c, enc, len);
}

static void op_error(tn_caller_t *caller, uint32_t msgid, const tn_error_t *err) {
    tn_conn_t *c = conn_of(caller);
    tn_server_t *srv = c->srv;
    srv->olen = 0;
    if (tn_rpc_encode_error(msgid, err, &srv->obuf, &srv->olen, &srv->ocap) == 0)
        conn_send(c, srv->obuf, srv->olen);
    srv->olen = 0;
}

static void op_notify(tn_caller_t *caller, const char *method, const tn_val_t *params) {
    tn_conn_t *c = conn_of(caller);
    tn_server_t *srv = c->srv;
    if (c->closing)
        return;
    srv->olen = 0;
    if (tn_rpc_encode_notify(method, params, &srv->obuf, &srv->olen, &srv->ocap) == 0)
        conn_send(c, srv->obuf, srv->olen);
    srv->olen = 0;
}

/* After a job's answer: close a half-closed client that is owed nothing
 * more, or read again from one that was throttled. The job still holds
 * its reference, so c stays valid here. */
static void op_answered(tn_caller_t *caller) {
    tn_conn_t *c = conn_of(caller);
    if (c->closing)
        return;
    if (c->throttled && caller->jobs_in_flight < c->srv->cfg.max_inflight) {
        /* Requests still buffered are served before a half-closed
         * client is let go. */
        c->throttled = 0;
        conn_resume(c);
        if (caller->closed || c->closing)
            return;
    }
    if (c->eof && caller->jobs_in_flight == 0 && !c->throttled)
        close_after_flush(c);
}

static void op_pause(tn_caller_t *caller) {
    conn_pause(conn_of(caller));
}

static void op_resume(tn_caller_t *caller) {
    conn_resume(conn_of(caller));
}

static void op_hang_up(tn_caller_t *caller) {
    close_after_flush(conn_of(caller));
}

static void op_destroy(tn_caller_t *caller) {
    free(conn_of(caller));
}

static const tn_caller_ops_t conn_ops = {
    op_result, op_result_encoded, op_error, op_notify, op_answered,
    op_pause, op_resume, op_hang_up, op_destroy
};

void tn_conn_accept(tn_server_t *srv, int fd, const char *peer) {
    srv->stats.connections_total++;
    if (srv->nconns >= srv->cfg.max_connections) {
        /* docs/protocol.md, "Errors": busy when shedding connections. A best-effort
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
    c->caller.ops = &conn_ops;
    c->caller.srv = srv;
    c->caller.refs = 1;           /* the connection's own, dropped when it closes */
    snprintf(c->caller.peer, sizeof c->caller.peer, "%s", peer);
    /* Without a token file every (loopback) client is trusted as admin;
     * with one, nobody is anything until auth. */
    c->caller.role = srv->cfg.auth ? TN_ROLE_NONE : TN_ROLE_ADMIN;
    c->caller.role_name = tn_role_name(c->caller.role);
    tn_frame_reset(&c->frame);
    c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
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

/* Close the socket side now. The memory goes with the last reference:
 * jobs in flight see the caller closed and drop their answers. */
static void conn_close_now(tn_conn_t *c) {
    if (c == NULL || c->caller.closed)
        return;
    tn_server_t *srv = c->srv;
    c->caller.closed = 1;
    c->closing = 1;
    tn_dispatch_caller_gone(srv, &c->caller);
    tn_imports_drop(&c->caller);
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
    if (c->caller.auth_timer)
        event_free(c->caller.auth_timer);
    if (c->auth_deadline)
        event_free(c->auth_deadline);
    if (c->close_timer)
        event_free(c->close_timer);
    free(c->ibuf);
    c->bev = NULL;
    c->msg_timer = c->idle_timer = c->caller.auth_timer = c->auth_deadline = c->close_timer = NULL;
    c->ibuf = NULL;
    tn_caller_release(&c->caller);  /* may free c */
}

void tn_conn_close_all(tn_server_t *srv) {
    while (srv->conns)
        conn_close_now(srv->conns);
}

static void deferred_close_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_conn_t *c = arg;
    conn_close_now(c);              /* nothing if it closed meanwhile */
    tn_caller_release(&c->caller);
}

/* Close c on the next loop pass: callers up the stack may still use it
 * (Redis's freeClientAsync). The pass holds a reference meanwhile. */
static void schedule_close(tn_conn_t *c) {
    static const struct timeval now = { 0, 0 };
    tn_caller_retain(&c->caller);
    if (event_base_once(c->srv->base, -1, EV_TIMEOUT, deferred_close_cb, c, &now) != 0)
        tn_caller_release(&c->caller);  /* it is closing; EOF or an error closes it */
}

/* A closing connection whose peer does not read would wait for its output
 * to drain forever, holding memory and a slot: after close_linger_ms its
 * replies are dropped and it is closed. */
static void close_deadline_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_conn_t *c = arg;
    tn_log(TN_LOG_INFO, "closing %s: %zu bytes of replies not read within %d ms; dropped",
           c->caller.peer, evbuffer_get_length(bufferevent_get_output(c->bev)),
           c->srv->cfg.close_linger_ms);
    conn_close_now(c);              /* a timer callback: nobody up the stack holds c */
}

static void close_after_flush(tn_conn_t *c) {
    if (c->caller.closed)
        return;
    c->closing = 1;
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        conn_close_now(c);          /* last statement: c may be gone */
        return;
    }
    int ms = c->srv->cfg.close_linger_ms;
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    if (c->close_timer == NULL)
        c->close_timer = evtimer_new(c->srv->base, close_deadline_cb, c);
    if (c->close_timer == NULL || evtimer_add(c->close_timer, &tv) != 0)
        schedule_close(c);          /* no timer: do not risk waiting forever */
}

/* Output limits: before auth they are tiny, so an anonymous peer cannot
 * make us hold its unread replies. */
static size_t out_soft(const tn_conn_t *c) {
    return c->caller.role == TN_ROLE_NONE ? c->srv->cfg.preauth_out_soft : c->srv->cfg.out_soft;
}

static size_t out_hard(const tn_conn_t *c) {
    return c->caller.role == TN_ROLE_NONE ? c->srv->cfg.preauth_out_hard : c->srv->cfg.out_hard;
}

/* Queue bytes for the client under the output limits. buf NULL: only
 * check that len more bytes would fit (closing the client if not). */
static void conn_send(tn_conn_t *c, const char *buf, size_t len) {
    if (c->caller.closed)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t pending = evbuffer_get_length(out);
    if (pending + len > out_hard(c)) {
        /* A client that does not read its replies is disconnected, not
         * buffered without bound (docs/protocol.md, "Limits"). The free happens
         * from the write callback's caller path via closing + drop. */
        tn_log(TN_LOG_WARN, "closing %s: %zu bytes of replies unread (limit %zu)", c->caller.peer,
               pending + len, out_hard(c));
        c->closing = 1;
        bufferevent_disable(c->bev, EV_READ);
        evbuffer_drain(out, pending);
        schedule_close(c);
        return;
    }
    if (buf == NULL)
        return;
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
    tn_call_t call = { &c->caller, 0, tn_now_ns(), &c->srv->stats, NULL };
    tn_reply_error(&call, &err);
    tn_log(TN_LOG_INFO, "closing %s: %s", c->caller.peer, msg);
    close_after_flush(c);
}

/* Frame and dispatch whatever complete messages the buffer holds. Returns
 * 0 to go on, -1 if c was freed or is closing. */
static int process_buffer(tn_conn_t *c) {
    while (c->ilen > 0 && !c->closing && !c->reading_paused && !c->caller.auth_pending) {
        if (c->caller.jobs_in_flight >= c->srv->cfg.max_inflight) {
            /* A client that pipelines faster than we answer is slowed
             * down, not refused: read its next request once one of its
             * answers has gone out (methods.c resumes us). */
            c->throttled = 1;
            bufferevent_disable(c->bev, EV_READ);
            return 0;
        }
        /* Before auth, frames are held to a few KiB (as Redis does since
         * CVE-2021-32675): an anonymous peer cannot make us buffer much. */
        const tn_frame_limits_t *lim = c->caller.role == TN_ROLE_NONE ? &c->srv->cfg.preauth_limits
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
        /* Valid MessagePack that is not a message we accept (an ext value,
         * a map key that is not a string): the stream is intact, so the
         * connection lives on, and a request whose msgid can be read is
         * answered under it. */
        uint32_t msgid = 0;
        int is_request = rc != TN_OK && tn_rpc_peek_msgid(c->ibuf, n, &msgid);
        memmove(c->ibuf, c->ibuf + n, c->ilen - n);
        c->ilen -= n;
        tn_frame_reset(&c->frame);
        if (rc == TN_ERR_PARSE || rc == TN_ERR_INTERNAL) {
            fail_conn(c, rc, err.message[0] ? err.message : "message is not valid MessagePack");
            tn_error_clear(&err);
            return -1;
        }
        if (rc != TN_OK) {
            tn_call_t call = { &c->caller, is_request ? msgid : 0, t0, &c->srv->stats, NULL };
            tn_reply_error(&call, &err);
            tn_error_clear(&err);
            continue;
        }
        if (c->ilen == 0 && c->msg_timer)
            evtimer_del(c->msg_timer);
        /* Dispatch may close c: hold it until we have looked. */
        tn_caller_retain(&c->caller);
        tn_dispatch_message(c->srv, &c->caller, &msgv, t0);
        tn_val_free(&msgv);
        int gone = c->caller.closed;
        tn_caller_release(&c->caller);
        if (gone)
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
    while (!c->closing && !c->reading_paused && !c->caller.auth_pending && !c->throttled
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
            conn_close_now(c);      /* last statement: c may be gone */
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
        if (c->caller.jobs_in_flight == 0)
            close_after_flush(c);
        return;
    }
    conn_close_now(c);
}
