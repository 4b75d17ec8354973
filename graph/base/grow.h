/*
 * grow.h -- the one growth rule of graph/'s growable arrays and buffers:
 * capacity doubles from a first size until it holds what is wanted, so a
 * run of appends costs amortised O(1) and a failed step loses nothing.
 */
#ifndef TN_GROW_H
#define TN_GROW_H

#include <stddef.h>

/* Make *items (an array of 'size'-byte items with room for *cap) hold at
 * least 'want' items: when it is too small, its capacity doubles, starting
 * from 'first' when it is empty, until it is large enough. Returns 0, or -1
 * on out-of-memory or overflow, leaving *items and *cap as they were. */
int tn_grow(void **items, size_t *cap, size_t want, size_t first, size_t size);

#endif
