/*
 * queue_admin: postmaster-queue --list and --flush, one message at a time,
 * for an administrator (no runner needed for either).
 *
 * queue_admin_list() appends the mailq-style description of the message
 * to out: its id, size, arrival and sender, then each delivery with its
 * target, status, attempts, next attempt and last reply; every value
 * from the envelope escaped (log_escape). A message gone meanwhile adds
 * nothing; an unreadable one adds a line saying so and returns -1.
 *
 * queue_admin_flush() sets every PENDING delivery's next attempt to 0 in
 * state/ID; 0 (also when the message is gone), or -1.
 */
#ifndef PM_QUEUE_ADMIN_H
#define PM_QUEUE_ADMIN_H

#include "base/buf.h"
#include "queue/queue_cfg.h"

int queue_admin_list(const struct queue_cfg *c, const char *id,
    struct buf *out);

int queue_admin_flush(const struct queue_cfg *c, const char *id);

#endif
