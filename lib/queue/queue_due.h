/*
 * queue_due: what the scheduler asks about one queued message, read from
 * queue/ID and state/ID without changing them.
 *
 * queue_due() gives when the message next needs the runner: the earliest
 * next-attempt time of a PENDING delivery (now when flushing), now when
 * a delivery is FAILED (its bounce is due) or nothing is left to do but
 * remove it, INT64_MAX for a message that cannot be opened; *gone = 1
 * when queue/ID no longer exists. 0, or -1 (unreadable, logged).
 *
 * queue_due_dests() also gives the destinations the message still has
 * PENDING deliveries to, for [core] max-per-destination: up to cap
 * distinct keys (queue_target_dest_key()) in dk[], their number in
 * *ndk. A message with more than cap destinations is counted for the
 * first cap of them, in delivery order.
 */
#ifndef PM_QUEUE_DUE_H
#define PM_QUEUE_DUE_H

#include <stddef.h>
#include <stdint.h>

#include "queue/queue_cfg.h"

#define QUEUE_DEST_MAX 16

int queue_due(const struct queue_cfg *c, const char *id, int64_t *due,
    int *gone);

int queue_due_dests(const struct queue_cfg *c, const char *id, int64_t *due,
    int *gone, uint64_t *dk, size_t cap, size_t *ndk);

#endif
