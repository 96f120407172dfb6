#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "net/net_drive.h"

#define NET_DRIVE_BUF 65536
#define NET_IDLE_DEFAULT_MS (300 * 1000)	/* RFC 5321 4.5.3.2.7 */
#define NET_EARLY_FAIL_MS (10 * 1000)

/* Milliseconds left until until_ms, for poll(): 0 once it has passed. */
static int
left_ms(int64_t until_ms)
{
	int64_t left = until_ms - clock_now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* 1 when fd takes output, 0 when until_ms passed first (errno
 * ETIMEDOUT), -1 on error. A passed deadline still gets one look. */
static int
wait_writable(int fd, int64_t until_ms)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	int r;

	for (;;) {
		p.revents = 0;
		r = poll(&p, 1, left_ms(until_ms));
		if (r > 0)
			return 1;	/* POLLERR/POLLHUP: the write says why */
		if (r == 0) {
			errno = ETIMEDOUT;
			return 0;
		}
		if (errno != EINTR)
			return -1;
	}
}

/*
 * A socket is written with MSG_DONTWAIT, so the fd may stay blocking and
 * shared (tcpserver's fd 0 and 1 are one socket). Anything else (a pipe
 * under inject -bs or a test) is written PIPE_BUF octets at a time once
 * poll() says it has room: such a write is atomic (POSIX) and, with room
 * for it, does not block.
 */
int
net_write_until(int fd, const void *buf, size_t n, int64_t until_ms)
{
	const char *p = buf;
	int sock = 1, r;

	while (n > 0) {
		ssize_t w;

		if (sock) {
			w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w < 0 && errno == ENOTSOCK) {
				sock = 0;
				continue;
			}
		} else {
			if ((r = wait_writable(fd, until_ms)) <= 0)
				return -1;
			w = write(fd, p, n < PIPE_BUF ? n : PIPE_BUF);
		}
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((r = wait_writable(fd, until_ms)) <= 0)
				return -1;
			continue;
		}
		if (w == 0)
			errno = EIO;
		return -1;
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
		net_write_until(out, line, (size_t)n < sizeof line ? (size_t)n :
		    sizeof line - 1, clock_now_ms() + NET_EARLY_FAIL_MS);
}

struct deadlines {
	int64_t idle_ms;	/* 0: none */
	int64_t end_ms;		/* the session deadline, INT64_MAX: none */
};

/* Writes the pending replies before the idle timeout and the session
 * deadline, whichever comes first. */
static int
flush(struct smtp_session *s, const struct net_drive *d,
    const struct deadlines *k)
{
	size_t len;
	const char *p = smtp_session_output(s, &len);
	int64_t until = k->end_ms;

	if (len == 0)
		return NET_DRIVE_DONE;
	if (k->idle_ms && clock_now_ms() + k->idle_ms < until)
		until = clock_now_ms() + k->idle_ms;
	if (d->on_output)
		d->on_output(d->arg, p, len);
	if (net_write_until(d->out, p, len, until) < 0) {
		if (errno != ETIMEDOUT)
			return NET_DRIVE_LOST;
		return until == k->end_ms ? NET_DRIVE_WRITE_DEADLINE :
		    NET_DRIVE_WRITE_IDLE;
	}
	smtp_session_output_done(s, len);
	return NET_DRIVE_DONE;
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
	struct deadlines k;
	size_t have = 0, pending;
	ssize_t n;
	int e;

	k.idle_ms = d->idle_ms > INT64_MAX / 4 ? INT64_MAX / 4 :
	    (int64_t)d->idle_ms;
	k.end_ms = INT64_MAX;
	if (d->deadline_ms && d->deadline_ms < INT64_MAX / 4)
		k.end_ms = clock_now_ms() + (int64_t)d->deadline_ms;
	/* RFC 5321 4.3.1: a client waits for the greeting. One that does
	 * not is feeding commands blind; let the session see that. */
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) &&
	    (n = read(d->in, buf, sizeof buf)) > 0) {
		if (d->on_pregreet)
			d->on_pregreet(d->arg);
		smtp_session_feed(s, buf, (size_t)n);
	}
	if ((e = flush(s, d, &k)) != NET_DRIVE_DONE)
		return e;
	while (!smtp_session_closing(s)) {
		int64_t wait = k.idle_ms ? k.idle_ms : NET_IDLE_DEFAULT_MS;
		int r;

		if (k.end_ms != INT64_MAX) {
			int64_t left = k.end_ms - clock_now_ms();

			if (left <= 0) {
				smtp_session_timeout(s);
				break;
			}
			if (left < wait)
				wait = left;
		}
		pfd.revents = 0;
		r = poll(&pfd, 1, wait > INT_MAX ? INT_MAX : (int)wait);
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
		if (d->on_fed)
			d->on_fed(d->arg);
		if (smtp_session_tls_pending(s)) {
			/* the 220 goes now, whatever else the client sent:
			 * that is dropped unread (RFC 3207 4.2, CVE-2011-0411) */
			if ((e = flush(s, d, &k)) != NET_DRIVE_DONE)
				return e;
			have = 0;
			if (d->on_starttls == NULL || d->on_starttls(d->arg) < 0)
				return NET_DRIVE_TLS_FAILED;
			smtp_session_tls_done(s);
			continue;
		}
		/* RFC 2920: one write per pipelined group of commands. No
		 * reply pending (the middle of DATA): nothing to decide. */
		pfd.revents = 0;
		(void)smtp_session_output(s, &pending);
		if (pending && (smtp_session_closing(s) ||
		    poll(&pfd, 1, 0) == 0 || have == sizeof buf)) {
			if ((e = flush(s, d, &k)) != NET_DRIVE_DONE)
				return e;
		}
		/* A full buffer is held back only while the output is over
		 * the session's high-water mark: drain it and go on. */
		while (have == sizeof buf) {
			if ((e = flush(s, d, &k)) != NET_DRIVE_DONE)
				return e;
			if (feed(s, buf, &have) == 0)
				break;
			if (d->on_fed)
				d->on_fed(d->arg);
		}
	}
	return flush(s, d, &k);
}
