#define _DEFAULT_SOURCE /* explicit_bzero */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth_dovecot.h"
#include "base/clock.h"
#include "net/net_drive.h"

static int
left_ms(int64_t until_ms)
{
	int64_t left = until_ms - clock_now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* A non-blocking connect that gives up at until_ms. */
static int
connect_until(const char *path, int64_t until_ms, const char **why)
{
	struct sockaddr_un sun;
	struct pollfd p;
	int fd, e = 0;
	socklen_t elen = sizeof e;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		*why = "socket path too long";
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	         0)) < 0) {
		*why = "socket() failed";
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		*why = "connect() failed";
		close(fd);
		return -1;
	}
	p.fd = fd;
	p.events = POLLOUT;
	while ((e = poll(&p, 1, left_ms(until_ms))) < 0 && errno == EINTR)
		;
	if (e <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0 ||
	    e != 0) {
		*why = e == 0 ? "connect timed out" : "connect() failed";
		close(fd);
		return -1;
	}
	return fd;
}

struct reader {
	int fd;
	char buf[AUTH_DOVECOT_LINE_MAX + 1];
	size_t have, used; /* used: octets of the line returned last */
};

/* The next LF-terminated line (LF removed) before until_ms: 0, or -1. */
static int
read_line(struct reader *r, int64_t until_ms, const char **line, size_t *len,
    const char **why)
{
	struct pollfd p = { r->fd, POLLIN, 0 };
	char *nl;
	ssize_t n;
	int pr;

	memmove(r->buf, r->buf + r->used, r->have - r->used);
	r->have -= r->used;
	r->used = 0;
	for (;;) {
		if ((nl = memchr(r->buf, '\n', r->have)) != NULL) {
			*line = r->buf;
			*len = (size_t)(nl - r->buf);
			r->used = *len + 1;
			return 0;
		}
		if (r->have == AUTH_DOVECOT_LINE_MAX) {
			*why = "line too long from the auth server";
			return -1;
		}
		p.revents = 0;
		pr = poll(&p, 1, left_ms(until_ms));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			*why = pr == 0 ? "auth server timed out" :
			                 "poll() failed";
			return -1;
		}
		n = read(r->fd, r->buf + r->have,
		    AUTH_DOVECOT_LINE_MAX - r->have);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			*why = "auth server closed the connection";
			return -1;
		}
		r->have += (size_t)n;
	}
}

int
auth_dovecot_check(const char *socket_path, const char *user, size_t ulen,
    const char *pass, size_t plen, const char *rip, const char *lip,
    int secured, int64_t until_ms, char *canon, size_t cap, const char **why)
{
	static struct reader r;
	struct auth_dovecot_hs hs = { 0, 0 };
	struct buf out = BUF_INIT(2 * AUTH_DOVECOT_LINE_MAX);
	const char *line;
	size_t len;
	int res = AUTH_DOVECOT_TEMP, h;

	*why = "";
	if (cap > 0)
		canon[0] = '\0';
	memset(&r, 0, sizeof r);
	if ((r.fd = connect_until(socket_path, until_ms, why)) < 0)
		return AUTH_DOVECOT_TEMP;
	if (auth_dovecot_hello(&out, (long)getpid()) < 0 ||
	    net_write_until(r.fd, out.p, out.len, until_ms) < 0) {
		*why = "unable to write to the auth server";
		goto out;
	}
	buf_reset(&out);
	do {
		if (read_line(&r, until_ms, &line, &len, why) < 0)
			goto out;
		h = auth_dovecot_handshake(&hs, line, len);
	} while (h == AUTH_DOVECOT_MORE);
	if (h != AUTH_DOVECOT_OK) {
		*why = hs.version ? "the auth server offers no PLAIN" :
		                    "not a Dovecot auth server (version 1)";
		res = AUTH_DOVECOT_PROTO;
		goto out;
	}
	if (auth_dovecot_request(&out, 1, user, ulen, pass, plen, rip, lip,
	        secured) < 0 ||
	    net_write_until(r.fd, out.p, out.len, until_ms) < 0) {
		*why = "unable to write to the auth server";
		goto out;
	}
	if (read_line(&r, until_ms, &line, &len, why) < 0)
		goto out;
	res = auth_dovecot_result(line, len, 1, canon, cap);
	if (res == AUTH_DOVECOT_PROTO)
		*why = "unexpected answer from the auth server";
out:
	if (out.p)
		explicit_bzero(out.p, out.cap);
	buf_free(&out);
	close(r.fd);
	return res;
}
