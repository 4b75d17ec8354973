/*
 * log.c -- timestamped log lines on stderr (thread-safe: one fprintf each).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static tn_log_level_t min_level = TN_LOG_INFO;

void tn_log_set_level(tn_log_level_t level) {
    min_level = level;
}

void tn_log(tn_log_level_t level, const char *fmt, ...) {
    static const char *const names[] = { "debug", "info", "warn", "error" };
    if (level < min_level)
        return;
    char msg[1024], stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s.%03ldZ twinnetd %s: %s\n", stamp, ts.tv_nsec / 1000000L, names[level], msg);
}
