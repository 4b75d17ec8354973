/*
 * arena.h -- allocations owned as one group and released together.
 *
 * A query result (or a table a query builds) takes every array it owns
 * from its arena, so releasing it is one tn_arena_free on success and on
 * every error path alike, and a half-built result needs no bookkeeping of
 * which arrays exist yet. Each allocation is its own block, so an arena
 * holding a few large arrays wastes nothing.
 *
 * A zeroed tn_arena_t is an empty arena (results start zeroed), and
 * tn_arena_free leaves it empty again, so it may run twice.
 */
#ifndef TN_ARENA_H
#define TN_ARENA_H

#include <stddef.h>

typedef struct tn_arena {
    struct tn_arena_block *last;    /* the newest block; each links the one before */
} tn_arena_t;

/* n zeroed items of 'size' bytes, aligned for any type and owned by 'a'.
 * n 0 still gives a valid pointer (to no items). NULL on out-of-memory or
 * overflow. */
void *tn_arena_calloc(tn_arena_t *a, size_t n, size_t size);

/* The same, not zeroed: for arrays the caller fills whole (zeroing a large
 * one costs as much as filling it). */
void *tn_arena_alloc(tn_arena_t *a, size_t n, size_t size);

/* Release every allocation of 'a'; it is empty again. Accepts NULL. */
void tn_arena_free(tn_arena_t *a);

#endif
