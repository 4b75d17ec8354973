/*
 * frame.h -- find where one MessagePack message ends in a byte stream,
 * without allocating and before msgpack-c sees a byte of it.
 *
 * msgpack-c reserves memory for declared array/map lengths as soon as it
 * reads a header (it has no limits of its own), so every message is
 * scanned here first against the limits; only a complete, accepted message
 * is handed to the decoder. The scanner is resumable: call it again with the
 * same (grown) buffer as bytes arrive; it never rereads a byte it has
 * already accepted, so a message arriving one byte at a time costs O(n).
 *
 * Rule for containers (docs/limits.md, the byte budget): an array of n items needs
 * at least n more bytes, a map 2n, so a declared count is refused when it
 * exceeds the bytes the frame may still hold minus the items still pending
 * in every open container.
 */
#ifndef TN_FRAME_H
#define TN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define TN_FRAME_MAX_DEPTH 32     /* hard upper bound; limits.max_depth <= this */

typedef struct tn_frame_limits {
    size_t max_bytes;     /* whole message, bytes */
    int max_depth;        /* nesting of arrays/maps (a bare scalar is depth 0) */
    uint32_t max_items;   /* per array / map (pairs for maps) */
    uint32_t max_str;     /* str / bin / ext payload bytes */
} tn_frame_limits_t;

/* Defaults (docs/limits.md): 8 MiB, depth 16, 1M items, 1 MiB strings. */
void tn_frame_limits_default(tn_frame_limits_t *lim);

typedef enum tn_frame_status {
    TN_FRAME_MORE = 0,    /* need more bytes; state kept */
    TN_FRAME_DONE,        /* a whole message: its length is f->pos */
    TN_FRAME_INVALID,     /* not MessagePack (0xc1) or over a limit: close */
} tn_frame_status_t;

typedef struct tn_frame {
    size_t pos;                           /* bytes of this message accepted */
    int depth;                            /* open containers */
    uint64_t left[TN_FRAME_MAX_DEPTH + 1];/* items each open container still expects */
    uint64_t pending;                     /* sum of left[] */
    uint64_t skip;                        /* payload bytes still to skip (str/bin/ext) */
    int reason;                           /* why INVALID (TN_FRAME_R_*) */
} tn_frame_t;

enum {
    TN_FRAME_R_NONE = 0,
    TN_FRAME_R_BADBYTE,   /* 0xc1 */
    TN_FRAME_R_TOO_BIG,   /* message longer than max_bytes */
    TN_FRAME_R_DEPTH,
    TN_FRAME_R_ITEMS,     /* declared count over max_items or over the bytes left */
    TN_FRAME_R_STR,       /* declared str/bin/ext over max_str or over the bytes left */
};

void tn_frame_reset(tn_frame_t *f);

/* Scan buf[0..len) for one message, resuming at f->pos (buf must start at
 * the same message start each call, and len never shrinks between calls). */
tn_frame_status_t tn_frame_scan(tn_frame_t *f, const uint8_t *buf, size_t len,
                                const tn_frame_limits_t *lim);

/* A short text for f->reason ("declared length exceeds the message limit"). */
const char *tn_frame_reason(const tn_frame_t *f);

#endif
