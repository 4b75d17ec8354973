/*
 * writer.h -- the single owner of the live model, on the write thread.
 *
 * Every change goes through here in arrival order: validate (prepare), log
 * (journal append), apply (commit). A group of changes that arrived
 * together shares one fsync, made before any of them is answered (group
 * commit, as Redis does for appendfsync always). Only then is a new
 * snapshot published for readers, so a reader never sees a change that is
 * not yet durable, and never a half-applied one.
 */
#ifndef TN_WRITER_H
#define TN_WRITER_H

#include <stdint.h>

#include "jobs.h"
#include "model.h"
#include "snap.h"
#include "store.h"

typedef struct tn_writer tn_writer_t;

/* Take ownership of 'model' and 'store' (store may be NULL: in memory). */
tn_writer_t *tn_writer_new(tn_model_t *model, tn_store_t *store);
void tn_writer_free(tn_writer_t *w);

/* The latest published snapshot, retained for the caller (any thread).
 * NULL only on out-of-memory. */
tn_snap_t *tn_writer_snapshot(tn_writer_t *w);
/* The epoch of the latest published snapshot. */
uint64_t tn_writer_epoch(tn_writer_t *w);
const char *tn_writer_home(tn_writer_t *w);
/* Data directory and policy for server.info (NULL / "none" in memory). */
const char *tn_writer_data_dir(tn_writer_t *w);
const char *tn_writer_fsync(tn_writer_t *w);

/* audit.list: entries filtered by options {from_ms, to_ms, node, method,
 * token, limit (100, at most 10000), offset}, newest first, as
 * {"total", "items"}. Any thread. */
tn_code_t tn_writer_audit_list(tn_writer_t *w, const tn_val_t *opts, tn_val_t *out, tn_error_t *err);

/* Load the data directory's audit trail into memory (start-up, before
 * the writer thread runs). */
tn_code_t tn_writer_load_audit(tn_writer_t *w, tn_error_t *err);

/* jobs.h callbacks (write thread). */
void tn_writer_batch(tn_job_t *list, void *arg);
void tn_writer_tick(void *arg);

#endif
