/*
 * clock: CLOCK_MONOTONIC in milliseconds, for deadlines. A step of the
 * wall clock (NTP, an operator) neither ends nor extends a timeout.
 */
#ifndef PM_CLOCK_H
#define PM_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);

/* secs * 1000, saturated at UINT64_MAX: a configured duration of any size
 * stays a long one and never wraps to a short one. */
uint64_t clock_ms_from_s(uint64_t secs);

#endif
