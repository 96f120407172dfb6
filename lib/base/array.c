#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/array.h"

void *
array_resize(void *p, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, bytes);
}

void *
array_grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t max = size ? SIZE_MAX / size : SIZE_MAX, ncap;
	void *np;

	if (need <= *cap)
		return p;
	if (need > max) {
		errno = ENOMEM;
		return NULL;
	}
	/* Doubling keeps appends amortised O(1); it stops at the largest
	 * count whose size fits rather than failing while need still fits. */
	ncap = *cap == 0 ? ARRAY_FIRST_CAP : *cap > max / 2 ? max : *cap * 2;
	if (ncap > max)
		ncap = max;
	if (ncap < need)
		ncap = need;
	if ((np = array_resize(p, ncap, size)) == NULL)
		return NULL;
	*cap = ncap;
	return np;
}
