/*
 * writes.c -- changes and saves queued for the writer (writes.h).
 */
#include "writes.h"

#include <stdlib.h>

/* Who made a change, for the journal and the audit trail. */
static int audit_of(const tn_caller_t *c, tn_val_t *out) {
    int rc = tn_val_set_map(out, 3);
    rc |= tn_map_add_str(out, "peer", c->peer);
    rc |= tn_map_add_str(out, "token", c->token_name[0] ? c->token_name : "-");
    rc |= tn_map_add_str(out, "role", c->role_name);
    return rc;
}

void tn_writes_submit(tn_server_t *srv, const tn_call_t *call, const char *method,
                      tn_job_kind_t kind, tn_change_kind_t change, tn_val_t *opts) {
    tn_job_t *job = calloc(1, sizeof *job);
    if (job == NULL || audit_of(call->caller, &job->audit) != 0) {
        tn_job_free(job);
        tn_val_free(opts);
        tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
        return;
    }
    job->opts = *opts;
    *opts = TN_VAL_NIL;
    job->kind = kind;
    job->method = method;
    job->change = change;
    job->queue = TN_QUEUE_WRITE;
    job->msgid = call->msgid;
    job->started_ns = call->t0;
    atomic_init(&job->stop, TN_RUN);
    job->caller = call->caller;
    tn_caller_retain(call->caller);
    if (tn_jobs_submit(srv->jobs, job) != 0) {
        tn_job_free(job);
        tn_reply_code(call, TN_ERR_BUSY, "%s", "too many changes waiting; try again shortly");
        return;
    }
    call->caller->jobs_in_flight++;
}
