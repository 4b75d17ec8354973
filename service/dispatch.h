/*
 * dispatch.h -- serving a request: look-up in the registry, role check,
 * option validation, then the method's kind decides (inline on the loop,
 * a query job with deadline, cancel and the per-epoch cache, a change for
 * the writer, a streamed-import step). Answers go through the caller
 * interface, so any transport can call in.
 */
#ifndef TN_DISPATCH_H
#define TN_DISPATCH_H

#include <stdint.h>

#include "caller.h"
#include "jobs.h"
#include "server_state.h"
#include "value.h"

/* One decoded msgpack-RPC message from c. */
void tn_dispatch_message(tn_server_t *srv, tn_caller_t *c, const tn_val_t *msg, uint64_t t0);

/* One call by name (an RPC request after its envelope, or another
 * transport's request): exactly one answer reaches c under 'msgid'. */
void tn_dispatch_call(tn_server_t *srv, tn_caller_t *c, uint32_t msgid, const char *method,
                      const tn_val_t *opts, uint64_t t0);

/* A finished job comes back here (loop thread). */
void tn_dispatch_job_done(tn_job_t *job, void *arg);
/* Send progress notifications for running queries that asked for them. */
void tn_dispatch_progress_tick(tn_server_t *srv);
/* The caller is going away: stop its jobs, drop its subscription. */
void tn_dispatch_caller_gone(tn_server_t *srv, tn_caller_t *c);

#endif
