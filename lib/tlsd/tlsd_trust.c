#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlsd/tlsd_trust.h"

/* Owned by root and changeable by root alone: NULL, else what is not. */
static const char *
root_only(const struct stat *st)
{
	if (st->st_uid != 0)
		return "not owned by root";
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return "writable by its group or others";
	return NULL;
}

int
tlsd_trust_open(const char *path, char *why, size_t cap)
{
	char dir[4096];
	const char *slash = strrchr(path, '/'), *base, *bad;
	struct stat st;
	int dfd, fd;

	if (slash == NULL) {
		snprintf(dir, sizeof dir, ".");
		base = path;
	} else if ((size_t)(slash - path) >= sizeof dir) {
		snprintf(why, cap, "%s: name too long", path);
		return -1;
	} else {
		/* "/x" is in "/" */
		snprintf(dir, sizeof dir, "%.*s",
		    slash == path ? 1 : (int)(slash - path), path);
		base = slash + 1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(why, cap, "unable to open %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	bad = fstat(dfd, &st) < 0 ? strerror(errno) : root_only(&st);
	if (bad != NULL) {
		snprintf(why, cap,
		    "refusing %s: its directory %s is %s (a setgid "
		    "postmaster-tlsd reads only a configuration root alone "
		    "can change)",
		    path, dir, bad);
		close(dfd);
		return -1;
	}
	fd = openat(dfd, base,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	close(dfd);
	if (fd < 0 && errno != ELOOP) {
		snprintf(why, cap, "unable to open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fd < 0)
		bad = "a symbolic link";
	else if (fstat(fd, &st) < 0)
		bad = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		bad = "not a regular file";
	else
		bad = root_only(&st);
	if (bad != NULL) {
		snprintf(why, cap,
		    "refusing %s: it is %s (a setgid postmaster-tlsd reads "
		    "only a configuration root alone can change)",
		    path, bad);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}
