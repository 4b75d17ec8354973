/*
 * conn.c -- one client connection: bytes in, frames out, replies back.
 *
 * Bytes are read from the socket straight into a flat per-connection
 * buffer and scanned there (frame.c) before msgpack-c sees them, so the
 * decoder only ever gets one complete message that passed the limits. A
 * scan resumes where it stopped, so a message dribbling in costs O(n).
 * A request without options ([0, msgid, method, []], what pings and
 * dashboards' cached reads send) is read in place (rawrpc.h) and goes to
 * the dispatcher without a value tree.
 *
 * The request path costs three system calls per burst of requests, as
 * Redis's does: one epoll_wait, one read, one write. The socket is driven
 * by two plain libevent events rather than a bufferevent (which adds an
 * FIONREAD ioctl per read and installs and removes a write event around
 * every reply): replies are queued in an evbuffer and written once, at the
 * end of the read that produced them, or once per loop pass for answers
 * from elsewhere (workers, timers); the write event is armed only while
 * the socket cannot take everything.
 *
 * Closing: after a fatal protocol error we reply, stop reading and free the
 * connection once its output has drained (closing drops unsent output).
 * EOF with replies still owed waits for them (a client
 * may half-close after its last request). Errors free at once.
 */
#include <errno.h>
#include <event2/buffer.h>
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
#include "grow.h"
#include "imports.h"
#include "log.h"
#include "rawrpc.h"
#include "reply.h"

/* Room made in the input buffer before each read; a message already
 * larger than that gets as much room again (up to READ_MAX), so a big
 * request arrives in few reads. */
#define READ_ROOM 16384
#define READ_MAX ((size_t) 1 << 20)
/* Reads per read event before other connections get their turn. */
#define READS_PER_EVENT 4
/* An input buffer this large is given back once it is empty. */
#define IBUF_KEEP ((size_t) 256 << 10)
/* Bytes per write call, and calls per flush. Larger writes let a client
 * that does not read take more replies into the kernel's buffers (on
 * loopback one write becomes one segment, accepted whole), so more of
 * its requests are served before backpressure stops reading it; 16 KiB
 * is what a bufferevent writes at a time. */
#define WRITE_MAX 16384
#define WRITES_PER_FLUSH 4
/* The longest method name read in place; longer ones take the full path. */
#define METHOD_MAX 128

/* A connection is a caller (its first member) plus the socket side. The
 * caller's reference count keeps the memory alive after the socket is
 * closed, as long as a job or a timer still names it. */
typedef struct tn_conn tn_conn_t;
struct tn_conn {
    tn_caller_t caller;
    tn_server_t *srv;
    evutil_socket_t fd;
    struct event *rev;            /* readable: added while we read this client */
    struct event *wev;            /* writable: added while output waits for the socket */
    struct event *flush_ev;       /* activated: write queued answers this loop pass */
    struct evbuffer *out;         /* replies not yet taken by the socket */
    tn_conn_t *prev, *next;
    uint8_t *ibuf;                /* bytes read: [ipos, ilen) not yet consumed */
    size_t ipos, ilen, icap;
    tn_frame_t frame;             /* scans the message starting at ipos */
    int reading;                  /* rev is added */
    int writing;                  /* wev is added */
    int in_read;                  /* inside the read callback: it writes at its end */
    int flush_armed;              /* flush_ev is active */
    int closing;                  /* reply sent; free once output drains */
    int reading_paused;           /* backpressure: output over the soft limit */
    int throttled;                /* too many answers owed: not reading */
    int eof;                      /* peer half-closed: finish replies, then close */
    uint64_t t_read;              /* when the last read returned: the requests' start */
    int idle_armed;               /* the idle timer was armed in this loop pass */
    int idle_pending;             /* the idle timer is added (it fires at least once more) */
    uint64_t active_ns;           /* the last activity (arm_idle) */
    struct event *msg_timer;      /* a partial message must complete in time */
    int msg_armed;                /* msg_timer is pending */
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

static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void arm_idle(tn_conn_t *c);
static void conn_write_cb(evutil_socket_t fd, short what, void *arg);
static void conn_flush(tn_conn_t *c);
static void fail_conn(tn_conn_t *c, tn_code_t code, const char *msg);
static int process_buffer(tn_conn_t *c);
static int process_messages(tn_conn_t *c);

/* libevent's read timeout restarts on every byte, so a peer sending one
 * byte a second would hold a connection forever: a message must instead
 * complete within message_timeout_ms of its first byte. */
static void msg_timeout_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_conn_t *c = arg;
    c->msg_armed = 0;
    if (c->ilen == c->ipos || c->closing)
        return;
    /* We stopped reading (answers owed, output over the soft limit, auth
     * pending): the wait is ours, not the peer's. The timer starts again
     * when reading resumes and finds the message still partial. */
    if (c->throttled || c->reading_paused || c->caller.auth_pending)
        return;
    fail_conn(c, TN_ERR_TIMEOUT, "message not completed in time");
}

static void arm_msg_timer(tn_conn_t *c) {
    int ms = c->srv->cfg.message_timeout_ms;
    if (c->msg_timer == NULL || ms <= 0 || c->msg_armed)
        return;
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    if (evtimer_add(c->msg_timer, &tv) == 0)
        c->msg_armed = 1;
}

/* The message being timed is complete. The flag spares the timer's lock
 * on every request of a client whose messages arrive whole. */
static void msg_timer_off(tn_conn_t *c) {
    if (c->msg_armed) {
        evtimer_del(c->msg_timer);
        c->msg_armed = 0;
    }
}

/* Idle connections are closed, except those waiting for their answers or
 * subscribed to events (dashboards are quiet by design) and taking them.
 * Idle means: no request from a client owed nothing, and no full drain of
 * its replies, for idle_timeout_s. */
static void idle_timeout_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_conn_t *c = arg;
    c->idle_pending = 0;
    if (c->closing)
        return;
    /* The timer is not moved on each activity (arm_idle only notes the
     * time): when it fires early, it waits out the rest. */
    uint64_t now = tn_now_ns(), due = c->active_ns + (uint64_t) c->srv->cfg.idle_timeout_s * 1000000000u;
    if (now < due) {
        uint64_t left = due - now;
        struct timeval tv = { (time_t) (left / 1000000000u), (suseconds_t) (left % 1000000000u / 1000u) + 1 };
        if (evtimer_add(c->idle_timer, &tv) == 0)
            c->idle_pending = 1;
        return;
    }
    size_t pending = evbuffer_get_length(c->out);
    if (c->caller.jobs_in_flight > 0 || (c->caller.subscribed && pending == 0)) {
        arm_idle(c);
        return;
    }
    tn_log(TN_LOG_INFO, "closing %s: idle for %d s (%zu bytes of replies unread)", c->caller.peer,
           c->srv->cfg.idle_timeout_s, pending);
    close_after_flush(c);
}

/* Note activity now. The timer itself is added only when none is pending
 * (an add takes the event base's lock and reorders its timer heap: once
 * per read was a measurable part of a small request's cost). */
static void arm_idle(tn_conn_t *c) {
    int s = c->srv->cfg.idle_timeout_s;
    if (c->idle_timer == NULL || s <= 0)
        return;
    c->active_ns = tn_now_ns();
    if (c->idle_pending)
        return;
    struct timeval tv = { s, 0 };
    if (evtimer_add(c->idle_timer, &tv) == 0)
        c->idle_pending = 1;
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

static void reading_off(tn_conn_t *c) {
    if (c->reading) {
        event_del(c->rev);
        c->reading = 0;
    }
}

/* A client that half-closed has nothing more to read. */
static void reading_on(tn_conn_t *c) {
    if (!c->reading && !c->eof && !c->caller.closed && event_add(c->rev, NULL) == 0)
        c->reading = 1;
}

static void conn_pause(tn_conn_t *c) {
    reading_off(c);
}

/* Read again: first the requests already read. Bytes still in the socket
 * come with the next read event. May close c: callers hold a reference or
 * touch c no more. */
static void conn_resume(tn_conn_t *c) {
    if (c->closing || c->reading_paused || c->caller.auth_pending || c->throttled)
        return;
    reading_on(c);
    process_buffer(c);
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
    uint8_t head[TN_RAW_RESULT_HEAD];
    size_t hlen = tn_raw_result_head(head, msgid);
    if (c->closing)
        return;
    /* The head and the body leave together, under the same output limits. */
    size_t pending = evbuffer_get_length(c->out);
    if (pending + hlen + len > out_hard(c)) {
        conn_send(c, NULL, hlen + len);              /* closes it */
        return;
    }
    evbuffer_add(c->out, head, hlen);
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

/* The socket, its events and its output buffer (each may be missing). */
static void socket_side_free(tn_conn_t *c) {
    if (c->rev)
        event_free(c->rev);
    if (c->wev)
        event_free(c->wev);
    if (c->flush_ev)
        event_free(c->flush_ev);
    if (c->out)
        evbuffer_free(c->out);
    if (c->fd >= 0)
        close(c->fd);
    c->rev = c->wev = c->flush_ev = NULL;
    c->out = NULL;
    c->fd = -1;
    c->reading = c->writing = 0;
}

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
    c->fd = fd;
    c->out = evbuffer_new();
    c->rev = event_new(srv->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    c->wev = event_new(srv->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
    c->flush_ev = event_new(srv->base, -1, 0, conn_write_cb, c);
    if (c->out == NULL || c->rev == NULL || c->wev == NULL || c->flush_ev == NULL
        || event_add(c->rev, NULL) != 0) {
        socket_side_free(c);
        free(c);
        return;
    }
    c->reading = 1;
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
    socket_side_free(c);            /* unsent output is dropped with it */
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
    c->msg_timer = c->idle_timer = c->caller.auth_timer = c->auth_deadline = c->close_timer = NULL;
    c->msg_armed = 0;
    c->ibuf = NULL;
    c->ipos = c->ilen = c->icap = 0;
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
           c->caller.peer, evbuffer_get_length(c->out),
           c->srv->cfg.close_linger_ms);
    conn_close_now(c);              /* a timer callback: nobody up the stack holds c */
}

static void close_after_flush(tn_conn_t *c) {
    if (c->caller.closed)
        return;
    c->closing = 1;
    reading_off(c);
    if (evbuffer_get_length(c->out) == 0) {
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

/* Have the queued output written: at the end of the read callback when
 * inside it, by the write event when the socket is full, else once at
 * the end of this loop pass (however many answers are queued by then). */
static void want_flush(tn_conn_t *c) {
    if (c->in_read || c->writing || c->flush_armed)
        return;
    c->flush_armed = 1;
    event_active(c->flush_ev, EV_WRITE, 0);
}

/* Queue bytes for the client under the output limits. buf NULL: only
 * check that len more bytes would fit (closing the client if not). */
static void conn_send(tn_conn_t *c, const char *buf, size_t len) {
    if (c->caller.closed)
        return;
    struct evbuffer *out = c->out;
    size_t pending = evbuffer_get_length(out);
    if (pending + len > out_hard(c)) {
        /* A client that does not read its replies is disconnected, not
         * buffered without bound (docs/protocol.md, "Limits"). The free happens
         * from the write callback's caller path via closing + drop. */
        tn_log(TN_LOG_WARN, "closing %s: %zu bytes of replies unread (limit %zu)", c->caller.peer,
               pending + len, out_hard(c));
        c->closing = 1;
        reading_off(c);
        evbuffer_drain(out, pending);
        schedule_close(c);
        return;
    }
    if (buf == NULL)
        return;
    evbuffer_add(out, buf, len);
    want_flush(c);
    if (!c->reading_paused && pending + len > out_soft(c)) {
        /* Backpressure: read no more requests until the client catches up;
         * conn_flush reads again once output falls below half. */
        c->reading_paused = 1;
        reading_off(c);
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
    /* A request may close c: it is looked at afterwards, so held. */
    tn_caller_retain(&c->caller);
    int rc = process_messages(c);
    if (!c->caller.closed && c->ipos == c->ilen && c->ibuf != NULL) {
        /* Everything consumed: start over at the front (no copy), and give
         * back a buffer a big message grew. */
        c->ipos = c->ilen = 0;
        if (c->icap > IBUF_KEEP) {
            free(c->ibuf);
            c->ibuf = NULL;
            c->icap = 0;
        }
    }
    tn_caller_release(&c->caller);  /* may free c: then rc is -1 */
    return rc;
}

/* Would the frame scanner accept the n-byte request without options that
 * rawrpc.h found? Its byte budget passes any message within max_bytes,
 * and the rest is fixed by the shape: two levels of arrays, four items,
 * one string (frame.h). */
static int fast_fits(const tn_frame_limits_t *lim, size_t n, size_t mlen) {
    return n <= lim->max_bytes && lim->max_depth >= 2 && lim->max_items >= 4 && mlen <= lim->max_str
           && mlen < METHOD_MAX;
}

/* One request without options, n bytes read in place: consumed, then the
 * same call the full path makes for it, with no value tree. */
static int process_fast(tn_conn_t *c, size_t n, uint32_t msgid, const char *method, size_t mlen,
                        uint64_t t0) {
    char name[METHOD_MAX];
    memcpy(name, method, mlen);
    name[mlen] = '\0';
    c->ipos += n;
    msg_timer_off(c);
    tn_caller_retain(&c->caller);
    tn_dispatch_call(c->srv, &c->caller, msgid, name, NULL, t0);
    int gone = c->caller.closed;
    tn_caller_release(&c->caller);
    return gone ? -1 : 0;
}

static int process_messages(tn_conn_t *c) {
    /* Every request of a burst arrived with the read that brought it: one
     * clock reading serves them all (the latency histogram's start). */
    uint64_t t0 = c->in_read ? c->t_read : 0;
    while (c->ilen > c->ipos && !c->closing && !c->reading_paused && !c->caller.auth_pending) {
        if (c->caller.jobs_in_flight >= c->srv->cfg.max_inflight) {
            /* A client that pipelines faster than we answer is slowed
             * down, not refused: read its next request once one of its
             * answers has gone out (methods.c resumes us). */
            c->throttled = 1;
            reading_off(c);
            return 0;
        }
        /* Before auth, frames are held to a few KiB (as Redis does since
         * CVE-2021-32675): an anonymous peer cannot make us buffer much. */
        const tn_frame_limits_t *lim = c->caller.role == TN_ROLE_NONE ? &c->srv->cfg.preauth_limits
                                                               : &c->srv->cfg.limits;
        const uint8_t *head = c->ibuf + c->ipos;
        uint32_t msgid = 0;
        const char *method;
        size_t mlen, n;
        if (t0 == 0)
            t0 = tn_now_ns();
        /* A request without options at the start of a message: taken
         * whole, with no scan (fast_fits says the scan would accept it). */
        if (c->frame.pos == 0 && (n = tn_raw_peek_request(head, c->ilen - c->ipos, &msgid, &method, &mlen)) > 0
            && fast_fits(lim, n, mlen)) {
            if (process_fast(c, n, msgid, method, mlen, t0) != 0)
                return -1;
            continue;
        }
        tn_frame_status_t st = tn_frame_scan(&c->frame, head, c->ilen - c->ipos, lim);
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
        n = c->frame.pos;
        tn_frame_reset(&c->frame);
        if (tn_raw_peek_request(head, n, &msgid, &method, &mlen) == n && mlen < METHOD_MAX) {
            if (process_fast(c, n, msgid, method, mlen, t0) != 0)
                return -1;
            continue;
        }
        tn_val_t msgv = TN_VAL_NIL;
        tn_error_t err = TN_ERROR_INIT;
        tn_code_t rc = tn_codec_decode(head, n, &msgv, &err);
        /* Valid MessagePack that is not a message we accept (an ext value,
         * a map key that is not a string): the stream is intact, so the
         * connection lives on, and a request whose msgid can be read is
         * answered under it. */
        int is_request = rc != TN_OK && tn_rpc_peek_msgid(head, n, &msgid);
        c->ipos += n;
        /* Each message has its own time: a client streaming requests whose
         * reads end mid-message is never timed from an earlier one. */
        msg_timer_off(c);
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

/* Room for the next read at the end of the input buffer: the unconsumed
 * bytes moved to the front, then READ_ROOM free, or as much as the message
 * being framed already holds. 0, or -1 when out of memory. */
static int make_room(tn_conn_t *c, size_t *room) {
    size_t have = c->ilen - c->ipos;
    if (c->ipos > 0) {
        memmove(c->ibuf, c->ibuf + c->ipos, have);
        c->ipos = 0;
        c->ilen = have;
    }
    size_t want = have > READ_ROOM ? (have < READ_MAX ? have : READ_MAX) : READ_ROOM;
    void *buf = c->ibuf;
    if (tn_grow(&buf, &c->icap, c->ilen + want, READ_ROOM, 1) != 0)
        return -1;
    c->ibuf = buf;
    *room = c->icap - c->ilen;
    return 0;
}

/* The peer half-closed (read gave 0), or the read failed (error). */
static void conn_eof(tn_conn_t *c, int error) {
    reading_off(c);
    if (!error && !c->closing) {
        c->eof = 1;
        if (c->caller.jobs_in_flight == 0)
            close_after_flush(c);
        return;
    }
    conn_close_now(c);
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg) {
    (void) what;
    tn_conn_t *c = arg;
    /* Requests count as activity only from a client that has taken all
     * its replies: one that never reads must not stay "busy" on requests
     * it sent long ago. conn_flush counts a full drain instead. */
    int idle_armed = evbuffer_get_length(c->out) == 0;
    if (idle_armed)
        arm_idle(c);
    tn_caller_retain(&c->caller);
    c->in_read = 1;
    for (int reads = 0; reads < READS_PER_EVENT; reads++) {
        if (c->closing || c->reading_paused || c->caller.auth_pending || c->throttled || !c->reading)
            break;
        size_t room;
        if (make_room(c, &room) != 0) {
            fail_conn(c, TN_ERR_INTERNAL, "out of memory");
            break;
        }
        ssize_t r = read(fd, c->ibuf + c->ilen, room);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        if (r <= 0) {
            conn_eof(c, r < 0);
            break;
        }
        c->ilen += (size_t) r;
        c->t_read = tn_now_ns();
        if (process_buffer(c) != 0 || (size_t) r < room)
            break;                  /* closing, or the socket is drained */
    }
    c->in_read = 0;
    if (!c->caller.closed) {
        c->idle_armed = idle_armed; /* a drain now would arm it again: once is enough */
        conn_flush(c);              /* one write for the whole burst */
        c->idle_armed = 0;          /* (c is alive: we hold a reference) */
    }
    tn_caller_release(&c->caller);
}

/* Write what is queued (one writev), then act on how much is left: close
 * a closing client once all went out, count a full drain as activity,
 * read again from a client that was paused for not reading. */
static void conn_flush(tn_conn_t *c) {
    c->flush_armed = 0;
    size_t pending = evbuffer_get_length(c->out);
    if (pending == 0)
        return;
    for (int writes = 0; pending > 0 && writes < WRITES_PER_FLUSH; writes++) {
        int w = evbuffer_write_atmost(c->out, c->fd, WRITE_MAX);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_close_now(c);      /* last statement: c may be gone */
            return;
        }
        pending = evbuffer_get_length(c->out);
        if (w < WRITE_MAX)
            break;                  /* the socket is full, or all went out */
    }
    if (pending > 0 && !c->writing && event_add(c->wev, NULL) == 0)
        c->writing = 1;
    else if (pending == 0 && c->writing) {
        event_del(c->wev);
        c->writing = 0;
    }
    if (c->closing) {
        if (pending == 0)
            conn_close_now(c);      /* last statement: c may be gone */
        return;
    }
    if (pending == 0 && !c->idle_armed)
        arm_idle(c);                /* it took every reply: it is alive */
    if (c->reading_paused && pending <= out_soft(c) / 2) {
        c->reading_paused = 0;
        reading_on(c);
        process_buffer(c);          /* requests read before the pause */
    }
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    conn_flush(arg);
}
