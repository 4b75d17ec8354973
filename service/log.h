/*
 * log.h -- one-line log records on stderr: time, level, message.
 * Never given secrets (tokens) or whole requests.
 */
#ifndef TN_LOG_H
#define TN_LOG_H

typedef enum tn_log_level { TN_LOG_DEBUG = 0, TN_LOG_INFO, TN_LOG_WARN, TN_LOG_ERROR } tn_log_level_t;

void tn_log_set_level(tn_log_level_t level);
/* At most a few lines per second per format string; the rest are counted
 * and reported as one line (log.c). */
void tn_log(tn_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Report the counts of lines left out in seconds that are over (a timer). */
void tn_log_flush(void);

#endif
