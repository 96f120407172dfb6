/*
 * queue_dispatch: the queue runner's scheduler at work: the I/O around
 * the decisions of queue_table.h. It reads due times and destinations
 * from the spool (queue_due.h) when the table asks, hands due messages
 * to the worker pool (queue_pool.h) and settles what a worker returns
 * or leaves behind when it dies; --flush and the pickup FIFO's ids go
 * through it too.
 *
 * postmaster-queue owns the struct (with its configuration and spool)
 * and calls these from its poll loop.
 */
#ifndef PM_QUEUE_DISPATCH_H
#define PM_QUEUE_DISPATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "queue/queue_cfg.h"
#include "queue/queue_pool.h"
#include "queue/queue_table.h"
#include "spool/spool_dir.h"

struct queue_dispatch {
	struct queue_cfg *cfg;
	const struct spool_dir *sp;
	struct queue_table t;
	struct queue_pool pool;
	int once; /* --once: every message once, then stop */
};

/* Sizes from cfg (queue-concurrency, max-per-destination, window);
 * child as in queue_pool_init. 0, or -1 with errno. */
int queue_dispatch_init(struct queue_dispatch *d, struct queue_cfg *cfg,
    const struct spool_dir *sp, int once, void (*child)(void *, int),
    void *arg);
void queue_dispatch_free(struct queue_dispatch *d);

/* A full scan of queue/; fresh: read every new message's due time (at
 * start; later new ids are arrivals, due now). */
void queue_dispatch_scan(struct queue_dispatch *d, int fresh);

/* spool_nudge_read's callback: an id just committed. */
void queue_dispatch_nudged(const char *id, void *arg);
/* After the nudges of one read: sorts them in. */
void queue_dispatch_merge(struct queue_dispatch *d);

/* Starts what is due at now; the rest in *out (queue_table_pass). */
void queue_dispatch_pass(struct queue_dispatch *d, int64_t now,
    struct queue_table_pass *out);

/* Worker w has something to say. */
void queue_dispatch_input(struct queue_dispatch *d,
    struct queue_pool_worker *w);
/* Reaps exited workers; a message one still held is read again. */
void queue_dispatch_reap(struct queue_dispatch *d);
/* Worker pid exited with status (waitpid): as in queue_dispatch_reap. */
void queue_dispatch_exited(struct queue_dispatch *d, pid_t pid, int status);

/* --flush: every message due now (those in delivery once done). */
void queue_dispatch_flush(struct queue_dispatch *d);

#endif
