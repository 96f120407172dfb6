/*
 * queue_pick: which worker process gets a message. Pure: the scheduler
 * offers each of its worker slots in turn, then asks for the decision.
 *
 * An idle worker that last delivered to the message's first destination
 * takes it (its cached connection is likely still open); else, while
 * fewer than max_running workers exist, a new one is started, with any
 * idle worker as the fallback if the fork fails; else any idle worker.
 * A message that needs root (programs as other users, queue_priv.h) goes
 * only to a worker that kept it; when every idle worker has given root
 * up, one of them is retired to make room for a fresh one (unless one
 * is on its way out already: then the message waits for it). A message that needs no root prefers a worker that has
 * given root up, so the ones that kept it stay free for those that do.
 */
#ifndef PM_QUEUE_PICK_H
#define PM_QUEUE_PICK_H

#include <stddef.h>
#include <stdint.h>

enum queue_pick_action {
	QUEUE_PICK_WORKER, /* hand it to worker *which */
	QUEUE_PICK_SPAWN,  /* start one (fallback *which if has_any) */
	QUEUE_PICK_RETIRE, /* retire worker *which; none free now */
	QUEUE_PICK_WAIT,   /* none free until a root-less one exits */
	QUEUE_PICK_BUSY    /* every worker is busy */
};

struct queue_pick {
	uint64_t key;
	int privileged;
	int found_same, found_any, found_dropped;
	size_t same, any, dropped, exiting;
	int any_dropped;
};

void queue_pick_init(struct queue_pick *p, uint64_t key, int privileged);

/* Offers worker slot i: live (not retired), busy (has a message),
 * dropped (gave root up), key (destination of its last message).
 * Returns 1 when it is the choice: no need to offer more. */
int queue_pick_offer(struct queue_pick *p, size_t i, int live, int busy,
    int dropped, uint64_t key);

/* The decision, with nw slots in use of max_running. *has_any: an idle
 * worker is in *which as the fallback of QUEUE_PICK_SPAWN. */
enum queue_pick_action queue_pick_decide(const struct queue_pick *p, size_t nw,
    size_t max_running, size_t *which, int *has_any);

#endif
