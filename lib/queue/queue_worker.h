/*
 * queue_worker: the loop of one postmaster-queue worker process.
 *
 * A worker is forked by the runner and lives for many messages, so that
 * SMTP/LMTP connections outlast a message: its client_cache keeps each
 * destination's connection open between messages (reused after RSET,
 * closed with QUIT once idle for QUEUE_WORKER_CONN_IDLE_MS), which saves
 * the connect, greeting, EHLO and QUIT that one worker per message paid,
 * and the fork.
 *
 * The runner talks to it over a SOCK_SEQPACKET socket: each packet it
 * sends is one queue id; the worker runs queue_run_message() for it and
 * sends the same id back, followed by one status octet, when the
 * message's state on disk is final for this attempt: QUEUE_WORKER_DONE,
 * QUEUE_WORKER_DONE_DROPPED (and this worker has given up root for good,
 * see postmaster-queue(8) PRIVILEGES), or QUEUE_WORKER_NEEDS_ROOT (not
 * attempted: programs or local delivery are due, which only a worker
 * that kept root may start). One message at a time, so [core] max-per-destination
 * still counts deliveries. End of file (the runner retires it), a
 * failed write, SIGTERM (*c->stop) or max_msgs messages end the loop;
 * the cached connections are then closed with QUIT.
 */
#ifndef PM_QUEUE_WORKER_H
#define PM_QUEUE_WORKER_H

#include "queue/queue_run.h"

#define QUEUE_WORKER_CONN_IDLE_MS 5000	/* an unused connection is closed */
#define QUEUE_WORKER_CONN_AGE_MS 300000	/* no connection lives longer */

#define QUEUE_WORKER_DONE '.'
#define QUEUE_WORKER_DONE_DROPPED 'd'
#define QUEUE_WORKER_NEEDS_ROOT 'R'

/* Returns the number of messages handled. */
unsigned queue_worker_serve(struct queue_cfg *c, int fd, unsigned max_msgs);

#endif
