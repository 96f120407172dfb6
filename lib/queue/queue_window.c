#include <stdlib.h>

#include "queue/queue_window.h"

/* Latest due first; of equal ones the newest (largest index) first. */
static int
cmp_due_desc(const void *a, const void *b)
{
	const struct queue_window_ent *x = a, *y = b;

	if (x->due != y->due)
		return x->due > y->due ? -1 : 1;
	return x->i > y->i ? -1 : x->i < y->i;
}

size_t
queue_window_leave(struct queue_window_ent *v, size_t n, size_t drop)
{
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_due_desc);
	return drop < n ? drop : n;
}
