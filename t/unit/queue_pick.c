/* Which worker gets a message: same destination first, then a new one
 * while there is room, then any idle one; root-less workers for
 * messages that need no root; a retirement to make room for root. */
#include <stdint.h>

#include "queue/queue_pick.h"
#include "tap.h"

struct w {
	int live, busy, dropped;
	uint64_t key;
};

/* Offers ws[0..n) as the scheduler does; the decision. */
static enum queue_pick_action
pick(const struct w *ws, size_t n, size_t max, uint64_t key, int priv,
    size_t *which, int *has_any)
{
	struct queue_pick p;
	size_t i;

	queue_pick_init(&p, key, priv);
	for (i = 0; i < n; i++)
		if (queue_pick_offer(&p, i, ws[i].live, ws[i].busy,
		        ws[i].dropped, ws[i].key))
			break;
	return queue_pick_decide(&p, n, max, which, has_any);
}

int
main(void)
{
	static const struct w idle3[] = {
		{ 1, 0, 0, 7 },
		{ 1, 0, 0, 9 },
		{ 1, 0, 0, 8 },
	};
	static const struct w busy2[] = { { 1, 1, 0, 9 }, { 1, 1, 0, 8 } };
	static const struct w mixed[] = {
		{ 1, 0, 0, 1 },
		{ 1, 0, 1, 2 },
		{ 1, 0, 1, 3 },
	};
	static const struct w dropped_only[] = { { 1, 0, 1, 5 },
		{ 1, 1, 0, 9 } };
	static const struct w exiting[] = {
		{ 1, 0, 1, 5 },
		{ 0, 0, 0, 9 },
		{ 1, 1, 0, 9 },
	};
	static const struct w same_busy[] = { { 1, 1, 0, 9 }, { 1, 0, 0, 4 } };
	size_t which = 99;
	int has_any = -1;

	is_int(pick(idle3, 3, 3, 9, 0, &which, &has_any), QUEUE_PICK_WORKER,
	    "an idle worker of the same destination takes it");
	is_int((long long)which, 1, "the one whose last message went there");
	is_int(pick(idle3, 3, 5, 9, 0, &which, &has_any), QUEUE_PICK_WORKER,
	    "even while there is room for a new one");
	is_int(pick(idle3, 3, 5, 4, 0, &which, &has_any), QUEUE_PICK_SPAWN,
	    "another destination and room: a new worker");
	is_int(has_any, 1, "with an idle one as the fallback");
	is_int((long long)which, 0, "the first idle one");
	is_int(pick(idle3, 3, 3, 4, 0, &which, &has_any), QUEUE_PICK_WORKER,
	    "no room: any idle worker");
	is_int((long long)which, 0, "the first idle one");
	is_int(pick(busy2, 2, 2, 9, 0, &which, &has_any), QUEUE_PICK_BUSY,
	    "a busy worker of the same destination does not take it");
	is_int(pick(busy2, 2, 3, 9, 0, &which, &has_any), QUEUE_PICK_SPAWN,
	    "all busy, room: a new worker");
	is_int(has_any, 0, "and no fallback");
	is_int(pick(same_busy, 2, 2, 9, 0, &which, &has_any),
	    QUEUE_PICK_WORKER, "all but one busy: the idle one");
	is_int((long long)which, 1, "worker 1");

	is_int(pick(mixed, 3, 3, 4, 0, &which, &has_any), QUEUE_PICK_WORKER,
	    "no root needed: a worker that gave root up");
	is_int((long long)which, 1, "the first root-less one");
	is_int(pick(mixed, 3, 3, 4, 1, &which, &has_any), QUEUE_PICK_WORKER,
	    "root needed: only a worker that kept it");
	is_int((long long)which, 0, "worker 0");
	is_int(pick(mixed, 3, 3, 3, 1, &which, &has_any), QUEUE_PICK_WORKER,
	    "root needed: not even the root-less one of its destination");
	is_int((long long)which, 0, "worker 0 again");
	is_int(pick(dropped_only, 2, 2, 5, 1, &which, &has_any),
	    QUEUE_PICK_RETIRE,
	    "root needed, none kept it, no room: retire one");
	is_int((long long)which, 0, "the idle root-less one");
	is_int(pick(dropped_only, 2, 3, 5, 1, &which, &has_any),
	    QUEUE_PICK_SPAWN, "root needed and room: a new worker");
	is_int(has_any, 0, "not the root-less one as fallback");
	is_int(pick(exiting, 3, 3, 5, 1, &which, &has_any), QUEUE_PICK_WAIT,
	    "one already exiting: wait for it, retire no other");
	is_int(pick(exiting, 3, 3, 5, 0, &which, &has_any), QUEUE_PICK_WORKER,
	    "no root needed: the idle root-less one");
	is_int((long long)which, 0, "worker 0");
	is_int(pick(NULL, 0, 2, 5, 0, &which, &has_any), QUEUE_PICK_SPAWN,
	    "no worker yet: start one");
	is_int(pick(NULL, 0, 0, 5, 0, &which, &has_any), QUEUE_PICK_BUSY,
	    "no room at all: busy");
	return tap_done();
}
