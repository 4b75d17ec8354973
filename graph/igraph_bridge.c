/*
 * igraph_bridge.c -- igraph's error, warning, interruption and progress
 * handlers, and the single conversion of igraph_error_t to tn_code_t.
 *
 * State here is process-wide because igraph's is: one query at a time on
 * the igraph thread (see igraph_bridge.h). The stop flag is the only value
 * another thread touches, and it is an atomic the loop thread sets.
 */
#include "igraph_bridge.h"

#include <stdatomic.h>
#include <stdio.h>

static char last_reason[256];              /* first reason of the current failure */
static const tn_qctx_t *running;           /* the query being computed, or NULL */
static int stopped_with;                   /* flag value seen by the last interruption */
static int installed;
static int depth;                          /* nested brackets (tn_igraph_begin) */

/* igraph's default handler aborts, which a server must not do. Keep the
 * first, most specific reason (each outer IGRAPH_CHECK reports again, with
 * an empty one), then unwind the finally stack so the code can travel up:
 * igraph's rule is that the handler frees the registered temporaries. */
static void on_error(const char *reason, const char *file, int line, igraph_error_t code) {
    (void) file;
    (void) line;
    (void) code;
    if (last_reason[0] == '\0' && reason != NULL && reason[0] != '\0')
        snprintf(last_reason, sizeof last_reason, "%s", reason);
    IGRAPH_FINALLY_FREE();                  /* may invalidate 'reason' */
}

/* Warnings (e.g. "graph has no edges" from eigenvector centrality) are
 * expected on small graphs; a server has no terminal to print them on. */
static void on_warning(const char *reason, const char *file, int line) {
    (void) reason;
    (void) file;
    (void) line;
}

static int stop_value(void) {
    if (running == NULL || running->stop == NULL)
        return TN_RUN;
    return atomic_load(running->stop);
}

/* IGRAPH_ALLOW_INTERRUPTION() returns at once, leaving the interrupted
 * function's locals on the finally stack (igraph 0.10.2 does not pop
 * them on IGRAPH_INTERRUPTED): free them here, while they still exist, or the caller's unwinding
 * frees stack addresses and crashes the process. */
static igraph_error_t on_interrupt(void *data) {
    (void) data;
    int why = stop_value();
    if (why == TN_RUN)
        return IGRAPH_SUCCESS;
    stopped_with = why;
    IGRAPH_FINALLY_FREE();
    return IGRAPH_INTERRUPTED;
}

/* igraph reports percentages (betweenness and closeness once per source
 * vertex); the protocol's progress is done of total, here in hundredths
 * of a percent so a long query's figure moves between two reports. */
static igraph_error_t on_progress(const char *message, igraph_real_t percent, void *data) {
    (void) message;
    (void) data;
    if (running != NULL && running->progress != NULL && percent >= 0 && percent <= 100)
        running->progress(running->progress_arg, (uint64_t) (percent * 100.0), 10000);
    return IGRAPH_SUCCESS;
}

/* Install all four handlers (idempotent; igraph thread only). */
void tn_igraph_setup(void) {
    if (installed)
        return;
    igraph_set_error_handler(on_error);
    igraph_set_warning_handler(on_warning);
    igraph_set_interruption_handler(on_interrupt);
    igraph_set_progress_handler(on_progress);
    installed = 1;
}

/* Start one query's igraph work with ctx as its stop flag and progress sink. */
void tn_igraph_begin(const tn_qctx_t *ctx) {
    if (depth++ > 0)
        return;                 /* an inner query keeps the outer one's flag */
    tn_igraph_setup();
    last_reason[0] = '\0';
    stopped_with = TN_RUN;
    running = ctx;
}

/* End it: later interruption checks see no stop flag. */
void tn_igraph_end(void) {
    if (depth > 0 && --depth > 0)
        return;
    running = NULL;
}

void tn_igraph_mute(void) {
    running = NULL;
}

/* The one conversion of igraph codes to protocol codes. */
tn_code_t tn_igraph_fail(igraph_error_t rc, tn_error_t *err) {
    switch (rc) {
    case IGRAPH_SUCCESS:
        return TN_OK;
    case IGRAPH_INTERRUPTED:
        /* The value that stopped igraph, so this works after tn_igraph_end. */
        if ((stopped_with != TN_RUN ? stopped_with : stop_value()) == TN_STOP_CANCEL)
            return tn_error_set(err, TN_ERR_CANCELLED, "the query was cancelled");
        return tn_error_set(err, TN_ERR_TIMEOUT, "the query ran past its deadline");
    case IGRAPH_ENOMEM:
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory in igraph");
    default:
        return tn_error_set(err, TN_ERR_INTERNAL, "igraph: %s (%s)",
                            last_reason[0] ? last_reason : "failed", igraph_strerror(rc));
    }
}
