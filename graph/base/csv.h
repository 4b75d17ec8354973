/*
 * csv.h -- an RFC 4180 CSV reader over a buffer, and the mapping of the
 * dataset layouts (nodes.csv, pairs.csv; datasets/README.md) to node and
 * pair records in the value tree (docs/protocol.md, "Data model" field names).
 *
 * Pure: a buffer in, values out. It never opens a file, so the daemon, the
 * import tools and the tests feed it the same way, and the embedded
 * built-in dataset needs no file system at all.
 *
 * What it checks: the CSV syntax (quotes, "" escapes, CRLF or LF line ends,
 * an optional UTF-8 byte order mark), that every field is UTF-8, the header
 * (known, unique, required columns) and the field types (numbers, tags).
 * What it must not check: record semantics (kinds, ids, references); that
 * is record.c's and model.c's job, so a rule lives in exactly one place.
 *
 * Line numbers are 1-based physical lines with the header as line 1. A
 * record whose quoted field spans lines is reported at the line where it
 * starts, which is where an editor shows it.
 */
#ifndef TN_CSV_H
#define TN_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

/* Status of one tn_csv_read() call. */
typedef enum tn_csv_status {
    TN_CSV_END = 0,     /* no more records */
    TN_CSV_ROW,         /* a record is available through tn_csv_field() */
    TN_CSV_BAD,         /* a malformed record was skipped; see 'why', 'bad_field' */
    TN_CSV_NOMEM        /* out of memory; the reader cannot continue */
} tn_csv_status_t;

/* A generic record iterator. Initialize with tn_csv_reader_init, read
 * records with tn_csv_read, release with tn_csv_reader_destroy. The fields
 * of the current record are copies (quotes removed, "" unescaped, each
 * NUL-terminated) valid until the next tn_csv_read. Blank lines between
 * records are skipped, so a trailing newline never makes an empty record. */
typedef struct tn_csv_reader {
    const char *buf;        /* borrowed; must outlive the reader */
    size_t len, pos;
    int64_t line;           /* physical line at 'pos' (1-based) */
    int64_t row_line;       /* line where the last record (good or bad) started */
    char *text;             /* the current record's fields, back to back */
    size_t text_len, text_cap;
    size_t *start, *flen;   /* per field: offset in 'text' and length */
    size_t nfields, fcap;
    int bad_field;          /* after TN_CSV_BAD: 0-based field index, or -1 */
    char why[160];          /* after TN_CSV_BAD: the reason, for humans */
} tn_csv_reader_t;

/* Start reading 'len' bytes at 'buf' (borrowed). A leading UTF-8 byte
 * order mark is skipped. Cannot fail; allocates nothing yet. */
void tn_csv_reader_init(tn_csv_reader_t *r, const char *buf, size_t len);

/* Release the reader's buffers. Accepts NULL. */
void tn_csv_reader_destroy(tn_csv_reader_t *r);

/* Read the next record. TN_CSV_BAD means the record at r->row_line was
 * malformed (a quote inside an unquoted field, text after a closing quote,
 * a stray carriage return, invalid UTF-8, or an unterminated quote, which
 * consumes the rest of the input); reading may continue with the next line. */
tn_csv_status_t tn_csv_read(tn_csv_reader_t *r);

/* Field i of the current record (borrowed, NUL-terminated; *len gets its
 * length when len is not NULL), or NULL when i is out of range. */
const char *tn_csv_field(const tn_csv_reader_t *r, size_t i, size_t *len);

/* The number of fields of the current record. */
size_t tn_csv_nfields(const tn_csv_reader_t *r);

/* Parse a nodes CSV (columns id, kind, name, name_zh, country, parent,
 * region, subregion, tags, lat, lon, population, in any order; id, kind and
 * name are required) into *out_array, an array of node maps. An empty cell
 * leaves the field out; tags are split on ';' (spaces around a tag trimmed,
 * empty pieces dropped); lat, lon and population become numbers (an int
 * when written as one), anything else a string.
 *
 * 'out_array' is the caller's storage; it is cleared, then filled, and left
 * nil on error. Returns TN_OK; TN_ERR_INVALID_PARAMS with a message and one
 * detail {index: line, field: column or nil, reason} per bad line (the
 * header is line 1); or TN_ERR_INTERNAL when out of memory. 'err' may be
 * NULL. */
tn_code_t tn_csv_nodes(const char *buf, size_t len, tn_val_t *out_array, tn_error_t *err);

/* Parse a pairs CSV (columns a, b, kind, since, source, confidence; a and
 * b required) into *out_array, an array of pair maps. 'since' becomes an int
 * when it is all digits, otherwise the string as written (record.c checks
 * the date form). Ownership and errors as tn_csv_nodes. */
tn_code_t tn_csv_pairs(const char *buf, size_t len, tn_val_t *out_array, tn_error_t *err);

#endif
