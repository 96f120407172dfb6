/*
 * queue_run: deliver one queued message, the work of a postmaster-queue
 * worker (queue_worker.h); the coordinator of the lib/queue modules.
 *
 * queue_run_message() opens queue/ID and its state (queue_job.h),
 * attempts every due PENDING delivery grouped by target (queue_target.h:
 * one SMTP/LMTP transaction or one program run per group, [pipe]
 * max_rcpt_to at a time; queue_attempt.h), programs and local delivery
 * first while root may still be needed (queue_priv.h), then the network
 * ones. It records each attempt and saves the state after each group,
 * before the next attempt (spool_queue_state_save: write, fsync, rename,
 * fsync dir) -- unless every delivery is now sent: then no state is
 * written and the finish below is the record. Then it queues the bounces
 * by the list rule (queue_bounce.h), marks their deliveries BOUNCED and
 * removes the message once nothing is PENDING or FAILED. After SIGTERM
 * (*c->stop) it starts no further group and queues no bounce. See
 * doc/INTERNALS.md "The queue runner" for the states and the crash
 * windows.
 *
 * Returns 0, -1 (logged), or QUEUE_RUN_NEEDS_ROOT: nothing was attempted
 * because a program or local delivery is due and this process gave up
 * root for good before an earlier network delivery (queue_priv_held() is
 * 0); a process that still can must take the message.
 */
#ifndef PM_QUEUE_RUN_H
#define PM_QUEUE_RUN_H

#include <stdint.h>

#include "queue/queue_cfg.h"

#define QUEUE_RUN_NEEDS_ROOT 1
int queue_run_message(const struct queue_cfg *c, const char *id, int64_t now);

#endif
