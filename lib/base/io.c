#include <errno.h>
#include <unistd.h>

#include "base/io.h"

int
io_write_all(int fd, const void *p, size_t n)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* write(2) of n > 0 bytes returning 0 makes no
			 * progress; retrying it would spin. */
			if (w == 0)
				errno = EIO;
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}
