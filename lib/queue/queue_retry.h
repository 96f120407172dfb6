/*
 * queue_retry: the retry schedule of the queue runner. Pure: no I/O.
 *
 * After the Nth failed attempt (N >= 1) of a delivery the next try is
 * first * 2^(N-1) seconds later, capped at cap: with the defaults
 * ([core] retry-interval 1m, retry-max-interval 1h) that is 1m, 2m, 4m,
 * 8m, 16m, 32m, then every hour. A delivery still failing temporarily
 * when its message has been queued for [core] queue-lifetime bounces.
 */
#ifndef PM_QUEUE_RETRY_H
#define PM_QUEUE_RETRY_H

#include <stdint.h>

/* Seconds to wait after `attempts` failed attempts; at least 1. */
int64_t queue_retry_delay(uint32_t attempts, int64_t first, int64_t cap);

/* 1 when a message that arrived at `arrival` has outlived `lifetime`. */
int queue_retry_expired(int64_t arrival, int64_t now, int64_t lifetime);

#endif
