/*
 * spool_nudge: wake the queue runner after a commit, never blocking.
 *
 * The writer opens ROOT/nudge O_WRONLY|O_NONBLOCK: with no runner the open
 * fails ENXIO, which is fine (the runner scans queue/ at start); with a
 * full pipe the write fails EAGAIN, also fine (a wake-up is pending).
 * The runner holds the FIFO open O_RDWR|O_NONBLOCK (Linux semantics) so it
 * never sees EOF when writers come and go, polls it for POLLIN, then
 * drains it and scans queue/. A nudge carries no data: a lost one costs
 * only latency, never a message.
 *
 * spool_nudge_send() returns 0 (also when nobody listens) or -1/errno.
 * spool_nudge_listen() returns an fd or -1/errno.
 * spool_nudge_drain() returns the number of bytes drained or -1/errno.
 */
#ifndef PM_SPOOL_NUDGE_H
#define PM_SPOOL_NUDGE_H

#include "spool/spool_dir.h"

int spool_nudge_send(const struct spool_dir *sp);
int spool_nudge_listen(const struct spool_dir *sp);
int spool_nudge_drain(int fd);

#endif
