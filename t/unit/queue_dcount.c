/* The max-per-destination decisions of the scheduler's destination count
 * table: counts per key, room under a limit, stale keys, a rebuild. */
#include <stdint.h>
#include <string.h>

#include "queue/queue_dcount.h"
#include "tap.h"

int
main(void)
{
	struct queue_dcount d;
	uint64_t a = 0x1111, b = 0x2222, ab[2] = { 0x1111, 0x2222 };
	uint64_t many[40];
	size_t i;

	is_int(queue_dcount_init(&d, 4), 0, "init");
	is_int((long long)d.cap, 64, "at least 64 slots");
	is_int(queue_dcount_get(&d, a), 0, "an unknown destination has 0");
	is_int(queue_dcount_room(&d, &a, 1, 2), 1, "room when nothing runs");

	queue_dcount_add(&d, &a, 1, 1);
	is_int(queue_dcount_get(&d, a), 1, "one running to a");
	is_int(queue_dcount_room(&d, &a, 1, 2), 1, "1 of 2 at a: room");
	queue_dcount_add(&d, &a, 1, 1);
	is_int(queue_dcount_room(&d, &a, 1, 2), 0, "2 of 2 at a: no room");
	is_int(queue_dcount_room(&d, &b, 1, 2), 1, "b is another destination");
	is_int(queue_dcount_room(&d, ab, 2, 2), 0,
	    "a message to b and a waits for a");
	is_int(queue_dcount_room(&d, ab, 2, 0), 1, "max 0: no limit");
	is_int(queue_dcount_room(&d, ab, 2, 3), 1, "under a higher limit");

	queue_dcount_add(&d, ab, 2, 1);
	is_int(queue_dcount_get(&d, a), 3,
	    "a message counts at each of its "
	    "destinations: a");
	is_int(queue_dcount_get(&d, b), 1, "and b");
	queue_dcount_add(&d, ab, 2, -1);
	queue_dcount_add(&d, &a, 1, -1);
	is_int(queue_dcount_get(&d, a), 1, "done: a back to 1");
	is_int(queue_dcount_get(&d, b), 0, "b back to 0");
	is_int(queue_dcount_room(&d, &a, 1, 2), 1, "room at a again");

	queue_dcount_add(&d, &b, 1, -1);
	is_int(queue_dcount_get(&d, b), 0, "never below 0");
	queue_dcount_add(&d, &many[0], 0, 1);
	is_int((long long)d.used, 2, "stale b keeps its slot until cleared");

	/* Keys that share their low bits probe on; each keeps its count. */
	for (i = 0; i < 20; i++)
		many[i] = (uint64_t)i << 40;
	queue_dcount_add(&d, many, 20, 1);
	queue_dcount_add(&d, many + 5, 1, 1);
	is_int(queue_dcount_get(&d, many[5]), 2, "colliding keys: the fifth");
	is_int(queue_dcount_get(&d, many[19]), 1, "the last");
	is_int(queue_dcount_room(&d, many + 5, 1, 2), 0,
	    "colliding keys: no room at the full one");
	is_int(queue_dcount_room(&d, many + 6, 1, 2), 1,
	    "room at its neighbour");

	is_int(queue_dcount_full(&d, 1), 0, "22 of 64 slots: not full");
	is_int(queue_dcount_full(&d, 11), 1, "33 would be over half: full");
	queue_dcount_clear(&d);
	is_int((long long)d.used, 0, "cleared");
	is_int(queue_dcount_get(&d, a), 0, "a forgotten");
	is_int(queue_dcount_full(&d, 11), 0, "room after a clear");
	queue_dcount_free(&d);

	is_int(queue_dcount_init(&d, 100), 0, "init for 100 live keys");
	is_int((long long)d.cap, 512, "a quarter of the slots: 512");
	queue_dcount_free(&d);

	memset(&d, 0, sizeof d);
	queue_dcount_add(&d, &a, 1, 1);
	is_int(queue_dcount_get(&d, a), 0, "no table (no limit): no counts");
	is_int(queue_dcount_full(&d, 1000), 0, "and never full");
	return tap_done();
}
