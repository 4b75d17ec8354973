/*
 * frame.c -- the resumable MessagePack message scanner of frame.h.
 *
 * It walks type bytes and length headers only: payloads (str/bin/ext bodies,
 * number bytes) are skipped, never looked at. Every declared size is checked
 * against the limits the moment its header is complete, so a hostile header
 * is refused before msgpack-c (which allocates per declared item) ever sees
 * it. This file must never allocate, never read a byte twice once accepted,
 * and never trust a length before checking it.
 *
 * Accounting. The top level is treated as a container expecting one item
 * (left[0] = 1). 'pending' is the sum of left[]: items that have been
 * promised by some open header but not yet started. Each of them needs at
 * least one more byte, so an item whose header sits at 'pos' and needs
 * h header bytes plus p payload bytes (or promises c children) fits only if
 *     pos + h + p + c + (pending - 1) <= max_bytes,
 * the -1 being the slot this item itself fills. A message that fits the
 * byte limit always passes this test and one that does not is refused at
 * the first header that proves it, which is what stops nested array16
 * chains whose headers each look harmless on their own.
 */
#include "frame.h"

#include <assert.h>
#include <string.h>

/* The shapes a type byte can announce. */
enum kind {
    K_SCALAR,   /* fixed-size value: h header bytes then a fixed payload */
    K_STR,      /* str/bin: a length field, then that many bytes */
    K_EXT,      /* ext8/16/32: length field, type byte, payload */
    K_ARRAY,    /* a count of items follows (or is in the type byte) */
    K_MAP,      /* a count of key/value pairs */
    K_BAD       /* 0xc1, never used by MessagePack */
};

/* What one type byte says: its kind, how many bytes its header takes in
 * total (type byte included), the width of an explicit length field, and
 * the payload or count when the type byte carries it. */
typedef struct head {
    enum kind kind;
    unsigned hlen;        /* header bytes, type byte included */
    unsigned lenbytes;    /* width of the length/count field (0: implicit) */
    uint64_t n;           /* payload bytes (scalars, fixstr, fixext) or count (fix containers) */
} head_t;

/* The header of a str/bin, ext, array or map whose length or count is a
 * field of 'lenbytes' bytes after the type byte (and, for ext, before
 * its type byte). */
static head_t sized(enum kind kind, unsigned lenbytes) {
    head_t h = { kind, 1 + lenbytes + (kind == K_EXT), lenbytes, 0 };
    return h;
}

static head_t classify(uint8_t b) {
    head_t h = { K_SCALAR, 1, 0, 0 };
    if (b <= 0x7f || b >= 0xe0)                 /* positive / negative fixint */
        return h;
    if (b <= 0x8f) {                            /* fixmap */
        h.kind = K_MAP;
        h.n = b & 0x0f;
        return h;
    }
    if (b <= 0x9f) {                            /* fixarray */
        h.kind = K_ARRAY;
        h.n = b & 0x0f;
        return h;
    }
    if (b <= 0xbf) {                            /* fixstr */
        h.kind = K_STR;
        h.n = b & 0x1f;
        return h;
    }
    switch (b) {
    case 0xc0: case 0xc2: case 0xc3:            /* nil, false, true */
        return h;
    case 0xc1:
        h.kind = K_BAD;
        return h;
    case 0xc4: case 0xd9: return sized(K_STR, 1);   /* bin8, str8 */
    case 0xc5: case 0xda: return sized(K_STR, 2);   /* bin16, str16 */
    case 0xc6: case 0xdb: return sized(K_STR, 4);   /* bin32, str32 */
    case 0xc7: return sized(K_EXT, 1);              /* ext8: len, type */
    case 0xc8: return sized(K_EXT, 2);              /* ext16 */
    case 0xc9: return sized(K_EXT, 4);              /* ext32 */
    case 0xca: h.n = 4; return h;               /* float32 */
    case 0xcb: h.n = 8; return h;               /* float64 */
    case 0xcc: case 0xd0: h.n = 1; return h;    /* uint8, int8 */
    case 0xcd: case 0xd1: h.n = 2; return h;    /* uint16, int16 */
    case 0xce: case 0xd2: h.n = 4; return h;    /* uint32, int32 */
    case 0xcf: case 0xd3: h.n = 8; return h;    /* uint64, int64 */
    /* fixext 1..16: a type byte counts as header, the payload is fixed. */
    case 0xd4: h.kind = K_EXT; h.hlen = 2; h.n = 1; return h;
    case 0xd5: h.kind = K_EXT; h.hlen = 2; h.n = 2; return h;
    case 0xd6: h.kind = K_EXT; h.hlen = 2; h.n = 4; return h;
    case 0xd7: h.kind = K_EXT; h.hlen = 2; h.n = 8; return h;
    case 0xd8: h.kind = K_EXT; h.hlen = 2; h.n = 16; return h;
    case 0xdc: return sized(K_ARRAY, 2);            /* array16 */
    case 0xdd: return sized(K_ARRAY, 4);            /* array32 */
    case 0xde: return sized(K_MAP, 2);              /* map16 */
    default: return sized(K_MAP, 4);                /* 0xdf map32 */
    }
}

/* Big-endian length field of 1, 2 or 4 bytes. */
static uint64_t read_len(const uint8_t *p, unsigned width) {
    uint64_t n = 0;
    for (unsigned i = 0; i < width; i++)
        n = (n << 8) | p[i];
    return n;
}

void tn_frame_limits_default(tn_frame_limits_t *lim) {
    /* docs/limits.md explains each figure. */
    lim->max_bytes = (size_t) 8 << 20;
    lim->max_depth = 16;
    lim->max_items = (uint32_t) 1 << 20;
    lim->max_str = (uint32_t) 1 << 20;
}

void tn_frame_reset(tn_frame_t *f) {
    memset(f, 0, sizeof *f);
    f->left[0] = 1;          /* the top level expects exactly one object */
    f->pending = 1;
}

static tn_frame_status_t fail(tn_frame_t *f, int reason) {
    f->reason = reason;
    return TN_FRAME_INVALID;
}

/* An item has ended: close every container whose last item it was. */
static void close_done(tn_frame_t *f) {
    while (f->depth > 0 && f->left[f->depth] == 0)
        f->depth--;
}

tn_frame_status_t tn_frame_scan(tn_frame_t *f, const uint8_t *buf, size_t len,
                                const tn_frame_limits_t *lim) {
    /* A zeroed frame is as good as a reset one: nothing has been accepted. */
    if (f->pos == 0 && f->pending == 0 && f->reason == TN_FRAME_R_NONE)
        tn_frame_reset(f);
    if (f->reason != TN_FRAME_R_NONE)
        return TN_FRAME_INVALID;           /* sticky: the stream is lost */

    const uint64_t max = lim->max_bytes;
    int max_depth = lim->max_depth;
    if (max_depth > TN_FRAME_MAX_DEPTH)
        max_depth = TN_FRAME_MAX_DEPTH;

    for (;;) {
        /* The scanner's own state, whatever the bytes: open containers
         * within the hard bound, nothing accepted past what was given. */
        assert(f->depth >= 0 && f->depth <= TN_FRAME_MAX_DEPTH);
        assert(f->pos <= len);
        /* Skip the rest of a payload accepted earlier. */
        if (f->skip > 0) {
            size_t avail = len - f->pos;
            if (avail < f->skip) {
                f->pos += avail;
                f->skip -= avail;
                return TN_FRAME_MORE;
            }
            f->pos += (size_t) f->skip;
            f->skip = 0;
            close_done(f);
        }
        if (f->depth == 0 && f->left[0] == 0)
            return TN_FRAME_DONE;
        if (f->pos >= len)
            return TN_FRAME_MORE;

        head_t h = classify(buf[f->pos]);
        if (h.kind == K_BAD)
            return fail(f, TN_FRAME_R_BADBYTE);
        /* Wait for the whole header; the few header bytes seen so far were
         * not accepted, so looking at them again next time is not a reread
         * of the message and costs O(1). */
        if (len - f->pos < h.hlen)
            return TN_FRAME_MORE;
        if (h.lenbytes)
            h.n = read_len(buf + f->pos + 1, h.lenbytes);

        /* Bytes still free once this header and every other promised item
         * have been paid for. pending >= 1 here: this item is one of them. */
        uint64_t used = (uint64_t) f->pos + h.hlen + (f->pending - 1);
        if (used > max)
            return fail(f, TN_FRAME_R_TOO_BIG);
        uint64_t room = max - used;

        switch (h.kind) {
        case K_SCALAR:
            if (h.n > room)
                return fail(f, TN_FRAME_R_TOO_BIG);
            break;
        case K_STR:
        case K_EXT:
            if (h.n > lim->max_str)
                return fail(f, TN_FRAME_R_STR);
            /* Over the bytes the message may still hold: if the length is
             * honest the message is too large; if not, it must not make us
             * wait or allocate either way. */
            if (h.n > room)
                return fail(f, TN_FRAME_R_TOO_BIG);
            break;
        case K_ARRAY:
        case K_MAP: {
            uint64_t slots = h.kind == K_MAP ? 2 * h.n : h.n;
            if (f->depth + 1 > max_depth)
                return fail(f, TN_FRAME_R_DEPTH);
            if (h.n > lim->max_items)
                return fail(f, TN_FRAME_R_ITEMS);
            if (slots > room)
                return fail(f, TN_FRAME_R_TOO_BIG);
            break;
        }
        case K_BAD:
            break;
        }

        /* Accept the header: this item stops being pending. */
        assert(f->left[f->depth] > 0 && f->pending >= f->left[f->depth]);
        f->left[f->depth]--;
        f->pending--;
        f->pos += h.hlen;
        if (h.kind == K_ARRAY || h.kind == K_MAP) {
            uint64_t slots = h.kind == K_MAP ? 2 * h.n : h.n;
            if (slots > 0) {
                f->depth++;
                f->left[f->depth] = slots;
                f->pending += slots;
            } else {
                close_done(f);             /* an empty container is complete */
            }
        } else if (h.n > 0) {
            f->skip = h.n;                 /* consumed at the top of the loop */
        } else {
            close_done(f);
        }
    }
}

const char *tn_frame_reason(const tn_frame_t *f) {
    switch (f->reason) {
    case TN_FRAME_R_BADBYTE:
        return "invalid MessagePack byte 0xc1";
    case TN_FRAME_R_TOO_BIG:
        return "message exceeds the size limit (counting what its headers declare)";
    case TN_FRAME_R_DEPTH:
        return "message nests deeper than the depth limit";
    case TN_FRAME_R_ITEMS:
        return "declared array/map length exceeds the item limit";
    case TN_FRAME_R_STR:
        return "declared str/bin/ext length exceeds the string limit";
    default:
        return "no error";
    }
}
