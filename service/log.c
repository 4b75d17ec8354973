/*
 * log.c -- timestamped log lines on stderr (thread-safe: one fprintf each,
 * under one lock).
 *
 * Rate limit: a peer can make the same line come out once per request
 * (a refused call, a failed auth), and a log that grows by megabytes a
 * second is an attack on the disk and on whoever reads it. Each format
 * string may print RL_BURST lines per second; the rest are counted, and
 * the count comes out as one line ("repeated N times") when the second is
 * over (tn_log_flush, called by the server's timer, or the next line of
 * that format).
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RL_BURST 10                 /* lines per format string per second */
#define RL_SLOTS 32                 /* format strings tracked at once */

typedef struct rl_slot {
    const char *fmt;                /* the key: a format string literal */
    tn_log_level_t level;
    time_t second;                  /* the window (monotonic seconds) */
    unsigned shown;
    unsigned long long dropped;
    char first[1024];               /* the first line left out, for the summary */
} rl_slot_t;

static tn_log_level_t min_level = TN_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static rl_slot_t slots[RL_SLOTS];
static const char *const names[] = { "debug", "info", "warn", "error" };

void tn_log_set_level(tn_log_level_t level) {
    min_level = level;
}

static void emit(tn_log_level_t level, const char *prefix, const char *msg) {
    char stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ twinnetd %s: %s%s\n", stamp, ts.tv_nsec / 1000000L, names[level],
            prefix, msg);
}

/* Say how many lines of slot s were left out (lock held). */
static void summarise(rl_slot_t *s) {
    if (s->dropped == 0)
        return;
    char prefix[96];
    snprintf(prefix, sizeof prefix, "(the next line repeated %llu times in one second, not logged "
             "one by one) ", s->dropped);
    emit(s->level, prefix, s->first);
    s->dropped = 0;
}

static time_t now_second(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* The slot of fmt, taking over the least recently used one if need be. */
static rl_slot_t *slot_of(const char *fmt) {
    rl_slot_t *old = &slots[0];
    for (size_t i = 0; i < RL_SLOTS; i++) {
        if (slots[i].fmt == fmt)
            return &slots[i];
        if (slots[i].second < old->second)
            old = &slots[i];
    }
    summarise(old);
    memset(old, 0, sizeof *old);
    old->fmt = fmt;
    return old;
}

void tn_log(tn_log_level_t level, const char *fmt, ...) {
    if (level < min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    time_t sec = now_second();
    pthread_mutex_lock(&log_lock);
    rl_slot_t *s = slot_of(fmt);
    if (s->second != sec) {
        summarise(s);
        s->second = sec;
        s->shown = 0;
    }
    if (s->shown < RL_BURST) {
        s->shown++;
        emit(level, "", msg);
    } else if (s->dropped++ == 0) {
        s->level = level;
        snprintf(s->first, sizeof s->first, "%s", msg);
    }
    pthread_mutex_unlock(&log_lock);
}

void tn_log_flush(void) {
    time_t sec = now_second();
    pthread_mutex_lock(&log_lock);
    for (size_t i = 0; i < RL_SLOTS; i++)
        if (slots[i].dropped > 0 && slots[i].second != sec)
            summarise(&slots[i]);
    pthread_mutex_unlock(&log_lock);
}
