#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "client/client_conn.h"
#include "net/net_drive.h"


/* Installed by programs that link GnuTLS (client_conn.h); c->tls is set
 * only through it, so every other call below has it. */
static const struct client_conn_tls_io *tls_io;

void
client_conn_tls_install(const struct client_conn_tls_io *io)
{
	tls_io = io;
}

static int
timeout_ms(const struct client_conn *c, unsigned secs)
{
	uint64_t ms;

	if (c->scale_ms == 0)
		ms = (uint64_t)secs * 1000;
	else
		ms = (uint64_t)secs * c->scale_ms / 60;
	if (ms == 0)
		ms = 1;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

void
client_conn_init(struct client_conn *c, enum client_proto proto,
    unsigned scale_ms)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->proto = proto;
	c->scale_ms = scale_ms;
	/* a reply line is bounded; a read never needs more than this */
	buf_init(&c->in, CLIENT_CONN_LINE_MAX + 8192);
	c->opened_ms = c->used_ms = clock_now_ms();
}

/* vsnprintf: diagnostics are cut at sizeof err, by design. */
static void set_err(struct client_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_err(struct client_conn *c, const char *fmt, ...)
{
	va_list ap;

	c->broken = 1;
	va_start(ap, fmt);
	if (vsnprintf(c->err, sizeof c->err, fmt, ap) < 0)
		c->err[0] = '\0';
	va_end(ap);
}

static void
fail(struct client_conn *c, const char *what, int err)
{
	if (err != 0)
		set_err(c, "%s with %s: %s", what, c->relay, strerror(err));
	else
		set_err(c, "%s with %s", what, c->relay);
}

/* poll() for one event within ms, across EINTR. 1 ready, 0 timeout. */
static int
wait_fd(int fd, short ev, int ms)
{
	int64_t end = clock_now_ms() + ms;
	struct pollfd p;
	int r;

	for (;;) {
		p.fd = fd;
		p.events = ev;
		p.revents = 0;
		r = poll(&p, 1, ms);
		if (r >= 0)
			return r;
		if (errno != EINTR)
			return -1;
		ms = (int)(end - clock_now_ms());
		if (ms < 0)
			return 0;
	}
}

int
client_conn_tcp(struct client_conn *c, const char *host,
    const struct dns_addr *a, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char ip[DNS_ADDR_STRLEN];
	int fd, err, r;

	dns_addr_format(a, ip, sizeof ip);
	snprintf(c->relay, sizeof c->relay, "%.240s[%s]:%u", host, ip, port);
	memset(&ss, 0, sizeof ss);
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		memcpy(&s6->sin6_addr, a->a, 16);
		sl = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		memcpy(&s4->sin_addr, a->a, 4);
		sl = sizeof *s4;
	}
	fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		fail(c, "cannot create socket", errno);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			close(fd);
			fail(c, "connect", err);
			return -1;
		}
		r = wait_fd(fd, POLLOUT, timeout_ms(c, CLIENT_TO_CONNECT));
		sl = sizeof err;
		if (r <= 0) {
			err = r == 0 ? ETIMEDOUT : errno;
			close(fd);
			fail(c, "connect", err);
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err != 0) {
			close(fd);
			fail(c, "connect", err);
			return -1;
		}
	}
	c->fd = fd;
	c->owned = 1;
	c->tcp = 1;
	c->broken = 0;
	return 0;
}

/* "5 s", or "0.5 s" for the shortened limits of tests. */
static void
fmt_limit(char *out, size_t cap, int ms)
{
	if (ms % 1000 == 0)
		snprintf(out, cap, "%d s", ms / 1000);
	else
		snprintf(out, cap, "%d.%d s", ms / 1000, ms % 1000 / 100);
}

int
client_conn_unix(struct client_conn *c, const char *path)
{
	struct sockaddr_un sun;
	char lim[32];
	int64_t end_ms;
	int fd, err, ms;

	snprintf(c->relay, sizeof c->relay, "%.290s", path);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		fail(c, "socket path too long", ENAMETOOLONG);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(c, "cannot create socket", errno);
		return -1;
	}
	/* Linux blocks a connect() to a socket whose listen queue is full
	 * until the server accepts; SO_SNDTIMEO bounds that wait (EAGAIN),
	 * so a stuck local server cannot hold a worker for ever. */
	ms = timeout_ms(c, CLIENT_TO_CONNECT);
	end_ms = clock_now_ms() + ms;
	for (;;) {
		int64_t left = end_ms - clock_now_ms();
		struct timeval tv;

		if (left < 1)
			left = 1;
		tv.tv_sec = (time_t)(left / 1000);
		tv.tv_usec = (suseconds_t)(left % 1000 * 1000);
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
			err = errno;
			close(fd);
			fail(c, "setsockopt", err);
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
			break;
		err = errno;
		if (err == EINTR && clock_now_ms() < end_ms)
			continue;
		close(fd);
		if (err == EAGAIN || err == EINTR) {
			fmt_limit(lim, sizeof lim, ms);
			set_err(c, "connect with %s timed out: listen queue "
			    "full (limit %s)", c->relay, lim);
		} else
			fail(c, "connect", err);
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		err = errno;
		close(fd);
		fail(c, "fcntl", err);
		return -1;
	}
	c->fd = fd;
	c->owned = 1;
	c->tcp = 1;	/* a socket: MSG_NOSIGNAL applies */
	c->broken = 0;
	return 0;
}

void
client_conn_adopt(struct client_conn *c, int fd, const char *name)
{
	snprintf(c->relay, sizeof c->relay, "%.290s",
	    name != NULL && *name != '\0' ? name : "local");
	c->fd = fd;
	c->owned = 0;
	c->broken = 0;
	{
		int type;
		socklen_t sl = sizeof type;

		c->tcp = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == 0;
	}
}

/* A TLS failure names itself; errno's text would say "Protocol error". */
static const char *
conn_strerror(const struct client_conn *c, int err)
{
	if (c->tls != NULL && tls_io->error(c->tls)[0] != '\0')
		return tls_io->error(c->tls);
	return strerror(err);
}

/* Reads more input before end_ms: 1 got data, 0 timeout/EOF/error
 * (broken). ms is the whole limit, for the diagnostic. */
static int
fill(struct client_conn *c, int64_t end_ms, int ms, const char *what)
{
	char tmp[4096], lim[32];
	ssize_t n;
	int r;

	for (;;) {
		int64_t left = end_ms - clock_now_ms();

		/* Octets GnuTLS already decrypted do not show in poll(). */
		if (c->tls != NULL && tls_io->pending(c->tls))
			r = 1;
		else
			r = wait_fd(c->fd, POLLIN, left > 0 ? (int)left : 0);
		if (r <= 0) {
			fmt_limit(lim, sizeof lim, ms);
			if (r == 0)
				set_err(c, "conversation with %s timed out "
				    "while reading the reply to %s (limit "
				    "%s)", c->relay, what, lim);
			else
				fail(c, "lost connection", errno);
			return 0;
		}
		n = c->tls != NULL ? tls_io->recv(c->tls, tmp, sizeof tmp)
		    : read(c->fd, tmp, sizeof tmp);
		if (n > 0)
			break;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		set_err(c, "lost connection with %s while reading reply "
		    "to %s%s%s", c->relay, what, n < 0 ? ": " : "",
		    n < 0 ? conn_strerror(c, errno) : "");
		return 0;
	}
	if (buf_append(&c->in, tmp, (size_t)n) < 0) {
		fail(c, "out of memory", errno);
		return 0;
	}
	return 1;
}

/*
 * One whole reply within one deadline (RFC 5321 4.5.3.2 gives the time
 * for the reply, not for each line: a server that sends a "220-" line
 * every few seconds must not hold us for ever), and at most
 * CLIENT_REPLY_LINES_MAX lines and CLIENT_REPLY_SIZE_MAX octets as they
 * came (cut overlong lines included).
 */
static int
read_reply(struct client_conn *c, struct client_reply *r, unsigned secs,
    int ehlo, const char *what)
{
	int ms = timeout_ms(c, secs);
	int64_t end_ms = clock_now_ms() + ms;
	size_t raw = 0;
	int first = 1, skipping = 0, res = 0;

	client_reply_reset(r);
	if (c->fd < 0 || c->broken) {
		if (c->err[0] == '\0')
			set_err(c, "no connection");
		c->broken = 1;
		return -1;
	}
	for (;;) {
		char *nl = memchr(c->in.p ? c->in.p : "", '\n', c->in.len);
		size_t ll;

		if (nl == NULL) {
			/* Cut an overlong line: keep its head, drop the
			 * rest up to the LF. */
			if (c->in.len > CLIENT_CONN_LINE_MAX) {
				if (!skipping) {
					res = client_reply_feed(r, c->in.p,
					    CLIENT_CONN_LINE_MAX);
					if (res < 0)
						goto bad;
					skipping = 1;
				}
				raw += c->in.len;
				c->in.len = 0;
				if (raw > CLIENT_REPLY_SIZE_MAX)
					goto toobig;
			}
			if (!fill(c, end_ms, ms, what))
				return -1;
			continue;
		}
		ll = (size_t)(nl - c->in.p);
		raw += ll + 1;
		if (raw > CLIENT_REPLY_SIZE_MAX)
			goto toobig;
		if (skipping) {
			buf_consume(&c->in, ll + 1);
			skipping = 0;
			if (r->done)
				break;
			continue;
		}
		/* Tolerate a bare LF ending from sloppy servers. */
		if (ll > 0 && c->in.p[ll - 1] == '\r')
			ll--;
		res = client_reply_feed(r, c->in.p, ll);
		if (res < 0)
			goto bad;
		if (ehlo && !first && ll > 4)
			client_ext_line(&c->ext, c->in.p + 4, ll - 4);
		first = 0;
		buf_consume(&c->in, (size_t)(nl - c->in.p) + 1);
		if (res == CLIENT_REPLY_DONE)
			break;
	}
	c->used_ms = clock_now_ms();
	return 0;
bad:
	if (res == CLIENT_REPLY_E_SYNTAX) {
		set_err(c, "malformed reply from %s to %s", c->relay, what);
		return -1;
	}
toobig:
	set_err(c, "reply from %s to %s is over %u lines or %u octets",
	    c->relay, what, (unsigned)CLIENT_REPLY_LINES_MAX,
	    (unsigned)CLIENT_REPLY_SIZE_MAX);
	return -1;
}

int
client_conn_data_out_of_step(struct client_conn *c,
    const struct client_reply *r)
{
	int k = r->code / 100;

	if ((r->code == 354 && c->in.len == 0) ||
	    (r->code != 354 && (k == 4 || k == 5)))
		return 0;
	c->broken = 1;
	snprintf(c->err, sizeof c->err,
	    "out of step with %.200s: %.200s in reply to DATA", c->relay,
	    r->text);
	return 1;
}

int
client_conn_reply(struct client_conn *c, struct client_reply *r,
    unsigned timeout_s, const char *what)
{
	return read_reply(c, r, timeout_s, 0, what);
}

int
client_conn_ehlo_reply(struct client_conn *c, struct client_reply *r,
    unsigned timeout_s, const char *what)
{
	memset(&c->ext, 0, sizeof c->ext);
	return read_reply(c, r, timeout_s, 1, what);
}

/* All of p within one deadline: a window opened a byte at a time does not
 * stretch it (RFC 5321 4.5.3.2.5: the time is for the whole send). */
int
client_conn_write(struct client_conn *c, const void *p, size_t n,
    unsigned timeout_s, const char *what)
{
	int ms = timeout_ms(c, timeout_s);
	char lim[32];

	if (c->fd < 0 || c->broken)
		return -1;
	if ((c->tls != NULL
	    ? tls_io->send_until(c->tls, p, n, clock_now_ms() + ms)
	    : net_write_until(c->fd, p, n, clock_now_ms() + ms)) < 0) {
		fmt_limit(lim, sizeof lim, ms);
		c->send_stuck = errno == ETIMEDOUT;
		if (c->send_stuck)
			set_err(c, "conversation with %s timed out while "
			    "sending %s (limit %s)", c->relay, what, lim);
		else
			set_err(c, "lost connection with %s while sending "
			    "%s: %s", c->relay, what, strerror(errno));
		return -1;
	}
	c->used_ms = clock_now_ms();
	return 0;
}

int
client_conn_stale(struct client_conn *c)
{
	struct pollfd p;

	if (c->fd < 0 || c->broken || c->in.len > 0 ||
	    (c->tls != NULL && tls_io->pending(c->tls)))
		return 1;
	p.fd = c->fd;
	p.events = POLLIN;
	p.revents = 0;
	/* Readable while idle means EOF or a 421 we never asked for. */
	return poll(&p, 1, 0) != 0;
}

void
client_conn_close(struct client_conn *c, int quit)
{
	client_conn_close_within(c, quit, CLIENT_TO_QUIT);
}

void
client_conn_close_within(struct client_conn *c, int quit, unsigned timeout_s)
{
	if (c->fd >= 0 && quit && !c->broken) {
		struct client_reply r;

		if (client_conn_write(c, "QUIT\r\n", 6, timeout_s,
		    "QUIT") == 0)
			(void)client_conn_reply(c, &r, timeout_s, "QUIT");
	}
	if (c->tls != NULL)
		tls_io->close(c->tls);
	c->tls = NULL;
	if (c->fd >= 0 && c->owned) {
		/* A send that timed out left data the server would not
		 * take: reset the connection, so the kernel does not go on
		 * feeding a hostile window after we gave up. */
		if (c->send_stuck) {
			struct linger l = { 1, 0 };

			(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l,
			    sizeof l);
		}
		close(c->fd);
	}
	c->fd = -1;
	c->broken = 1;
	buf_free(&c->in);
}

int
client_conn_starttls(struct client_conn *c, enum client_tls_level level,
    const char *name, const char *ca_file, struct client_tls_trust *trust)
{
	int ms = timeout_ms(c, CLIENT_TO_STARTTLS);
	char why[CLIENT_REPLY_MAX - 64], lim[32];

	if (c->fd < 0 || c->broken)
		return -1;
	/* RFC 3207 4.2 ("NO STARTTLS", 2021): octets after the 220 came
	 * in the clear and are not part of the TLS session. */
	buf_reset(&c->in);
	if (tls_io == NULL) {
		set_err(c, "TLS with %s: TLS is not available here", c->relay);
		return -1;
	}
	if (tls_io->open(&c->tls, c->fd, level, name, ca_file, trust,
	    clock_now_ms() + ms, why, sizeof why) < 0) {
		if (strcmp(why, "handshake timed out") == 0) {
			fmt_limit(lim, sizeof lim, ms);
			set_err(c, "TLS handshake with %s timed out (limit %s)",
			    c->relay, lim);
		} else
			set_err(c, "TLS with %s: %s", c->relay, why);
		return -1;
	}
	tls_io->describe(c->tls, c->tls_info, sizeof c->tls_info);
	c->used_ms = clock_now_ms();
	return 0;
}
