/*
 * queue_admin: postmaster-queue --flush, one message at a time, for an
 * administrator (no runner needed); --list is queue_list.h.
 *
 * queue_admin_flush() sets every PENDING delivery's next attempt to 0 in
 * state/ID; 0 (also when the message is gone), or -1.
 */
#ifndef PM_QUEUE_ADMIN_H
#define PM_QUEUE_ADMIN_H

#include "queue/queue_cfg.h"

int queue_admin_flush(const struct queue_cfg *c, const char *id);

#endif
