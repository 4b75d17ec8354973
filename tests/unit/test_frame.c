/*
 * test_frame.c -- the message scanner of service/wire/frame.c, byte by byte.
 *
 * Every MessagePack format, every limit at and just past its boundary,
 * hostile declared lengths, resumption one byte at a time, back-to-back
 * messages, and a differential check against msgpack-c: for random valid
 * (and randomly damaged) messages the scanner must end exactly where
 * msgpack_unpack_next() does.
 */
#include "test.h"

#include <msgpack.h>
#include <stdint.h>
#include <time.h>

#include "frame.h"

/* Limits wide enough that only the shape of a message matters. */
static tn_frame_limits_t wide(void) {
    tn_frame_limits_t lim = { (size_t) 64 << 20, 32, UINT32_MAX, UINT32_MAX };
    return lim;
}

/* Scan a whole buffer in one call from a fresh frame. */
static tn_frame_status_t scan(const uint8_t *p, size_t n, const tn_frame_limits_t *lim,
                              tn_frame_t *f) {
    tn_frame_reset(f);
    return tn_frame_scan(f, p, n, lim);
}

/* Feed the buffer one byte more per call; returns the status at the end
 * and stores in *done_at the length at which DONE first came (0: never). */
static tn_frame_status_t scan_bytewise(const uint8_t *p, size_t n, const tn_frame_limits_t *lim,
                                       tn_frame_t *f, size_t *done_at) {
    tn_frame_status_t st = TN_FRAME_MORE;
    tn_frame_reset(f);
    *done_at = 0;
    for (size_t i = 1; i <= n; i++) {
        st = tn_frame_scan(f, p, i, lim);
        if (st == TN_FRAME_DONE) {
            *done_at = i;
            return st;
        }
        if (st == TN_FRAME_INVALID)
            return st;
    }
    return st;
}

/* How many bytes msgpack-c consumes for the first object (0: not SUCCESS). */
static size_t msgpack_len(const uint8_t *p, size_t n, msgpack_unpack_return *ret) {
    msgpack_unpacked u;
    size_t off = 0;
    msgpack_unpacked_init(&u);
    msgpack_unpack_return r = msgpack_unpack_next(&u, (const char *) p, n, &off);
    msgpack_unpacked_destroy(&u);
    if (ret)
        *ret = r;
    return r == MSGPACK_UNPACK_SUCCESS ? off : 0;
}

/* ---- every format ---- */

typedef struct sample {
    const char *name;
    size_t len;
    uint8_t b[40];
} sample_t;

static const sample_t samples[] = {
    { "positive fixint 0", 1, { 0x00 } },
    { "positive fixint 127", 1, { 0x7f } },
    { "negative fixint -32", 1, { 0xe0 } },
    { "negative fixint -1", 1, { 0xff } },
    { "fixmap empty", 1, { 0x80 } },
    { "fixmap 1", 3, { 0x81, 0xa0, 0xc0 } },
    { "fixmap 15", 31, { 0x8f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                         20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30 } },
    { "fixarray empty", 1, { 0x90 } },
    { "fixarray 1", 2, { 0x91, 0x01 } },
    { "fixarray 15", 16, { 0x9f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 } },
    { "fixstr empty", 1, { 0xa0 } },
    { "fixstr 3", 4, { 0xa3, 'a', 'b', 'c' } },
    { "fixstr 31", 32, { 0xbf, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
                         'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
                         'a', 'a', 'a', 'a' } },
    { "nil", 1, { 0xc0 } },
    { "false", 1, { 0xc2 } },
    { "true", 1, { 0xc3 } },
    { "bin8", 4, { 0xc4, 0x02, 0x00, 0xff } },
    { "bin8 empty", 2, { 0xc4, 0x00 } },
    { "bin16", 5, { 0xc5, 0x00, 0x02, 0x00, 0xff } },
    { "bin32", 7, { 0xc6, 0x00, 0x00, 0x00, 0x02, 0x00, 0xff } },
    { "ext8", 5, { 0xc7, 0x02, 0x05, 0xaa, 0xbb } },
    { "ext8 empty", 3, { 0xc7, 0x00, 0x05 } },
    { "ext16", 6, { 0xc8, 0x00, 0x02, 0x05, 0xaa, 0xbb } },
    { "ext32", 8, { 0xc9, 0x00, 0x00, 0x00, 0x02, 0x05, 0xaa, 0xbb } },
    { "float32", 5, { 0xca, 0x3f, 0x80, 0x00, 0x00 } },
    { "float64", 9, { 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0 } },
    { "uint8", 2, { 0xcc, 0xff } },
    { "uint16", 3, { 0xcd, 0xff, 0xff } },
    { "uint32", 5, { 0xce, 0xff, 0xff, 0xff, 0xff } },
    { "uint64", 9, { 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
    { "int8", 2, { 0xd0, 0x80 } },
    { "int16", 3, { 0xd1, 0x80, 0x00 } },
    { "int32", 5, { 0xd2, 0x80, 0, 0, 0 } },
    { "int64", 9, { 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0 } },
    { "fixext1", 3, { 0xd4, 0x01, 0xaa } },
    { "fixext2", 4, { 0xd5, 0x01, 0xaa, 0xbb } },
    { "fixext4", 6, { 0xd6, 0x01, 1, 2, 3, 4 } },
    { "fixext8", 10, { 0xd7, 0x01, 1, 2, 3, 4, 5, 6, 7, 8 } },
    { "fixext16", 18, { 0xd8, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } },
    { "str8", 5, { 0xd9, 0x03, 'a', 'b', 'c' } },
    { "str16", 6, { 0xda, 0x00, 0x03, 'a', 'b', 'c' } },
    { "str32", 8, { 0xdb, 0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c' } },
    { "array16", 5, { 0xdc, 0x00, 0x02, 0x01, 0x02 } },
    { "array16 empty", 3, { 0xdc, 0x00, 0x00 } },
    { "array32", 7, { 0xdd, 0x00, 0x00, 0x00, 0x02, 0x01, 0x02 } },
    { "map16", 6, { 0xde, 0x00, 0x01, 0xa1, 'k', 0x01 } },
    { "map32", 8, { 0xdf, 0x00, 0x00, 0x00, 0x01, 0xa1, 'k', 0x01 } },
    { "nested", 13, { 0x82, 0xa1, 'a', 0x92, 0x01, 0x90, 0xa1, 'b', 0x81, 0xc0, 0xd4, 0x00, 0x07 } },
};

static void test_every_format(void) {
    tn_frame_limits_t lim = wide();
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        const sample_t *x = &samples[s];
        tn_frame_t f;
        uint8_t buf[48];
        size_t done_at;
        int ok = 1;

        /* Whole, and with a stray byte after it that must not be taken. */
        memcpy(buf, x->b, x->len);
        buf[x->len] = 0xc1;
        ok &= scan(buf, x->len, &lim, &f) == TN_FRAME_DONE && f.pos == x->len;
        ok &= scan(buf, x->len + 1, &lim, &f) == TN_FRAME_DONE && f.pos == x->len;
        /* Every strict prefix is incomplete, not wrong. */
        for (size_t k = 0; k < x->len; k++)
            ok &= scan(buf, k, &lim, &f) == TN_FRAME_MORE;
        ok &= scan_bytewise(buf, x->len, &lim, &f, &done_at) == TN_FRAME_DONE && done_at == x->len;
        /* msgpack-c agrees on where the message ends. */
        ok &= msgpack_len(buf, x->len + 1, NULL) == x->len;
        if (!ok)
            fprintf(stderr, "  format: %s\n", x->name);
        CHECK(ok);
    }
}

static void test_bad_byte(void) {
    tn_frame_limits_t lim = wide();
    tn_frame_t f;
    const uint8_t top[] = { 0xc1 };
    const uint8_t inner[] = { 0x92, 0x01, 0xc1 };
    const uint8_t key[] = { 0x81, 0xc1, 0x01 };
    CHECK_EQ_INT(scan(top, 1, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_BADBYTE);
    CHECK_EQ_INT(scan(inner, 3, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_BADBYTE);
    CHECK_EQ_INT(f.pos, 2);
    CHECK_EQ_INT(scan(key, 3, &lim, &f), TN_FRAME_INVALID);
    /* INVALID is sticky: the stream cannot be resynchronised. */
    CHECK_EQ_INT(tn_frame_scan(&f, key, 3, &lim), TN_FRAME_INVALID);
    CHECK(strstr(tn_frame_reason(&f), "0xc1") != NULL);
}

/* ---- limits, at and just past each boundary ---- */

static void test_limit_bytes(void) {
    tn_frame_limits_t lim = wide();
    tn_frame_t f;
    uint8_t buf[400];

    /* A str8 of 200 bytes is 202 bytes long: the length is refused at the
     * header when one byte short. */
    buf[0] = 0xd9;
    buf[1] = 200;
    memset(buf + 2, 'x', 200);
    lim.max_bytes = 202;
    CHECK_EQ_INT(scan(buf, 202, &lim, &f), TN_FRAME_DONE);
    lim.max_bytes = 201;
    CHECK_EQ_INT(scan(buf, 2, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_TOO_BIG);

    /* array16 of 100 nils = 103 bytes: the count is refused at its header. */
    buf[0] = 0xdc;
    buf[1] = 0;
    buf[2] = 100;
    memset(buf + 3, 0xc0, 100);
    lim.max_bytes = 103;
    CHECK_EQ_INT(scan(buf, 103, &lim, &f), TN_FRAME_DONE);
    CHECK_EQ_INT(f.pos, 103);
    lim.max_bytes = 102;
    CHECK_EQ_INT(scan(buf, 3, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_TOO_BIG);

    /* A map counts two slots per entry: map16 of 50 nil:nil = 103 bytes. */
    buf[0] = 0xde;
    buf[2] = 50;
    lim.max_bytes = 103;
    CHECK_EQ_INT(scan(buf, 103, &lim, &f), TN_FRAME_DONE);
    lim.max_bytes = 102;
    CHECK_EQ_INT(scan(buf, 3, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_TOO_BIG);

    /* A bare uint64 is 9 bytes. */
    const uint8_t u64[] = { 0xcf, 1, 2, 3, 4, 5, 6, 7, 8 };
    lim.max_bytes = 9;
    CHECK_EQ_INT(scan(u64, 9, &lim, &f), TN_FRAME_DONE);
    lim.max_bytes = 8;
    CHECK_EQ_INT(scan(u64, 1, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_TOO_BIG);

    /* The last item is what overflows: [nil x 9, uint64] = 1+9+9 = 19. The
     * pending siblings already reserve their byte, so the array header of a
     * tight message passes and the uint64 header is the one refused. */
    uint8_t mix[19];
    mix[0] = 0x9a;
    memset(mix + 1, 0xc0, 9);
    memcpy(mix + 10, u64, 9);
    lim.max_bytes = 19;
    CHECK_EQ_INT(scan(mix, 19, &lim, &f), TN_FRAME_DONE);
    lim.max_bytes = 18;
    CHECK_EQ_INT(scan(mix, 19, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_TOO_BIG);
    CHECK_EQ_INT(f.pos, 10);

    /* A string nested under pending siblings: ["abcd", nil, nil] = 8
     * bytes; at 7 the str header is refused because two nils still need a
     * byte each. */
    const uint8_t nest[] = { 0x93, 0xa4, 'a', 'b', 'c', 'd', 0xc0, 0xc0 };
    lim.max_bytes = 8;
    CHECK_EQ_INT(scan(nest, 8, &lim, &f), TN_FRAME_DONE);
    lim.max_bytes = 7;
    CHECK_EQ_INT(scan(nest, 8, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_TOO_BIG);
    CHECK_EQ_INT(f.pos, 1);
}

static void test_limit_depth(void) {
    tn_frame_limits_t lim = wide();
    tn_frame_t f;
    uint8_t buf[64];

    /* d nested fixarrays around a nil: [[[...nil...]]]. */
    for (int d = 1; d <= 33; d++) {
        memset(buf, 0x91, (size_t) d);
        buf[d] = 0xc0;
        lim.max_depth = d;
        CHECK_EQ_INT(scan(buf, (size_t) d + 1, &lim, &f), d <= TN_FRAME_MAX_DEPTH ? TN_FRAME_DONE : TN_FRAME_INVALID);
        lim.max_depth = d - 1;
        CHECK_EQ_INT(scan(buf, (size_t) d + 1, &lim, &f), TN_FRAME_INVALID);
        CHECK_EQ_INT(f.reason, TN_FRAME_R_DEPTH);
        CHECK_EQ_INT(f.pos, d - 1);
    }
    /* An empty container still counts as a level. */
    memset(buf, 0x91, 3);
    buf[3] = 0x90;
    lim.max_depth = 4;
    CHECK_EQ_INT(scan(buf, 4, &lim, &f), TN_FRAME_DONE);
    lim.max_depth = 3;
    CHECK_EQ_INT(scan(buf, 4, &lim, &f), TN_FRAME_INVALID);
    /* Depth 0 still admits a scalar. */
    lim.max_depth = 0;
    CHECK_EQ_INT(scan((const uint8_t *) "\x01", 1, &lim, &f), TN_FRAME_DONE);

    /* msgpack-c's own bound is 32 levels: the scanner's hard cap matches. */
    memset(buf, 0x91, 32);
    buf[32] = 0xc0;
    msgpack_unpack_return r;
    CHECK_EQ_INT(msgpack_len(buf, 33, &r), 33);
    lim.max_depth = 1000;
    CHECK_EQ_INT(scan(buf, 33, &lim, &f), TN_FRAME_DONE);
    memset(buf, 0x91, 33);
    buf[33] = 0xc0;
    CHECK_EQ_INT(scan(buf, 34, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_DEPTH);
}

static void test_limit_items(void) {
    tn_frame_limits_t lim = wide();
    tn_frame_t f;
    uint8_t buf[600];

    /* array16 of 200 nils, map16 of 100 pairs: max_items counts map entries. */
    buf[0] = 0xdc;
    buf[1] = 0;
    buf[2] = 200;
    memset(buf + 3, 0xc0, 400);
    lim.max_items = 200;
    CHECK_EQ_INT(scan(buf, 203, &lim, &f), TN_FRAME_DONE);
    lim.max_items = 199;
    CHECK_EQ_INT(scan(buf, 203, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_ITEMS);
    CHECK_EQ_INT(f.pos, 0);

    buf[0] = 0xde;
    buf[2] = 100;
    lim.max_items = 100;
    CHECK_EQ_INT(scan(buf, 203, &lim, &f), TN_FRAME_DONE);
    CHECK_EQ_INT(f.pos, 203);
    lim.max_items = 99;
    CHECK_EQ_INT(scan(buf, 203, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_ITEMS);

    /* fixarray counts too. */
    const uint8_t fix[] = { 0x93, 1, 2, 3 };
    lim.max_items = 3;
    CHECK_EQ_INT(scan(fix, 4, &lim, &f), TN_FRAME_DONE);
    lim.max_items = 2;
    CHECK_EQ_INT(scan(fix, 4, &lim, &f), TN_FRAME_INVALID);
}

static void test_limit_str(void) {
    tn_frame_limits_t lim = wide();
    tn_frame_t f;
    static uint8_t buf[400];
    const uint8_t heads[][6] = {
        { 0xd9, 100 },                /* str8 */
        { 0xda, 0, 100 },             /* str16 */
        { 0xdb, 0, 0, 0, 100 },       /* str32 */
        { 0xc4, 100 },                /* bin8 */
        { 0xc5, 0, 100 },             /* bin16 */
        { 0xc6, 0, 0, 0, 100 },       /* bin32 */
        { 0xc7, 100, 7 },             /* ext8 */
        { 0xc8, 0, 100, 7 },          /* ext16 */
        { 0xc9, 0, 0, 0, 100, 7 },    /* ext32 */
    };
    const size_t hlen[] = { 2, 3, 5, 2, 3, 5, 3, 4, 6 };
    for (size_t i = 0; i < sizeof hlen / sizeof hlen[0]; i++) {
        memcpy(buf, heads[i], hlen[i]);
        memset(buf + hlen[i], 'y', 100);
        lim.max_str = 100;
        CHECK_EQ_INT(scan(buf, hlen[i] + 100, &lim, &f), TN_FRAME_DONE);
        CHECK_EQ_INT(f.pos, hlen[i] + 100);
        lim.max_str = 99;
        CHECK_EQ_INT(scan(buf, hlen[i], &lim, &f), TN_FRAME_INVALID);
        CHECK_EQ_INT(f.reason, TN_FRAME_R_STR);
    }
    /* fixstr and fixext are bounded by max_str as well. */
    const uint8_t fixstr[] = { 0xa5, 'a', 'b', 'c', 'd', 'e' };
    lim.max_str = 5;
    CHECK_EQ_INT(scan(fixstr, 6, &lim, &f), TN_FRAME_DONE);
    lim.max_str = 4;
    CHECK_EQ_INT(scan(fixstr, 6, &lim, &f), TN_FRAME_INVALID);
    const uint8_t fixext[] = { 0xd8, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    lim.max_str = 16;
    CHECK_EQ_INT(scan(fixext, sizeof fixext, &lim, &f), TN_FRAME_DONE);
    lim.max_str = 15;
    CHECK_EQ_INT(scan(fixext, sizeof fixext, &lim, &f), TN_FRAME_INVALID);
}

static void test_defaults(void) {
    tn_frame_limits_t lim;
    tn_frame_limits_default(&lim);
    CHECK_EQ_INT(lim.max_bytes, 8u << 20);
    CHECK_EQ_INT(lim.max_depth, 16);
    CHECK_EQ_INT(lim.max_items, 1u << 20);
    CHECK_EQ_INT(lim.max_str, 1u << 20);
}

/* ---- hostile headers ---- */

static void test_huge_declared(void) {
    tn_frame_limits_t lim;
    tn_frame_t f;
    tn_frame_limits_default(&lim);
    const struct { uint8_t b[6]; size_t n; int reason; } cases[] = {
        { { 0xdd, 0xff, 0xff, 0xff, 0xff }, 5, TN_FRAME_R_ITEMS },   /* array32 4G */
        { { 0xdf, 0xff, 0xff, 0xff, 0xff }, 5, TN_FRAME_R_ITEMS },   /* map32 4G */
        { { 0xdd, 0x00, 0x7f, 0xff, 0xff }, 5, TN_FRAME_R_ITEMS },   /* 8M items > 8 MiB - 5 */
        { { 0xdb, 0xff, 0xff, 0xff, 0xff }, 5, TN_FRAME_R_STR },     /* str32 4G */
        { { 0xc6, 0xff, 0xff, 0xff, 0xff }, 5, TN_FRAME_R_STR },     /* bin32 4G */
        { { 0xc9, 0xff, 0xff, 0xff, 0xff, 1 }, 6, TN_FRAME_R_STR },  /* ext32 4G */
        { { 0xde, 0xff, 0xff }, 3, TN_FRAME_R_NONE },                /* map16: fits */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tn_frame_status_t st = scan(cases[i].b, cases[i].n, &lim, &f);
        if (cases[i].reason == TN_FRAME_R_NONE) {
            CHECK_EQ_INT(st, TN_FRAME_MORE);
        } else {
            /* Refused on the header alone: nothing was accepted, so nothing
             * reached msgpack-c and nothing was reserved for it. */
            CHECK_EQ_INT(st, TN_FRAME_INVALID);
            CHECK_EQ_INT(f.reason, cases[i].reason);
            CHECK_EQ_INT(f.pos, 0);
        }
    }

    /* A known attack on MessagePack decoders: array16 headers declaring 65535 items each pass a
     * per-header "count <= bytes left" test, yet a chain of them promises
     * far more than the message can hold. The pending rule stops the chain
     * at its second header. */
    uint8_t chain[3 * 40];
    for (int i = 0; i < 40; i++) {
        chain[3 * i] = 0xdc;
        chain[3 * i + 1] = 0xff;
        chain[3 * i + 2] = 0xff;
    }
    lim.max_bytes = 100000;
    lim.max_depth = 32;
    CHECK_EQ_INT(scan(chain, sizeof chain, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_TOO_BIG);
    CHECK_EQ_INT(f.pos, 3);
    /* Under the default 8 MiB, 20 levels are admitted, but never more
     * items in total than the bytes the message may still hold. */
    tn_frame_limits_default(&lim);
    lim.max_depth = 32;
    CHECK_EQ_INT(scan(chain, 3 * 20, &lim, &f), TN_FRAME_MORE);
    CHECK(f.pending + f.pos <= lim.max_bytes);
    /* Fixed-size nested chains (1-item arrays) are stopped by depth. */
    uint8_t ones[40];
    memset(ones, 0x91, sizeof ones);
    tn_frame_limits_default(&lim);
    CHECK_EQ_INT(scan(ones, sizeof ones, &lim, &f), TN_FRAME_INVALID);
    CHECK_EQ_INT(f.reason, TN_FRAME_R_DEPTH);
}

/* ---- streaming ---- */

/* A random message built with msgpack-c's packer; see gen(). */
typedef struct rng { uint64_t s; } rng_t;

static uint64_t next(rng_t *r) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

static unsigned pick(rng_t *r, unsigned n) {
    return (unsigned) (next(r) % n);
}

/* Pack one random value of every format; containers only while depth > 0. */
static void gen(msgpack_packer *pk, rng_t *r, int depth) {
    static const char bytes[70000];
    unsigned kind = pick(r, depth > 0 ? 26 : 22);
    switch (kind) {
    case 0: msgpack_pack_nil(pk); break;
    case 1: msgpack_pack_true(pk); break;
    case 2: msgpack_pack_false(pk); break;
    case 3: msgpack_pack_int64(pk, (int64_t) next(r) >> pick(r, 64)); break;
    case 4: msgpack_pack_uint64(pk, next(r) >> pick(r, 64)); break;
    case 5: msgpack_pack_fix_uint8(pk, (uint8_t) next(r)); break;
    case 6: msgpack_pack_fix_uint16(pk, (uint16_t) next(r)); break;
    case 7: msgpack_pack_fix_uint32(pk, (uint32_t) next(r)); break;
    case 8: msgpack_pack_fix_uint64(pk, next(r)); break;
    case 9: msgpack_pack_fix_int8(pk, (int8_t) next(r)); break;
    case 10: msgpack_pack_fix_int16(pk, (int16_t) next(r)); break;
    case 11: msgpack_pack_fix_int32(pk, (int32_t) next(r)); break;
    case 12: msgpack_pack_fix_int64(pk, (int64_t) next(r)); break;
    case 13: msgpack_pack_float(pk, (float) pick(r, 1000) / 7.0f); break;
    case 14: msgpack_pack_double(pk, (double) next(r) / 3.0); break;
    case 15: case 16: {
        /* Mostly short strings; sometimes str8/16, rarely str32. */
        unsigned lens[] = { 0, 5, 31, 32, 200, 255, 256, 1000, 65535, 65536 };
        size_t n = lens[pick(r, pick(r, 50) == 0 ? 10 : 8)];
        if (kind == 15) {
            msgpack_pack_str(pk, n);
            msgpack_pack_str_body(pk, bytes, n);
        } else {
            msgpack_pack_bin(pk, n);
            msgpack_pack_bin_body(pk, bytes, n);
        }
        break;
    }
    case 17: case 18: case 19: case 20: case 21: {
        /* ext: fixext sizes 1,2,4,8,16 and ext8/16/32 around them. */
        size_t sizes[] = { 1, 2, 4, 8, 16, 0, 3, 17, 300, 70000 };
        size_t n = sizes[pick(r, pick(r, 20) == 0 ? 10 : 9)];
        msgpack_pack_ext(pk, n, (int8_t) pick(r, 100));
        msgpack_pack_ext_body(pk, bytes, n);
        break;
    }
    case 22: case 23: {
        size_t n = pick(r, 8) == 0 ? 16 + pick(r, 40) : pick(r, 6);
        msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n; i++)
            gen(pk, r, depth - 1);
        break;
    }
    default: {
        size_t n = pick(r, 8) == 0 ? 16 + pick(r, 20) : pick(r, 5);
        msgpack_pack_map(pk, n);
        for (size_t i = 0; i < n; i++) {
            gen(pk, r, 0);
            gen(pk, r, depth - 1);
        }
        break;
    }
    }
}

static void test_bytewise_and_back_to_back(void) {
    tn_frame_limits_t lim = wide();
    msgpack_sbuffer sb;
    msgpack_packer pk;
    rng_t r = { 0x1234567 };
    tn_frame_t f;
    size_t done_at;

    /* A large message (array16 of 5000 nested values) fed one byte per call. */
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 5000);
    for (int i = 0; i < 5000; i++)
        gen(&pk, &r, 3);
    size_t n = sb.size;
    clock_t t0 = clock();
    CHECK_EQ_INT(scan_bytewise((const uint8_t *) sb.data, n, &lim, &f, &done_at), TN_FRAME_DONE);
    double secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
    CHECK_EQ_INT(done_at, n);
    /* O(n): a few MB one byte at a time is well under a second; a scanner
     * that restarted each call would need hours. */
    fprintf(stderr, "  bytewise scan of %zu bytes: %.3f s\n", n, secs);
    CHECK(secs < 5.0);

    /* Two messages back to back, and a third partial one. */
    size_t first = n;
    msgpack_pack_array(&pk, 3);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str_with_body(&pk, "two", 3);
    msgpack_pack_nil(&pk);
    size_t second = sb.size - first;
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int(&pk, 3);
    const uint8_t *p = (const uint8_t *) sb.data;
    CHECK_EQ_INT(scan(p, sb.size, &lim, &f), TN_FRAME_DONE);
    CHECK_EQ_INT(f.pos, first);
    CHECK_EQ_INT(tn_frame_scan(&f, p, sb.size, &lim), TN_FRAME_DONE);   /* stays DONE */
    CHECK_EQ_INT(f.pos, first);
    CHECK_EQ_INT(scan(p + first, sb.size - first, &lim, &f), TN_FRAME_DONE);
    CHECK_EQ_INT(f.pos, second);
    CHECK_EQ_INT(scan(p + first + second, sb.size - first - second, &lim, &f), TN_FRAME_MORE);
    CHECK_EQ_INT(f.pos, 2);
    /* A zeroed frame works like a reset one. */
    memset(&f, 0, sizeof f);
    CHECK_EQ_INT(tn_frame_scan(&f, p + first, second, &lim), TN_FRAME_DONE);
    CHECK_EQ_INT(f.pos, second);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- differential against msgpack-c ---- */

static void test_differential(void) {
    tn_frame_limits_t lim = wide();
    rng_t r = { 0x9e3779b97f4a7c15ull };
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int agree = 0, total = 0;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (int i = 0; i < 3000; i++) {
        msgpack_sbuffer_clear(&sb);
        gen(&pk, &r, 1 + (int) pick(&r, 6));
        size_t n = sb.size;
        msgpack_pack_fix_uint8(&pk, 7);          /* the next message's first bytes */
        tn_frame_t f;
        tn_frame_status_t st = scan((const uint8_t *) sb.data, sb.size, &lim, &f);
        size_t want = msgpack_len((const uint8_t *) sb.data, sb.size, NULL);
        total++;
        if (st == TN_FRAME_DONE && f.pos == n && want == n)
            agree++;
        else
            fprintf(stderr, "  message %d: scanner %d at %zu, msgpack-c %zu, packed %zu\n",
                    i, (int) st, f.pos, want, n);
        /* A cut in the middle is MORE for the scanner, CONTINUE for msgpack-c. */
        size_t cut = (size_t) (next(&r) % n);
        msgpack_unpack_return ret;
        CHECK_EQ_INT(scan((const uint8_t *) sb.data, cut, &lim, &f), TN_FRAME_MORE);
        msgpack_len((const uint8_t *) sb.data, cut, &ret);
        CHECK_EQ_INT(ret, MSGPACK_UNPACK_CONTINUE);
    }
    CHECK_EQ_INT(agree, total);

    /* Damaged messages under tight limits: whenever the scanner accepts a
     * message, msgpack-c must parse exactly that many bytes; when it wants
     * more, msgpack-c must want more too; 0xc1 is an error to both. */
    tn_frame_limits_t tight = { 4096, 32, 4096, 4096 };
    int done = 0, more = 0, bad = 0;
    for (int i = 0; i < 20000; i++) {
        msgpack_sbuffer_clear(&sb);
        gen(&pk, &r, 1 + (int) pick(&r, 4));
        if (sb.size > 4000)
            continue;
        uint8_t *p = (uint8_t *) sb.data;
        for (unsigned k = 1 + pick(&r, 3); k > 0; k--)
            p[pick(&r, (unsigned) sb.size)] = (uint8_t) next(&r);
        tn_frame_t f;
        tn_frame_status_t st = scan(p, sb.size, &tight, &f);
        msgpack_unpack_return ret;
        if (st == TN_FRAME_DONE) {
            size_t got = msgpack_len(p, f.pos, &ret);
            CHECK_EQ_INT(got, f.pos);
            done++;
        } else if (st == TN_FRAME_MORE) {
            msgpack_len(p, sb.size, &ret);
            CHECK_EQ_INT(ret, MSGPACK_UNPACK_CONTINUE);
            more++;
        } else if (f.reason == TN_FRAME_R_BADBYTE) {
            /* msgpack-c sees the same prefix and the same bad byte. */
            msgpack_len(p, f.pos + 1, &ret);
            CHECK_EQ_INT(ret, MSGPACK_UNPACK_PARSE_ERROR);
            bad++;
        }
    }
    fprintf(stderr, "  damaged: %d done, %d more, %d bad byte\n", done, more, bad);
    CHECK(done > 1000 && more > 100 && bad > 10);
    msgpack_sbuffer_destroy(&sb);
}

int main(void) {
    RUN(test_every_format);
    RUN(test_bad_byte);
    RUN(test_limit_bytes);
    RUN(test_limit_depth);
    RUN(test_limit_items);
    RUN(test_limit_str);
    RUN(test_defaults);
    RUN(test_huge_declared);
    RUN(test_bytewise_and_back_to_back);
    RUN(test_differential);
    return TEST_DONE();
}
