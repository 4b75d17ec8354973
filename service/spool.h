/*
 * spool.h -- records of a streamed import, staged in a file instead of in
 * memory until commit.
 *
 * A spool is an anonymous file (in the data directory, or the system's
 * temporary directory when the server runs in memory) that disappears with
 * its descriptor. Each record is {kind (1 byte), length (4 bytes, little
 * endian), MessagePack value}. Appends of one chunk are all or nothing
 * (mark / rollback). Loop thread only.
 */
#ifndef TN_SPOOL_H
#define TN_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

typedef struct tn_spool tn_spool_t;

enum { TN_SPOOL_NODES = 0, TN_SPOOL_PAIRS = 1 };

/* A new empty spool in dir (NULL: $TMPDIR or /tmp). NULL with err set. */
tn_spool_t *tn_spool_new(const char *dir, tn_error_t *err);

/* Remember the current end; rollback returns to it (a chunk that failed
 * half-way leaves nothing behind). */
void tn_spool_mark(tn_spool_t *sp);
void tn_spool_rollback(tn_spool_t *sp);

/* Append one record of the given kind. */
tn_code_t tn_spool_put(tn_spool_t *sp, int kind, const tn_val_t *rec, tn_error_t *err);

/* Make the appended records part of the file (a chunk's end). */
tn_code_t tn_spool_flush(tn_spool_t *sp, tn_error_t *err);

/* Records of a kind so far. */
size_t tn_spool_count(const tn_spool_t *sp, int kind);

/* Read every record back, in order, into two new arrays (the caller owns
 * them; on failure both are left nil). */
tn_code_t tn_spool_read(tn_spool_t *sp, tn_val_t *nodes, tn_val_t *pairs, tn_error_t *err);

void tn_spool_free(tn_spool_t *sp);

#endif
