/*
 * spool_nudge: wake the queue runner after a commit, never blocking.
 *
 * The writer opens ROOT/nudge O_WRONLY|O_NONBLOCK: with no runner the open
 * fails ENXIO, which is fine (the runner scans queue/ at start); with a
 * full pipe the write fails EAGAIN, also fine (see below). The runner
 * holds the FIFO open O_RDWR|O_NONBLOCK (Linux semantics) so it never
 * sees EOF when writers come and go, polls it for POLLIN, then drains it.
 *
 * What a writer puts in the FIFO (doc/spool.5 "Nudge"):
 *
 *   ID "\n"   31 bytes, one write (atomic: below PIPE_BUF): queue/ID was
 *             committed; the runner adds just that id to its table.
 *   "n"       the old nudge: look at all of queue/ (a full rescan).
 *   "p"       look at maildrop/ (postmaster-inject); its pickup commits
 *             send their own ID lines.
 *   "F"       postmaster-queue --flush.
 *
 * A single byte is recognised only at the start of a line; ids start with
 * '0' until 2106 (spool_id.h), so a leading 'F' is never an id. Anything
 * else (a line that is not an id, an overlong line) is garbage and asks
 * for a full rescan. So does a drain that may have found the pipe full: a
 * writer that got EAGAIN lost its line. A lost nudge (no runner, crash)
 * costs only latency: the runner rescans at start and periodically.
 *
 * The public FIFO ROOT/pickup (postmaster:postdrop 0620, made by
 * postmaster-setup) is for postmaster-inject, which runs as any user with
 * group postdrop and may not write ROOT/nudge (0600): any byte in it means
 * only "look at maildrop/", so its writers can ask for nothing more.
 *
 * spool_nudge_send() sends "n" (legacy), spool_nudge_send_id() an id line,
 * spool_nudge_send_pickup() "p" to ROOT/pickup, else to ROOT/nudge; each
 * returns 0 (also when nobody listens) or -1/errno.
 * spool_nudge_pickup_listen() opens ROOT/pickup for the runner: an fd,
 * or -1/errno (ENOENT: there is none; EPERM: not a FIFO of ours).
 * spool_nudge_listen() returns an fd or -1/errno.
 * spool_nudge_drain() discards what is there; returns the number of bytes
 * drained or -1/errno.
 * spool_nudge_parse() feeds n bytes to the line parser rd (zeroed before
 * the first call; it keeps a partial line between calls), calls fn for
 * each id line, and returns the SPOOL_NUDGE_* flags seen.
 * spool_nudge_read() drains fd through spool_nudge_parse(); returns the
 * flags (SPOOL_NUDGE_ANY when anything was read) or -1/errno.
 */
#ifndef PM_SPOOL_NUDGE_H
#define PM_SPOOL_NUDGE_H

#include <stddef.h>

#include "spool/spool_dir.h"
#include "spool/spool_id.h"

#define SPOOL_NUDGE_PICKUP_FIFO "pickup"

#define SPOOL_NUDGE_ANY 1	/* something was read */
#define SPOOL_NUDGE_RESCAN 2	/* legacy byte, garbage or a full pipe */
#define SPOOL_NUDGE_PICKUP 4	/* 'p' */
#define SPOOL_NUDGE_FLUSH 8	/* 'F' */

struct spool_nudge_rd {
	char line[SPOOL_ID_SIZE];
	size_t len;
	int junk;		/* in a bad line: skip to its newline */
};

int spool_nudge_send(const struct spool_dir *sp);
int spool_nudge_send_id(const struct spool_dir *sp, const char *id);
int spool_nudge_send_pickup(const struct spool_dir *sp);
int spool_nudge_listen(const struct spool_dir *sp);
int spool_nudge_pickup_listen(const struct spool_dir *sp);
int spool_nudge_drain(int fd);
int spool_nudge_parse(struct spool_nudge_rd *rd, const char *p, size_t n,
    void (*fn)(const char *id, void *arg), void *arg);
int spool_nudge_read(int fd, struct spool_nudge_rd *rd,
    void (*fn)(const char *id, void *arg), void *arg);

#endif
