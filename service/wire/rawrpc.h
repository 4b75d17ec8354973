/*
 * rawrpc.h -- the commonest msgpack-RPC shapes read and written as raw
 * bytes, for the request path's fast lane: no msgpack-c object, no value
 * tree, no allocation.
 *
 * Reading recognises one shape only, a request without options
 * [0, msgid, "method", []]; anything else is left to the frame scanner
 * and the full decoder (frame.h, codec.h), which judge it and word its
 * errors. Writing produces the
 * very bytes codec.c's encoder produces for the same values (the smallest
 * width of each integer and string header), so an answer written here and
 * one encoded from a tree are byte for byte the same.
 */
#ifndef TN_RAWRPC_H
#define TN_RAWRPC_H

#include <stddef.h>
#include <stdint.h>

/* Does buf[0..len) start with a whole request [0, msgid, method, []]
 * whose msgid is an unsigned integer up to 2^32-1 and whose method is a
 * str without NUL bytes? Then its length in bytes, with *msgid, and
 * *method / *mlen pointing into buf (not NUL-terminated); else 0 (another
 * shape, or not all there yet) and nothing is said about the bytes. */
size_t tn_raw_peek_request(const uint8_t *buf, size_t len, uint32_t *msgid, const char **method,
                           size_t *mlen);

/* Headers and scalars in their smallest encoding. Each writes at most 9
 * bytes at out and returns how many it wrote. */
size_t tn_raw_uint(uint8_t *out, uint64_t v);
size_t tn_raw_str_head(uint8_t *out, uint32_t n);
size_t tn_raw_map_head(uint8_t *out, uint32_t n);

/* The head of a response [1, msgid, nil, <result follows>]: at most
 * TN_RAW_RESULT_HEAD bytes. */
#define TN_RAW_RESULT_HEAD 8
size_t tn_raw_result_head(uint8_t *out, uint32_t msgid);

#endif
