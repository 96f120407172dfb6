#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/net_drive.h"

#define NET_DRIVE_BUF 65536

int
net_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
net_early_fail(int out, const char *host, const char *why)
{
	char line[512];
	int n = snprintf(line, sizeof line,
	    "421 4.3.0 %s Service not available: %s\r\n", host, why);

	if (n > 0)
		net_write_all(out, line, (size_t)n < sizeof line ? (size_t)n :
		    sizeof line - 1);
}

static int
flush(struct smtp_session *s, const struct net_drive *d)
{
	size_t len;
	const char *p = smtp_session_output(s, &len);

	if (len == 0)
		return 0;
	if (d->on_output)
		d->on_output(d->arg, p, len);
	if (net_write_all(d->out, p, len) < 0)
		return -1;
	smtp_session_output_done(s, len);
	return 0;
}

/* Feeds buf[0..*have), keeping the unconsumed tail at the front. */
static size_t
feed(struct smtp_session *s, char *buf, size_t *have)
{
	size_t used = smtp_session_feed(s, buf, *have);

	memmove(buf, buf + used, *have - used);
	*have -= used;
	return used;
}

int
net_drive_run(struct smtp_session *s, const struct net_drive *d)
{
	static char buf[NET_DRIVE_BUF];
	struct pollfd pfd = { d->in, POLLIN, 0 };
	time_t start = time(NULL);
	size_t have = 0, pending;
	ssize_t n;

	/* RFC 5321 4.3.1: a client waits for the greeting. One that does
	 * not is feeding commands blind; let the session see that. */
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) &&
	    (n = read(d->in, buf, sizeof buf)) > 0) {
		if (d->on_pregreet)
			d->on_pregreet(d->arg);
		smtp_session_feed(s, buf, (size_t)n);
	}
	if (flush(s, d) < 0)
		return -1;
	while (!smtp_session_closing(s)) {
		uint64_t wait = d->idle ? d->idle : 300;
		int r;

		if (d->deadline) {
			long left = (long)d->deadline - (long)(time(NULL) - start);

			if (left <= 0) {
				smtp_session_timeout(s);
				break;
			}
			if ((uint64_t)left < wait)
				wait = (uint64_t)left;
		}
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)wait * 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			smtp_session_timeout(s);
			break;
		}
		n = read(d->in, buf + have, sizeof buf - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			smtp_session_eof(s);
			break;
		}
		have += (size_t)n;
		feed(s, buf, &have);
		/* RFC 2920: one write per pipelined group of commands. No
		 * reply pending (the middle of DATA): nothing to decide. */
		pfd.revents = 0;
		(void)smtp_session_output(s, &pending);
		if (pending && (smtp_session_closing(s) ||
		    poll(&pfd, 1, 0) == 0 || have == sizeof buf)) {
			if (flush(s, d) < 0)
				return -1;
		}
		/* A full buffer is held back only while the output is over
		 * the session's high-water mark: drain it and go on. */
		while (have == sizeof buf) {
			if (flush(s, d) < 0)
				return -1;
			if (feed(s, buf, &have) == 0)
				break;
		}
	}
	return flush(s, d);
}
