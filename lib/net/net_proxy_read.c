#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "base/clock.h"
#include "net/net_proxy_read.h"

int
net_proxy_read(int fd, uint64_t secs, struct net_proxy_hdr *h)
{
	unsigned char buf[NET_PROXY_V2_MAX];
	struct pollfd pfd = { fd, POLLIN, 0 };
	int64_t end = clock_now_ms() + (int64_t)(secs ? secs : 300) * 1000;
	size_t have = 0;
	ssize_t n;
	int r;

	for (;;) {
		int64_t left;

		r = net_proxy_parse(buf, have, h);
		if (r != NET_PROXY_MORE)
			break;
		/* net_proxy.h: have < h->len <= NET_PROXY_V2_MAX */
		if ((left = end - clock_now_ms()) <= 0) {
			r = NET_PROXY_R_TIMEOUT;
			break;
		}
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 3600000 ? 3600000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = NET_PROXY_R_IO;
			break;
		}
		if (r == 0)
			continue;	/* the deadline is checked above */
		n = read(fd, buf + have, h->len - have);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			r = n == 0 ? NET_PROXY_R_EOF : NET_PROXY_R_IO;
			break;
		}
		have += (size_t)n;
	}
	if (r != NET_PROXY_OK)
		h->len = have;
	return r;
}
