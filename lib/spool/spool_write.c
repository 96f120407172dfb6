#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/io.h"
#include "spool/spool_nudge.h"
#include "spool/spool_write.h"

enum { PH_CLOSED = 0, PH_OPEN, PH_BODY, PH_FAILED };

const char *
spool_write_step_name(enum spool_write_step s)
{
	switch (s) {
	case SPOOL_STEP_NONE:
		return "none";
	case SPOOL_STEP_CREATE:
		return "create";
	case SPOOL_STEP_WRITE:
		return "write";
	case SPOOL_STEP_FSYNC:
		return "fsync";
	case SPOOL_STEP_RENAME:
		return "rename";
	case SPOOL_STEP_DIRSYNC:
		return "dirsync";
	}
	return "?";
}

/* Test hook: die exactly where a power cut could (doc/INTERNALS.md). */
static void
crash_point(const struct spool_tx *tx, const char *name)
{
	if (tx->crash_at != NULL && strcmp(tx->crash_at, name) == 0)
		_exit(SPOOL_CRASH_EXIT);
}

/* Records the failure, removes the tmp file, keeps errno. */
static int
fail(struct spool_tx *tx, enum spool_write_step step)
{
	int save = errno;
	int r = spool_err_full(save) ? SPOOL_WR_FULL : SPOOL_WR_IO;

	tx->step = step;
	spool_write_abort(tx);
	tx->phase = PH_FAILED;
	errno = save;
	return r;
}

static int
open_tx(struct spool_tx *tx, const struct spool_dir *sp,
    const struct timespec *now, int lazy)
{
	struct timespec ts;
	int tries;

	memset(tx, 0, sizeof *tx);
	tx->dir = sp;
	tx->fd = -1;
#ifdef PM_TEST_KNOBS
	tx->crash_at = getenv(SPOOL_CRASH_ENV);
#endif
	if (now == NULL) {
		if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
			return fail(tx, SPOOL_STEP_CREATE);
		now = &ts;
	}
	tx->arrival = now->tv_sec;
	tx->wbuf = malloc(SPOOL_WRITE_BUFSIZE);
	if (tx->wbuf == NULL)
		return fail(tx, SPOOL_STEP_CREATE);
	if (lazy) {
		/* the id is in the envelope and Received: from now on, so
		 * a later EEXIST (a stale file, 64 random bits) fails */
		if (spool_id_new(tx->id, now) < 0)
			return fail(tx, SPOOL_STEP_CREATE);
		tx->phase = PH_OPEN;
		return SPOOL_WR_OK;
	}
	/* 64 random bits make EEXIST a stale file or a broken RNG. */
	for (tries = 0; tries < 8; tries++) {
		if (spool_id_new(tx->id, now) < 0)
			return fail(tx, SPOOL_STEP_CREATE);
		tx->fd = openat(sp->tmp, tx->id,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (tx->fd >= 0 || errno != EEXIST)
			break;
	}
	if (tx->fd < 0) {
		tx->id[0] = '\0';	/* not ours: abort must not unlink */
		return fail(tx, SPOOL_STEP_CREATE);
	}
	tx->made = 1;
	tx->phase = PH_OPEN;
	crash_point(tx, "after-create");
	return SPOOL_WR_OK;
}

int
spool_write_open(struct spool_tx *tx, const struct spool_dir *sp,
    const struct timespec *now)
{
	return open_tx(tx, sp, now, 0);
}

int
spool_write_open_lazy(struct spool_tx *tx, const struct spool_dir *sp,
    const struct timespec *now)
{
	return open_tx(tx, sp, now, 1);
}

/* A lazy transaction's tmp/ID, when its first octets must go out. */
static int
make_file(struct spool_tx *tx)
{
	if (tx->fd >= 0)
		return 0;
	tx->fd = openat(tx->dir->tmp, tx->id,
	    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (tx->fd < 0)
		return -1;
	tx->made = 1;
	crash_point(tx, "after-create");
	return 0;
}

static int
flush(struct spool_tx *tx)
{
	if (tx->wlen == 0)
		return 0;
	if (make_file(tx) < 0 || io_write_all(tx->fd, tx->wbuf, tx->wlen) < 0)
		return -1;
	tx->wlen = 0;
	return 0;
}

static int
put(struct spool_tx *tx, const void *p, size_t n)
{
	const char *s = p;
	size_t k;

	if (__builtin_add_overflow(tx->size, (uint64_t)n, &tx->size)) {
		errno = EFBIG;
		return -1;
	}
	/* Large writes skip the copy once the buffer is flushed. */
	if (tx->wlen + n > SPOOL_WRITE_BUFSIZE) {
		if (flush(tx) < 0)
			return -1;
		if (n >= SPOOL_WRITE_BUFSIZE)
			return make_file(tx) < 0 ? -1 :
			    io_write_all(tx->fd, s, n);
	}
	k = n;
	memcpy(tx->wbuf + tx->wlen, s, k);
	tx->wlen += k;
	return 0;
}

int
spool_write_envelope(struct spool_tx *tx, struct spool_env *env,
    const struct spool_env_limits *lim)
{
	struct buf b = BUF_INIT(0);
	int e;

	if (tx->phase != PH_OPEN) {
		errno = EINVAL;
		return SPOOL_WR_STATE;
	}
	memcpy(env->id, tx->id, SPOOL_ID_SIZE);
	env->arrival = tx->arrival;
	buf_init(&b, lim->max_env);
	e = spool_env_encode(&b, env, lim);
	if (e != SPOOL_ENV_OK) {
		buf_free(&b);
		tx->env_err = e;
		spool_write_abort(tx);
		tx->phase = PH_FAILED;
		errno = EINVAL;
		return SPOOL_WR_ENV;
	}
	/* the envelope starts the file */
	tx->wire_off = spool_env_wire_offset(b.p, b.len);
	if (put(tx, b.p, b.len) < 0) {
		buf_free(&b);
		return fail(tx, SPOOL_STEP_WRITE);
	}
	buf_free(&b);
	tx->phase = PH_BODY;
	return SPOOL_WR_OK;
}

int
spool_write_body(struct spool_tx *tx, const void *p, size_t n)
{
	if (tx->phase != PH_BODY) {
		errno = EINVAL;
		return SPOOL_WR_STATE;
	}
	if (put(tx, p, n) < 0)
		return fail(tx, SPOOL_STEP_WRITE);
	return SPOOL_WR_OK;
}

int
spool_write_mark_wire(struct spool_tx *tx)
{
	uint64_t flushed;
	ssize_t n;

	if (tx->phase != PH_BODY || tx->wire_off == 0) {
		errno = EINVAL;
		return SPOOL_WR_STATE;
	}
	flushed = tx->size - tx->wlen;
	if (tx->wire_off >= flushed) {
		tx->wbuf[tx->wire_off - flushed] = '1';
		return SPOOL_WR_OK;
	}
	/* before the fsync of the commit, so the flag is as durable */
	do
		n = pwrite(tx->fd, "1", 1, (off_t)tx->wire_off);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return fail(tx, SPOOL_STEP_WRITE);
	return SPOOL_WR_OK;
}

int
spool_write_copy(struct spool_tx *dst, struct spool_tx *src, uint64_t off)
{
	char buf[65536];
	ssize_t n;

	if (dst->phase != PH_BODY || src->phase != PH_BODY) {
		errno = EINVAL;
		return SPOOL_WR_STATE;
	}
	if (flush(src) < 0 || make_file(src) < 0)
		return fail(src, SPOOL_STEP_WRITE);
	for (;;) {
		n = pread(src->fd, buf, sizeof buf, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(dst, SPOOL_STEP_WRITE);
		if (n == 0)
			return SPOOL_WR_OK;
		if (put(dst, buf, (size_t)n) < 0)
			return fail(dst, SPOOL_STEP_WRITE);
		off += (uint64_t)n;
	}
}

int
spool_write_flush(struct spool_tx *tx)
{
	if (tx->phase != PH_BODY) {
		errno = EINVAL;
		return SPOOL_WR_STATE;
	}
	if (flush(tx) < 0)
		return fail(tx, SPOOL_STEP_WRITE);
	return SPOOL_WR_OK;
}

int
spool_write_commit(struct spool_tx *tx)
{
	int fd, save;

	if (tx->phase != PH_BODY) {
		errno = EINVAL;
		return SPOOL_WR_STATE;
	}
	if (flush(tx) < 0 || make_file(tx) < 0)
		return fail(tx, SPOOL_STEP_WRITE);
	crash_point(tx, "after-write");
	if (fsync(tx->fd) < 0)
		return fail(tx, SPOOL_STEP_FSYNC);
	/* close(2) can report a delayed write error (NFS); count it. */
	fd = tx->fd;
	tx->fd = -1;
	if (close(fd) < 0)
		return fail(tx, SPOOL_STEP_FSYNC);
	crash_point(tx, "after-fsync");
	/* The commit point: before it the message does not exist. */
	if (renameat(tx->dir->tmp, tx->id, tx->dir->queue, tx->id) < 0)
		return fail(tx, SPOOL_STEP_RENAME);
	crash_point(tx, "after-rename");
	if (fsync(tx->dir->queue) < 0) {
		/*
		 * The name may not survive a crash, so we must not say 250.
		 * Take the message back; if the runner already saw it, the
		 * client's retry makes a duplicate, never a loss.
		 */
		save = errno;
		(void)unlinkat(tx->dir->queue, tx->id, 0);
		errno = save;
		tx->id[0] = '\0';
		return fail(tx, SPOOL_STEP_DIRSYNC);
	}
	crash_point(tx, "after-dirsync");
	free(tx->wbuf);
	tx->wbuf = NULL;
	tx->phase = PH_CLOSED;
	(void)spool_nudge_send_id(tx->dir, tx->id);
	return SPOOL_WR_OK;
}

void
spool_write_abort(struct spool_tx *tx)
{
	int save = errno;

	if (tx->fd >= 0) {
		close(tx->fd);
		tx->fd = -1;
	}
	if (tx->phase != PH_CLOSED && tx->phase != PH_FAILED &&
	    tx->id[0] != '\0' && tx->made)
		(void)unlinkat(tx->dir->tmp, tx->id, 0);
	free(tx->wbuf);
	tx->wbuf = NULL;
	tx->wlen = 0;
	if (tx->phase != PH_CLOSED)
		tx->phase = PH_FAILED;
	errno = save;
}
