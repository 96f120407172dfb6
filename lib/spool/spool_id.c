#define _GNU_SOURCE /* getrandom(2) */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "spool/spool_id.h"

int
spool_id_new(char id[SPOOL_ID_SIZE], const struct timespec *now)
{
	uint64_t rnd;
	ssize_t r;
	unsigned long long sec;
	unsigned long usec;

	/* Blocking only before the kernel pool is seeded, once per boot. */
	do
		r = getrandom(&rnd, sizeof rnd, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (r != (ssize_t)sizeof rnd) {
		errno = EIO;
		return -1;
	}
	/* 9 hex digits hold seconds up to the year 4147; clamp, never wrap. */
	sec = now->tv_sec < 0 ? 0 : (unsigned long long)now->tv_sec;
	if (sec > 0xFFFFFFFFFULL)
		sec = 0xFFFFFFFFFULL;
	usec = (unsigned long)(now->tv_nsec / 1000) % 1000000UL;
	snprintf(id, SPOOL_ID_SIZE, "%09llX%05lX%016llX", sec, usec,
	    (unsigned long long)rnd);
	return 0;
}

int
spool_id_valid(const char *s, size_t n)
{
	size_t i;

	if (n != SPOOL_ID_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

int64_t
spool_id_time(const char *id)
{
	int64_t t = 0;
	int i, c;

	for (i = 0; i < 9; i++) {
		c = id[i];
		t = t * 16 + (c <= '9' ? c - '0' : c - 'A' + 10);
	}
	return t;
}
