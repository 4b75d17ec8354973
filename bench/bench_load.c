/*
 * bench_load.c -- a one-thread load generator that speaks two protocols in
 * raw bytes: twinnet's msgpack-RPC and Redis's RESP. The same loop, the
 * same shapes and the same clock for both, so twinnetd's server.ping and
 * redis-server's PING are measured the same way.
 *
 *   bench_load --port P --proto rpc  [--method server.ping] [--params-hex HEX]
 *   bench_load --port P --proto resp [--command PING]
 *   common: [--host 127.0.0.1] [--shapes 1x1,1x32,50x1,50x32] [--seconds 2]
 *           [--label TEXT]
 *
 * A shape CxD is C connections with D requests in flight on each: every
 * reply is answered at once by the next request on that connection. One
 * epoll loop drives all connections (no threads), so the generator costs
 * one core at most. Each reply's latency is the time from its request's
 * write to the reply's last byte; replies on a connection come back in
 * request order for both protocols (the rpc replies' msgids are checked).
 * Prints one markdown table row per shape: requests/s, p50 and p99.
 * Reply errors (an RPC error that is not nil, a RESP '-' line) are counted
 * and make the exit status 1. Not run by ctest: it prints figures
 * (docs/performance.md).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define MAX_DEPTH 1024
#define RBUF (1 << 20)

enum { P_RPC, P_RESP };

typedef struct conn {
    int fd;
    int proto;
    unsigned char *rbuf;
    size_t rlen;
    uint64_t sent_ns[MAX_DEPTH];   /* ring of send times, in request order */
    uint32_t sent_id[MAX_DEPTH];
    unsigned head, count;          /* oldest outstanding, number outstanding */
    unsigned char *wbuf;           /* bytes not yet written */
    size_t wlen, wcap;
} conn_t;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* ---- requests ---- */

static const char *g_method = "server.ping";
static unsigned char g_params[4096] = { 0x90 };   /* [] */
static size_t g_params_len = 1;
static const char *g_command = "PING";
static uint32_t g_next_id = 1;

static void wput(conn_t *c, const void *p, size_t n) {
    if (c->wlen + n > c->wcap) {
        size_t cap = c->wcap ? c->wcap * 2 : 4096;
        while (cap < c->wlen + n)
            cap *= 2;
        c->wbuf = realloc(c->wbuf, cap);
        if (c->wbuf == NULL) {
            perror("realloc");
            exit(2);
        }
        c->wcap = cap;
    }
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += n;
}

/* Queue one request: [0, msgid:uint32, method, params] or a RESP array. */
static void queue_request(conn_t *c, uint64_t t) {
    unsigned slot = (c->head + c->count) % MAX_DEPTH;
    if (c->proto == P_RPC) {
        uint32_t id = g_next_id++;
        size_t ml = strlen(g_method);
        unsigned char h[8] = { 0x94, 0x00, 0xce, (unsigned char) (id >> 24), (unsigned char) (id >> 16),
                               (unsigned char) (id >> 8), (unsigned char) id, 0xd9 };
        unsigned char l = (unsigned char) ml;
        wput(c, h, sizeof h);
        wput(c, &l, 1);
        wput(c, g_method, ml);
        wput(c, g_params, g_params_len);
        c->sent_id[slot] = id;
    } else {
        char tmp[512];
        int n = snprintf(tmp, sizeof tmp, "*1\r\n$%zu\r\n%s\r\n", strlen(g_command), g_command);
        wput(c, tmp, (size_t) n);
    }
    c->sent_ns[slot] = t;
    c->count++;
}

/* ---- replies ---- */

/* Length of the MessagePack object at p (of n bytes): >0, 0 if incomplete,
 * -1 if malformed. Containers are walked iteratively by a pending count. */
static long mp_skip(const unsigned char *p, size_t n) {
    size_t i = 0;
    unsigned long pending = 1;
    while (pending > 0) {
        if (i >= n)
            return 0;
        unsigned b = p[i++];
        unsigned long add = 0;
        size_t extra = 0, lenbytes = 0;
        pending--;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            ;
        else if (b >= 0x80 && b <= 0x8f)
            add = 2ul * (b & 0x0f);
        else if (b >= 0x90 && b <= 0x9f)
            add = b & 0x0f;
        else if (b >= 0xa0 && b <= 0xbf)
            extra = b & 0x1f;
        else
            switch (b) {
            case 0xcc: case 0xd0: extra = 1; break;
            case 0xcd: case 0xd1: extra = 2; break;
            case 0xca: case 0xce: case 0xd2: extra = 4; break;
            case 0xcb: case 0xcf: case 0xd3: extra = 8; break;
            case 0xd4: extra = 2; break;
            case 0xd5: extra = 3; break;
            case 0xd6: extra = 5; break;
            case 0xd7: extra = 9; break;
            case 0xd8: extra = 17; break;
            case 0xc4: case 0xd9: lenbytes = 1; break;
            case 0xc5: case 0xda: lenbytes = 2; break;
            case 0xc6: case 0xdb: lenbytes = 4; break;
            case 0xc7: lenbytes = 1; extra = 1; break;
            case 0xc8: lenbytes = 2; extra = 1; break;
            case 0xc9: lenbytes = 4; extra = 1; break;
            case 0xdc: case 0xde: lenbytes = 2; break;
            case 0xdd: case 0xdf: lenbytes = 4; break;
            default: return -1;
            }
        if (lenbytes) {
            if (i + lenbytes > n)
                return 0;
            unsigned long len = 0;
            for (size_t k = 0; k < lenbytes; k++)
                len = len << 8 | p[i + k];
            i += lenbytes;
            if (b == 0xdc || b == 0xdd)
                add = len;
            else if (b == 0xde || b == 0xdf)
                add = 2 * len;
            else
                extra += len;
        }
        if (extra) {
            if (i + extra > n)
                return 0;
            i += extra;
        }
        pending += add;
    }
    return (long) i;
}

/* One RPC reply at p: its length (0: incomplete), msgid and whether its
 * error slot is nil. */
static long rpc_reply(const unsigned char *p, size_t n, uint32_t *id, int *ok) {
    long len = mp_skip(p, n);
    if (len <= 0)
        return len;
    /* [1, msgid, error, result]: a 4-array, type 1, then the msgid. */
    if (len < 4 || p[0] != 0x94 || p[1] != 0x01)
        return -1;
    size_t i = 2;
    uint32_t v = 0;
    if (p[i] <= 0x7f)
        v = p[i++];
    else if (p[i] == 0xcc)
        v = p[i + 1], i += 2;
    else if (p[i] == 0xcd)
        v = (uint32_t) p[i + 1] << 8 | p[i + 2], i += 3;
    else if (p[i] == 0xce)
        v = (uint32_t) p[i + 1] << 24 | (uint32_t) p[i + 2] << 16 | (uint32_t) p[i + 3] << 8 | p[i + 4],
        i += 5;
    else
        return -1;
    *id = v;
    *ok = p[i] == 0xc0;
    return len;
}

/* One RESP reply: its length (0: incomplete), ok unless it is '-'. Simple
 * strings, integers and bulk strings are enough for PING and GET. */
static long resp_reply(const unsigned char *p, size_t n, int *ok) {
    const unsigned char *nl = memchr(p, '\n', n);
    if (nl == NULL)
        return 0;
    long line = nl - p + 1;
    *ok = p[0] != '-';
    if (p[0] != '$')
        return line;
    long blen = strtol((const char *) p + 1, NULL, 10);
    if (blen < 0)
        return line;
    if ((size_t) (line + blen + 2) > n)
        return 0;
    return line + blen + 2;
}

/* ---- latency samples ---- */

static uint32_t *g_lat;     /* microseconds x 10 */
static size_t g_nlat, g_caplat;

static void sample(uint64_t ns) {
    if (g_nlat == g_caplat) {
        g_caplat = g_caplat ? g_caplat * 2 : 1 << 20;
        g_lat = realloc(g_lat, g_caplat * sizeof *g_lat);
        if (g_lat == NULL) {
            perror("realloc");
            exit(2);
        }
    }
    uint64_t v = ns / 100;
    g_lat[g_nlat++] = v > UINT32_MAX ? UINT32_MAX : (uint32_t) v;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return (x > y) - (x < y);
}

static void fmt_us(char *out, size_t n, uint32_t tenths) {
    double us = tenths / 10.0;
    if (us >= 1000.0)
        snprintf(out, n, "%.2f ms", us / 1000.0);
    else
        snprintf(out, n, "%.0f µs", us);
}

/* ---- one shape ---- */

static int connect_to(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    inet_pton(AF_INET, host, &sa.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static int flush_conn(conn_t *c) {
    size_t off = 0;
    while (off < c->wlen) {
        ssize_t w = write(c->fd, c->wbuf + off, c->wlen - off);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            return -1;
        }
        off += (size_t) w;
    }
    memmove(c->wbuf, c->wbuf + off, c->wlen - off);
    c->wlen -= off;
    return 0;
}

static int run_shape(const char *host, int port, int proto, int nconns, int depth, double seconds,
                     const char *label) {
    conn_t *cs = calloc((size_t) nconns, sizeof *cs);
    int ep = epoll_create1(0);
    long errors = 0, done = 0;
    if (cs == NULL || ep < 0) {
        perror("setup");
        return 2;
    }
    g_nlat = 0;
    for (int i = 0; i < nconns; i++) {
        conn_t *c = &cs[i];
        c->proto = proto;
        c->rbuf = malloc(RBUF);
        c->fd = connect_to(host, port);
        if (c->fd < 0 || c->rbuf == NULL) {
            fprintf(stderr, "bench_load: cannot connect to %s:%d\n", host, port);
            return 2;
        }
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    }
    uint64_t t0 = now_ns(), t_end = t0 + (uint64_t) (seconds * 1e9), t_stop = 0;
    for (int i = 0; i < nconns; i++) {
        for (int k = 0; k < depth; k++)
            queue_request(&cs[i], t0);
    }
    int open = nconns;
    struct epoll_event evs[256];
    while (open > 0) {
        uint64_t t = now_ns();
        int stopping = t >= t_end;
        if (stopping && t_stop == 0)
            t_stop = t;
        if (stopping && t > t_end + 10ull * 1000000000ull) {
            fprintf(stderr, "bench_load: replies still missing 10 s after the end\n");
            return 2;
        }
        int n = epoll_wait(ep, evs, 256, 100);
        for (int e = 0; e < n; e++) {
            conn_t *c = evs[e].data.ptr;
            if (evs[e].events & (EPOLLERR | EPOLLHUP)) {
                fprintf(stderr, "bench_load: connection closed by the server\n");
                return 2;
            }
            if (evs[e].events & EPOLLIN) {
                for (;;) {
                    ssize_t r = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
                    if (r < 0 && (errno == EAGAIN || errno == EINTR))
                        break;
                    if (r <= 0) {
                        fprintf(stderr, "bench_load: read failed or EOF\n");
                        return 2;
                    }
                    c->rlen += (size_t) r;
                    if (c->rlen == RBUF)
                        break;
                }
                uint64_t tr = now_ns();
                size_t off = 0;
                for (;;) {
                    int ok = 0;
                    uint32_t id = 0;
                    long len = c->proto == P_RPC ? rpc_reply(c->rbuf + off, c->rlen - off, &id, &ok)
                                                 : resp_reply(c->rbuf + off, c->rlen - off, &ok);
                    if (len < 0) {
                        fprintf(stderr, "bench_load: malformed reply\n");
                        return 2;
                    }
                    if (len == 0)
                        break;
                    off += (size_t) len;
                    if (c->count == 0) {
                        fprintf(stderr, "bench_load: a reply nobody asked for\n");
                        return 2;
                    }
                    if (c->proto == P_RPC && id != c->sent_id[c->head]) {
                        fprintf(stderr, "bench_load: reply %u out of order (expected %u)\n", id,
                                c->sent_id[c->head]);
                        return 2;
                    }
                    uint64_t ts = c->sent_ns[c->head];
                    c->head = (c->head + 1) % MAX_DEPTH;
                    c->count--;
                    if (!ok)
                        errors++;
                    if (!stopping) {
                        done++;
                        sample(tr - ts);
                        queue_request(c, tr);
                    }
                }
                memmove(c->rbuf, c->rbuf + off, c->rlen - off);
                c->rlen -= off;
                if (stopping && c->count == 0) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    c->fd = -1;
                    open--;
                    continue;
                }
            }
            if (c->fd >= 0 && c->wlen > 0 && flush_conn(c) != 0) {
                fprintf(stderr, "bench_load: write failed\n");
                return 2;
            }
        }
        /* Anything queued but not written (no EPOLLOUT edge): try now. */
        for (int i = 0; i < nconns; i++)
            if (cs[i].fd >= 0 && cs[i].wlen > 0 && flush_conn(&cs[i]) != 0)
                return 2;
    }
    double el = (double) (t_stop - t0) / 1e9;
    qsort(g_lat, g_nlat, sizeof *g_lat, cmp_u32);
    char p50[32] = "-", p99[32] = "-";
    if (g_nlat > 0) {
        fmt_us(p50, sizeof p50, g_lat[g_nlat / 2]);
        fmt_us(p99, sizeof p99, g_lat[(size_t) ((double) g_nlat * 0.99)]);
    }
    printf("| %s | %d | %d | %.0f | %s | %s |%s\n", label, nconns, depth, (double) done / el, p50,
           p99, errors ? " ERRORS" : "");
    if (errors)
        fprintf(stderr, "bench_load: %ld error replies\n", errors);
    fflush(stdout);
    for (int i = 0; i < nconns; i++) {
        free(cs[i].rbuf);
        free(cs[i].wbuf);
    }
    free(cs);
    close(ep);
    return errors ? 1 : 0;
}

static int hexval(int ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *shapes = "1x1,1x32,50x1,50x32", *label = NULL;
    int port = 0, proto = P_RPC, header = 0;
    double seconds = 2.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--header") == 0) {
            header = 1;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "usage: bench_load --port P [--proto rpc|resp] [--method M] "
                            "[--params-hex HEX] [--command CMD] [--shapes 1x1,50x32] "
                            "[--seconds S] [--label L] [--header]\n");
            return 2;
        }
        i++;
        if (strcmp(a, "--port") == 0)
            port = atoi(v);
        else if (strcmp(a, "--host") == 0)
            host = v;
        else if (strcmp(a, "--proto") == 0)
            proto = strcmp(v, "resp") == 0 ? P_RESP : P_RPC;
        else if (strcmp(a, "--method") == 0)
            g_method = v;
        else if (strcmp(a, "--command") == 0)
            g_command = v;
        else if (strcmp(a, "--shapes") == 0)
            shapes = v;
        else if (strcmp(a, "--seconds") == 0)
            seconds = atof(v);
        else if (strcmp(a, "--label") == 0)
            label = v;
        else if (strcmp(a, "--params-hex") == 0) {
            size_t n = strlen(v) / 2;
            if (n == 0 || n > sizeof g_params || strlen(v) % 2) {
                fprintf(stderr, "bench_load: bad --params-hex\n");
                return 2;
            }
            for (size_t k = 0; k < n; k++) {
                int hi = hexval(v[2 * k]), lo = hexval(v[2 * k + 1]);
                if (hi < 0 || lo < 0) {
                    fprintf(stderr, "bench_load: bad --params-hex\n");
                    return 2;
                }
                g_params[k] = (unsigned char) (hi << 4 | lo);
            }
            g_params_len = n;
        } else {
            fprintf(stderr, "bench_load: unknown option %s\n", a);
            return 2;
        }
    }
    if (port <= 0 || strlen(g_method) > 255) {
        fprintf(stderr, "bench_load: --port is required\n");
        return 2;
    }
    if (label == NULL)
        label = proto == P_RPC ? g_method : g_command;
    if (header) {
        printf("| request | connections | in flight each | requests/s | p50 | p99 |\n");
        printf("|---|---:|---:|---:|---:|---:|\n");
    }
    int rc = 0;
    for (const char *s = shapes; *s; ) {
        int c = 0, d = 0;
        if (sscanf(s, "%dx%d", &c, &d) != 2 || c < 1 || c > MAX_CONNS || d < 1 || d > MAX_DEPTH / 2) {
            fprintf(stderr, "bench_load: bad shape in '%s'\n", s);
            return 2;
        }
        int r = run_shape(host, port, proto, c, d, seconds, label);
        if (r > rc)
            rc = r;
        const char *comma = strchr(s, ',');
        if (comma == NULL)
            break;
        s = comma + 1;
    }
    return rc;
}
