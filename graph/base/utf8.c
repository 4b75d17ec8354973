/*
 * utf8.c -- the one UTF-8 check every reader of outside text uses (records,
 * CSV fields, JSON strings), so they agree on what "valid text" means; and
 * the one way outside text is echoed back in a message (tn_utf8_clip).
 */
#include "utf8.h"

#include <string.h>

size_t tn_utf8_char(const char *str, size_t left) {
    const unsigned char *s = (const unsigned char *) str;
    unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (left == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
    else return 0;
    if (n >= left)                      /* the last continuation byte is past the end */
        return 0;
    for (size_t k = 1; k <= n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))
        || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n + 1;
}

int tn_utf8_valid(const char *str, size_t len, int allow_controls) {
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0;
    while (i < len) {
        if (!allow_controls && (s[i] < 0x20 || s[i] == 0x7f))
            return 0;
        size_t n = tn_utf8_char(str + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

const char *tn_utf8_clip(char *out, size_t outsz, const char *str) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *) str;
    size_t len = strlen(str), i = 0, o = 0;
    if (outsz == 0)
        return out;
    while (i < len) {
        size_t n = tn_utf8_char(str + i, len - i);
        if (n > 0) {
            if (o + n > outsz - 1)
                break;
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        } else {
            if (o + 4 > outsz - 1)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[s[i] >> 4];
            out[o++] = hex[s[i] & 15];
            i++;
        }
    }
    out[o] = '\0';
    return out;
}
