/*
 * queue_window: which messages leave the scheduler's in-memory window
 * when it holds too many. Pure: memory only.
 *
 * The window keeps the earliest due messages; the others stay on disk
 * only, to be read again from queue/ by a later page-in. Of the
 * candidates (messages without a worker), the latest due leave first,
 * and of equal due times the newest (the largest table index, ids being
 * in time order).
 */
#ifndef PM_QUEUE_WINDOW_H
#define PM_QUEUE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

struct queue_window_ent {
	int64_t due;
	size_t i; /* the message's index in the table */
};

/* Orders v[0..n) so that v[0..k) are the ones to leave, k = the smaller
 * of drop and n; returns k. */
size_t queue_window_leave(struct queue_window_ent *v, size_t n, size_t drop);

#endif
