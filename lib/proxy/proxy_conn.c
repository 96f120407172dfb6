#define _GNU_SOURCE
#include <sys/prctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/sibling.h"
#include "client/client_reply.h"
#include "client/client_wire.h"
#include "dns/dns_addr.h"
#include "proxy/proxy_conn.h"
#include "proxy/proxy_early.h"

/* client_conn scales its RFC 5321 timeouts: a "minute" is timeout_ms,
 * and every wait below is given as one minute. */
#define TO 60
#define CHUNK (64 * 1024)

void
proxy_conn_init(struct proxy_conn *p, const char *helo, const char *cdb,
    const char *lmtpd, unsigned timeout_ms)
{
	memset(p, 0, sizeof *p);
	p->c.fd = -1;
	p->pid = -1;
	p->helo = helo;
	p->cdb = cdb;
	p->lmtpd = lmtpd;
	p->timeout_ms = timeout_ms ? timeout_ms : 1;
	buf_init(&p->out, 0);
}

/* postmaster-lmtpd -C CDB with a socketpair as its fd 0 and 1, as the
 * queue starts it (lib/queue/queue_lmtpd.c); it dies with us. */
static int
spawn_lmtpd(struct proxy_conn *p)
{
	char *argv[] = { (char *)"postmaster-lmtpd", (char *)"-C",
		(char *)p->cdb, NULL };
	char *envp[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	static char prog[4096];
	int sv[2];

	/* Found when first needed: most sessions never start one, and the
	 * /proc/self/exe look-up is not free. */
	if (p->lmtpd == NULL) {
		if (sibling_path("postmaster-lmtpd", prog, sizeof prog) < 0)
			snprintf(prog, sizeof prog,
			    "/usr/sbin/postmaster-lmtpd");
		p->lmtpd = prog;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if ((p->pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (p->pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(111);
		closefrom(3);
		execve(p->lmtpd, argv, envp);
		_exit(111);
	}
	close(sv[1]);
	return sv[0];
}

/* Waits a little for the lmtpd we started (it has had QUIT or EOF). */
static void
reap(struct proxy_conn *p)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int i;

	if (p->pid <= 0)
		return;
	for (i = 0; i < 200; i++) {
		if (waitpid(p->pid, NULL, WNOHANG) != 0)
			break;
		nanosleep(&ts, NULL);
	}
	if (i == 200) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	p->pid = -1;
}

static int
connect_to(struct proxy_conn *p, const struct proxy_dest *d)
{
	struct dns_addr a;
	size_t i;
	int fd;

	if (d->lmtpd) {
		if ((fd = spawn_lmtpd(p)) < 0) {
			snprintf(p->c.err, sizeof p->c.err,
			    "cannot start "
			    "postmaster-lmtpd: %s",
			    strerror(errno));
			return -1;
		}
		client_conn_adopt(&p->c, fd, "postmaster-lmtpd");
		p->c.owned = 1;
		return 0;
	}
	for (i = 0; i < d->naddr; i++) {
		const struct proxy_addr *x = &d->addr[i];

		if (x->host[0] == '/') {
			if (client_conn_unix(&p->c, x->host) == 0)
				return 0;
			continue;
		}
		if (strcmp(x->host, "localhost") == 0)
			dns_addr_literal("127.0.0.1", &a);
		else if (!dns_addr_literal(x->host, &a))
			continue;
		if (client_conn_tcp(&p->c, x->host, &a, x->port) == 0) {
			int one = 1;

			/* Ultra writes the message as it comes, then the
			 * final dot: Nagle would hold that small write until
			 * the target's delayed ACK (~40 ms a message). */
			(void)setsockopt(p->c.fd, IPPROTO_TCP, TCP_NODELAY,
			    &one, sizeof one);
			return 0;
		}
	}
	return -1;
}

static int send_cmd(struct proxy_conn *p, const char *what, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static int
send_cmd(struct proxy_conn *p, const char *what, const char *fmt, ...)
{
	char line[1100];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line) {
		snprintf(p->c.err, sizeof p->c.err, "%s too long", what);
		p->c.broken = 1;
		return -1;
	}
	return client_conn_write(&p->c, line, (size_t)n, TO, what);
}

/* 421 means the server is closing (RFC 5321 3.8): lost, not an answer. */
static int
lost_on_421(struct proxy_conn *p, const struct client_reply *r)
{
	if (r->code != 421)
		return 0;
	snprintf(p->c.err, sizeof p->c.err, "%s", r->text);
	p->c.broken = 1;
	return 1;
}

static int
fail_open(struct proxy_conn *p, const struct client_reply *r, const char *what)
{
	if (r != NULL)
		snprintf(p->c.err, sizeof p->c.err,
		    "%.200s said: %.250s "
		    "(in reply to %s)",
		    p->c.relay, r->text, what);
	proxy_conn_close(p, r != NULL && r->code != 421);
	return -1;
}

int
proxy_conn_open(struct proxy_conn *p, const struct proxy_dest *d)
{
	struct client_reply r;
	int lmtp = d->proto == CLIENT_LMTP;

	/* a kept connection the target has closed (or sent a 421 on) since
	 * is replaced, not counted as lost */
	if (p->open && strcmp(p->key, d->key) == 0 && !p->c.broken &&
	    !client_conn_stale(&p->c))
		return 0;
	/* opened ahead of need: what is left of it, or without it */
	if (p->early) {
		int e = proxy_early_finish(p, d);

		if (e == 0)
			return 0;
		if (e < 0)
			return fail_open(p, NULL, "greeting");
	}
	if (p->open)
		proxy_conn_close(p, 1);
	client_conn_init(&p->c, d->proto, p->timeout_ms);
	if (connect_to(p, d) < 0)
		return fail_open(p, NULL, "connect");
	snprintf(p->key, sizeof p->key, "%s", d->key);
	if (client_conn_reply(&p->c, &r, TO, "the greeting") < 0)
		return fail_open(p, NULL, "greeting");
	if (r.code != 220)
		return fail_open(p, &r, "the greeting");
	/* No HELO fallback: a target without ESMTP is left to the queue. */
	if (send_cmd(p, lmtp ? "LHLO" : "EHLO", "%s %s\r\n",
	        lmtp ? "LHLO" : "EHLO", p->helo) < 0 ||
	    client_conn_ehlo_reply(&p->c, &r, TO, lmtp ? "LHLO" : "EHLO") < 0)
		return fail_open(p, NULL, "EHLO");
	if (r.code != 250)
		return fail_open(p, &r, lmtp ? "LHLO" : "EHLO");
	p->c.esmtp = 1;
	p->open = 1;
	p->transactions = 0;
	return 0;
}

unsigned
proxy_conn_ext(const struct proxy_conn *p)
{
	return p->open ? p->c.ext.flags : 0;
}

static int
reply_of(struct proxy_conn *p, struct client_reply *r, const char *what)
{
	if (client_conn_reply(&p->c, r, TO, what) < 0 || lost_on_421(p, r)) {
		proxy_conn_close(p, 0);
		return -1;
	}
	return 0;
}

int
proxy_conn_mail_line(struct buf *out, const char *sender,
    const struct smtp_params *par)
{
	char size[40] = "";

	if (par->has_size)
		snprintf(size, sizeof size, " SIZE=%llu",
		    (unsigned long long)par->size);
	return buf_printf(out, "MAIL FROM:<%s>%s%s%s\r\n", sender, size,
	    par->body == SMTP_BODY_8BITMIME ? " BODY=8BITMIME" :
	        par->body == SMTP_BODY_7BIT ? " BODY=7BIT" :
	                                      "",
	    par->smtputf8 ? " SMTPUTF8" : "");
}

int
proxy_conn_mail(struct proxy_conn *p, const char *sender,
    const struct smtp_params *par, const char *rcpt, struct client_reply *rm,
    struct client_reply *rr)
{
	struct buf line = BUF_INIT(0);

	/* RFC 2920 3.1: MAIL and RCPT may go in one write */
	if (proxy_conn_mail_line(&line, sender, par) < 0 ||
	    (rcpt && buf_printf(&line, "RCPT TO:<%s>\r\n", rcpt) < 0)) {
		buf_free(&line);
		snprintf(p->c.err, sizeof p->c.err, "out of memory");
		proxy_conn_close(p, 0);
		return -1;
	}
	if (proxy_conn_send(p, line.p, line.len, "MAIL") < 0) {
		buf_free(&line);
		return -1;
	}
	buf_free(&line);
	if (reply_of(p, rm, "MAIL") < 0)
		return -1;
	return rcpt ? reply_of(p, rr, "RCPT") : 0;
}

int
proxy_conn_send(struct proxy_conn *p, const char *s, size_t n,
    const char *what)
{
	if (strncmp(s, "MAIL ", 5) == 0)
		p->transactions++;
	if (client_conn_write(&p->c, s, n, TO, what) < 0) {
		proxy_conn_close(p, 0);
		return -1;
	}
	return 0;
}

int
proxy_conn_read(struct proxy_conn *p, struct client_reply *r, const char *what)
{
	return reply_of(p, r, what);
}

int
proxy_conn_rcpt(struct proxy_conn *p, const char *addr, struct client_reply *r)
{
	if (send_cmd(p, "RCPT", "RCPT TO:<%s>\r\n", addr) < 0) {
		proxy_conn_close(p, 0);
		return -1;
	}
	return reply_of(p, r, "RCPT");
}

int
proxy_conn_data_begin(struct proxy_conn *p, struct client_reply *r)
{
	if (send_cmd(p, "DATA", "DATA\r\n") < 0) {
		proxy_conn_close(p, 0);
		return -1;
	}
	return proxy_conn_data_reply(p, r);
}

int
proxy_conn_data_reply(struct proxy_conn *p, struct client_reply *r)
{
	if (reply_of(p, r, "DATA") < 0)
		return -1;
	if (client_conn_data_out_of_step(&p->c, r)) {
		proxy_conn_close(p, 0);
		return -1;
	}
	if (r->code == 354) {
		p->streaming = 1;
		client_wire_init(&p->wire, 0);
		client_dot_init(&p->dot);
		buf_reset(&p->out);
	}
	return 0;
}

/* Writes what is encoded, all of it, or only full chunks. 0 or -1. */
static int
drain(struct proxy_conn *p, int all)
{
	if (p->out.len == 0 || (!all && p->out.len < CHUNK))
		return 0;
	if (client_conn_write(&p->c, p->out.p, p->out.len, TO, "the message") <
	    0)
		return -1;
	buf_reset(&p->out);
	return 0;
}

/* Canonical CRLF text, dot-stuffed (RFC 5321 4.5.2), into p->out. */
static int
encode(struct proxy_conn *p, const char *s, size_t n, int end)
{
	struct buf wire = BUF_INIT(0);
	int rc = 0;

	if (client_wire_feed(&p->wire, s, n, &wire) < 0 ||
	    (end && client_wire_end(&p->wire, &wire) < 0) ||
	    client_dot_stuff(&p->dot, wire.p, wire.len, &p->out) < 0 ||
	    (end && client_dot_end(&p->dot, &p->out) < 0)) {
		snprintf(p->c.err, sizeof p->c.err, "out of memory");
		rc = -1;
	}
	buf_free(&wire);
	return rc;
}

int
proxy_conn_data_write(struct proxy_conn *p, const char *s, size_t n, int flush)
{
	if (!p->streaming)
		return -1;
	if (encode(p, s, n, 0) < 0 || drain(p, flush) < 0) {
		proxy_conn_close(p, 0);
		return -1;
	}
	return 0;
}

int
proxy_conn_data_end(struct proxy_conn *p, struct client_reply *r,
    size_t nreply, size_t *got)
{
	size_t i;

	*got = 0;
	if (!p->streaming)
		return -1;
	p->streaming = 0;
	if (encode(p, NULL, 0, 1) < 0 || drain(p, 1) < 0) {
		proxy_conn_close(p, 0);
		return -1;
	}
	for (i = 0; i < nreply; i++) {
		if (reply_of(p, &r[i], "the message") < 0)
			return -1;
		(*got)++;
	}
	return 0;
}

int
proxy_conn_data_file(struct proxy_conn *p, int fd, uint64_t off, uint64_t len)
{
	char tmp[CHUNK];
	uint64_t pos = 0;

	while (pos < len) {
		size_t want =
		    len - pos < sizeof tmp ? (size_t)(len - pos) : sizeof tmp;
		ssize_t got = pread(fd, tmp, want, (off_t)(off + pos));

		if (got <= 0) {
			snprintf(p->c.err, sizeof p->c.err,
			    "cannot read the "
			    "spool file: %s",
			    got < 0 ? strerror(errno) : "short file");
			proxy_conn_close(p, 0);
			return -1;
		}
		pos += (uint64_t)got;
		if (proxy_conn_data_write(p, tmp, (size_t)got, 0) < 0)
			return -1;
	}
	return 0;
}

int
proxy_conn_rset(struct proxy_conn *p)
{
	struct client_reply r;

	if (!p->open)
		return -1;
	if (send_cmd(p, "RSET", "RSET\r\n") < 0 || reply_of(p, &r, "RSET") < 0)
		return -1;
	if (r.code != 250) {
		proxy_conn_close(p, 1);
		return -1;
	}
	return 0;
}

void
proxy_conn_close(struct proxy_conn *p, int quit)
{
	if (p->c.fd >= 0) {
		/* owned, the socketpair to an lmtpd included */
		client_conn_close_within(&p->c,
		    quit && p->open && !p->c.broken, TO);
	}
	p->c.fd = -1;
	p->open = 0;
	p->early = 0;
	p->streaming = 0;
	p->key[0] = '\0';
	buf_free(&p->out);
	reap(p);
}
