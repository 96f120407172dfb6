#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "tap.h"

int
main(void)
{
	int *v = NULL, *q;
	size_t cap = 0, n, bad = 0;

	q = array_grow(v, &cap, 1, sizeof *v);
	ok(q != NULL, "array_grow: an empty array gets room");
	is_int((long long)cap, ARRAY_FIRST_CAP, "  ARRAY_FIRST_CAP of it");
	v = q;
	ok(array_grow(v, &cap, ARRAY_FIRST_CAP, sizeof *v) == v,
	    "array_grow: need within cap returns p unchanged");
	is_int((long long)cap, ARRAY_FIRST_CAP, "  cap unchanged");
	v = array_grow(v, &cap, ARRAY_FIRST_CAP + 1, sizeof *v);
	is_int((long long)cap, 2 * ARRAY_FIRST_CAP, "array_grow: doubles");
	v = array_grow(v, &cap, 100, sizeof *v);
	is_int((long long)cap, 100, "array_grow: to need past twice cap");

	for (n = 0; n < 100; n++)
		v[n] = (int)n;
	/* the appending loop every caller has */
	for (; n < 5000; n++) {
		if ((q = array_grow(v, &cap, n + 1, sizeof *v)) == NULL)
			break;
		v = q;
		v[n] = (int)n;
	}
	for (size_t i = 0; i < n; i++)
		bad += v[i] != (int)i;
	ok(n == 5000 && bad == 0 && cap >= 5000 && cap < 10000,
	    "array_grow: 5000 appends keep every element");

	/* overflow: n * size past SIZE_MAX fails and leaves p alone */
	errno = 0;
	ok(array_resize(v, SIZE_MAX / 2 + 1, 2) == NULL && errno == ENOMEM,
	    "array_resize: n * size overflows: NULL, ENOMEM");
	errno = 0;
	ok(array_resize(NULL, SIZE_MAX, SIZE_MAX) == NULL && errno == ENOMEM,
	    "array_resize: SIZE_MAX * SIZE_MAX: NULL, ENOMEM");
	n = cap;
	errno = 0;
	ok(array_grow(v, &cap, SIZE_MAX / sizeof *v + 1, sizeof *v) == NULL &&
	        errno == ENOMEM,
	    "array_grow: need * size overflows: NULL, ENOMEM");
	is_int((long long)cap, (long long)n, "  cap unchanged");
	errno = 0;
	ok(array_grow(v, &cap, SIZE_MAX, 2) == NULL && errno == ENOMEM,
	    "array_grow: need SIZE_MAX of 2 bytes: NULL, ENOMEM");
	ok(v[4999] == 4999 && v[0] == 0, "  p still holds its elements");
	q = array_resize(v, 3, sizeof *v);
	ok(q != NULL && q[2] == 2, "array_resize: shrink keeps the prefix");
	free(q);
	return done_testing();
}
