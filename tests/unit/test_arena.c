/*
 * test_arena.c -- the memory helpers of graph/base: an arena hands out
 * zeroed, aligned arrays and releases them all at once (and may be freed
 * twice); tn_grow doubles from its first size and keeps what it held.
 */
#include <stdalign.h>
#include <stdint.h>

#include "arena.h"
#include "grow.h"
#include "test.h"

static void test_arena_gives_zeroed_aligned_arrays(void) {
    tn_arena_t a = { NULL };
    int64_t *x = tn_arena_calloc(&a, 100, sizeof *x);
    double *d = tn_arena_calloc(&a, 3, sizeof *d);
    char *none = tn_arena_calloc(&a, 0, 1);
    CHECK(x != NULL && d != NULL && none != NULL);
    int zero = 1;
    for (int i = 0; x != NULL && i < 100; i++)
        zero &= x[i] == 0;
    CHECK(zero);
    CHECK_EQ_INT((uintptr_t) d % alignof(max_align_t), 0);
    CHECK_EQ_INT((uintptr_t) none % alignof(max_align_t), 0);
    if (x != NULL)
        x[99] = 7;                     /* writable to its end */
    CHECK(tn_arena_calloc(&a, SIZE_MAX / 2, 4) == NULL);   /* overflow */
    /* Not zeroed: aligned, writable, and released with the rest. */
    int64_t *raw = tn_arena_alloc(&a, 1000, sizeof *raw);
    CHECK(raw != NULL);
    CHECK_EQ_INT((uintptr_t) raw % alignof(max_align_t), 0);
    for (int i = 0; raw != NULL && i < 1000; i++)
        raw[i] = i;
    CHECK(raw == NULL || raw[999] == 999);
    CHECK(tn_arena_alloc(&a, SIZE_MAX / 2, 4) == NULL);
    tn_arena_free(&a);
    CHECK(a.last == NULL);
    tn_arena_free(&a);                  /* twice is fine, as is NULL */
    tn_arena_free(NULL);
}

static void test_grow_doubles_and_keeps_items(void) {
    int *v = NULL;
    size_t cap = 0;
    CHECK_EQ_INT(tn_grow((void **) &v, &cap, 1, 4, sizeof *v), 0);
    CHECK_EQ_INT(cap, 4);
    for (int i = 0; i < 4; i++)
        v[i] = i;
    CHECK_EQ_INT(tn_grow((void **) &v, &cap, 3, 4, sizeof *v), 0);   /* room already */
    CHECK_EQ_INT(cap, 4);
    CHECK_EQ_INT(tn_grow((void **) &v, &cap, 5, 4, sizeof *v), 0);
    CHECK_EQ_INT(cap, 8);
    CHECK_EQ_INT(tn_grow((void **) &v, &cap, 33, 4, sizeof *v), 0);
    CHECK_EQ_INT(cap, 64);
    CHECK(v[0] == 0 && v[3] == 3);
    int *keep = v;
    CHECK_EQ_INT(tn_grow((void **) &v, &cap, SIZE_MAX, 4, sizeof *v), -1);
    CHECK(v == keep && cap == 64);      /* a failed step loses nothing */
    free(v);
}

int main(void) {
    RUN(test_arena_gives_zeroed_aligned_arrays);
    RUN(test_grow_doubles_and_keeps_items);
    return TEST_DONE();
}
