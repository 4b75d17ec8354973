/*
 * rawrpc.c -- raw msgpack-RPC bytes for the request path's fast lane
 * (rawrpc.h).
 */
#include "rawrpc.h"

#include <string.h>

/* An unsigned integer at p (positive fixint, uint8/16/32): its width in
 * bytes, or 0 when it is not one of those or is cut short. */
static size_t read_uint32(const uint8_t *p, size_t n, uint32_t *v) {
    if (n < 1)
        return 0;
    if (p[0] <= 0x7f) {
        *v = p[0];
        return 1;
    }
    size_t w = p[0] == 0xcc ? 1 : p[0] == 0xcd ? 2 : p[0] == 0xce ? 4 : 0;
    if (w == 0 || n < 1 + w)
        return 0;
    uint32_t x = 0;
    for (size_t i = 1; i <= w; i++)
        x = x << 8 | p[i];
    *v = x;
    return 1 + w;
}

size_t tn_raw_peek_request(const uint8_t *buf, size_t len, uint32_t *msgid, const char **method,
                           size_t *mlen) {
    /* fixarray of 4, type 0 */
    if (len < 5 || buf[0] != 0x94 || buf[1] != 0x00)
        return 0;
    size_t i = 2;
    size_t w = read_uint32(buf + i, len - i, msgid);
    if (w == 0)
        return 0;
    i += w;
    size_t n;
    if (i < len && buf[i] >= 0xa0 && buf[i] <= 0xbf) {
        n = buf[i] & 0x1f;
        i += 1;
    } else if (i + 1 < len && buf[i] == 0xd9) {
        n = buf[i + 1];
        i += 2;
    } else {
        return 0;
    }
    /* The method, then params [] */
    if (len - i < n + 1 || buf[i + n] != 0x90 || memchr(buf + i, '\0', n) != NULL)
        return 0;
    *method = (const char *) buf + i;
    *mlen = n;
    return i + n + 1;
}

size_t tn_raw_uint(uint8_t *out, uint64_t v) {
    if (v < 0x80) {
        out[0] = (uint8_t) v;
        return 1;
    }
    size_t w;
    if (v <= 0xff) {
        out[0] = 0xcc;
        w = 1;
    } else if (v <= 0xffff) {
        out[0] = 0xcd;
        w = 2;
    } else if (v <= 0xffffffffu) {
        out[0] = 0xce;
        w = 4;
    } else {
        out[0] = 0xcf;
        w = 8;
    }
    for (size_t i = 0; i < w; i++)
        out[1 + i] = (uint8_t) (v >> (8 * (w - 1 - i)));
    return 1 + w;
}

/* A header with a 16- or 32-bit big-endian count after its type byte. */
static size_t head_be(uint8_t *out, uint8_t b16, uint32_t n) {
    if (n <= 0xffff) {
        out[0] = b16;
        out[1] = (uint8_t) (n >> 8);
        out[2] = (uint8_t) n;
        return 3;
    }
    out[0] = (uint8_t) (b16 + 1);
    out[1] = (uint8_t) (n >> 24);
    out[2] = (uint8_t) (n >> 16);
    out[3] = (uint8_t) (n >> 8);
    out[4] = (uint8_t) n;
    return 5;
}

size_t tn_raw_str_head(uint8_t *out, uint32_t n) {
    if (n < 32) {
        out[0] = (uint8_t) (0xa0 | n);
        return 1;
    }
    if (n <= 0xff) {
        out[0] = 0xd9;
        out[1] = (uint8_t) n;
        return 2;
    }
    return head_be(out, 0xda, n);
}

size_t tn_raw_map_head(uint8_t *out, uint32_t n) {
    if (n < 16) {
        out[0] = (uint8_t) (0x80 | n);
        return 1;
    }
    return head_be(out, 0xde, n);
}

size_t tn_raw_result_head(uint8_t *out, uint32_t msgid) {
    out[0] = 0x94;                  /* [1, msgid, nil, result] */
    out[1] = 0x01;
    size_t n = 2 + tn_raw_uint(out + 2, msgid);
    out[n++] = 0xc0;
    return n;
}
