/* Window trimming: the latest due messages leave the scheduler's window
 * first; of equal due times the newest. */
#include <stdint.h>

#include "queue/queue_window.h"
#include "tap.h"

int
main(void)
{
	struct queue_window_ent v[] = {
		{ 50, 0 },
		{ 10, 1 },
		{ 90, 2 },
		{ 90, 3 },
		{ 30, 4 },
		{ 90, 5 },
	};
	struct queue_window_ent one[] = { { 7, 0 } };
	size_t k;

	k = queue_window_leave(v, 6, 4);
	is_int((long long)k, 4, "four of six leave");
	is_int((long long)v[0].i, 5, "the latest due, newest of three: 5");
	is_int((long long)v[1].i, 3, "then 3");
	is_int((long long)v[2].i, 2, "then 2");
	is_int((long long)v[3].i, 0, "then the next latest (due 50)");
	is_int((long long)v[4].i, 4, "due 30 stays");
	is_int((long long)v[5].i, 1, "the earliest due stays");

	is_int((long long)queue_window_leave(one, 1, 5), 1,
	    "no more leave than there are candidates");
	is_int((long long)queue_window_leave(one, 1, 0), 0, "none to drop");
	is_int((long long)queue_window_leave(NULL, 0, 3), 0,
	    "no candidate (all have workers): none leaves");
	return tap_done();
}
