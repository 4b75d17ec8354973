/*
 * import.h -- what the files of `twinnet import` share (private to
 * import*.c; docs/import-export.md).
 *
 * import.c       the command: options, the run from files to summary
 * import_read.c  reading CSV and JSON Lines files into records
 * import_check.c local record checks: fields and duplicates
 * import_send.c  the streamed upload (import.begin/chunk/commit), progress
 * import_set.c   the records read and the problems found, and their report
 * import_byname.c  --pairs-by-name: twinning lists that name places, not ids
 *
 * Every problem is reported as "file:line: field: reason", server details
 * included: a detail's index is the position of the record among those
 * sent, which maps back to the line it came from.
 */
#ifndef TN_CLI_IMPORT_H
#define TN_CLI_IMPORT_H

#include <stdint.h>

#include "cli.h"
#include "hmap.h"

/* Where a record came from. */
typedef struct tn_cli_loc {
    int file;
    int64_t line;
} tn_cli_loc_t;

typedef struct tn_cli_problem {
    int file;
    int64_t line;           /* 0: about the whole file */
    size_t seq;             /* report order among equal lines */
    char *field;            /* NULL: none */
    char *reason;
} tn_cli_problem_t;

/* The files of one import, the records read from them (in order), where
 * each came from, and the problems found so far. */
typedef struct tn_cli_import_set {
    const char *files[TN_CLI_MAX_FILES];
    int nfiles;
    tn_val_t nodes, pairs;  /* arrays of records */
    tn_cli_loc_t *nloc, *ploc;
    size_t nloc_cap, ploc_cap;
    tn_cli_problem_t *probs;
    size_t nprobs, probs_cap;
} tn_cli_import_set_t;

/* Start an empty set / free everything it holds. */
void tn_cli_import_init(tn_cli_import_set_t *S);
void tn_cli_import_destroy(tn_cli_import_set_t *S);

/* Add a problem at file:line (line 0: the whole file); 'field' may be NULL
 * or "" for none. Both strings are copied. */
void tn_cli_import_problem(tn_cli_import_set_t *S, int file, int64_t line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Append a node or pair record read at file:line; takes *rec (left nil). */
void tn_cli_import_push(tn_cli_import_set_t *S, int is_pair, tn_val_t *rec, int file, int64_t line);

/* Copy the {index, field, reason} details of err into problems at 'line'
 * (line < 0: each detail's index is its line); no details: the message. */
void tn_cli_import_details(tn_cli_import_set_t *S, int file, int64_t line, const tn_error_t *err);

/* Map the server's details of a failed import (indices among the records
 * sent: sent_n[0..kn) nodes, sent_p[0..kp) pairs) to the lines they came
 * from. Details naming a node id in bad_ids (rejected locally, so already
 * reported) are skipped; bad_ids may be NULL. */
void tn_cli_import_server_problems(tn_cli_import_set_t *S, const tn_error_t *err, const size_t *sent_n, size_t kn,
                                   const size_t *sent_p, size_t kp, const tn_hmap_t *bad_ids);

/* Print every problem on stderr, sorted by file, then line, then order. */
void tn_cli_import_print_problems(tn_cli_import_set_t *S);

/* Read file fi of S as a nodes or pairs CSV / as JSON Lines, appending its
 * records and problems. A bad CSV row does not stop the others. */
void tn_cli_import_load_csv(tn_cli_import_set_t *S, int fi, int is_pairs);
void tn_cli_import_load_jsonl(tn_cli_import_set_t *S, int fi);

/* Local record checks: fields (record.c) and duplicates across all files.
 * Sets nok[i] / pok[i] to 1 for each node / pair that passes, 0 otherwise;
 * puts the ids of rejected nodes in *bad_ids (initialized by the caller),
 * so that the server's "no such node" for them is not reported twice. */
void tn_cli_import_check(tn_cli_import_set_t *S, char *nok, char *pok, tn_hmap_t *bad_ids);

/* Stream the records marked ok as one import of 'mode' (NULL: the
 * server's default), 'chunk' records per call. sent_n/sent_p (room for
 * every node / pair) get the index in S of each record sent, which is what
 * the server's details count. Returns TN_OK with the commit result in
 * *result (nil on entry), or the error (err filled). */
tn_code_t tn_cli_import_stream(tn_client_t *cl, tn_cli_import_set_t *S, const char *nok, const char *pok,
                               const char *mode, int dry_run, size_t chunk, int quiet, size_t *sent_n,
                               size_t *sent_p, tn_val_t *result, tn_error_t *err);

/* The commit result as a table: what was (or, in a dry run, would be)
 * changed by nn nodes and np pairs. */
void tn_cli_import_print_summary(const tn_val_t *res, int dry_run, size_t nn, size_t np);

/* `twinnet import --pairs-by-name` of the files in S (docs/import-export.md):
 * match or make every end, then stream the new nodes and pairs (upsert);
 * nothing is changed when any row is bad, or with dry_run. Returns the
 * exit code. */
int tn_cli_import_byname(tn_cli_import_set_t *S, int dry_run, size_t chunk, int quiet, tn_cli_globals_t *g);

#endif
