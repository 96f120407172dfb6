/* syncfs(2) is Linux. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/io.h"
#include "inject/inject_drop.h"

#define DROP_TRIES 8

int
inject_drop_open(struct inject_drop *dr, int dirfd)
{
	struct timespec now;
	int tries;

	memset(dr, 0, sizeof *dr);
	dr->dir = dirfd;
	dr->fd = -1;
	for (tries = 0; tries < DROP_TRIES; tries++) {
		clock_gettime(CLOCK_REALTIME, &now);
		if (spool_id_new(dr->id, &now) < 0)
			return -1;
		snprintf(dr->tmp, sizeof dr->tmp, "t.%s", dr->id);
		snprintf(dr->name, sizeof dr->name, "m.%s", dr->id);
		/* 0444: nobody, not even the owner, rewrites it in place. */
		dr->fd = openat(dirfd, dr->tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0444);
		if (dr->fd >= 0) {
			/*
			 * The umask (027, 077 for many users) would take
			 * the read bit pickup needs: pickup runs as the
			 * postmaster user, for whom the file is "other".
			 */
			if (fchmod(dr->fd, 0444) < 0) {
				inject_drop_abort(dr);
				return -1;
			}
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int
inject_drop_write(struct inject_drop *dr, const void *p, size_t n)
{
	return io_write_all(dr->fd, p, n);
}

int
inject_drop_commit(struct inject_drop *dr)
{
	int saved;

	if (fsync(dr->fd) < 0)
		goto fail;
	if (renameat(dr->dir, dr->tmp, dr->dir, dr->name) < 0)
		goto fail;
	/*
	 * The new name must be durable before we say "queued". The group
	 * cannot read (so cannot open and fsync) the directory; syncfs on
	 * the file's file system covers its directory entry too.
	 */
	if (syncfs(dr->fd) < 0) {
		saved = errno;
		(void)unlinkat(dr->dir, dr->name, 0);
		errno = saved;
		goto fail_closed;
	}
	if (close(dr->fd) < 0) {
		dr->fd = -1;
		saved = errno;
		(void)unlinkat(dr->dir, dr->name, 0);
		errno = saved;
		return -1;
	}
	dr->fd = -1;
	return 0;
fail:
	saved = errno;
	(void)unlinkat(dr->dir, dr->tmp, 0);
	errno = saved;
fail_closed:
	saved = errno;
	if (dr->fd >= 0)
		close(dr->fd);
	dr->fd = -1;
	errno = saved;
	return -1;
}

void
inject_drop_abort(struct inject_drop *dr)
{
	int saved = errno;

	if (dr->fd >= 0) {
		close(dr->fd);
		dr->fd = -1;
		(void)unlinkat(dr->dir, dr->tmp, 0);
	}
	errno = saved;
}
