#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "spool/spool_dir.h"

static int
check_owner(const struct stat *st, int strict)
{
	/* The root may belong to root (a packaged /var/spool/...). */
	if (st->st_uid != geteuid() && (strict || st->st_uid != 0))
		return -1;
	/* Subdirectories are private; the root only not writable by others. */
	if (strict ? (st->st_mode & 077) != 0 : (st->st_mode & 022) != 0)
		return -1;
	return 0;
}

static int
open_sub(int root, const char *name, int flags, int *created)
{
	struct stat st;
	int fd;

	/* Open first: smtpd opens an existing spool per connection, and a
	 * failing mkdir is a path walk it need not pay. */
	fd = openat(root, name,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && (flags & SPOOL_DIR_CREATE)) {
		if (mkdirat(root, name, 0700) == 0)
			(*created)++;
		else if (errno != EEXIST)
			return -1;
		fd = openat(root, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		/* O_NOFOLLOW on a symlink, or a file where a dir belongs. */
		if (errno == ELOOP)
			errno = ENOTDIR;
		return -1;
	}
	if (fstat(fd, &st) < 0)
		goto fail;
	if (check_owner(&st, 1) < 0) {
		errno = EPERM;
		goto fail;
	}
	return fd;
fail : {
	int save = errno;

	close(fd);
	errno = save;
}
	return -1;
}

static int
check_fifo(int root, int flags, int *created)
{
	struct stat st;

	if (fstatat(root, "nudge", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT || !(flags & SPOOL_DIR_CREATE))
			return -1;
		if (mkfifoat(root, "nudge", 0600) == 0)
			(*created)++;
		else if (errno != EEXIST)
			return -1;
		if (fstatat(root, "nudge", &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -1;
	}
	if (!S_ISFIFO(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
spool_dir_open(struct spool_dir *sp, const char *path, int flags)
{
	struct stat st;
	int save, created = 0;

	sp->root = sp->tmp = sp->queue = sp->state = -1;
	/* 0711: others may pass through to maildrop/ (postmaster-inject,
	 * setgid postdrop) but list nothing; the queue itself stays 0700. */
	sp->root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->root < 0 && errno == ENOENT && (flags & SPOOL_DIR_CREATE)) {
		if (mkdir(path, 0711) < 0 && errno != EEXIST)
			return -1;
		sp->root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (sp->root < 0)
		return -1;
	if (fstat(sp->root, &st) < 0)
		goto fail;
	if (check_owner(&st, 0) < 0) {
		errno = EPERM;
		goto fail;
	}
	if ((sp->tmp = open_sub(sp->root, "tmp", flags, &created)) < 0 ||
	    (sp->queue = open_sub(sp->root, "queue", flags, &created)) < 0 ||
	    (sp->state = open_sub(sp->root, "state", flags, &created)) < 0 ||
	    check_fifo(sp->root, flags, &created) < 0)
		goto fail;
	/* Make created entries durable before anyone relies on them; an
	 * existing spool costs no fsync (smtpd opens it per connection). */
	if (created && fsync(sp->root) < 0)
		goto fail;
	return 0;
fail:
	save = errno;
	spool_dir_close(sp);
	errno = save;
	return -1;
}

void
spool_dir_close(struct spool_dir *sp)
{
	int *fds[] = { &sp->root, &sp->tmp, &sp->queue, &sp->state };
	size_t i;

	for (i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int
spool_dir_space(const struct spool_dir *sp, uint64_t need,
    uint64_t reserve_bytes, uint64_t reserve_inodes)
{
	struct statvfs vfs;
	uint64_t avail, want;

	if (fstatvfs(sp->queue, &vfs) < 0)
		return -1;
	if (__builtin_mul_overflow((uint64_t)vfs.f_bavail,
	        (uint64_t)vfs.f_frsize, &avail))
		avail = UINT64_MAX;
	if (__builtin_add_overflow(need, reserve_bytes, &want))
		want = UINT64_MAX;
	/* f_files == 0: the file system has no inode limit (btrfs). */
	if (avail < want ||
	    (vfs.f_files != 0 && (uint64_t)vfs.f_favail <= reserve_inodes)) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

int
spool_err_full(int err)
{
	return err == ENOSPC || err == EDQUOT;
}
