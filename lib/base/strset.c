#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strset.h"

void
strset_init(struct strset *s)
{
	s->slot = NULL;
	s->cap = s->n = 0;
}

static uint64_t
hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

static struct strset_slot *
find(struct strset_slot *slot, size_t cap, const char *key, size_t len)
{
	size_t i = (size_t)hash(key, len) & (cap - 1);

	while (slot[i].key &&
	    (slot[i].len != len || memcmp(slot[i].key, key, len) != 0))
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

static int
grow(struct strset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 64, i;
	struct strset_slot *ns = calloc(ncap, sizeof *ns);

	if (ns == NULL)
		return -1;
	for (i = 0; i < s->cap; i++)
		if (s->slot[i].key)
			*find(ns, ncap, s->slot[i].key, s->slot[i].len) =
			    s->slot[i];
	free(s->slot);
	s->slot = ns;
	s->cap = ncap;
	return 0;
}

int
strset_put(struct strset *s, const char *key, size_t len, size_t value,
    size_t *old)
{
	struct strset_slot *sl;

	/* Keep the load under 1/2 so probe chains stay short. */
	if ((s->n + 1) * 2 > s->cap && grow(s) < 0)
		return -1;
	sl = find(s->slot, s->cap, key, len);
	if (sl->key) {
		if (old)
			*old = sl->value;
		return 0;
	}
	if ((sl->key = malloc(len ? len : 1)) == NULL)
		return -1;
	memcpy(sl->key, key, len);
	sl->len = len;
	sl->value = value;
	s->n++;
	return 1;
}

int
strset_has(const struct strset *s, const char *key, size_t len)
{
	return s->cap > 0 && find(s->slot, s->cap, key, len)->key != NULL;
}

void
strset_free(struct strset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->slot[i].key);
	free(s->slot);
	strset_init(s);
}
