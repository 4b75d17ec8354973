/*
 * namekey.c -- the name key and slug of namekey.h.
 *
 * The folding tables cover Latin-1 Supplement, Latin Extended-A and -B
 * (U+00C0..U+024F) and Latin Extended Additional (U+1E00..U+1EFF, the
 * Vietnamese letters): each entry is the lowercase ASCII spelling of that
 * letter without its diacritics (Unicode's compatibility decomposition with
 * the combining marks dropped, plus the letters that have none, such as
 * "ß", "ø", "ł"), "" for a character with no ASCII spelling (kept as it
 * is), or NULL for a symbol that separates words (× ÷).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "namekey.h"

/* U+00C0..U+024F */
static const char *const latin_a[400] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n", "o",
    "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "ss", "a", "a", "a", "a", "a",
    "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o",
    NULL, "o", "u", "u", "u", "u", "y", "th", "y", "a", "a", "a", "a", "a", "a", "c", "c", "c",
    "c", "c", "c", "c", "c", "d", "d", "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e",
    "g", "g", "g", "g", "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i",
    "i", "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l", "l", "l",
    "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o", "o", "o", "oe", "oe", "r",
    "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s", "s", "s", "t", "t", "t", "t", "t", "t",
    "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z",
    "z", "z", "z", "z", "s", "b", "b", "", "", "", "", "", "", "", "", "", "", "", "", "", "e", "",
    "", "f", "", "", "", "", "", "", "", "l", "", "", "", "", "", "o", "o", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "u", "u", "", "", "y", "y", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "dz", "dz", "dz", "lj", "lj", "lj", "nj", "nj", "nj", "a", "a", "i", "i",
    "o", "o", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "e", "a", "a", "a", "a", "", "", "",
    "", "g", "g", "k", "k", "o", "o", "o", "o", "", "", "j", "dz", "dz", "dz", "g", "g", "", "",
    "n", "n", "a", "a", "", "", "", "", "a", "a", "a", "a", "e", "e", "e", "e", "i", "i", "i", "i",
    "o", "o", "o", "o", "r", "r", "r", "r", "u", "u", "u", "u", "s", "s", "t", "t", "", "", "h",
    "h", "", "", "", "", "", "", "a", "a", "e", "e", "o", "o", "o", "o", "o", "o", "o", "o", "y",
    "y", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "",
};
/* U+1E00..U+1EFF */
static const char *const latin_add[256] = {
    "a", "a", "b", "b", "b", "b", "b", "b", "c", "c", "d", "d", "d", "d", "d", "d", "d", "d", "d",
    "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "f", "f", "g", "g", "h", "h", "h", "h",
    "h", "h", "h", "h", "h", "h", "i", "i", "i", "i", "k", "k", "k", "k", "k", "k", "l", "l", "l",
    "l", "l", "l", "l", "l", "m", "m", "m", "m", "m", "m", "n", "n", "n", "n", "n", "n", "n", "n",
    "o", "o", "o", "o", "o", "o", "o", "o", "p", "p", "p", "p", "r", "r", "r", "r", "r", "r", "r",
    "r", "s", "s", "s", "s", "s", "s", "s", "s", "s", "s", "t", "t", "t", "t", "t", "t", "t", "t",
    "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "v", "v", "v", "v", "w", "w", "w", "w", "w",
    "w", "w", "w", "w", "w", "x", "x", "x", "x", "y", "y", "z", "z", "z", "z", "z", "z", "h", "t",
    "w", "y", "", "s", "", "", "", "", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a",
    "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "e", "e", "e", "e", "e", "e", "e",
    "e", "e", "e", "e", "e", "e", "e", "e", "e", "i", "i", "i", "i", "o", "o", "o", "o", "o", "o",
    "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "u",
    "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "y", "y", "y", "y", "y", "y",
    "y", "y", "", "", "", "", "", "",
};

/* Decode one UTF-8 character at s (n bytes left): its code point and
 * length; an invalid byte is returned as itself with length 1 and *ok 0. */
static uint32_t decode(const unsigned char *s, size_t n, size_t *len, int *ok) {
    *ok = 1;
    *len = 1;
    if (s[0] < 0x80)
        return s[0];
    size_t need = s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
    if (need == 0 || need > n) {
        *ok = 0;
        return s[0];
    }
    uint32_t cp = s[0] & (0x7F >> need);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *ok = 0;
            return s[0];
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *len = need;
    return cp;
}

/* Whether code point cp separates words: ASCII other than letters and
 * digits, Latin-1 punctuation and symbols, general punctuation and spaces,
 * CJK punctuation, fullwidth ASCII punctuation. */
static int is_separator(uint32_t cp) {
    if (cp < 0x80)
        return !((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'));
    return (cp >= 0x80 && cp <= 0xBF) || (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x3003)
           || (cp >= 0x3008 && cp <= 0x3011) || (cp >= 0x30FB && cp <= 0x30FB)
           || (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20)
           || (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65);
}

/* The folded spelling of a Latin letter cp, "" to keep it, NULL for a
 * separator; for cp outside the tables: "" (kept). */
static const char *latin_fold(uint32_t cp) {
    if (cp >= 0xC0 && cp < 0x250)
        return latin_a[cp - 0xC0];
    if (cp >= 0x1E00 && cp < 0x1F00)
        return latin_add[cp - 0x1E00];
    return "";
}

/* The key, with 'sep' between words; slug_only keeps only [a-z0-9]. */
static char *fold(const char *name, char sep, int slug_only) {
    size_t n = strlen(name);
    /* A character grows at most from 2 bytes to "ss"/"th" (2) or from one
     * ASCII byte to itself, so 2n + 1 bytes always suffice. */
    char *out = malloc(2 * n + 1);
    if (out == NULL)
        return NULL;
    const unsigned char *s = (const unsigned char *) name;
    size_t o = 0, i = 0;
    int pending = 0;          /* a separator is owed before the next word */
    while (i < n) {
        size_t len;
        int ok;
        uint32_t cp = decode(s + i, n - i, &len, &ok);
        const char *rep = NULL;
        char one[2] = { 0, 0 };
        if (ok && cp < 0x80 && !is_separator(cp)) {
            one[0] = (char) (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
            rep = one;
        } else if (ok && is_separator(cp)) {
            rep = NULL;
        } else if (ok) {
            rep = latin_fold(cp);
        } else {
            rep = "";
        }
        if (rep == NULL || (slug_only && rep[0] == '\0')) {
            pending = o > 0;
        } else {
            if (pending)
                out[o++] = sep;
            pending = 0;
            if (rep[0] != '\0') {
                size_t k = strlen(rep);
                memcpy(out + o, rep, k);
                o += k;
            } else {
                memcpy(out + o, s + i, len);
                o += len;
            }
        }
        i += len;
    }
    out[o] = '\0';
    return out;
}

char *tn_cli_name_key(const char *name) {
    return fold(name, ' ', 0);
}

char *tn_cli_name_slug(const char *name) {
    return fold(name, '-', 1);
}
