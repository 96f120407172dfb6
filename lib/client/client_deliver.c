#define _GNU_SOURCE
#include <sys/types.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "client/client_cache.h"
#include "client/client_conn.h"
#include "client/client_deliver.h"
#include "client/client_reply.h"
#include "client/client_tls_steps.h"
#include "client/client_wire.h"
#include "dns/dns_addr.h"
#include "dns/dns_mx.h"
#include "dns/dns_res.h"
#include "mime/mime_downgrade.h"

/* RFC 5321 4.5.3.1.8: a server must take at least 100 recipients. */
#define CLIENT_MAX_RCPT_DEFAULT 100
#define CLIENT_CHUNK (64 * 1024)
#define CLIENT_PATH_MAX 256	/* RFC 5321 4.5.3.1.3 */

enum { BODY_7BIT, BODY_8BITMIME, BODY_BINARYMIME };

/* What a session on one connection came to. */
enum sess { SESS_DONE, SESS_NEXT };

struct job {
	const struct client_dest *d;
	const struct client_msg *m;
	struct client_rcpt *r;
	size_t n;
	unsigned char *fin;	/* r[i] has its outcome */
	size_t nfin;
	int transacted;		/* a MAIL command was sent */
	int data_sent;		/* message octets went out: no next host */
	struct client_result *res;
	int body;		/* as sent, after any downgrade */
	int converted;
	struct buf conv;	/* the downgraded message */
	struct buf out;
	struct buf wire;	/* one chunk after client_wire */
	/* octets on the wire (client_wire), per use_conv(); -1 unknown */
	int64_t wire_len[2];
	int wire_changed[2];	/* client_wire_changed(), per use_conv() */
	struct client_why why;	/* reason pending ones get */
	struct client_cache *cache;	/* may be NULL */
	const char *host;	/* the host being dialled (verify, SNI) */
	int local;		/* a unix socket or a given fd: may is none */
	int plain;		/* this connection goes in the clear (may) */
	int retry_plain;	/* may's handshake failed: again in the clear */
};

const char *
client_status_name(enum client_status s)
{
	switch (s) {
	case CLIENT_OK:
		return "sent";
	case CLIENT_TEMP:
		return "deferred";
	case CLIENT_PERM:
		return "bounced";
	}
	return "?";
}

static enum client_status
status_of(int code)
{
	if (code >= 200 && code < 300)
		return CLIENT_OK;
	if (code >= 500 && code < 600)
		return CLIENT_PERM;
	return CLIENT_TEMP;
}

static void
finish(struct job *j, size_t i, enum client_status st, const char *reply)
{
	if (j->fin[i])
		return;
	j->r[i].status = st;
	snprintf(j->r[i].reply, sizeof j->r[i].reply, "%s", reply);
	j->fin[i] = 1;
	j->nfin++;
}

static void
finish_pending(struct job *j, enum client_status st, const char *reply)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		finish(j, i, st, reply);
	snprintf(j->res->reply, sizeof j->res->reply, "%s", reply);
}

/* A broken connection: before any outcome and before the data we may
 * still try the next host; afterwards the rest is deferred. */
static enum sess
broken(struct job *j, struct client_conn *c)
{
	if (strncmp(c->err, "421 ", 4) == 0)
		/* the server's own words */
		client_why_set(&j->why, 0, "%s", c->err);
	else
		client_why_set(&j->why, 0, "451 4.4.2 %s", c->err);
	if (j->nfin == 0 && !j->data_sent)
		return SESS_NEXT;
	finish_pending(j, CLIENT_TEMP, j->why.text);
	return SESS_DONE;
}

static int
send_cmd(struct client_conn *c, unsigned to, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
send_cmd(struct client_conn *c, unsigned to, const char *fmt, ...)
{
	char line[1024], verb[8];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line)
		return -1;
	/* the verb names the step in a diagnostic */
	snprintf(verb, sizeof verb, "%.*s", (int)strcspn(line, " \r"), line);
	return client_conn_write(c, line, (size_t)n, to, verb);
}

/* After EHLO/HELO/LHLO: STARTTLS, then AUTH (client_tls_steps.h). 0
 * ready, -1 (j->why) try the next host, -2 (j->why) the delivery ends. */
static int
after_hello(struct job *j, struct client_conn *c, const char *helo)
{
	struct client_tls_steps st;
	int r;

	memset(&st, 0, sizeof st);
	st.d = j->d;
	st.cache = j->cache;
	st.host = j->host;
	st.helo = helo;
	st.plain = j->local || j->plain;
	r = client_tls_steps_run(&st, c);
	if (st.retry_plain)
		j->retry_plain = 1;
	if (st.fallback[0] != '\0')
		snprintf(j->res->tls_fallback, sizeof j->res->tls_fallback,
		    "%s", st.fallback);
	if (r < 0)
		j->why = st.why;
	return r;
}

/* Greeting, then EHLO (HELO fallback) or LHLO, then STARTTLS and AUTH as
 * the destination asks. 0 ready, -1 (j->why) try the next host, -2
 * (j->why) the delivery ends. */
static int
hello(struct job *j, struct client_conn *c)
{
	const char *helo = j->d->helo && *j->d->helo ? j->d->helo
	    : "localhost";
	struct client_reply rp;

	if (client_conn_reply(c, &rp, CLIENT_TO_GREETING, "the greeting") < 0) {
		client_why_set(&j->why, 0, "451 4.4.2 %s", c->err);
		return -1;
	}
	/* RFC 5321 3.1: anything but 220 means "not now": a 554 greeting
	 * is about this host, another MX may take the mail. */
	if (rp.code != 220) {
		client_why_set(&j->why, 0,
		    "451 4.4.0 host %s refused to talk to me: %s",
		    c->relay, rp.text);
		client_conn_close(c, rp.code != 421);
		return -1;
	}
	if (j->d->proto == CLIENT_LMTP) {
		if (send_cmd(c, CLIENT_TO_HELO, "LHLO %s\r\n", helo) < 0 ||
		    client_conn_ehlo_reply(c, &rp, CLIENT_TO_HELO, "LHLO") < 0) {
			client_why_set(&j->why, 0, "451 4.4.2 %s", c->err);
			return -1;
		}
		if (rp.code != 250) {
			client_why_set(&j->why, 0,
			    "451 4.4.0 %s said: %s (in reply to "
			    "LHLO)", c->relay, rp.text);
			client_conn_close(c, rp.code != 421);
			return -1;
		}
		c->esmtp = 1;
		return after_hello(j, c, helo);
	}
	if (send_cmd(c, CLIENT_TO_HELO, "EHLO %s\r\n", helo) < 0 ||
	    client_conn_ehlo_reply(c, &rp, CLIENT_TO_HELO, "EHLO") < 0) {
		client_why_set(&j->why, 0, "451 4.4.2 %s", c->err);
		return -1;
	}
	if (rp.code == 250) {
		c->esmtp = 1;
		return after_hello(j, c, helo);
	}
	if (rp.code == 421) {
		client_why_set(&j->why, 0,
		    "451 4.4.0 %s said: %s (in reply to EHLO)",
		    c->relay, rp.text);
		client_conn_close(c, 0);
		return -1;
	}
	/* RFC 5321 3.2: a server that does not know EHLO answers it with
	 * an error; then HELO, and no extensions. */
	memset(&c->ext, 0, sizeof c->ext);
	if (send_cmd(c, CLIENT_TO_HELO, "HELO %s\r\n", helo) < 0 ||
	    client_conn_reply(c, &rp, CLIENT_TO_HELO, "HELO") < 0) {
		client_why_set(&j->why, 0, "451 4.4.2 %s", c->err);
		return -1;
	}
	if (rp.code != 250) {
		client_why_set(&j->why, 0,
		    "451 4.4.0 %s said: %s (in reply to HELO)",
		    c->relay, rp.text);
		client_conn_close(c, rp.code != 421);
		return -1;
	}
	c->esmtp = 0;
	return after_hello(j, c, helo);
}

/* Reads the whole spooled message into b. */
static int
load_message(const struct client_msg *m, struct buf *b)
{
	uint64_t pos = 0;

	if (m->len > SIZE_MAX - 1 || buf_reserve(b, (size_t)m->len) < 0)
		return -1;
	while (pos < m->len) {
		ssize_t got = pread(m->fd, b->p + b->len,
		    (size_t)(m->len - pos), m->off + (off_t)pos);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = EIO;
			return -1;
		}
		pos += (uint64_t)got;
		b->len += (size_t)got;
	}
	b->p[b->len] = '\0';
	return 0;
}

/*
 * The one call into the MIME downgrade (RFC 6152 3, RFC 3030 with
 * RFC 1652's conversion): 0 = out holds valid 7-bit MIME that decodes to
 * the same content, else *why says why not and the caller fails the
 * message permanently with 5.6.3.
 */
static int
convert_7bit(const char *in, size_t inlen, struct buf *out, const char **why)
{
	return mime_downgrade(in, inlen, out, why);
}

static int measure(struct job *j);
static uint64_t wire_len(const struct job *j);

/*
 * What this server needs of the message: checks that fail every pending
 * recipient permanently and the downgrade. 0 go on, -1 (all finished).
 */
static int
prepare(struct job *j, struct client_conn *c)
{
	const struct client_msg *m = j->m;
	unsigned ext = c->ext.flags;
	uint64_t len;
	int need;

	/* RFC 6531 3.2: without SMTPUTF8 the message cannot go. */
	if (m->smtputf8 && !(ext & CLIENT_EXT_SMTPUTF8)) {
		client_why_set(&j->why, 1,
		    "553 5.6.7 %s does not support SMTPUTF8, "
		    "required by this message", c->relay);
		finish_pending(j, CLIENT_PERM, j->why.text);
		return -1;
	}
	need = (m->body == BODY_8BITMIME && !(ext & CLIENT_EXT_8BITMIME)) ||
	    (m->body == BODY_BINARYMIME && !((ext & CLIENT_EXT_BINARYMIME) &&
	    (ext & CLIENT_EXT_CHUNKING)));
	j->body = m->body;
	if (need && !j->converted) {
		struct buf raw = BUF_INIT(0);
		const char *why = NULL;
		int rc;

		if (load_message(m, &raw) < 0) {
			client_why_set(&j->why, 0,
			    "451 4.3.0 cannot read queue file: %s",
			    strerror(errno));
			buf_free(&raw);
			finish_pending(j, CLIENT_TEMP, j->why.text);
			return -1;
		}
		buf_reset(&j->conv);
		rc = convert_7bit(raw.p, raw.len, &j->conv, &why);
		buf_free(&raw);
		if (rc != 0) {
			buf_reset(&j->conv);
			client_why_set(&j->why, 1, "554 5.6.3 %s", why ? why
			    : "conversion failed");
			finish_pending(j, CLIENT_PERM, j->why.text);
			return -1;
		}
		j->converted = 1;
	}
	if (need)
		j->body = BODY_7BIT;
	if (measure(j) < 0) {
		client_why_set(&j->why, 0,
		    "451 4.3.0 cannot read queue file: %s",
		    strerror(errno));
		finish_pending(j, CLIENT_TEMP, j->why.text);
		return -1;
	}
	len = wire_len(j);
	/* RFC 1870 6: a message over the announced limit is not sent. */
	if ((ext & CLIENT_EXT_SIZE) && c->ext.size > 0 && len > c->ext.size) {
		client_why_set(&j->why, 1,
		    "552 5.3.4 message size %llu exceeds size "
		    "limit %llu of %s", (unsigned long long)len,
		    (unsigned long long)c->ext.size, c->relay);
		finish_pending(j, CLIENT_PERM, j->why.text);
		return -1;
	}
	return 0;
}

/* The message as sent: the converted copy once prepare() downgraded it
 * for this server, else the spool file. */
static int
use_conv(const struct job *j)
{
	return j->body != j->m->body;
}

static uint64_t
msg_len(const struct job *j)
{
	return use_conv(j) ? j->conv.len : j->m->len;
}

static ssize_t
msg_read(struct job *j, char *p, size_t n, uint64_t pos)
{
	uint64_t len = msg_len(j);
	ssize_t got;

	if (pos >= len)
		return 0;
	if (n > len - pos)
		n = (size_t)(len - pos);
	if (use_conv(j)) {
		memcpy(p, j->conv.p + pos, n);
		return (ssize_t)n;
	}
	do
		got = pread(j->m->fd, p, n, j->m->off + (off_t)pos);
	while (got < 0 && errno == EINTR);
	if (got == 0) {
		errno = EIO;	/* the queue file is shorter than said */
		return -1;
	}
	return got;
}

/* BINARYMIME goes as it is but for its header (RFC 3030 3). */
static void
wire_start(const struct job *j, struct client_wire *w)
{
	client_wire_init(w, j->body == BODY_BINARYMIME);
}

/*
 * The length of the message as client_wire makes it: canonical CRLF
 * lines of at most 998 octets (see client_wire.h). Counted once per
 * form of the message; 0, or -1 (errno) when the spool file cannot be
 * read.
 */
static int
measure(struct job *j)
{
	struct client_wire w;
	char tmp[CLIENT_CHUNK];
	uint64_t pos = 0, len;
	int v = use_conv(j);

	if (j->wire_len[v] >= 0)
		return 0;
	len = msg_len(j);
	/* smtpd saw every line (spool_env.h "wire"): no second read */
	if (!v && j->m->wire) {
		j->wire_len[v] = (int64_t)len;
		j->wire_changed[v] = 0;
		return 0;
	}
	wire_start(j, &w);
	while (pos < len) {
		ssize_t got = msg_read(j, tmp, sizeof tmp, pos);

		if (got < 0)
			return -1;
		pos += (uint64_t)got;
		(void)client_wire_feed(&w, tmp, (size_t)got, NULL);
	}
	(void)client_wire_end(&w, NULL);
	j->wire_len[v] = (int64_t)w.count;
	j->wire_changed[v] = client_wire_changed(&w, len);
	return 0;
}

static uint64_t
wire_len(const struct job *j)
{
	return (uint64_t)j->wire_len[use_conv(j)];
}

/* Unchanged: the spool's bytes go out without the filter. */
static int
wire_changes(const struct job *j)
{
	return j->wire_changed[use_conv(j)];
}

/*
 * The next piece to send: tmp[0..got) itself, or through w into
 * j->wire (plus what w still held when last). NULL: out of memory.
 */
static const char *
wire_piece(struct job *j, struct client_wire *w, const char *tmp,
    size_t got, int last, size_t *n)
{
	if (!wire_changes(j)) {
		*n = got;
		return tmp;
	}
	buf_reset(&j->wire);
	if (client_wire_feed(w, tmp, got, &j->wire) < 0 ||
	    (last && client_wire_end(w, &j->wire) < 0))
		return NULL;
	*n = j->wire.len;
	return j->wire.p ? j->wire.p : "";
}

static int
rset(struct client_conn *c)
{
	struct client_reply rp;

	if (client_conn_write(c, "RSET\r\n", 6, CLIENT_TO_RSET, "RSET") < 0 ||
	    client_conn_reply(c, &rp, CLIENT_TO_RSET, "RSET") < 0)
		return -1;
	if (rp.code != 250) {
		c->broken = 1;
		return -1;
	}
	return 0;
}

/* A 421 means the server is going away (RFC 5321 3.8). */
static int
is_421(struct client_conn *c, const struct client_reply *rp)
{
	if (rp->code != 421)
		return 0;
	c->broken = 1;
	snprintf(c->err, sizeof c->err, "%s", rp->text);
	return 1;
}

/* The message via DATA with dot-stuffing. 0, or -1 (c broken). */
static int
send_data(struct job *j, struct client_conn *c)
{
	struct client_dot dot;
	struct client_wire w;
	char tmp[CLIENT_CHUNK];
	uint64_t pos = 0, len = msg_len(j);
	const char *piece;
	size_t n;

	client_dot_init(&dot);
	wire_start(j, &w);
	buf_reset(&j->out);
	j->data_sent = 1;
	do {
		ssize_t got = msg_read(j, tmp, sizeof tmp, pos);

		if (got < 0) {
			c->broken = 1;
			snprintf(c->err, sizeof c->err, "cannot read queue "
			    "file: %s", strerror(errno));
			return -1;
		}
		pos += (uint64_t)got;
		if ((piece = wire_piece(j, &w, tmp, (size_t)got, pos >= len,
		    &n)) == NULL ||
		    client_dot_stuff(&dot, piece, n, &j->out) < 0)
			goto nomem;
		if (j->out.len >= CLIENT_CHUNK) {
			if (client_conn_write(c, j->out.p, j->out.len,
			    CLIENT_TO_BLOCK, "the message") < 0)
				return -1;
			buf_reset(&j->out);
		}
	} while (pos < len);
	if (client_dot_end(&dot, &j->out) < 0)
		goto nomem;
	return client_conn_write(c, j->out.p, j->out.len, CLIENT_TO_BLOCK,
	    "the message");
nomem:
	c->broken = 1;
	snprintf(c->err, sizeof c->err, "out of memory");
	return -1;
}

/*
 * The message in BDAT chunks (RFC 3030 2). With PIPELINING the chunk
 * replies are read after the last chunk; else after each. On a failed
 * chunk *bad holds its reply. 0, or -1 (c broken).
 */
static int
send_bdat(struct job *j, struct client_conn *c, struct client_reply *bad)
{
	char tmp[CLIENT_CHUNK];
	uint64_t pos = 0, len = msg_len(j);
	size_t unread = 0, n;
	int pipe = (c->ext.flags & CLIENT_EXT_PIPELINING) != 0;
	struct client_reply rp;
	struct client_wire w;
	const char *piece;

	bad->code = 0;
	j->data_sent = 1;
	wire_start(j, &w);
	do {
		ssize_t got = msg_read(j, tmp, sizeof tmp, pos);
		int last;

		if (got < 0) {
			c->broken = 1;
			snprintf(c->err, sizeof c->err, "cannot read queue "
			    "file: %s", strerror(errno));
			return -1;
		}
		pos += (uint64_t)got;
		last = pos >= len;
		if ((piece = wire_piece(j, &w, tmp, (size_t)got, last,
		    &n)) == NULL) {
			c->broken = 1;
			snprintf(c->err, sizeof c->err, "out of memory");
			return -1;
		}
		if (send_cmd(c, CLIENT_TO_BLOCK, "BDAT %zu%s\r\n", n,
		    last ? " LAST" : "") < 0 ||
		    client_conn_write(c, piece, n, CLIENT_TO_BLOCK,
		    "the message") < 0)
			return -1;
		if (last)
			break;
		if (!pipe) {
			if (client_conn_reply(c, &rp, CLIENT_TO_BLOCK,
			    "BDAT") < 0)
				return -1;
			if (is_421(c, &rp))
				return -1;
			if (rp.code != 250) {
				/* RFC 3030 2: no more chunks after a
				 * failed one; the caller resets. */
				*bad = rp;
				return 0;
			}
		} else
			unread++;
	} while (pos < len);
	while (unread-- > 0) {
		if (client_conn_reply(c, &rp, CLIENT_TO_BLOCK, "BDAT") < 0)
			return -1;
		if (is_421(c, &rp))
			return -1;
		if (rp.code != 250 && bad->code == 0)
			*bad = rp;
	}
	return 0;
}

static const char *
body_param(const struct job *j)
{
	switch (j->body) {
	case BODY_8BITMIME:
		return " BODY=8BITMIME";
	case BODY_BINARYMIME:
		return " BODY=BINARYMIME";
	}
	return "";
}

/*
 * One transaction for recipients idx[0..k). 0 when the connection is
 * still usable (every idx has its outcome), -1 when it broke.
 */
static int
transaction(struct job *j, struct client_conn *c, const size_t *idx,
    size_t k)
{
	unsigned ext = c->esmtp ? c->ext.flags : 0;
	int pipe = (ext & CLIENT_EXT_PIPELINING) != 0;
	int bdat = (ext & CLIENT_EXT_CHUNKING) != 0;
	struct client_reply rp, mail, data, bad;
	size_t *acc = NULL, na = 0, i;
	int mail_ok, ret = -1;

	if ((acc = calloc(k, sizeof *acc)) == NULL) {
		c->broken = 1;
		snprintf(c->err, sizeof c->err, "out of memory");
		return -1;
	}
	buf_reset(&j->out);
	if (buf_printf(&j->out, "MAIL FROM:<%s>", j->m->sender) < 0 ||
	    ((ext & CLIENT_EXT_SIZE) && buf_printf(&j->out, " SIZE=%llu",
	    (unsigned long long)wire_len(j)) < 0) ||
	    (c->esmtp && buf_append_str(&j->out, body_param(j)) < 0) ||
	    (j->m->smtputf8 && buf_append_str(&j->out, " SMTPUTF8") < 0) ||
	    buf_append(&j->out, "\r\n", 2) < 0)
		goto nomem;
	j->transacted = 1;
	/* RFC 2920 3.1: MAIL, the RCPTs and DATA may go in one group;
	 * BDAT waits, its chunk must not follow a failed RCPT set. */
	if (pipe) {
		for (i = 0; i < k; i++)
			if (buf_printf(&j->out, "RCPT TO:<%s>\r\n",
			    j->r[idx[i]].addr) < 0)
				goto nomem;
		if (!bdat && buf_append_str(&j->out, "DATA\r\n") < 0)
			goto nomem;
	}
	if (client_conn_write(c, j->out.p, j->out.len, CLIENT_TO_MAIL,
	    "MAIL") < 0 ||
	    client_conn_reply(c, &mail, CLIENT_TO_MAIL, "MAIL") < 0 ||
	    is_421(c, &mail))
		goto out;
	mail_ok = mail.code / 100 == 2;
	for (i = 0; i < k; i++) {
		if (!pipe) {
			if (!mail_ok)
				break;
			if (send_cmd(c, CLIENT_TO_RCPT, "RCPT TO:<%s>\r\n",
			    j->r[idx[i]].addr) < 0)
				goto out;
		}
		if (client_conn_reply(c, &rp, CLIENT_TO_RCPT, "RCPT") < 0 ||
		    is_421(c, &rp))
			goto out;
		if (!mail_ok)
			continue;	/* 503s after a refused MAIL */
		if (rp.code / 100 == 2)
			acc[na++] = idx[i];
		else if (rp.code == 452 && na > 0 &&
		    strncmp(rp.text + 3, " 4.5.3", 6) == 0)
			/* RFC 5321 4.5.3.1.10: too many recipients for
			 * the server; the next transaction takes it. */
			continue;
		else
			finish(j, idx[i], status_of(rp.code), rp.text);
	}
	if (!mail_ok) {
		for (i = 0; i < k; i++)
			finish(j, idx[i], status_of(mail.code), mail.text);
		snprintf(j->res->reply, sizeof j->res->reply, "%s",
		    mail.text);
	}
	if (pipe && !bdat) {
		if (client_conn_reply(c, &data, CLIENT_TO_DATA, "DATA") < 0 ||
		    is_421(c, &data) || client_conn_data_out_of_step(c, &data))
			goto out;
	} else if (na > 0 && !bdat) {
		if (send_cmd(c, CLIENT_TO_DATA, "DATA\r\n") < 0 ||
		    client_conn_reply(c, &data, CLIENT_TO_DATA, "DATA") < 0 ||
		    is_421(c, &data) || client_conn_data_out_of_step(c, &data))
			goto out;
	}
	if (na == 0) {
		/* Nothing to send. A server that said 354 anyway gets an
		 * empty message ended at once (RFC 2920 3.1). */
		if (pipe && !bdat && data.code == 354) {
			if (client_conn_write(c, ".\r\n", 3,
			    CLIENT_TO_DOT, "the end of data") < 0 ||
			    client_conn_reply(c, &rp, CLIENT_TO_DOT,
			    "the end of data") < 0)
				goto out;
		}
		ret = rset(c);
		goto out;
	}
	if (!bdat) {
		if (data.code != 354) {
			for (i = 0; i < na; i++)
				finish(j, acc[i], status_of(data.code),
				    data.text);
			snprintf(j->res->reply, sizeof j->res->reply, "%s",
			    data.text);
			ret = rset(c);
			goto out;
		}
		if (send_data(j, c) < 0)
			goto out;
		bad.code = 0;
	} else {
		if (send_bdat(j, c, &bad) < 0)
			goto out;
		if (bad.code != 0 && !pipe) {
			for (i = 0; i < na; i++)
				finish(j, acc[i], status_of(bad.code),
				    bad.text);
			ret = rset(c);
			goto out;
		}
	}
	/* RFC 2033 4.2: LMTP answers the end of data once per accepted
	 * recipient, in RCPT order; SMTP once for all. A failed chunk
	 * gets one reply for the LAST chunk in either case. */
	for (i = 0; i < na; i++) {
		if (i == 0 || (j->d->proto == CLIENT_LMTP && bad.code == 0)) {
			if (client_conn_reply(c, &rp, CLIENT_TO_DOT,
			    "the end of data") < 0 ||
			    is_421(c, &rp))
				goto out;
		}
		if (bad.code != 0)
			finish(j, acc[i], status_of(bad.code), bad.text);
		else
			finish(j, acc[i], status_of(rp.code), rp.text);
	}
	if (status_of(rp.code) != CLIENT_OK)
		snprintf(j->res->reply, sizeof j->res->reply, "%s", rp.text);
	ret = 0;
	if (bad.code != 0)
		ret = rset(c);
out:
	free(acc);
	return ret;
nomem:
	c->broken = 1;
	snprintf(c->err, sizeof c->err, "out of memory");
	free(acc);
	return -1;
}

/* Every pending recipient, in batches, on a ready connection. */
static enum sess
session(struct job *j, struct client_conn *c)
{
	size_t max = j->d->max_rcpt ? j->d->max_rcpt
	    : CLIENT_MAX_RCPT_DEFAULT;
	size_t *idx, k, i;

	snprintf(j->res->relay, sizeof j->res->relay, "%s", c->relay);
	snprintf(j->res->tls, sizeof j->res->tls, "%s",
	    c->tls != NULL ? c->tls_info : "");
	j->res->tls_verified = c->tls != NULL && client_tls_verified(c->tls);
	if (prepare(j, c) < 0)
		return SESS_DONE;
	j->res->conn_use = ++c->uses;
	if ((idx = calloc(max, sizeof *idx)) == NULL) {
		client_why_set(&j->why, 0, "451 4.3.0 out of memory");
		finish_pending(j, CLIENT_TEMP, j->why.text);
		return SESS_DONE;
	}
	for (;;) {
		for (i = 0, k = 0; i < j->n && k < max; i++)
			if (!j->fin[i])
				idx[k++] = i;
		if (k == 0)
			break;
		if (transaction(j, c, idx, k) < 0) {
			free(idx);
			return broken(j, c);
		}
	}
	free(idx);
	return SESS_DONE;
}

/* One fresh connection: greet, hello, deliver. Closes c on SESS_NEXT. */
static enum sess
run(struct job *j, struct client_conn *c)
{
	enum sess s;

	snprintf(j->res->relay, sizeof j->res->relay, "%s", c->relay);
	switch (hello(j, c)) {
	case 0:
		break;
	case -2:
		finish_pending(j, j->why.perm ? CLIENT_PERM : CLIENT_TEMP,
		    j->why.text);
		return SESS_DONE;
	default:
		client_conn_close(c, 0);
		return SESS_NEXT;
	}
	s = session(j, c);
	if (s == SESS_NEXT)
		client_conn_close(c, 0);
	return s;
}

/* Screens what we put on a command line: never CR, LF or an overlong
 * path (RFC 5321 4.5.3.1.3), whatever the spool holds. */
static int
path_ok(const char *s)
{
	size_t l = strlen(s);

	return l < CLIENT_PATH_MAX && strpbrk(s, "\r\n<>") == NULL;
}

static enum client_status
dns_fail(struct job *j, enum dns_status st, const char *name,
    const char *what)
{
	switch (st) {
	case DNS_NULLMX:
		/* RFC 7505 4.2 */
		client_why_set(&j->why, 1,
		    "556 5.1.10 %s: domain does not accept mail "
		    "(null MX)", name);
		return CLIENT_PERM;
	case DNS_NXDOMAIN:
		client_why_set(&j->why, 1,
		    "550 5.1.2 %s: host or domain name not found "
		    "(%s lookup: NXDOMAIN)", name, what);
		return CLIENT_PERM;
	case DNS_NODATA:
		client_why_set(&j->why, 1,
		    "550 5.4.4 %s: no %s records", name, what);
		return CLIENT_PERM;
	case DNS_BADNAME:
		client_why_set(&j->why, 1,
		    "550 5.1.2 %s: malformed domain name", name);
		return CLIENT_PERM;
	default:
		client_why_set(&j->why, 0,
		    "451 4.4.3 %s: temporary failure in %s "
		    "lookup", name, what);
		return CLIENT_TEMP;
	}
}

/* Connects to each address of host in turn. SESS_DONE when delivered
 * through one; *cp is then that connection. */
static enum sess
try_host(struct job *j, struct dns_res *res, const char *host,
    unsigned port, struct client_conn **cp)
{
	struct dns_addr_list al;
	enum dns_status st;
	size_t i;

	st = dns_addr_lookup(res, host, &al);
	if (st != DNS_OK) {
		(void)dns_fail(j, st, host, "address");
		return SESS_NEXT;
	}
	for (i = 0; i < al.n; i++) {
		struct client_conn *c = malloc(sizeof *c);

		if (c == NULL) {
			client_why_set(&j->why, 0, "451 4.3.0 out of memory");
			return SESS_NEXT;
		}
		client_conn_init(c, j->d->proto, j->d->timeout_scale_ms);
		if (client_conn_tcp(c, host, &al.a[i], port) < 0) {
			client_why_set(&j->why, 0, "451 4.4.1 %s", c->err);
			snprintf(j->res->relay, sizeof j->res->relay, "%s",
			    c->relay);
			client_cache_conn_free(c, 0);
			j->plain = 0;
			continue;
		}
		j->host = host;
		j->retry_plain = 0;
		if (run(j, c) == SESS_DONE) {
			*cp = c;
			return SESS_DONE;
		}
		client_cache_conn_free(c, 0);
		/* may: the same address once more, in the clear (i wraps
		 * to SIZE_MAX at 0 and back with the loop's i++). */
		if (j->retry_plain && !j->plain && j->nfin == 0 &&
		    !j->data_sent) {
			j->plain = 1;
			i--;
			continue;
		}
		j->plain = 0;
	}
	return SESS_NEXT;
}

/* A fresh delivery: the destination's hosts and addresses in turn. */
static void
deliver_fresh(struct job *j, struct client_conn **cp)
{
	const struct client_dest *d = j->d;
	unsigned port = d->port ? d->port
	    : d->proto == CLIENT_LMTP ? 24 : 25;
	struct dns_res *res = NULL;
	struct dns_mx_list *mx = NULL;
	struct client_conn *c;
	enum sess s = SESS_NEXT;
	size_t i;

	if (d->fd >= 0 || d->open_fd != NULL ||
	    (d->host != NULL && d->host[0] == '/')) {
		int fd;

		j->local = 1;
		j->host = d->host;

		if ((c = malloc(sizeof *c)) == NULL) {
			client_why_set(&j->why, 0, "451 4.3.0 out of memory");
			return;
		}
		client_conn_init(c, d->proto, d->timeout_scale_ms);
		if (d->fd >= 0)
			client_conn_adopt(c, d->fd, d->host);
		else if (d->open_fd != NULL) {
			if ((fd = d->open_fd(d->open_arg)) < 0) {
				client_why_set(&j->why, 0,
				    "451 4.3.0 cannot start %s: %s",
				    d->host ? d->host : "the mailer",
				    strerror(errno));
				client_cache_conn_free(c, 0);
				return;
			}
			client_conn_adopt(c, fd, d->host);
			c->owned = 1;
		} else if (client_conn_unix(c, d->host) < 0) {
			client_why_set(&j->why, 0, "451 4.4.1 %s", c->err);
			snprintf(j->res->relay, sizeof j->res->relay, "%s",
			    c->relay);
			client_cache_conn_free(c, 0);
			return;
		}
		if (run(j, c) == SESS_DONE)
			*cp = c;
		else
			client_cache_conn_free(c, 0);
		return;
	}
	if (d->host == NULL || d->host[0] == '\0') {
		client_why_set(&j->why, 1, "554 5.4.4 no destination host");
		return;
	}
	if (dns_res_open(&res, d->dns_server,
	    d->timeout_scale_ms ? d->timeout_scale_ms / 6 : 0) < 0) {
		client_why_set(&j->why, 0,
		    "451 4.4.3 cannot set up resolver for %s: %s",
		    d->dns_server ? d->dns_server : "resolv.conf",
		    strerror(errno));
		return;
	}
	if (!d->use_mx) {
		s = try_host(j, res, d->host, port, cp);
		goto out;
	}
	if ((mx = malloc(sizeof *mx)) == NULL) {
		client_why_set(&j->why, 0, "451 4.3.0 out of memory");
		goto out;
	}
	{
		struct dns_addr lit;
		enum dns_status st;

		/* A literal is its own host (RFC 5321 5.1 last para). */
		if (dns_addr_literal(d->host, &lit)) {
			s = try_host(j, res, d->host, port, cp);
			goto out;
		}
		st = dns_mx_lookup(res, d->host, mx, NULL, NULL);
		if (st != DNS_OK) {
			(void)dns_fail(j, st, d->host, "MX");
			goto out;
		}
	}
	for (i = 0; i < mx->n && s == SESS_NEXT; i++)
		s = try_host(j, res, mx->mx[i].host, port, cp);
out:
	(void)s;
	free(mx);
	dns_res_close(res);
}

int
client_deliver_cached(struct client_cache *cache,
    const struct client_dest *d, const struct client_msg *m,
    struct client_rcpt *r, size_t n, struct client_result *res)
{
	struct job j;
	struct client_conn *c = NULL;
	char key[CLIENT_CACHE_KEY_MAX];
	int keyed;
	size_t i;

	memset(&j, 0, sizeof j);
	j.d = d;
	j.m = m;
	j.r = r;
	j.n = n;
	j.res = res;
	j.cache = cache;
	buf_init(&j.conv, 0);
	buf_init(&j.out, 0);
	buf_init(&j.wire, 0);
	j.wire_len[0] = j.wire_len[1] = -1;
	res->relay[0] = '\0';
	res->reply[0] = '\0';
	res->conn_use = 0;
	res->tls[0] = res->tls_fallback[0] = '\0';
	res->tls_verified = 0;
	for (i = 0; i < n; i++) {
		r[i].status = CLIENT_TEMP;
		r[i].reply[0] = '\0';
	}
	if (n == 0)
		return -1;
	if ((j.fin = calloc(n, 1)) == NULL) {
		for (i = 0; i < n; i++)
			snprintf(r[i].reply, sizeof r[i].reply,
			    "451 4.3.0 out of memory");
		snprintf(res->reply, sizeof res->reply,
		    "451 4.3.0 out of memory");
		return -1;
	}
	if (!path_ok(m->sender)) {
		client_why_set(&j.why, 1,
		    "501 5.1.7 bad sender address syntax");
		finish_pending(&j, CLIENT_PERM, j.why.text);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (r[i].addr == NULL || !path_ok(r[i].addr) ||
		    r[i].addr[0] == '\0')
			finish(&j, i, CLIENT_PERM,
			    "501 5.1.3 bad recipient address syntax");
	if (j.nfin == n)
		goto out;

	keyed = cache != NULL && client_cache_key(d, key, sizeof key) == 0;
	if (keyed && (c = client_cache_get(cache, key)) != NULL) {
		/* Prove the idle connection is alive before trusting it
		 * with a transaction. */
		if (client_conn_stale(c) || rset(c) < 0 ||
		    session(&j, c) == SESS_NEXT) {
			client_cache_conn_free(c, 0);
			c = NULL;
			res->conn_use = 0;	/* the fresh one counts */
		}
	}
	if (c == NULL && j.nfin < n)
		deliver_fresh(&j, &c);
	if (j.nfin < n)
		finish_pending(&j, j.why.perm ? CLIENT_PERM : CLIENT_TEMP,
		    j.why.text[0] ? j.why.text : "451 4.4.0 delivery failed");
	if (c != NULL) {
		if (keyed && !c->broken)
			client_cache_put(cache, key, c);
		else
			client_cache_conn_free(c, 1);
	}
out:
	free(j.fin);
	buf_free(&j.conv);
	buf_free(&j.out);
	buf_free(&j.wire);
	return j.transacted ? 0 : -1;
}

int
client_deliver(const struct client_dest *d, const struct client_msg *m,
    struct client_rcpt *r, size_t n, struct client_result *res)
{
	return client_deliver_cached(NULL, d, m, r, n, res);
}
