#include <time.h>

#include "base/clock.h"

int64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
clock_ms_from_s(uint64_t secs)
{
	return secs > UINT64_MAX / 1000 ? UINT64_MAX : secs * 1000;
}
