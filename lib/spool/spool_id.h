/*
 * spool_id: queue ids.
 *
 * An id is SPOOL_ID_LEN uppercase hex digits: 9 for the arrival second,
 * 5 for the microsecond, 16 for 64 bits from getrandom(2). Fixed width and
 * uppercase hex make plain byte order equal arrival order, so `ls queue/`
 * and a sort of the scan are chronological. Only [0-9A-F] appear, so an id
 * is always a safe file name and a safe log token; the same string names
 * the spool file, the state file and every log line about the message.
 *
 * spool_id_new() returns 0, or -1 with errno from getrandom(2).
 * spool_id_valid() returns 1 for a well-formed id, else 0.
 */
#ifndef PM_SPOOL_ID_H
#define PM_SPOOL_ID_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SPOOL_ID_LEN 30
#define SPOOL_ID_SIZE (SPOOL_ID_LEN + 1)

int spool_id_new(char id[SPOOL_ID_SIZE], const struct timespec *now);
int spool_id_valid(const char *s, size_t n);
/* The arrival second encoded in a valid id. */
int64_t spool_id_time(const char *id);

#endif
