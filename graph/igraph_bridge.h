/*
 * igraph_bridge.h -- the one place where igraph's process-wide handlers are
 * set and where igraph error codes become protocol codes.
 *
 * igraph's default error handler aborts the process and its interruption
 * macro leaves the interrupted function's temporaries on the finally stack
 * (it does not pop them on IGRAPH_INTERRUPTED), so a server must replace both before the first
 * igraph call. Debian's igraph is built with IGRAPH_THREAD_SAFE 0: the
 * handlers, the finally stack and the RNG are shared by the whole process,
 * so exactly one thread may call igraph (the service's query thread) and
 * the functions below must be called on that thread only.
 */
#ifndef TN_IGRAPH_BRIDGE_H
#define TN_IGRAPH_BRIDGE_H

#include <igraph.h>

#include "error.h"
#include "query.h"

/* Install the error handler (never aborts: keeps the first reason and
 * unwinds the finally stack), a silent warning handler, the interruption
 * handler that honours the running query's stop flag, and a progress
 * handler that forwards to the query's progress callback. Idempotent. */
void tn_igraph_setup(void);

/* Bracket one query's igraph work: begin clears the last reason and makes
 * ctx (borrowed until tn_igraph_end; may be NULL) the source of the stop
 * flag and of progress reports. begin calls tn_igraph_setup itself.
 * Brackets nest (a query running another): only the outermost counts.
 * tn_query_run (query.h) is the one place queries are bracketed. */
void tn_igraph_begin(const tn_qctx_t *ctx);
void tn_igraph_end(void);

/* Inside an open bracket, drop its stop flag and progress sink (a forked
 * copy of the process that must stay silent; it is stopped by killing). */
void tn_igraph_mute(void);

/* Convert a failed igraph call into a protocol code, filling 'err':
 * IGRAPH_INTERRUPTED becomes TN_ERR_TIMEOUT or TN_ERR_CANCELLED according
 * to the stop flag, IGRAPH_ENOMEM "out of memory" (internal), anything
 * else internal with igraph's first reason. Returns the code. */
tn_code_t tn_igraph_fail(igraph_error_t rc, tn_error_t *err);

#endif
