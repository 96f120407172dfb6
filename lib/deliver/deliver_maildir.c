/* getrandom(2) is Linux; everything else here is POSIX 2008. */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/crlf.h"
#include "base/io.h"
#include "deliver/deliver_maildir.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* Per read/write; a message is streamed, never held whole. */
#define COPY_CHUNK 16384
/* O_EXCL collisions are near impossible; a few retries cover clock jumps. */
#define NAME_TRIES 8

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

int
deliver_maildir_init(struct deliver_maildir *dm, const char *hostname)
{
	char raw[256];
	const char *h, *esc;
	size_t i, n, k;

	if (dm == NULL) {
		errno = EINVAL;
		return -1;
	}
	h = hostname;
	if (h == NULL || h[0] == '\0') {
		if (gethostname(raw, sizeof(raw)) < 0)
			return -1;
		raw[sizeof(raw) - 1] = '\0';
		h = raw[0] != '\0' ? raw : "localhost";
	}
	n = 0;
	for (i = 0; h[i] != '\0'; i++) {
		/* Maildir spec: '/' and ':' would break the name or its info. */
		if (h[i] == '/')
			esc = "\\057";
		else if (h[i] == ':')
			esc = "\\072";
		else
			esc = NULL;
		k = esc ? 4 : 1;
		/* Shorten rather than fail: never cut an escape in half. */
		if (n + k > DELIVER_MAILDIR_HOSTMAX)
			break;
		if (esc)
			memcpy(dm->host + n, esc, k);
		else
			dm->host[n] = h[i];
		n += k;
	}
	dm->host[n] = '\0';
	dm->count = 0;
	return 0;
}

static int
make_name(struct deliver_maildir *dm, char *name, size_t size)
{
	struct timespec ts;
	unsigned long long rnd;
	int n;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -1;
	/*
	 * The random part only guards against pid reuse on another boot or
	 * host with the same name; uniqueness in this process comes from the
	 * counter, so a short read is harmless.
	 */
	rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd ^= (unsigned long long)ts.tv_nsec * 0x9e3779b97f4a7c15ULL;
	dm->count++;
	n = snprintf(name, size, "%lld.M%06ldP%ldQ%lluR%016llx.%s",
	    (long long)ts.tv_sec, (long)(ts.tv_nsec / 1000), (long)getpid(),
	    dm->count, rnd, dm->host);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
write_chunk(int fd, const char *p, size_t n, int convert, int *cr)
{
	char conv[COPY_CHUNK + 1];
	size_t k, o;

	if (!convert)
		return io_write_all(fd, p, n);
	while (n > 0) {
		k = n < COPY_CHUNK ? n : COPY_CHUNK;
		o = crlf_to_lf(p, k, conv, cr);
		if (io_write_all(fd, conv, o) < 0)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

static int
write_body(int fd, const struct deliver_msg *msg)
{
	char in[COPY_CHUNK];
	off_t off;
	ssize_t r;
	int convert, cr, seekable;

	convert = (msg->flags & DELIVER_MSG_CRLF) != 0;
	cr = 0;
	if (msg->fd < 0) {
		if (msg->datalen > 0 && msg->data == NULL) {
			errno = EINVAL;
			return -1;
		}
		if (write_chunk(fd, msg->data, msg->datalen, convert, &cr) < 0)
			return -1;
	} else {
		/*
		 * pread leaves the offset alone: the same spool fd serves
		 * every recipient, and forked children share the offset.
		 */
		off = msg->off;
		seekable = 1;
		for (;;) {
			if (seekable) {
				r = pread(msg->fd, in, sizeof(in), off);
				if (r < 0 && errno == ESPIPE) {
					seekable = 0;
					continue;
				}
			} else {
				r = read(msg->fd, in, sizeof(in));
			}
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			if (r == 0)
				break;
			off += r;
			if (write_chunk(fd, in, (size_t)r, convert, &cr) < 0)
				return -1;
		}
	}
	/* A CR as the very last byte is a bare CR: keep it. */
	if (cr && io_write_all(fd, "\r", 1) < 0)
		return -1;
	return 0;
}

/* Makes a new directory entry durable: fsync the directory holding path. */
static int
fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash;
	size_t n;
	int fd, r, saved;

	slash = strrchr(path, '/');
	if (slash == NULL) {
		errno = EINVAL;
		return -1;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return r;
}

/*
 * mkdir -p for the parents of path (not path itself). Parents are
 * followed if symlinks: they belong to the administrator's layout.
 */
static int
make_parents(const char *path)
{
	char p[PATH_MAX];
	size_t i, n;

	n = strlen(path);
	if (n >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(p, path, n + 1);
	for (i = 1; i < n; i++) {
		if (p[i] != '/' || p[i - 1] == '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) == 0) {
			if (fsync_parent(p) < 0)
				return -1;
		} else if (errno != EEXIST) {
			return -1;
		}
		p[i] = '/';
	}
	return 0;
}

/*
 * openat(O_DIRECTORY | O_NOFOLLOW). Linux reports a symlink as ENOTDIR
 * when O_DIRECTORY is set; say ELOOP so the log names the real problem.
 */
static int
open_dir(int at, const char *name)
{
	struct stat st;
	int fd;

	fd = openat(at, name, DIR_FLAGS);
	if (fd < 0 && errno == ENOTDIR &&
	    fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		errno = ELOOP;
	return fd;
}

/* Opens (creating if missing) directory name under at, never a symlink. */
static int
open_subdir(int at, const char *name, int *created)
{
	int fd;

	fd = open_dir(at, name);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (mkdirat(at, name, 0700) == 0)
		*created = 1;
	else if (errno != EEXIST)
		return -1;
	return open_dir(at, name);
}

struct dirs {
	int md;
	int tmp;
	int new;
};

static void
close_dirs(struct dirs *d)
{
	if (d->md >= 0)
		(void)close(d->md);
	if (d->tmp >= 0)
		(void)close(d->tmp);
	if (d->new >= 0)
		(void)close(d->new);
	d->md = d->tmp = d->new = -1;
}

static int
open_maildir(const char *path, struct dirs *d)
{
	char p[PATH_MAX];
	size_t n;
	int created, sub, fd;

	n = strlen(path);
	if (n >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(p, path, n + 1);
	/* "/x/Maildir/" names the same directory; fsync_parent wants none. */
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	if (p[0] != '/' || n < 2) {
		errno = EINVAL;
		return -1;
	}
	d->md = open_dir(AT_FDCWD, p);
	if (d->md < 0) {
		if (errno != ENOENT)
			return -1;
		created = 0;
		if (make_parents(p) < 0)
			return -1;
		if (mkdir(p, 0700) == 0)
			created = 1;
		else if (errno != EEXIST)
			return -1;
		if (created && fsync_parent(p) < 0)
			return -1;
		d->md = open_dir(AT_FDCWD, p);
		if (d->md < 0)
			return -1;
	}
	sub = 0;
	if ((d->tmp = open_subdir(d->md, "tmp", &sub)) < 0)
		return -1;
	if ((d->new = open_subdir(d->md, "new", &sub)) < 0)
		return -1;
	/* Readers need cur/ too; we never write there. */
	if ((fd = open_subdir(d->md, "cur", &sub)) < 0)
		return -1;
	(void)close(fd);
	if (sub && fsync(d->md) < 0)
		return -1;
	return 0;
}

int
deliver_maildir_errno_result(int err)
{
	switch (err) {
	case EDQUOT:
		return DELIVER_E_QUOTA;
	case ENOSPC:
		return DELIVER_E_NOSPACE;
	}
	return DELIVER_E_TEMP;
}

int
deliver_maildir_put(struct deliver_maildir *dm, const char *path,
    const struct deliver_msg *msg, char *name, size_t namesize)
{
	struct dirs d = { -1, -1, -1 };
	char fname[DELIVER_MAILDIR_NAMEMAX];
	int fd, in_tmp, in_new, tries, r, saved;

	fd = -1;
	in_tmp = in_new = 0;
	if (name != NULL && namesize > 0)
		name[0] = '\0';
	if (dm == NULL || path == NULL || msg == NULL ||
	    (msg->hdrlen > 0 && msg->hdr == NULL)) {
		errno = EINVAL;
		return DELIVER_E_TEMP;
	}
	if (open_maildir(path, &d) < 0)
		goto fail;
	for (tries = 0;; tries++) {
		if (make_name(dm, fname, sizeof(fname)) < 0)
			goto fail;
		/* O_EXCL never follows a symlink; O_NOFOLLOW says so twice. */
		fd = openat(d.tmp, fname,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		if (errno != EEXIST || tries + 1 >= NAME_TRIES)
			goto fail;
	}
	in_tmp = 1;
	if (msg->hdrlen > 0 && io_write_all(fd, msg->hdr, msg->hdrlen) < 0)
		goto fail;
	if (write_body(fd, msg) < 0)
		goto fail;
	if (fsync(fd) < 0)
		goto fail;
	/* NFS and some quota systems report write errors only at close. */
	r = close(fd);
	fd = -1;
	if (r < 0)
		goto fail;
	/*
	 * link() fails rather than replace an existing new/ file (the spec's
	 * choice); rename() is the fallback for file systems without links.
	 */
	if (linkat(d.tmp, fname, d.new, fname, 0) == 0) {
		in_new = 1;
	} else if (errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS ||
	    errno == EMLINK) {
		if (renameat(d.tmp, fname, d.new, fname) < 0)
			goto fail;
		in_tmp = 0;
		in_new = 1;
	} else {
		goto fail;
	}
	/* The commit point: the new/ entry is on disk only after this. */
	if (fsync(d.new) < 0)
		goto fail;
	/*
	 * Delivered. A failed unlink leaves a copy only in tmp/, which
	 * readers clean up; reporting failure now would deliver twice.
	 */
	if (in_tmp)
		(void)unlinkat(d.tmp, fname, 0);
	close_dirs(&d);
	if (name != NULL && namesize > 0) {
		if (strlen(fname) < namesize)
			memcpy(name, fname, strlen(fname) + 1);
	}
	return DELIVER_OK;
fail:
	saved = errno;
	if (fd >= 0)
		(void)close(fd);
	/* Not acknowledged: a reader must not see it in new/ either. */
	if (in_new)
		(void)unlinkat(d.new, fname, 0);
	if (in_tmp)
		(void)unlinkat(d.tmp, fname, 0);
	close_dirs(&d);
	errno = saved;
	return deliver_maildir_errno_result(saved);
}

static int
hdr_line(struct buf *b, const char *pre, const char *addr, size_t len,
    const char *post)
{
	size_t mark;

	if (b == NULL || (addr == NULL && len > 0)) {
		errno = EINVAL;
		return -1;
	}
	/* A CR or LF would let the address start a header of its own. */
	if (len > 0 && (memchr(addr, '\r', len) || memchr(addr, '\n', len) ||
	    memchr(addr, '\0', len))) {
		errno = EINVAL;
		return -1;
	}
	mark = b->len;
	if (buf_append_str(b, pre) < 0 || buf_append(b, addr, len) < 0 ||
	    buf_append_str(b, post) < 0) {
		/* All or nothing: never leave half a header line. */
		b->len = mark;
		if (b->p != NULL)
			b->p[mark] = '\0';
		return -1;
	}
	return 0;
}

int
deliver_maildir_hdr_return_path(struct buf *b, const char *sender,
    size_t len)
{
	/* RFC 5321 4.4: the reverse-path in angle brackets, <> if null. */
	return hdr_line(b, "Return-Path: <", sender, len, ">\n");
}

int
deliver_maildir_hdr_delivered_to(struct buf *b, const char *rcpt, size_t len)
{
	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	return hdr_line(b, "Delivered-To: ", rcpt, len, "\n");
}

const char *
deliver_maildir_reply(int res)
{
	/* Enhanced codes from RFC 3463. */
	switch (res) {
	case DELIVER_OK:
		return "250 2.0.0 Delivered";
	case DELIVER_E_QUOTA:
		return "452 4.2.2 Mailbox full";
	case DELIVER_E_NOSPACE:
		return "452 4.3.1 Insufficient system storage";
	case DELIVER_E_MAILBOX:
		return "550 5.1.3 Mailbox name not allowed";
	case DELIVER_E_ROOT:
		return "550 5.7.1 Refusing to deliver as root";
	case DELIVER_E_LOOP:
		return "554 5.4.6 Mail loop detected";
	}
	return "451 4.3.0 Local delivery failed, try again later";
}
