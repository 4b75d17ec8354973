/*
 * writes.h -- handing a change (or a save) to the writer thread as a job;
 * its answer comes back through dispatch.c like any job's.
 */
#ifndef TN_WRITES_H
#define TN_WRITES_H

#include "jobs.h"
#include "model.h"
#include "reply.h"
#include "server_state.h"

/* Queue a change of kind 'change', journalled as 'method' (static
 * storage), or a save (kind TN_JOB_SAVE). 'opts' is taken. Answers busy or
 * internal through 'call' when it cannot be queued. */
void tn_writes_submit(tn_server_t *srv, const tn_call_t *call, const char *method,
                      tn_job_kind_t kind, tn_change_kind_t change, tn_val_t *opts);

#endif
