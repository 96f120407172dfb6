/*
 * queue_run: deliver one queued message; the work of postmaster-queue's
 * worker processes (the scheduler lives in postmaster-queue.c).
 *
 * queue_run_message() opens queue/ID and its state, attempts every due
 * PENDING delivery, grouped by destination (one SMTP/LMTP transaction or
 * one pipe process per group, [pipe] max_rcpt_to at a time), and saves
 * the state after each group, before the next attempt (spool_queue_state_
 * save: write, fsync, rename, fsync dir) -- unless every delivery is now
 * sent: then no state is written and the finish below is the record.
 * Then it applies the list rule,
 * queues the bounces, marks their deliveries BOUNCED and removes the
 * message once nothing is PENDING or FAILED. See doc/INTERNALS.md
 * "The queue runner" for the states and the crash windows.
 *
 * Targets (lib/route's strings): local:NAME (the [core] local-mailer:
 * postmaster-lmtpd over a socketpair, or a [pipe]/[relay]), relay:NAME,
 * pipe:NAME, cmd:|/path args, host:NAME and mx:DOMAIN (by MX), reject:NAME
 * and error:CODE X.Y.Z TEXT (permanent failures with that reply).
 *
 * Every function returns 0 or -1 with errno; messages go to the log.
 */
#ifndef PM_QUEUE_RUN_H
#define PM_QUEUE_RUN_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "client/client_cache.h"
#include "cf/cf_db.h"
#include "spool/spool_dir.h"
#include "queue/queue_cfg.h"

/*
 * Returns 0, -1, or QUEUE_RUN_NEEDS_ROOT: nothing was attempted because a
 * program or local delivery is due and this process gave up root for
 * good before an earlier network delivery (queue_priv_held() is 0);
 * a process that still can must take the message.
 */
#define QUEUE_RUN_NEEDS_ROOT 1
int queue_run_message(const struct queue_cfg *c, const char *id, int64_t now);

/*
 * When the message next needs the runner: the earliest next-attempt time
 * of a PENDING delivery (now when flushing), now when a delivery is
 * FAILED (its bounce is due), INT64_MAX for a message that cannot be
 * opened; *gone = 1 when queue/ID no longer exists.
 */
int queue_run_due(const struct queue_cfg *c, const char *id, int64_t *due,
    int *gone);

/*
 * The same, and the destinations the message still has PENDING
 * deliveries to, for the scheduler's [core] max-per-destination: up to
 * cap distinct 64-bit keys (FNV-1a of the kind and the name) in dk[],
 * their number in *ndk. One destination is a [relay] (by section name),
 * a host or MX domain (case-insensitive), a [pipe] (by section name), a
 * "|command" (by its text), or the built-in local mailer (all local
 * names together). Reject and error targets have none. A message with
 * more than cap destinations is counted for the first cap of them, in
 * delivery order.
 */
#define QUEUE_DEST_MAX 16
int queue_run_due_dests(const struct queue_cfg *c, const char *id,
    int64_t *due, int *gone, uint64_t *dk, size_t cap, size_t *ndk);

/* Sets every PENDING delivery's next attempt to 0 (--flush, no runner). */
int queue_run_flush(const struct queue_cfg *c, const char *id);

/* Appends the mailq-style description of the message to out (--list). */
int queue_run_list(const struct queue_cfg *c, const char *id,
    struct buf *out);

#endif
