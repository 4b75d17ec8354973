/*
 * tn_client.c -- the blocking client of tn_client.h.
 *
 * The socket is non-blocking and every wait goes through poll() with the
 * client's timeout, so no call can hang forever on a silent server. Input
 * is kept in one buffer: bytes [rpos, wpos) have arrived and not yet been
 * handed out; the frame scanner runs over them incrementally and a message
 * is decoded only once the scanner has bounded it. This file must never
 * block without a timeout, never raise SIGPIPE, and never let a server's
 * declared lengths decide how much it allocates.
 */
#include "tn_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "frame.h"
#include "grow.h"

struct tn_client {
    int fd;
    int timeout_ms;              /* per wait; <= 0: none */
    int broken;
    uint32_t next_msgid;
    char peer[300];              /* "host:port" */
    uint8_t *in;                 /* received bytes */
    size_t rpos, wpos, cap;      /* [rpos, wpos) not yet handed out */
    tn_frame_t frame;            /* scan state of the message at rpos */
    tn_frame_limits_t limits;
    char *out;                   /* encode buffer, reused */
    size_t olen, ocap;
};

/* Replies are trusted more than requests, but still bounded: the largest
 * legitimate results (query.centrality with top 100000, pair.list without
 * a limit) are a few MiB. */
static void client_limits(tn_frame_limits_t *lim) {
    lim->max_bytes = (size_t) 256 << 20;
    lim->max_depth = TN_FRAME_MAX_DEPTH;
    lim->max_items = (uint32_t) 1 << 24;
    lim->max_str = (uint32_t) 64 << 20;
}

/* Record a transport failure: the client is unusable from here on. */
static tn_code_t transport_fail(tn_client_t *c, tn_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static tn_code_t transport_fail(tn_client_t *c, tn_error_t *err, const char *fmt, ...) {
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    c->broken = 1;
    return tn_error_set(err, TN_ERR_UNAVAILABLE, "%s: %s", c->peer, what);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for 'events' on fd until 'deadline' (monotonic ms; < 0: none).
 * 1 ready, 0 timed out, -1 error (errno set). */
static int wait_fd(int fd, short events, long long deadline) {
    for (;;) {
        int ms = -1;
        if (deadline >= 0) {
            long long left = deadline - now_ms();
            ms = left > 0 ? (left > 1000000000 ? 1000000000 : (int) left) : 0;
        }
        struct pollfd p = { .fd = fd, .events = events };
        int n = poll(&p, 1, ms);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

static long long deadline_of(int timeout_ms) {
    return timeout_ms > 0 ? now_ms() + timeout_ms : -1;
}

/* Non-blocking connect to one address, waiting up to the deadline.
 * Returns the socket, or -1 with errno set (ETIMEDOUT on timeout). */
static int connect_one(const struct addrinfo *ai, long long deadline) {
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        goto fail;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS)
            goto fail;
        int r = wait_fd(fd, POLLOUT, deadline);
        if (r == 0)
            errno = ETIMEDOUT;
        if (r <= 0)
            goto fail;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
            goto fail;
        if (soerr != 0) {
            errno = soerr;
            goto fail;
        }
    }
    /* Requests are small and latency matters more than packet count. */
    int one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
fail: {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
}

tn_client_t *tn_client_connect(const char *host, int port, int timeout_ms, char *err, size_t errlen) {
    char portstr[16];
    struct addrinfo hints, *res = NULL;
    tn_client_t *c = NULL;

    if (port <= 0 || port > 65535) {
        snprintf(err, errlen, "invalid port %d", port);
        return NULL;
    }
    snprintf(portstr, sizeof portstr, "%d", port);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port, gai_strerror(gai));
        return NULL;
    }
    long long deadline = deadline_of(timeout_ms);
    int fd = -1, last = ECONNREFUSED;
    for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = connect_one(ai, deadline);
        if (fd < 0)
            last = errno;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port,
                 last == ETIMEDOUT ? "timed out" : strerror(last));
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->fd = fd;
    c->timeout_ms = timeout_ms;
    c->next_msgid = 1;
    snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
    client_limits(&c->limits);
    tn_frame_reset(&c->frame);
    return c;
}

void tn_client_close(tn_client_t *c) {
    if (c == NULL)
        return;
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

int tn_client_broken(const tn_client_t *c) {
    return c->broken;
}

const char *tn_client_peer(const tn_client_t *c) {
    return c->peer;
}

/* Write all of c->out, then empty it. */
static tn_code_t flush_out(tn_client_t *c, tn_error_t *err) {
    long long deadline = deadline_of(c->timeout_ms);
    size_t off = 0;
    while (off < c->olen) {
        /* MSG_NOSIGNAL: a closed peer is an error to report, not a signal. */
        ssize_t n = send(c->fd, c->out + off, c->olen - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t) n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_fd(c->fd, POLLOUT, deadline);
            if (r == 0)
                return transport_fail(c, err, "timed out sending a request");
            if (r < 0)
                return transport_fail(c, err, "%s", strerror(errno));
            continue;
        }
        return transport_fail(c, err, "send failed: %s", n < 0 ? strerror(errno) : "no progress");
    }
    c->olen = 0;
    return TN_OK;
}

tn_code_t tn_client_send(tn_client_t *c, const char *method, const tn_val_t *options,
                         uint32_t *msgid, tn_error_t *err) {
    if (c->broken)
        return tn_error_set(err, TN_ERR_UNAVAILABLE, "%s: connection is closed", c->peer);
    uint32_t id = c->next_msgid++;
    c->olen = 0;
    if (tn_rpc_encode_request(id, method, options, &c->out, &c->olen, &c->ocap) != 0)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory encoding a request");
    if (msgid)
        *msgid = id;
    return flush_out(c, err);
}

tn_code_t tn_client_notify(tn_client_t *c, const char *method, const tn_val_t *param,
                           tn_error_t *err) {
    if (c->broken)
        return tn_error_set(err, TN_ERR_UNAVAILABLE, "%s: connection is closed", c->peer);
    c->olen = 0;
    if (tn_rpc_encode_notify(method, param, &c->out, &c->olen, &c->ocap) != 0)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory encoding a notification");
    return flush_out(c, err);
}

/* Make room for at least 'want' more bytes after wpos: first by sliding the
 * unread bytes to the front, then by growing. */
static int make_room(tn_client_t *c, size_t want) {
    if (c->rpos > 0) {
        memmove(c->in, c->in + c->rpos, c->wpos - c->rpos);
        c->wpos -= c->rpos;
        c->rpos = 0;
    }
    void *buf = c->in;
    if (tn_grow(&buf, &c->cap, c->wpos + want, 64 * 1024, 1) != 0)
        return -1;
    c->in = buf;
    return 0;
}

tn_code_t tn_client_recv(tn_client_t *c, tn_val_t *msg, tn_error_t *err) {
    long long deadline = deadline_of(c->timeout_ms);
    *msg = TN_VAL_NIL;
    if (c->broken)
        return tn_error_set(err, TN_ERR_UNAVAILABLE, "%s: connection is closed", c->peer);
    for (;;) {
        tn_frame_status_t st = tn_frame_scan(&c->frame, c->in + c->rpos, c->wpos - c->rpos, &c->limits);
        if (st == TN_FRAME_INVALID)
            return transport_fail(c, err, "reply is not msgpack-RPC (%s)", tn_frame_reason(&c->frame));
        if (st == TN_FRAME_DONE) {
            size_t n = c->frame.pos;
            tn_error_t derr = TN_ERROR_INIT;
            tn_code_t rc = tn_codec_decode(c->in + c->rpos, n, msg, &derr);
            c->rpos += n;
            tn_frame_reset(&c->frame);
            if (rc != TN_OK) {
                tn_code_t out = transport_fail(c, err, "undecodable reply: %s", derr.message);
                tn_error_clear(&derr);
                return out;
            }
            return TN_OK;
        }
        /* MORE: read what is there, waiting if nothing is. The scanner
         * keeps its place, so the bytes already scanned are not scanned
         * again however the message is split. */
        if (make_room(c, 16 * 1024) != 0)
            return tn_error_set(err, TN_ERR_INTERNAL, "out of memory reading a reply");
        ssize_t n = recv(c->fd, c->in + c->wpos, c->cap - c->wpos, 0);
        if (n > 0) {
            c->wpos += (size_t) n;
            continue;
        }
        if (n == 0)
            return transport_fail(c, err, "connection closed by the server");
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return transport_fail(c, err, "receive failed: %s", strerror(errno));
        int r = wait_fd(c->fd, POLLIN, deadline);
        if (r == 0)
            return transport_fail(c, err, "no reply within %d ms", c->timeout_ms);
        if (r < 0)
            return transport_fail(c, err, "%s", strerror(errno));
    }
}

/* The tn_code_t whose wire name is 'name'; TN_ERR_INTERNAL if unknown. */
static tn_code_t code_by_name(const char *name) {
    for (int k = TN_OK + 1; k < TN_CODE_COUNT; k++)
        if (name != NULL && strcmp(name, tn_code_name((tn_code_t) k)) == 0)
            return (tn_code_t) k;
    return TN_ERR_INTERNAL;
}

/* Turn a response's error map into the caller's tn_error_t. */
static tn_code_t take_error(tn_val_t *emap, tn_error_t *err) {
    const char *name = tn_val_str(tn_map_get(emap, "code"));
    const char *message = tn_val_str(tn_map_get(emap, "message"));
    tn_code_t code = code_by_name(name);
    if (code == TN_ERR_INTERNAL && (name == NULL || strcmp(name, "internal") != 0))
        tn_error_set(err, code, "unknown error code %s: %s", name ? name : "(none)",
                     message ? message : "");
    else
        tn_error_set(err, code, "%s", message ? message : "");
    if (err != NULL) {
        /* Move "data" out of the reply rather than copying it. */
        for (size_t i = 0; i < emap->u.m.n; i++)
            if (strcmp(emap->u.m.kv[i].key, "data") == 0 && emap->u.m.kv[i].val.type != TN_V_NIL) {
                tn_val_free(&err->data);
                err->data = emap->u.m.kv[i].val;
                emap->u.m.kv[i].val = TN_VAL_NIL;
                break;
            }
    }
    return code;
}

tn_code_t tn_client_call(tn_client_t *c, const char *method, const tn_val_t *options,
                         tn_val_t *result, tn_error_t *err) {
    uint32_t id = 0;                 /* set by tn_client_send; 0 quiets -O2 */
    tn_error_clear(err);
    *result = TN_VAL_NIL;
    tn_code_t rc = tn_client_send(c, method, options, &id, err);
    if (rc != TN_OK)
        return rc;
    for (;;) {
        tn_val_t m = TN_VAL_NIL;
        tn_rpc_msg_t msg;
        tn_error_t perr = TN_ERROR_INIT;
        rc = tn_client_recv(c, &m, err);
        if (rc != TN_OK)
            return rc;
        rc = tn_rpc_parse(&m, &msg, NULL, &perr);
        if (rc != TN_OK && msg.type == TN_RPC_RESPONSE) {
            /* A response we cannot read may be ours: nothing else would come. */
            rc = transport_fail(c, err, "malformed response: %s", perr.message);
            tn_error_clear(&perr);
            tn_val_free(&m);
            return rc;
        }
        tn_error_clear(&perr);
        if (rc != TN_OK || msg.type != TN_RPC_RESPONSE || msg.msgid != id) {
            tn_val_free(&m);             /* a notification, or not ours */
            continue;
        }
        /* The tree is ours: take [1, id, error, result] apart in place. */
        tn_val_t *items = m.u.a.items;
        if (items[2].type == TN_V_MAP) {
            rc = take_error(&items[2], err);
        } else {
            *result = items[3];
            items[3] = TN_VAL_NIL;
            rc = TN_OK;
        }
        tn_val_free(&m);
        return rc;
    }
}
