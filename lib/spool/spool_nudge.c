#define _GNU_SOURCE		/* F_GETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool/spool_nudge.h"

static int
send_to(const struct spool_dir *sp, const char *fifo, const char *p, size_t n)
{
	ssize_t r;
	int fd;

	fd = openat(sp->root, fifo,
	    O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENXIO ? 0 : -1;
	/* n <= PIPE_BUF: all of it or EAGAIN, never a part. */
	do
		r = write(fd, p, n);
	while (r < 0 && errno == EINTR);
	close(fd);
	if (r < 0 && errno != EAGAIN)
		return -1;
	return 0;
}

static int
send_bytes(const struct spool_dir *sp, const char *p, size_t n)
{
	return send_to(sp, "nudge", p, n);
}

int
spool_nudge_send(const struct spool_dir *sp)
{
	return send_bytes(sp, "n", 1);
}

int
spool_nudge_send_pickup(const struct spool_dir *sp)
{
	/* The public FIFO first: any user's setgid inject may write it. */
	if (send_to(sp, SPOOL_NUDGE_PICKUP_FIFO, "p", 1) == 0)
		return 0;
	return send_bytes(sp, "p", 1);
}

int
spool_nudge_pickup_listen(const struct spool_dir *sp)
{
	struct stat st;
	int fd, saved;

	fd = openat(sp->root, SPOOL_NUDGE_PICKUP_FIFO,
	    O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Made by postmaster-setup for the runner: its FIFO, nobody else's. */
	if (fstat(fd, &st) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISFIFO(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int
spool_nudge_send_id(const struct spool_dir *sp, const char *id)
{
	char line[SPOOL_ID_LEN + 1];

	if (!spool_id_valid(id, strlen(id)))
		return spool_nudge_send(sp);
	memcpy(line, id, SPOOL_ID_LEN);
	line[SPOOL_ID_LEN] = '\n';
	return send_bytes(sp, line, sizeof line);
}

int
spool_nudge_listen(const struct spool_dir *sp)
{
	return openat(sp->root, "nudge",
	    O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
}

int
spool_nudge_drain(int fd)
{
	char b[256];
	ssize_t r;
	int total = 0;

	for (;;) {
		r = read(fd, b, sizeof b);
		if (r > 0) {
			total += (int)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN)
			return -1;
		return total;
	}
}

int
spool_nudge_parse(struct spool_nudge_rd *rd, const char *p, size_t n,
    void (*fn)(const char *id, void *arg), void *arg)
{
	int flags = n ? SPOOL_NUDGE_ANY : 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = p[i];

		if (rd->junk) {
			if (ch == '\n')
				rd->junk = 0;
			continue;
		}
		if (rd->len == 0) {
			/* One-byte messages, only at the start of a line. */
			if (ch == 'n') {
				flags |= SPOOL_NUDGE_RESCAN;
				continue;
			}
			if (ch == 'p') {
				flags |= SPOOL_NUDGE_PICKUP;
				continue;
			}
			if (ch == 'F') {
				flags |= SPOOL_NUDGE_FLUSH;
				continue;
			}
		}
		if (ch == '\n') {
			rd->line[rd->len] = '\0';
			if (rd->len == SPOOL_ID_LEN &&
			    spool_id_valid(rd->line, rd->len))
				fn(rd->line, arg);
			else
				flags |= SPOOL_NUDGE_RESCAN;
			rd->len = 0;
			continue;
		}
		if (rd->len == SPOOL_ID_LEN) {
			/* Too long for an id: garbage up to the newline. */
			flags |= SPOOL_NUDGE_RESCAN;
			rd->len = 0;
			rd->junk = 1;
			continue;
		}
		rd->line[rd->len++] = ch;
	}
	return flags;
}

int
spool_nudge_read(int fd, struct spool_nudge_rd *rd,
    void (*fn)(const char *id, void *arg), void *arg)
{
	char b[4096];
	size_t total = 0;
	ssize_t r;
	int flags = 0, cap;

	for (;;) {
		r = read(fd, b, sizeof b);
		if (r > 0) {
			total += (size_t)r;
			flags |= spool_nudge_parse(rd, b, (size_t)r, fn, arg);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN)
			return -1;
		break;
	}
	/*
	 * Between drains the pipe only fills, and a drain reads until it is
	 * empty: if everything read could not have fitted beside one more
	 * line, some writer may have got EAGAIN and its id is lost.
	 */
	cap = fcntl(fd, F_GETPIPE_SZ);
	if (cap > 0 && total + SPOOL_ID_LEN + 1 > (size_t)cap)
		flags |= SPOOL_NUDGE_RESCAN;
	return flags;
}
