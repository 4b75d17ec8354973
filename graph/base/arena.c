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

void *tn_arena_calloc(tn_arena_t *a, size_t n, size_t size) {
    if (size != 0 && n > (SIZE_MAX - sizeof(tn_arena_block_t)) / size)
        return NULL;
    tn_arena_block_t *b = calloc(1, sizeof *b + n * size);
    if (b == NULL)
        return NULL;
    b->prev = a->last;
    a->last = b;
    return b->data;
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
