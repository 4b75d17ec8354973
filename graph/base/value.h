/*
 * value.h -- a small tree of plain values (nil, bool, int, float, str, array,
 * map), the one currency in which options enter graph/ and results leave it.
 *
 * graph/ knows nothing of MessagePack: service/wire/codec.c translates between a
 * msgpack_object and this tree. Keeping one generic tree (instead of a struct
 * per result) lets every query share one encoder, one CLI printer and one
 * test helper.
 *
 * Ownership: a tn_val_t owns everything below it. Storage for the top value
 * is the caller's; tn_val_free() releases what it holds and leaves it nil.
 * Builders return 0 on success and -1 when memory runs out, leaving the tree
 * valid (the failed item is simply absent), so callers may OR the results of
 * a run of builders and check once.
 */
#ifndef TN_VALUE_H
#define TN_VALUE_H

#include <stddef.h>
#include <stdint.h>

typedef enum tn_vtype {
    TN_V_NIL = 0,
    TN_V_BOOL,
    TN_V_INT,      /* any integer that fits int64; larger unsigned arrive as TN_V_FLOAT */
    TN_V_FLOAT,
    TN_V_STR,      /* UTF-8 expected but not enforced here; always NUL-terminated */
    TN_V_ARR,
    TN_V_MAP       /* keys are strings; insertion order is kept */
} tn_vtype_t;

typedef struct tn_val tn_val_t;
typedef struct tn_kv tn_kv_t;

struct tn_val {
    tn_vtype_t type;
    union {
        int b;
        int64_t i;
        double f;
        struct { char *p; size_t len; } s;
        struct { tn_val_t *items; size_t n, cap; } a;
        struct { tn_kv_t *kv; size_t n, cap; } m;
    } u;
};

struct tn_kv {
    char *key;          /* NUL-terminated; klen excludes the NUL */
    size_t klen;
    tn_val_t val;
};

#define TN_VAL_NIL ((tn_val_t){ .type = TN_V_NIL })

/* Release everything 'v' holds; 'v' becomes nil. Accepts NULL. */
void tn_val_free(tn_val_t *v);

/* Scalars by value (no allocation). */
tn_val_t tn_val_bool(int b);
tn_val_t tn_val_int(int64_t i);
tn_val_t tn_val_float(double f);

/* Strings are copied. On out-of-memory they return -1 and leave *out nil. */
int tn_val_set_str(tn_val_t *out, const char *s);
int tn_val_set_strn(tn_val_t *out, const char *s, size_t len);

/* Turn 'v' (must be nil) into an empty array or map with room for 'hint'. */
int tn_val_set_arr(tn_val_t *v, size_t hint);
int tn_val_set_map(tn_val_t *v, size_t hint);

/* Append a nil slot to array 'arr' and return it (NULL on out-of-memory).
 * The pointer is valid until the next append to the same array. */
tn_val_t *tn_arr_push(tn_val_t *arr);

/* Add key 'key' to map 'map' with a nil value and return the value slot
 * (NULL on out-of-memory). Does not check for an existing key: builders own
 * their key sets. The pointer is valid until the next add to the same map. */
tn_val_t *tn_map_add(tn_val_t *map, const char *key);

/* Convenience builders: add key with a value; 0 or -1 (out of memory). */
int tn_map_add_int(tn_val_t *map, const char *key, int64_t i);
int tn_map_add_float(tn_val_t *map, const char *key, double f);
int tn_map_add_bool(tn_val_t *map, const char *key, int b);
int tn_map_add_str(tn_val_t *map, const char *key, const char *s);   /* s NULL: nil */
int tn_map_add_nil(tn_val_t *map, const char *key);
int tn_arr_push_str(tn_val_t *arr, const char *s);
int tn_arr_push_int(tn_val_t *arr, int64_t i);

/* Move 'src' into a new key of 'map' (src becomes nil). On out-of-memory
 * src is freed, so ownership always passes. */
int tn_map_add_take(tn_val_t *map, const char *key, tn_val_t *src);
int tn_arr_push_take(tn_val_t *arr, tn_val_t *src);

/* Deep copy; -1 on out-of-memory (dst left nil). */
int tn_val_copy(tn_val_t *dst, const tn_val_t *src);

/* Look-ups (borrowed pointers, NULL when absent or 'map' is not a map). */
const tn_val_t *tn_map_get(const tn_val_t *map, const char *key);
const char *tn_val_str(const tn_val_t *v);      /* NULL unless a string */

/* Is 'v' an integer-valued number (int, or a float with no fraction)?
 * Stores it in *out. */
int tn_val_as_int(const tn_val_t *v, int64_t *out);
/* Any number, as a double. */
int tn_val_as_num(const tn_val_t *v, double *out);

/* Structural equality (maps compare as key sets, order ignored). */
int tn_val_equal(const tn_val_t *a, const tn_val_t *b);

/* Write 'v' as compact JSON into a malloc'd string (NULL on OOM).
 * Non-finite floats become null. Used by the CLI, logs and test helpers. */
char *tn_val_to_json(const tn_val_t *v);

/* Parse one JSON text (RFC 8259) of 'len' bytes into *out (nil on entry).
 * Integers that fit int64 become TN_V_INT, other numbers TN_V_FLOAT.
 * Nesting is limited to 64 levels. Returns 0, or -1 with a reason in
 * 'err' (e.g. "line 1 col 7: expected ':'") and *out left nil. */
int tn_val_from_json(const char *s, size_t len, tn_val_t *out, char *err, size_t errlen);

#endif
