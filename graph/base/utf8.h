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

#endif
