#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "dns/dns_addr.h"
#include "proxy/proxy_early.h"

/* client_conn's "minute" is the proxy timeout (proxy_conn.c) */
#define TO 60

/* A non-blocking connect to one address: the fd (state in *st), or -1. */
static int
connect_one(struct proxy_conn *p, const struct proxy_addr *x, int *st)
{
	struct sockaddr_storage ss;
	struct dns_addr a;
	socklen_t sl;
	char ip[DNS_ADDR_STRLEN];
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (x->host[0] == '/') {
		struct sockaddr_un *su = (struct sockaddr_un *)&ss;

		if (strlen(x->host) >= sizeof su->sun_path)
			return -1;
		su->sun_family = AF_UNIX;
		memcpy(su->sun_path, x->host, strlen(x->host) + 1);
		sl = sizeof *su;
		snprintf(p->c.relay, sizeof p->c.relay, "%.290s", x->host);
	} else {
		const char *lit =
		    strcmp(x->host, "localhost") == 0 ? "127.0.0.1" : x->host;

		if (!dns_addr_literal(lit, &a))
			return -1;
		if (a.family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((unsigned short)x->port);
			memcpy(&s6->sin6_addr, a.a, 16);
			sl = sizeof *s6;
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			s4->sin_port = htons((unsigned short)x->port);
			memcpy(&s4->sin_addr, a.a, 4);
			sl = sizeof *s4;
		}
		dns_addr_format(&a, ip, sizeof ip);
		snprintf(p->c.relay, sizeof p->c.relay, "%.240s[%s]:%u",
		    x->host, ip, x->port);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
		*st = PROXY_EARLY_GREETING;
	else if (errno == EINPROGRESS && ss.ss_family != AF_UNIX)
		*st = PROXY_EARLY_CONNECTING;
	else {
		/* a unix socket whose listen queue is full (EAGAIN) is
		 * left to proxy_conn_open, which waits for it */
		close(fd);
		return -1;
	}
	if (ss.ss_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof one);
	return fd;
}

int
proxy_early_start(struct proxy_conn *p, const struct proxy_dest *d)
{
	size_t i;
	int fd, st = PROXY_EARLY_NONE;

	if (d->lmtpd || p->open || p->c.fd >= 0 || p->early)
		return -1;
	client_conn_init(&p->c, d->proto, p->timeout_ms);
	for (i = 0; i < d->naddr; i++) {
		if ((fd = connect_one(p, &d->addr[i], &st)) < 0)
			continue;
		p->c.fd = fd;
		p->c.owned = 1;
		p->c.tcp = 1; /* a socket: MSG_NOSIGNAL applies */
		p->early = st;
		snprintf(p->key, sizeof p->key, "%s", d->key);
		return 0;
	}
	return -1;
}

/*
 * Is the whole of the next reply there (what client_conn holds, then
 * what the socket has)? Its last line is any complete line but a
 * continuation "NNN-": a malformed one is for read_reply to refuse.
 * 1 yes, 0 not yet, -1 the peer closed or failed.
 */
static int
reply_ready(struct proxy_conn *p)
{
	char tmp[8192];
	struct buf all = BUF_INIT(0);
	size_t i, start = 0;
	ssize_t n;
	int ready = 0;

	n = recv(p->c.fd, tmp, sizeof tmp, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return p->c.in.len > 0 ? 1 : -1;
	if (buf_append(&all, p->c.in.p ? p->c.in.p : "", p->c.in.len) < 0 ||
	    (n > 0 && buf_append(&all, tmp, (size_t)n) < 0)) {
		buf_free(&all);
		return -1;
	}
	for (i = 0; i < all.len && !ready; i++) {
		if (all.p[i] != '\n')
			continue;
		ready = !(i - start >= 4 && all.p[start + 3] == '-');
		start = i + 1;
	}
	buf_free(&all);
	return ready;
}

/* The greeting has come: read it, say EHLO/LHLO. 0, or -1. */
static int
greeted(struct proxy_conn *p)
{
	struct client_reply r;
	int lmtp = p->c.proto == CLIENT_LMTP;
	char line[300];
	int n;

	if (client_conn_reply(&p->c, &r, TO, "the greeting") < 0 ||
	    r.code != 220)
		return -1;
	n = snprintf(line, sizeof line, "%s %s\r\n", lmtp ? "LHLO" : "EHLO",
	    p->helo);
	if (n < 0 || (size_t)n >= sizeof line ||
	    client_conn_write(&p->c, line, (size_t)n, TO,
	        lmtp ? "LHLO" : "EHLO") < 0)
		return -1;
	p->early = PROXY_EARLY_EHLO;
	return 0;
}

/* The EHLO/LHLO reply has come: the connection is open. 0, or -1. */
static int
hello_done(struct proxy_conn *p)
{
	struct client_reply r;

	if (client_conn_ehlo_reply(&p->c, &r, TO, "EHLO") < 0 || r.code != 250)
		return -1;
	p->c.esmtp = 1;
	p->open = 1;
	p->transactions = 0;
	p->early = PROXY_EARLY_NONE;
	return 0;
}

/* A finished connect: 1, 0 not yet, -1 failed. */
static int
connected(struct proxy_conn *p, int ms)
{
	struct pollfd pf = { p->c.fd, POLLOUT, 0 };
	socklen_t sl = sizeof(int);
	int err = 0, r;

	do
		r = poll(&pf, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r < 0 ||
	    getsockopt(p->c.fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 ||
	    err != 0)
		return -1;
	p->early = PROXY_EARLY_GREETING;
	return 1;
}

void
proxy_early_step(struct proxy_conn *p)
{
	int r = 0;

	if (p->early == PROXY_EARLY_CONNECTING && (r = connected(p, 0)) <= 0) {
		if (r < 0)
			proxy_conn_close(p, 0);
		return;
	}
	if (p->early == PROXY_EARLY_GREETING) {
		if ((r = reply_ready(p)) == 0)
			return;
		if (r < 0 || greeted(p) < 0) {
			proxy_conn_close(p, 0);
			return;
		}
	}
	if (p->early == PROXY_EARLY_EHLO) {
		if ((r = reply_ready(p)) == 0)
			return;
		if (r < 0 || hello_done(p) < 0)
			proxy_conn_close(p, 0);
	}
}

int
proxy_early_finish(struct proxy_conn *p, const struct proxy_dest *d)
{
	int64_t t0 = clock_now_ms();
	/* as long as proxy_conn_open's connect would wait (client_conn:
	 * CLIENT_TO_CONNECT of a "minute" that lasts timeout_ms) */
	int connect_ms =
	    (int)((uint64_t)p->timeout_ms * CLIENT_TO_CONNECT / 60);
	int r = 0;

	if (strcmp(p->key, d->key) != 0)
		goto redo;
	if (p->early == PROXY_EARLY_CONNECTING &&
	    (r = connected(p, connect_ms)) <= 0) {
		if (r == 0) {
			snprintf(p->c.err, sizeof p->c.err,
			    "connect with %s timed out", p->c.relay);
			return -1;
		}
		goto redo;
	}
	if ((p->early == PROXY_EARLY_GREETING && greeted(p) < 0) ||
	    (p->early == PROXY_EARLY_EHLO && hello_done(p) < 0)) {
		/* out of time: as lost as it would have been without */
		if (clock_now_ms() - t0 >= (int64_t)p->timeout_ms)
			return -1;
		goto redo;
	}
	return 0;
redo:
	proxy_conn_close(p, 0);
	return 1;
}
