/*
 * qrec.c -- a query worker's writes to the daemon (see qrec.h).
 */
#include "qrec.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tn_qrec_write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t) w;
    }
    return 0;
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

void tn_qrec_progress(void *arg, uint64_t done, uint64_t total) {
    tn_qrec_out_t *o = arg;
    uint64_t t = mono_ns();
    if (t - o->last_ns < 50000000u && done < total)
        return;                     /* at most 20 a second reach the daemon */
    o->last_ns = t;
    char rec[17];
    rec[0] = 'P';
    memcpy(rec + 1, &done, 8);
    memcpy(rec + 9, &total, 8);
    tn_qrec_write_all(o->fd, rec, sizeof rec);
}
