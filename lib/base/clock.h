/*
 * clock: CLOCK_MONOTONIC in milliseconds, for deadlines. A step of the
 * wall clock (NTP, an operator) neither ends nor extends a timeout.
 */
#ifndef PM_CLOCK_H
#define PM_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);

#endif
