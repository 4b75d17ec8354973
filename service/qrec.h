/*
 * qrec.h -- the writes the daemon and its two kinds of query worker
 * process (qpool.h's per-query children, qwarm.h's resident workers) make
 * the same way: whole buffers on a pipe or stream, and igraph's progress
 * as 'P' records (done:u64 total:u64), at most 20 a second. A process
 * that writes with these either ignores SIGPIPE (the daemon, a resident
 * worker) or wants to die of it (a per-query child whose daemon is gone).
 */
#ifndef TN_QREC_H
#define TN_QREC_H

#include <stddef.h>
#include <stdint.h>

/* Write all n bytes (blocking; retried on EINTR): 0, or -1 on error. */
int tn_qrec_write_all(int fd, const void *p, size_t n);

/* Where progress goes: the descriptor, and when the last record went. */
typedef struct tn_qrec_out {
    int fd;
    uint64_t last_ns;
} tn_qrec_out_t;

/* A tn_qctx_t progress callback; 'arg' is a tn_qrec_out_t. The last step
 * (done == total) always goes out. */
void tn_qrec_progress(void *arg, uint64_t done, uint64_t total);

#endif
