/*
 * array: overflow-checked sizes for growable arrays. n * size is computed
 * with __builtin_mul_overflow, so a count from input can never wrap to a
 * small allocation that later writes run past.
 */
#ifndef PM_ARRAY_H
#define PM_ARRAY_H

#include <stddef.h>

/* The first capacity array_grow gives an empty array. */
#define ARRAY_FIRST_CAP 8

/* realloc(p, n * size), or NULL with errno ENOMEM when the product
 * overflows (p is then left as it was, like a failed realloc). */
void *array_resize(void *p, size_t n, size_t size);

/*
 * Room for need elements of size bytes: returns p when *cap >= need, else
 * p reallocated to the larger of need and twice *cap (ARRAY_FIRST_CAP
 * when empty) and *cap set to that. NULL with errno ENOMEM on overflow or
 * failure; p and *cap are then unchanged and p must still be freed.
 */
void *array_grow(void *p, size_t *cap, size_t need, size_t size);

#endif
