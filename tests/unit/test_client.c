/*
 * test_client.c -- clients/c/tn_client.c against a scripted fake server on
 * a loopback port: replies split into tiny pieces, notifications and other
 * msgids to skip, error replies with details, pipelining with replies out
 * of order, and every transport failure (refused, closed, garbage, silence).
 *
 * The unit tests link tn_service but not the client library (clients/ is a
 * separate target built after tests/ is configured), so the client's one
 * source file is compiled in here.
 */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../clients/c/tn_client.c"

enum scenario {
    S_SPLIT,        /* notification, someone else's reply, then ours in 3-byte pieces */
    S_ERROR,        /* an invalid_params reply with data */
    S_CLOSE,        /* hang up without a reply */
    S_GARBAGE,      /* 0xc1 */
    S_SILENT,       /* say nothing for longer than the client waits */
    S_PIPELINE,     /* three requests, answered last first */
    S_COUNT
};

typedef struct server {
    int lfd;
    int port;
} server_t;

static void sleep_ms(int ms) {
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        p += k;
        n -= (size_t) k;
    }
}

/* Read 'want' whole requests from fd; store their msgids. */
static int read_requests(int fd, uint32_t *ids, int want) {
    static uint8_t buf[1 << 16];
    size_t have = 0, start = 0;
    tn_frame_limits_t lim;
    tn_frame_t f;
    int got = 0;
    tn_frame_limits_default(&lim);
    tn_frame_reset(&f);
    while (got < want) {
        tn_frame_status_t st = tn_frame_scan(&f, buf + start, have - start, &lim);
        if (st == TN_FRAME_DONE) {
            tn_val_t v = TN_VAL_NIL;
            tn_error_t err = TN_ERROR_INIT;
            tn_rpc_msg_t msg;
            if (tn_codec_decode(buf + start, f.pos, &v, &err) != TN_OK
                || tn_rpc_parse(&v, &msg, NULL, &err) != TN_OK)
                return -1;
            ids[got++] = msg.msgid;
            tn_val_free(&v);
            start += f.pos;
            tn_frame_reset(&f);
            continue;
        }
        if (st == TN_FRAME_INVALID || have == sizeof buf)
            return -1;
        ssize_t n = recv(fd, buf + have, sizeof buf - have, 0);
        if (n <= 0)
            return -1;
        have += (size_t) n;
    }
    return got;
}

static void *serve(void *arg) {
    server_t *s = arg;
    for (int sc = 0; sc < S_COUNT; sc++) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        uint32_t ids[3];
        char *out = NULL;
        size_t len = 0, cap = 0;
        tn_val_t res = TN_VAL_NIL;
        tn_error_t err = TN_ERROR_INIT;
        if (read_requests(fd, ids, sc == S_PIPELINE ? 3 : 1) < 0) {
            close(fd);
            continue;
        }
        switch (sc) {
        case S_SPLIT:
            tn_val_set_map(&res, 1);
            tn_map_add_str(&res, "type", "epoch");
            tn_rpc_encode_notify("event", &res, &out, &len, &cap);
            tn_rpc_encode_result(ids[0] + 1000, &res, &out, &len, &cap);
            tn_val_free(&res);
            tn_val_set_map(&res, 1);
            tn_map_add_str(&res, "name", "长沙市");
            tn_rpc_encode_result(ids[0], &res, &out, &len, &cap);
            for (size_t off = 0; off < len; off += 3) {
                send_all(fd, out + off, len - off < 3 ? len - off : 3);
                sleep_ms(1);
            }
            break;
        case S_ERROR:
            tn_error_set(&err, TN_ERR_INVALID_PARAMS, "invalid records in batch");
            tn_error_detail(&err, 0, "pairs.b", "no such node: %s", "nowhere");
            tn_rpc_encode_error(ids[0], &err, &out, &len, &cap);
            send_all(fd, out, len);
            break;
        case S_CLOSE:
            break;
        case S_GARBAGE:
            send_all(fd, "\xc1", 1);
            break;
        case S_SILENT:
            sleep_ms(600);
            break;
        case S_PIPELINE:
            for (int i = 2; i >= 0; i--) {
                tn_val_t one = tn_val_int(i);
                tn_rpc_encode_result(ids[i], &one, &out, &len, &cap);
            }
            send_all(fd, out, len);
            break;
        }
        /* Let the client read before the hang-up. */
        sleep_ms(50);
        tn_val_free(&res);
        tn_error_clear(&err);
        free(out);
        close(fd);
    }
    return NULL;
}

/* A listening socket on a free loopback port. */
static int listen_any(int *port) {
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof a) != 0 || listen(fd, 8) != 0
        || getsockname(fd, (struct sockaddr *) &a, &al) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_refused(void) {
    int port;
    int fd = listen_any(&port);
    CHECK(fd >= 0);
    close(fd);                     /* nothing listens there now */
    char why[200], want[200];
    tn_client_t *c = tn_client_connect("127.0.0.1", port, 1000, why, sizeof why);
    CHECK(c == NULL);
    snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%d: Connection refused", port);
    CHECK_EQ_STR(why, want);
    CHECK(tn_client_connect("127.0.0.1", 0, 1000, why, sizeof why) == NULL);
}

static void test_scenarios(void) {
    server_t s;
    pthread_t th;
    char why[200];
    s.lfd = listen_any(&s.port);
    CHECK(s.lfd >= 0);
    if (s.lfd < 0 || pthread_create(&th, NULL, serve, &s) != 0)
        return;

    for (int sc = 0; sc < S_COUNT; sc++) {
        tn_client_t *c = tn_client_connect("127.0.0.1", s.port, sc == S_SILENT ? 200 : 5000, why, sizeof why);
        CHECK(c != NULL);
        if (c == NULL)
            break;
        tn_val_t res = TN_VAL_NIL;
        tn_error_t err = TN_ERROR_INIT;
        tn_code_t rc;
        if (sc == S_PIPELINE) {
            uint32_t ids[3];
            for (int i = 0; i < 3; i++)
                CHECK_EQ_INT(tn_client_send(c, "server.ping", NULL, &ids[i], &err), TN_OK);
            CHECK(ids[0] != ids[1] && ids[1] != ids[2]);
            for (int i = 2; i >= 0; i--) {
                tn_val_t m = TN_VAL_NIL;
                tn_rpc_msg_t msg;
                CHECK_EQ_INT(tn_client_recv(c, &m, &err), TN_OK);
                CHECK_EQ_INT(tn_rpc_parse(&m, &msg, NULL, &err), TN_OK);
                CHECK_EQ_INT(msg.type, TN_RPC_RESPONSE);
                CHECK_EQ_INT(msg.msgid, ids[i]);
                CHECK(msg.result && msg.result->type == TN_V_INT && msg.result->u.i == i);
                tn_val_free(&m);
            }
            CHECK(!tn_client_broken(c));
            tn_client_close(c);
            continue;
        }
        rc = tn_client_call(c, "node.get", NULL, &res, &err);
        switch (sc) {
        case S_SPLIT:
            CHECK_EQ_INT(rc, TN_OK);
            CHECK_EQ_STR(tn_val_str(tn_map_get(&res, "name")), "长沙市");
            CHECK(!tn_client_broken(c));
            break;
        case S_ERROR:
            CHECK_EQ_INT(rc, TN_ERR_INVALID_PARAMS);
            CHECK_EQ_STR(err.message, "invalid records in batch");
            CHECK(err.data.type == TN_V_ARR && err.data.u.a.n == 1);
            CHECK(!tn_client_broken(c));
            CHECK_EQ_INT(res.type, TN_V_NIL);
            break;
        case S_CLOSE:
            CHECK_EQ_INT(rc, TN_ERR_UNAVAILABLE);
            CHECK(strstr(err.message, "closed") != NULL);
            CHECK(tn_client_broken(c));
            /* Once broken, every call fails at once. */
            tn_error_clear(&err);
            CHECK_EQ_INT(tn_client_call(c, "server.ping", NULL, &res, &err), TN_ERR_UNAVAILABLE);
            break;
        case S_GARBAGE:
            CHECK_EQ_INT(rc, TN_ERR_UNAVAILABLE);
            CHECK(strstr(err.message, "msgpack") != NULL);
            CHECK(tn_client_broken(c));
            break;
        case S_SILENT:
            CHECK_EQ_INT(rc, TN_ERR_UNAVAILABLE);
            CHECK(strstr(err.message, "no reply within 200 ms") != NULL);
            CHECK(tn_client_broken(c));
            break;
        }
        if (rc != TN_OK && sc == S_SPLIT)
            fprintf(stderr, "  %s\n", err.message);
        tn_val_free(&res);
        tn_error_clear(&err);
        tn_client_close(c);
    }
    pthread_join(th, NULL);
    close(s.lfd);
}

int main(void) {
    RUN(test_refused);
    RUN(test_scenarios);
    return TEST_DONE();
}
