/*
 * arena.c -- the arena of arena.h: a list of calloc'd blocks.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct tn_arena_block {
    struct tn_arena_block *prev;
    max_align_t data[];             /* the allocation, aligned for any type */
} tn_arena_block_t;

static void *arena_get(tn_arena_t *a, size_t n, size_t size, int zero) {
    if (size != 0 && n > (SIZE_MAX - sizeof(tn_arena_block_t)) / size)
        return NULL;
    tn_arena_block_t *b = zero ? calloc(1, sizeof *b + n * size) : malloc(sizeof *b + n * size);
    if (b == NULL)
        return NULL;
    b->prev = a->last;
    a->last = b;
    return b->data;
}

void *tn_arena_calloc(tn_arena_t *a, size_t n, size_t size) {
    return arena_get(a, n, size, 1);
}

void *tn_arena_alloc(tn_arena_t *a, size_t n, size_t size) {
    return arena_get(a, n, size, 0);
}

void tn_arena_free(tn_arena_t *a) {
    if (a == NULL)
        return;
    while (a->last != NULL) {
        tn_arena_block_t *b = a->last;
        a->last = b->prev;
        free(b);
    }
}
