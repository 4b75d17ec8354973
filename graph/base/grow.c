/*
 * grow.c -- tn_grow (grow.h).
 */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

int tn_grow(void **items, size_t *cap, size_t want, size_t first, size_t size) {
    if (want <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : first;
    while (ncap < want) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (size != 0 && ncap > SIZE_MAX / size)
        return -1;
    void *p = realloc(*items, ncap * size);
    if (p == NULL)
        return -1;
    *items = p;
    *cap = ncap;
    return 0;
}
