/*
 * utf8.h -- UTF-8 validation (RFC 3629): no overlong forms, no surrogates,
 * nothing past U+10FFFF.
 */
#ifndef TN_UTF8_H
#define TN_UTF8_H

#include <stddef.h>

/* Is s valid UTF-8 of len bytes? Unless allow_controls, control characters
 * (< 0x20 and 0x7f) are refused as well. */
int tn_utf8_valid(const char *s, size_t len, int allow_controls);

/* The length of the valid UTF-8 character at s (left bytes available), or
 * 0 if the bytes there are not one. */
size_t tn_utf8_char(const char *s, size_t left);

/* Input echoed in a message (a name, an id) made safe to send: at most
 * outsz - 1 bytes of valid UTF-8, cut on a character boundary, with every
 * byte that is not part of a valid character written as \xNN. A strict
 * client can always decode what we say back. Returns out. */
const char *tn_utf8_clip(char *out, size_t outsz, const char *s);

/* tn_utf8_clip into a buffer of the enclosing block, for a format
 * argument: "no node '%s'", TN_CLIP(id, 128). */
#define TN_CLIP(s, max) tn_utf8_clip((char[(max) + 1]){ 0 }, (max) + 1, (s))


#endif
