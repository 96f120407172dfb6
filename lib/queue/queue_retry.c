#include "queue/queue_retry.h"

int64_t
queue_retry_delay(uint32_t attempts, int64_t first, int64_t cap)
{
	int64_t d;
	uint32_t i;

	if (first < 1)
		first = 1;
	if (cap < first)
		cap = first;
	d = first;
	/* Doubling stops at the cap, so this never overflows. */
	for (i = 1; i < attempts && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

int
queue_retry_expired(int64_t arrival, int64_t now, int64_t lifetime)
{
	return now - arrival >= lifetime;
}
