/*
 * store.h -- the data directory: a snapshot file plus an append-only
 * journal of changes, so that nothing acknowledged is ever lost.
 *
 * Files in DIR:
 *   snapshot.tns   the whole graph at some epoch (written to a temporary
 *                  file, fsynced, renamed, directory fsynced)
 *   journal.tnj    every change applied since, one record each, appended
 *                  and (policy "always") fsynced before the reply
 *   audit.tna      who changed what and when (never compacted)
 *   LOCK           flock()ed while a daemon owns the directory
 * Both files are sequences of records: a 16-byte header {magic "TNR1",
 * payload length, CRC-32 of the payload, CRC-32 of the first 12 header
 * bytes} and a MessagePack payload (docs/durability.md has the layout).
 *
 * Recovery (tn_store_open): load the snapshot, replay journal records with
 * an epoch above it. A torn tail -- what a crash in the middle of an append
 * leaves: a partial header, a length running past the end, a last record
 * whose payload CRC fails, or zero bytes -- is reported and cut off. Any
 * other damage stops the start with the file name and offset: a silently
 * partial graph is worse than no start.
 *
 * One thread at a time (the writer thread after start-up).
 */
#ifndef TN_STORE_H
#define TN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model.h"
#include "snap.h"
#include "value.h"

typedef enum tn_fsync_policy {
    TN_FSYNC_ALWAYS = 0,   /* fsync before every reply (group commit): nothing acked is lost */
    TN_FSYNC_EVERYSEC,     /* fsync once a second: a crash of the machine loses up to ~1 s */
    TN_FSYNC_NO            /* leave it to the kernel (~30 s on Linux) */
} tn_fsync_policy_t;

const char *tn_fsync_name(tn_fsync_policy_t p);
int tn_fsync_parse(const char *s, tn_fsync_policy_t *out);

typedef struct tn_store tn_store_t;

/* Which change a journalled method name replays: 0 and *kind set, or -1
 * for a name that is no change. The method registry answers this
 * (tn_registry_change_kind); the store only keeps the names. */
typedef int tn_store_kind_fn(const char *method, tn_change_kind_t *kind);

typedef struct tn_store_opts {
    tn_fsync_policy_t fsync;
    uint64_t compact_bytes;  /* compact when the journal passes this; default 64 MiB */
    int seed_dataset;        /* a tn_dataset_t: what an empty directory starts from */
    tn_store_kind_fn *change_kind;  /* required to replay a journal */
    int accept_lost;         /* start although the audit trail shows lost changes */
} tn_store_opts_t;

/* Open (creating if needed) the directory and recover its graph into a new
 * model (home as given). On success *store and *model are set. On failure
 * returns a code with a message naming the file and offset; nothing is
 * written to a directory that failed to load. */
tn_code_t tn_store_open(const char *dir, const tn_store_opts_t *opts, const char *home,
                        tn_store_t **store, tn_model_t **model, tn_error_t *err);

/* Append one change record {"epoch", "method", "params", "time"} (not yet
 * synced unless the policy says so at tn_store_sync). On a write error the
 * file is cut back to its previous length and TN_ERR_UNAVAILABLE returned:
 * the caller must then not apply the change. */
tn_code_t tn_store_append(tn_store_t *st, uint64_t epoch, const char *method,
                          const tn_val_t *params, const tn_val_t *audit, tn_error_t *err);

/* Take back the last appended record (before it was synced): used when a
 * later step of the same change failed, so the change is not applied. */
void tn_store_unappend(tn_store_t *st);

/* Make appended records durable as the policy requires ("always": fsync
 * now; others: nothing). TN_ERR_UNAVAILABLE if fsync fails. */
tn_code_t tn_store_sync(tn_store_t *st, tn_error_t *err);

/* For "everysec": fsync if anything was appended since the last one and
 * the clock has entered a new second since the last tick; cheap to call
 * after every group of changes. */
void tn_store_tick(tn_store_t *st);

/* Write a new snapshot of 'm' and start an empty journal. */
tn_code_t tn_store_compact(tn_store_t *st, const tn_model_t *m, tn_error_t *err);

/* Is the journal past its compaction threshold? */
int tn_store_wants_compact(const tn_store_t *st);

uint64_t tn_store_journal_bytes(const tn_store_t *st);
const char *tn_store_dir(const tn_store_t *st);
tn_fsync_policy_t tn_store_policy(const tn_store_t *st);

void tn_store_close(tn_store_t *st);

/* The audit trail (DIR/audit.tna): one record per applied change, kept
 * across compactions. Load calls fn once per record (fn takes the value),
 * cuts a torn tail, refuses corruption, and opens the file for appends.
 * Append writes one record; it is made durable with the journal by
 * tn_store_sync. */
typedef void tn_store_audit_fn(tn_val_t *rec, void *arg);
tn_code_t tn_store_audit_load(tn_store_t *st, tn_store_audit_fn *fn, void *arg, tn_error_t *err);
tn_code_t tn_store_audit_append(tn_store_t *st, const tn_val_t *rec, tn_error_t *err);

/* The record framing, exposed for tests and the fuzz target: scan buf for
 * records, calling fn(payload, len, offset, arg) for each good one.
 * Returns the offset where good records end; *torn says whether the rest is
 * a torn tail (1) or corruption (0, and *bad_offset is where). */
typedef int tn_store_record_fn(const uint8_t *payload, size_t len, uint64_t offset, void *arg);
uint64_t tn_store_scan(const uint8_t *buf, size_t len, tn_store_record_fn *fn, void *arg,
                       int *torn, uint64_t *bad_offset, char *why, size_t whylen);

uint32_t tn_crc32(const void *data, size_t len);

#endif
