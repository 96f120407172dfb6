/*
 * strset: an open-addressing hash set of byte strings with a size_t value,
 * for the places that must stay linear in the number of routes (duplicate
 * detection in the checker and the CDB writer). Keys are copied.
 */
#ifndef PM_STRSET_H
#define PM_STRSET_H

#include <stddef.h>

struct strset_slot {
	char *key;
	size_t len;
	size_t value;
};

struct strset {
	struct strset_slot *slot;
	size_t cap, n;
};

void strset_init(struct strset *s);
/* 1: inserted; 0: already there (*old = its value); -1: out of memory. */
int strset_put(struct strset *s, const char *key, size_t len, size_t value,
    size_t *old);
/* 1 when key is in the set, else 0. */
int strset_has(const struct strset *s, const char *key, size_t len);
void strset_free(struct strset *s);

#endif
