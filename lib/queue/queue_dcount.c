#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue_dcount.h"

int
queue_dcount_init(struct queue_dcount *d, size_t live)
{
	d->cap = 64;
	d->used = 0;
	while (d->cap < 4 * live) {
		if (d->cap > SIZE_MAX / 2 / sizeof *d->s) {
			errno = ENOMEM;
			return -1;
		}
		d->cap *= 2;
	}
	if ((d->s = calloc(d->cap, sizeof *d->s)) == NULL)
		return -1;
	return 0;
}

void
queue_dcount_free(struct queue_dcount *d)
{
	free(d->s);
	d->s = NULL;
	d->cap = d->used = 0;
}

static size_t
slot_of(const struct queue_dcount *d, uint64_t key)
{
	size_t i = (size_t)(key ^ (key >> 29)) & (d->cap - 1);

	while (d->s[i].used && d->s[i].key != key)
		i = (i + 1) & (d->cap - 1);
	return i;
}

uint32_t
queue_dcount_get(const struct queue_dcount *d, uint64_t key)
{
	const struct queue_dcount_slot *s;

	if (d->s == NULL)
		return 0;
	s = &d->s[slot_of(d, key)];
	return s->used ? s->n : 0;
}

void
queue_dcount_add(struct queue_dcount *d, const uint64_t *key, size_t n,
    int delta)
{
	size_t k;

	if (d->s == NULL)
		return;
	for (k = 0; k < n; k++) {
		struct queue_dcount_slot *s = &d->s[slot_of(d, key[k])];

		if (!s->used) {
			if (delta < 0)
				continue;
			s->used = 1;
			s->key = key[k];
			s->n = 0;
			d->used++;
		}
		if (delta > 0)
			s->n++;
		else if (s->n > 0)
			s->n--;
	}
}

int
queue_dcount_full(const struct queue_dcount *d, size_t n)
{
	return d->s != NULL && 2 * (d->used + n) > d->cap;
}

void
queue_dcount_clear(struct queue_dcount *d)
{
	if (d->s != NULL)
		memset(d->s, 0, d->cap * sizeof *d->s);
	d->used = 0;
}

int
queue_dcount_room(const struct queue_dcount *d, const uint64_t *key, size_t n,
    size_t max)
{
	size_t k;

	if (max == 0)
		return 1;
	for (k = 0; k < n; k++)
		if (queue_dcount_get(d, key[k]) >= max)
			return 0;
	return 1;
}
