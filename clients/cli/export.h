/*
 * export.h -- what the files of `twinnet export` share (private to
 * export*.c; docs/import-export.md).
 *
 * export.c        the command: paging through the server, consistency
 * export_write.c  the three file formats: CSV, JSON Lines, GraphML
 */
#ifndef TN_CLI_EXPORT_H
#define TN_CLI_EXPORT_H

#include <stdio.h>

#include "cli.h"

typedef enum tn_cli_xfmt { TN_XFMT_CSV, TN_XFMT_JSONL, TN_XFMT_GRAPHML } tn_cli_xfmt_t;

/* One export being written. The caller opens and closes the files. */
typedef struct tn_cli_exporter {
    tn_cli_xfmt_t fmt;
    FILE *nf, *pf;          /* csv: nodes and pairs files; others: nf only */
    size_t nodes, pairs;    /* records written so far */
} tn_cli_exporter_t;

/* Write what comes before the records (CSV headers, GraphML keys). */
void tn_cli_export_begin(tn_cli_exporter_t *ex);

/* Write one node or pair record, keeping only the protocol's fields (list
 * results may add others), and count it. */
void tn_cli_export_record(tn_cli_exporter_t *ex, const tn_val_t *rec, int is_pair);

/* Write what comes after the records (GraphML's closing tags). */
void tn_cli_export_end(tn_cli_exporter_t *ex);

#endif
