/*
 * sbuf.c -- growable strings for the `twinnet` CLI, and its one
 * out-of-memory exit.
 *
 * The CLI is a short-lived process: when memory runs out it says so and
 * exits 1 rather than carrying failure codes through every printer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

void tn_cli_die_oom(void) {
    fputs("twinnet: out of memory\n", stderr);
    exit(TN_EXIT_SERVER);
}

void *tn_cli_grow(void *p, size_t *cap, size_t n, size_t size, size_t first) {
    if (n < *cap)
        return p;
    size_t ncap = *cap ? *cap * 2 : first;
    void *q = realloc(p, ncap * size);
    if (q == NULL)
        tn_cli_die_oom();
    *cap = ncap;
    return q;
}

void tn_cli_sb_printf(tn_cli_sbuf_t *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t) n < room) {
            b->len += (size_t) n;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 64;
        while (ncap < b->len + (size_t) n + 1)
            ncap *= 2;
        char *p = realloc(b->p, ncap);
        if (p == NULL)
            tn_cli_die_oom();
        b->p = p;
        b->cap = ncap;
    }
}

void tn_cli_sb_text(tn_cli_sbuf_t *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char) s[i];
        tn_cli_sb_printf(b, "%c", ch < 0x20 || ch == 0x7f ? '?' : (char) ch);
    }
}

char *tn_cli_fmt(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char *p = malloc(n < 0 ? 1 : (size_t) n + 1);
    if (p == NULL)
        exit(TN_EXIT_SERVER);
    va_start(ap, f);
    vsnprintf(p, n < 0 ? 1 : (size_t) n + 1, f, ap);
    va_end(ap);
    return p;
}
