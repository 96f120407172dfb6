/* Retry schedule: the documented 1m, 2m, 4m ... capped at 1h. */
#include <stdint.h>

#include "queue/queue_retry.h"
#include "tap.h"

int
main(void)
{
	static const struct {
		uint32_t attempts;
		int64_t first, cap, want;
	} cases[] = {
		{ 1, 60, 3600, 60 }, { 2, 60, 3600, 120 }, { 3, 60, 3600, 240 },
		{ 4, 60, 3600, 480 }, { 5, 60, 3600, 960 }, { 6, 60, 3600, 1920 },
		{ 7, 60, 3600, 3600 }, { 8, 60, 3600, 3600 },
		{ UINT32_MAX, 60, 3600, 3600 },	/* no overflow */
		{ 0, 60, 3600, 60 },		/* never less than first */
		{ 1, 0, 3600, 1 },		/* at least a second */
		{ 3, 5, 3, 5 },			/* cap below first: first */
		{ 40, 1, INT64_MAX / 2, (int64_t)1 << 39 },
		{ 80, 1, INT64_MAX / 2, INT64_MAX / 2 },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_int(queue_retry_delay(cases[i].attempts, cases[i].first,
		    cases[i].cap), cases[i].want, "delay");
	is_int(queue_retry_expired(1000, 1000 + 5 * 86400 - 1, 5 * 86400), 0,
	    "not expired a second before the lifetime");
	is_int(queue_retry_expired(1000, 1000 + 5 * 86400, 5 * 86400), 1,
	    "expired at the lifetime");
	is_int(queue_retry_expired(1000, 1000, 0), 1, "lifetime 0: at once");
	return done_testing();
}
