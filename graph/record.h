/*
 * record.h -- node and pair records (docs/protocol.md, "Data model"): their C form,
 * validation from a value tree, and conversion back to one.
 *
 * Records are immutable once built and reference-counted, so a snapshot of
 * the graph (snap.h) is an array of pointers that shares them with the live
 * model: an upsert swaps a pointer, it never edits a record in place.
 * Reference counts are atomic because a snapshot may be released on a worker
 * thread while the loop thread releases the model's reference.
 */
#ifndef TN_RECORD_H
#define TN_RECORD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "utf8.h"       /* tn_utf8_valid, used by every record check */
#include "value.h"

/* Limits on stored fields (documented in docs/protocol-notes.md). */
#define TN_ID_MAX        128
#define TN_NAME_MAX      512
#define TN_TEXT_MAX      4096      /* source, and any other free text */
#define TN_TAGS_MAX      64
#define TN_TAG_MAX       64

typedef enum tn_node_kind {
    TN_NODE_COUNTRY = 0,
    TN_NODE_PROVINCE,
    TN_NODE_CITY
} tn_node_kind_t;

typedef enum tn_pair_kind {
    TN_PAIR_SISTER = 0,
    TN_PAIR_FRIENDLY
} tn_pair_kind_t;

/* Ordered so that "at least medium" is conf >= TN_CONF_MEDIUM. */
typedef enum tn_conf {
    TN_CONF_LOW = 1,
    TN_CONF_MEDIUM = 2,
    TN_CONF_HIGH = 3
} tn_conf_t;

typedef struct tn_node {
    atomic_int refs;
    tn_node_kind_t kind;
    char *id;
    char *name;
    char *name_zh;        /* NULL when absent */
    char *country;        /* ISO alpha-2; NULL for countries */
    char *parent;         /* NULL when absent */
    char *region;         /* countries only; NULL when absent */
    char *subregion;      /* countries only; NULL when absent */
    char **tags;          /* countries only */
    size_t ntags;
    double lat, lon, population;
    unsigned char has_lat, has_lon, has_population;
    unsigned char packed; /* the strings above live in the node's own block */
} tn_node_t;

/* The small fields first, then the pointers: no padding (56 bytes). */
typedef struct tn_pair {
    atomic_int refs;
    tn_pair_kind_t kind;
    int since_year;       /* 0 when unknown */
    tn_conf_t confidence; /* absent = high (docs/protocol.md, "Data model") */
    char *a, *b;          /* as the client gave them */
    char *key;            /* min(a,b) "\x1f" max(a,b): the unordered identity;
                             a, b and key live in the pair's own block */
    char *since;          /* the string form as given ("2019-04"); NULL when
                             given as an int year or absent */
    char *source;         /* NULL when absent */
} tn_pair_t;

const char *tn_node_kind_name(tn_node_kind_t k);   /* "country" ... */
const char *tn_pair_kind_name(tn_pair_kind_t k);   /* "sister" / "friendly" */
const char *tn_conf_name(tn_conf_t c);             /* "low" ... */
int tn_node_kind_parse(const char *s, tn_node_kind_t *out);   /* 0 ok, -1 unknown */
int tn_pair_kind_parse(const char *s, tn_pair_kind_t *out);
int tn_conf_parse(const char *s, tn_conf_t *out);

/* Build a node from a map, checking every field's type, range and form
 * (not references to other nodes: that is the model's job). On failure
 * returns TN_ERR_INVALID_PARAMS; when 'index' >= 0 the problem is added to
 * err as a batch detail {index, field: "nodes.<f>"|"pairs.<f>", reason},
 * otherwise it becomes the
 * message. On success *out holds a new record with refs = 1. */
tn_code_t tn_node_from_val(const tn_val_t *v, int64_t index, tn_node_t **out, tn_error_t *err);
tn_code_t tn_pair_from_val(const tn_val_t *v, int64_t index, tn_pair_t **out, tn_error_t *err);

/* The record as a map with the protocol's field names (absent fields left
 * out; a pair's confidence is always given). 0, or -1 on out-of-memory. */
int tn_node_to_val(const tn_node_t *n, tn_val_t *out);
int tn_pair_to_val(const tn_pair_t *p, tn_val_t *out);

/* Same content? (used to count "unchanged" upserts) */
int tn_node_same(const tn_node_t *x, const tn_node_t *y);
int tn_pair_same(const tn_pair_t *x, const tn_pair_t *y);

/* The unordered key of two ids, malloc'd ("min\x1fmax"); NULL on OOM. */
char *tn_pair_key(const char *a, const char *b);

/* The other end of pair p seen from id (p->b when id is p->a). */
const char *tn_pair_other(const tn_pair_t *p, const char *id);

/* Reference counting. retain returns its argument; release accepts NULL
 * and frees the record when the last reference goes. */
tn_node_t *tn_node_retain(tn_node_t *n);
void tn_node_release(tn_node_t *n);
tn_pair_t *tn_pair_retain(tn_pair_t *p);
void tn_pair_release(tn_pair_t *p);

#endif
