#include <string.h>

#include "queue/queue_pick.h"

void
queue_pick_init(struct queue_pick *p, uint64_t key, int privileged)
{
	memset(p, 0, sizeof *p);
	p->key = key;
	p->privileged = privileged;
}

int
queue_pick_offer(struct queue_pick *p, size_t i, int live, int busy,
    int dropped, uint64_t key)
{
	if (!live) {
		p->exiting++;
		return 0;
	}
	if (busy)
		return 0;
	if (p->privileged && dropped) {
		p->found_dropped = 1;
		p->dropped = i;
		return 0;
	}
	if (key == p->key) {
		p->found_same = 1;
		p->same = i;
		return 1;
	}
	if (!p->found_any || (!p->privileged && dropped && !p->any_dropped)) {
		p->found_any = 1;
		p->any = i;
		p->any_dropped = dropped;
	}
	return 0;
}

enum queue_pick_action
queue_pick_decide(const struct queue_pick *p, size_t nw, size_t max_running,
    size_t *which, int *has_any)
{
	*has_any = p->found_any;
	*which = p->any;
	if (p->found_same) {
		*which = p->same;
		return QUEUE_PICK_WORKER;
	}
	if (nw < max_running)
		return QUEUE_PICK_SPAWN;
	if (p->found_any)
		return QUEUE_PICK_WORKER;
	if (!p->found_dropped)
		return QUEUE_PICK_BUSY;
	if (p->exiting > 0)
		return QUEUE_PICK_WAIT;
	*which = p->dropped;
	return QUEUE_PICK_RETIRE;
}
