/*
 * queue_dcount: how many deliveries are running to each destination, for
 * the scheduler's [core] max-per-destination. Pure: memory only.
 *
 * Destinations are the 64-bit keys of queue_target_dest_key(). The table
 * uses open addressing with linear probing; a key whose count falls to 0
 * keeps its slot until queue_dcount_clear(), so the scheduler clears it
 * and adds its running messages again when queue_dcount_full() says the
 * next message would fill more than half of it. Sized by
 * queue_dcount_init() for `live` keys at a quarter of the slots.
 *
 * A message may start when every one of its destinations has fewer than
 * max running (queue_dcount_room(); max 0 is no limit).
 */
#ifndef PM_QUEUE_DCOUNT_H
#define PM_QUEUE_DCOUNT_H

#include <stddef.h>
#include <stdint.h>

struct queue_dcount_slot {
	uint64_t key;
	uint32_t n;
	uint32_t used;
};

struct queue_dcount {
	struct queue_dcount_slot *s; /* cap slots, a power of two */
	size_t cap, used;
};

/* 0, or -1 with errno (ENOMEM). */
int queue_dcount_init(struct queue_dcount *d, size_t live);
void queue_dcount_free(struct queue_dcount *d);

/* Deliveries running to key. */
uint32_t queue_dcount_get(const struct queue_dcount *d, uint64_t key);

/* Adds delta (+1 or -1) to each of key[0..n); a count never goes below
 * 0 and an unknown key is not created by -1. */
void queue_dcount_add(struct queue_dcount *d, const uint64_t *key, size_t n,
    int delta);

/* 1 when adding n more keys could fill more than half the slots. */
int queue_dcount_full(const struct queue_dcount *d, size_t n);

/* Forgets every key. */
void queue_dcount_clear(struct queue_dcount *d);

/* 1 when every key[0..n) has fewer than max running (or max is 0). */
int queue_dcount_room(const struct queue_dcount *d, const uint64_t *key,
    size_t n, size_t max);

#endif
