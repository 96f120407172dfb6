#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "spool/spool_nudge.h"

int
spool_nudge_send(const struct spool_dir *sp)
{
	ssize_t r;
	int fd;

	fd = openat(sp->root, "nudge",
	    O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENXIO ? 0 : -1;
	do
		r = write(fd, "n", 1);
	while (r < 0 && errno == EINTR);
	close(fd);
	if (r < 0 && errno != EAGAIN)
		return -1;
	return 0;
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
