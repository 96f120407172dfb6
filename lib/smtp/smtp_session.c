#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "smtp/smtp_addr.h"
#include "smtp/smtp_cmd.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_line.h"
#include "smtp/smtp_reply.h"
#include "smtp/smtp_session.h"

/* What a callback may write as one reply. */
#define SMTP_SESSION_REPLY_MAX (64 * 1024)

enum { ST_CMD = 0, ST_DATA, ST_BDAT };
enum { HELO_NONE = 0, HELO_HELO, HELO_EHLO, HELO_LHLO };

struct smtp_session {
	struct smtp_session_cfg cfg;
	struct smtp_session_ops ops;
	void *ctx;
	struct buf out;
	struct buf reply;	/* scratch for callbacks */
	struct smtp_line_rd lr;
	struct smtp_data data;
	struct smtp_data discard;	/* a refused BDAT chunk */
	int st;
	int helo;
	char helo_name[SMTP_HELO_MAX + 1];	/* as the client gave it */
	int lmtp;
	int closing;
	int greeted;		/* the greeting was handed to the driver */
	int tls_pending;
	int tls;
	int auth_more;		/* a 334 is out: the next line is a response */
	int authed;		/* AUTH succeeded (RFC 4954 4: once only) */
	unsigned errors;
	unsigned count[SMTP_V_COUNT];
	/* transaction */
	int in_tx;		/* MAIL accepted */
	struct smtp_params par;
	unsigned nrcpt;
	unsigned rcpt_later;	/* RCPTs answered by ops.rcpt_done */
	int data_begun;		/* data_begin accepted */
	int data_failed;	/* data_write failed */
	int bdat;		/* BDAT used in this transaction */
	int bdat_failed;	/* a BDAT failed: 503 until RSET */
	int bdat_last;
	int bdat_discard;	/* this chunk is read and dropped */
	struct buf bdat_err;	/* reply to give after a dropped chunk */
	uint64_t bdat_size;
};

static const char sync_text[] = "Error: SMTP protocol synchronization";

/* Out of memory while queueing a reply: nothing sane left to say. */
static void
fatal(struct smtp_session *s)
{
	s->closing = 1;
}

static void
vreply(struct smtp_session *s, int code, const char *enh, const char *fmt,
    va_list ap)
{
	if (smtp_reply_vline(&s->out, code, enh, 1, fmt, ap) < 0)
		fatal(s);
}

static void reply(struct smtp_session *, int, const char *, const char *,
    ...) __attribute__((format(printf, 4, 5)));

static void
reply(struct smtp_session *s, int code, const char *enh, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(s, code, enh, fmt, ap);
	va_end(ap);
}

static void err_reply(struct smtp_session *, int, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

/* A refused command: counts towards max_errors (Postfix error_count). */
static void
err_reply(struct smtp_session *s, int code, const char *enh,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(s, code, enh, fmt, ap);
	va_end(ap);
	s->errors++;
}

/* A reply that ends a message: once, or once per recipient in LMTP. */
static void msg_reply(struct smtp_session *, int, const char *,
    const char *) ;

static void
msg_reply(struct smtp_session *s, int code, const char *enh,
    const char *text)
{
	unsigned i, n = s->lmtp ? s->nrcpt : 1;

	for (i = 0; i < n; i++)
		reply(s, code, enh, "%s", text);
}

/* Appends what a callback wrote, or the default when it wrote nothing. */
static int
take_reply(struct smtp_session *s, int r, int code, const char *enh,
    const char *text)
{
	if (s->reply.len > 0) {
		if (buf_append(&s->out, s->reply.p, s->reply.len) < 0)
			fatal(s);
		/* a refusal by the driver counts like any other */
		if (r != 0)
			s->errors++;
	} else if (r == 0)
		reply(s, code, enh, "%s", text);
	else
		err_reply(s, 451, "4.3.0", "Error: local error in processing");
	buf_reset(&s->reply);
	return r;
}

/* The deferred RCPTs' replies, in order, before any other reply. */
static void
settle(struct smtp_session *s, enum smtp_verb next)
{
	while (s->rcpt_later > 0) {
		s->rcpt_later--;
		if (take_reply(s, s->ops.rcpt_done(s->ctx, next, &s->reply),
		    250, "2.1.5", "Ok") == 0)
			s->nrcpt++;
	}
}

static void
tx_reset(struct smtp_session *s)
{
	if (s->in_tx && s->ops.abort != NULL)
		s->ops.abort(s->ctx);
	s->in_tx = 0;
	memset(&s->par, 0, sizeof s->par);
	s->nrcpt = 0;
	s->data_begun = 0;
	s->data_failed = 0;
	s->bdat = 0;
	s->bdat_failed = 0;
	s->bdat_last = 0;
	s->bdat_discard = 0;
	buf_reset(&s->bdat_err);
}

/* After data_end: the transaction is over without an abort. */
static void
tx_done(struct smtp_session *s)
{
	s->in_tx = 0;
	tx_reset(s);
}

/*
 * The transaction of a closing session ends (abort) only once its last
 * reply has been handed to the driver (smtp_session_output_done), so the
 * driver can still log that reply with the transaction's sender.
 */
static void
close_with(struct smtp_session *s, int code, const char *enh,
    const char *text)
{
	reply(s, code, enh, "%s %s", s->cfg.hostname, text);
	s->closing = 1;
}

static void
sync_error(struct smtp_session *s)
{
	reply(s, 554, "5.5.0", "%s", sync_text);
	s->closing = 1;
}

struct smtp_session *
smtp_session_new(const struct smtp_session_cfg *cfg,
    const struct smtp_session_ops *ops, void *ctx)
{
	struct smtp_session *s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->cfg = *cfg;
	if (s->cfg.hostname == NULL)
		s->cfg.hostname = "localhost";
	if (s->cfg.max_rcpt == 0)
		s->cfg.max_rcpt = 100;
	if (s->cfg.max_errors == 0)
		s->cfg.max_errors = 20;
	if (s->cfg.max_received == 0)
		s->cfg.max_received = 50;
	if (s->cfg.ext == 0)
		s->cfg.ext = SMTP_EXT_ALL;
	s->ops = *ops;
	s->ctx = ctx;
	buf_init(&s->out, SMTP_SESSION_OUT_MAX);
	buf_init(&s->reply, SMTP_SESSION_REPLY_MAX);
	buf_init(&s->bdat_err, 4096);
	smtp_line_init(&s->lr, s->cfg.line_max);
	if (!s->cfg.accept_mail) {
		/* RFC 7504 3: 521 greeting, then close */
		reply(s, 521, "5.3.2", "%s does not accept mail",
		    s->cfg.hostname);
		s->closing = 1;
	} else if (s->cfg.lmtp_only)
		reply(s, 220, NULL, "%s LMTP Postmaster", s->cfg.hostname);
	else
		reply(s, 220, NULL, "%s ESMTP Postmaster", s->cfg.hostname);
	if (s->out.len == 0) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void
smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	/* a closing session whose last reply was never written */
	tx_reset(s);
	buf_free(&s->out);
	buf_free(&s->reply);
	buf_free(&s->bdat_err);
	free(s);
}

static void
ehlo_reply(struct smtp_session *s, int lhlo)
{
	struct buf *b = &s->out;
	unsigned ext = s->cfg.ext;
	int r = 0;

	r |= smtp_reply_line(b, 250, NULL, 0, "%s", s->cfg.hostname);
	r |= smtp_reply_line(b, 250, NULL, 0, "PIPELINING");
	if (ext & SMTP_EXT_SIZE) {
		if (s->cfg.size_max)
			r |= smtp_reply_line(b, 250, NULL, 0, "SIZE %llu",
			    (unsigned long long)s->cfg.size_max);
		else
			r |= smtp_reply_line(b, 250, NULL, 0, "SIZE");
	}
	if (ext & SMTP_EXT_8BITMIME)
		r |= smtp_reply_line(b, 250, NULL, 0, "8BITMIME");
	if (s->cfg.starttls && !s->tls && s->ops.starttls != NULL)
		r |= smtp_reply_line(b, 250, NULL, 0, "STARTTLS");
	/* RFC 4954 4, RFC 3207 6: plaintext passwords only under TLS */
	if (s->cfg.auth_mechs != NULL && s->ops.auth != NULL &&
	    s->ops.auth_resp != NULL && s->tls &&
	    !s->authed)
		r |= smtp_reply_line(b, 250, NULL, 0, "AUTH %s",
		    s->cfg.auth_mechs);
	r |= smtp_reply_line(b, 250, NULL, 0, "ENHANCEDSTATUSCODES");
	if (ext & SMTP_EXT_BINARYMIME)
		r |= smtp_reply_line(b, 250, NULL, 0, "BINARYMIME");
	if (ext & SMTP_EXT_SMTPUTF8)
		r |= smtp_reply_line(b, 250, NULL, 0, "SMTPUTF8");
	/* the seed: EHLO advertises that LHLO is understood here */
	if (!lhlo)
		r |= smtp_reply_line(b, 250, NULL, 0, "X-LMTP");
	r |= smtp_reply_line(b, 250, NULL, 1, "CHUNKING");
	if (r != 0)
		fatal(s);
}

static void
do_helo(struct smtp_session *s, const struct smtp_cmd *c, int rc)
{
	if (rc != 0) {
		err_reply(s, 501, "5.5.4", "Syntax: %s hostname",
		    smtp_cmd_name(c->verb));
		return;
	}
	if (s->cfg.lmtp_only && c->verb != SMTP_V_LHLO) {
		/* RFC 2033 4.1: LMTP has LHLO instead */
		err_reply(s, 500, "5.5.1", "Error: this is LMTP, use LHLO");
		return;
	}
	/* RFC 5321 4.1.4: HELO/EHLO reset like RSET */
	tx_reset(s);
	/* smtp_cmd checked: printable ASCII, at most SMTP_HELO_MAX */
	memcpy(s->helo_name, c->arg, c->arglen);
	s->helo_name[c->arglen] = '\0';
	switch (c->verb) {
	case SMTP_V_HELO:
		s->helo = HELO_HELO;
		s->lmtp = 0;
		reply(s, 250, NULL, "%s", s->cfg.hostname);
		break;
	case SMTP_V_EHLO:
		s->helo = HELO_EHLO;
		s->lmtp = 0;
		ehlo_reply(s, 0);
		break;
	default:
		s->helo = HELO_LHLO;
		s->lmtp = 1;
		ehlo_reply(s, 1);
		break;
	}
}

/* The ESMTP extensions in force: none after plain HELO (RFC 5321 4.1.1.1) */
static unsigned
ext_now(const struct smtp_session *s)
{
	return s->helo == HELO_HELO ? 0 : s->cfg.ext;
}

static int
tx_bdat_busy(struct smtp_session *s)
{
	if (!s->bdat)
		return 0;
	/* RFC 3030 3: only BDAT, RSET, QUIT (and NOOP) inside BDAT */
	err_reply(s, 503, "5.5.1", "Error: BDAT transaction in progress");
	return 1;
}

static void
addr_error(struct smtp_session *s, int r, int mail)
{
	const char *bad = mail ? "5.1.7" : "5.1.3";
	const char *what = mail ? "sender" : "recipient";

	switch (r) {
	case SMTP_ADDR_E_TOOLONG:
		err_reply(s, 501, bad, "Error: %s address too long", what);
		break;
	case SMTP_ADDR_E_BADUTF8:
		err_reply(s, 501, bad, "Error: %s address is not valid UTF-8",
		    what);
		break;
	case SMTP_ADDR_E_HIDDEN:
		err_reply(s, 501, bad, "Error: %s address contains a control "
		    "or bidi formatting character", what);
		break;
	case SMTP_ADDR_E_NEEDUTF8:
		/* RFC 6531 3.7.4.1 */
		err_reply(s, 553, "5.6.7",
		    "Error: non-ASCII %s address requires SMTPUTF8", what);
		break;
	case SMTP_ADDR_E_PARAM:
		err_reply(s, 501, "5.5.4", "Error: bad parameter syntax");
		break;
	case SMTP_ADDR_E_PARAM_DUP:
		err_reply(s, 501, "5.5.4", "Error: duplicate parameter");
		break;
	case SMTP_ADDR_E_PARAM_UNKNOWN:
		err_reply(s, 555, "5.5.4", "Error: unsupported parameter");
		break;
	default:
		err_reply(s, 501, bad, "Error: bad %s address syntax", what);
		break;
	}
}

static void
do_mail(struct smtp_session *s, const struct smtp_cmd *c, int rc)
{
	struct smtp_path path;
	struct smtp_params par;
	int r;

	if (s->helo == HELO_NONE) {
		err_reply(s, 503, "5.5.1", "Error: send HELO/EHLO first");
		return;
	}
	if (s->in_tx) {
		err_reply(s, 503, "5.5.1", "Error: nested MAIL command");
		return;
	}
	if (rc != 0) {
		err_reply(s, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
		return;
	}
	r = smtp_addr_parse_mail(c->arg, c->arglen, ext_now(s), &path, &par);
	if (r != 0) {
		addr_error(s, r, 1);
		return;
	}
	/* RFC 1870 6 */
	if (par.has_size && s->cfg.size_max && par.size > s->cfg.size_max) {
		err_reply(s, 552, "5.3.4",
		    "Error: message size exceeds fixed limit");
		return;
	}
	r = s->ops.mail ? s->ops.mail(s->ctx, &path, &par, &s->reply) : 0;
	if (take_reply(s, r, 250, "2.1.0", "Ok") == 0) {
		s->in_tx = 1;
		s->par = par;
	}
}

static void
do_rcpt(struct smtp_session *s, const struct smtp_cmd *c, int rc)
{
	struct smtp_path path;
	struct smtp_params par;
	int r;

	if (!s->in_tx) {
		err_reply(s, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (tx_bdat_busy(s))
		return;
	if (rc != 0) {
		settle(s, SMTP_V_UNKNOWN);
		err_reply(s, 501, "5.5.4", "Syntax: RCPT TO:<address>");
		return;
	}
	/* RFC 5321 4.5.3.1.10; deferred ones may yet be refused */
	if (s->nrcpt + s->rcpt_later >= s->cfg.max_rcpt)
		settle(s, SMTP_V_UNKNOWN);
	if (s->nrcpt >= s->cfg.max_rcpt) {
		err_reply(s, 452, "4.5.3", "Error: too many recipients");
		return;
	}
	r = smtp_addr_parse_rcpt(c->arg, c->arglen, ext_now(s),
	    (s->par.smtputf8 ? SMTP_PATH_UTF8 : 0) |
	    (s->cfg.local_names ? SMTP_PATH_LOCAL : 0), &path, &par);
	if (r != 0) {
		settle(s, SMTP_V_UNKNOWN);
		addr_error(s, r, 0);
		return;
	}
	r = s->ops.rcpt ? s->ops.rcpt(s->ctx, &path, &par, &s->reply) : 0;
	if (r == SMTP_SESSION_RCPT_LATER && s->ops.rcpt_done != NULL &&
	    s->reply.len == 0) {
		s->rcpt_later++;
		return;
	}
	if (s->rcpt_later > 0) {
		/* ops.rcpt wrote this RCPT's reply already: it waits in its
		 * own buffer while the held ones are answered first */
		struct buf mine = s->reply;

		buf_init(&s->reply, SMTP_SESSION_REPLY_MAX);
		settle(s, SMTP_V_UNKNOWN);
		buf_free(&s->reply);
		s->reply = mine;
	}
	if (take_reply(s, r, 250, "2.1.5", "Ok") == 0)
		s->nrcpt++;
}

/* Checks common to DATA and BDAT; 0 when the message may start. */
static int
data_allowed(struct smtp_session *s)
{
	if (!s->in_tx) {
		err_reply(s, 503, "5.5.1", "Error: need MAIL command");
		return -1;
	}
	if (s->nrcpt == 0) {
		/* RFC 2033 4.2 wants 503 in LMTP; RFC 5321 3.3 554 */
		err_reply(s, s->lmtp ? 503 : 554, "5.5.1",
		    "Error: no valid recipients");
		return -1;
	}
	return 0;
}

static int
data_out(void *ctx, const char *p, size_t n)
{
	struct smtp_session *s = ctx;

	if (s->data_failed || s->ops.data_write == NULL)
		return 0;
	if (s->ops.data_write(s->ctx, p, n) != 0)
		s->data_failed = 1;
	return 0;
}

static void
data_start(struct smtp_session *s)
{
	smtp_data_init(&s->data, s->cfg.size_max, data_out, s);
	s->data_failed = 0;
}

static void
do_data(struct smtp_session *s, int rc)
{
	int r;

	if (rc != 0) {
		err_reply(s, 501, "5.5.4", "Syntax: DATA");
		return;
	}
	if (data_allowed(s) != 0)
		return;
	if (s->bdat) {
		/* RFC 3030 3 */
		err_reply(s, 503, "5.5.1", "Error: DATA after BDAT");
		return;
	}
	if (s->par.body == SMTP_BODY_BINARYMIME) {
		/* RFC 3030 3: BINARYMIME cannot be dot-stuffed */
		err_reply(s, 503, "5.5.1",
		    "Error: BODY=BINARYMIME requires BDAT");
		return;
	}
	r = s->ops.data_begin ? s->ops.data_begin(s->ctx, &s->reply) : 0;
	if (take_reply(s, r, 354, NULL,
	    "End data with <CR><LF>.<CR><LF>") != 0)
		return;
	s->data_begun = 1;
	data_start(s);
	s->st = ST_DATA;
}

/* The message has ended; decide and reply (RFC 5321 4.1.1.4). */
static void
message_end(struct smtp_session *s)
{
	struct smtp_msg_info info;
	const struct smtp_data *d = &s->data;
	int bare_ok = s->bdat && s->par.body == SMTP_BODY_BINARYMIME;
	int r;

	if (s->data_failed)
		msg_reply(s, 451, "4.3.0", "Error: local error in processing");
	else if (d->over)
		msg_reply(s, 552, "5.3.4",
		    "Error: message size exceeds fixed limit");
	else if (!bare_ok && (d->bare_lf || d->bare_cr))
		msg_reply(s, 550, "5.5.2", "Error: bare <CR> or <LF> in "
		    "message, lines must end in <CR><LF>");
	else if (!bare_ok && d->nul)
		/* RFC 5322 2.3, RFC 6152 2: text never holds NUL; only
		 * BINARYMIME content may (RFC 3030 3), as pickup rules */
		msg_reply(s, 550, "5.6.0", "Error: NUL character in message, "
		    "allowed only with BODY=BINARYMIME");
	else if (d->received > s->cfg.max_received)
		/* RFC 5321 6.3 */
		msg_reply(s, 554, "5.4.6", "Error: too many hops");
	else {
		memset(&info, 0, sizeof info);
		info.size = d->size;
		info.body = s->par.body;
		info.smtputf8 = s->par.smtputf8;
		info.eightbit = d->eightbit;
		info.nul = d->nul;
		info.mime_version = d->mime_version;
		info.content_type = d->content_type;
		info.received = d->received;
		info.nrcpt = s->nrcpt;
		info.lmtp = s->lmtp;
		info.bdat = s->bdat;
		info.wire_canonical = smtp_data_wire_canonical(d);
		r = s->ops.data_end ? s->ops.data_end(s->ctx, &info,
		    &s->reply) : 0;
		if (s->reply.len > 0) {
			if (buf_append(&s->out, s->reply.p, s->reply.len) < 0)
				fatal(s);
			buf_reset(&s->reply);
		} else if (r == 0)
			msg_reply(s, 250, "2.0.0", "Ok: queued");
		else
			msg_reply(s, 451, "4.3.0",
			    "Error: local error in processing");
		tx_done(s);
		return;
	}
	tx_reset(s);
}

static void
do_bdat(struct smtp_session *s, const struct smtp_cmd *c, int rc)
{
	struct buf save;
	int r;

	if (rc != 0) {
		/* a chunk of this message is lost: it cannot be committed */
		if (s->bdat)
			s->bdat_failed = 1;
		if (!c->bdat_sized) {
			/*
			 * No size ("BDAT", "BDAT x", "BDAT -5 LAST"): the
			 * client cannot have sent a chunk we could count,
			 * nothing was consumed, and the next line is a
			 * command. Stay in sync, as for any syntax error.
			 */
			err_reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
			return;
		}
	}
	s->bdat_size = c->bdat_size;
	s->bdat_last = c->bdat_last;
	s->bdat_discard = 1;
	buf_reset(&s->bdat_err);
	s->st = ST_BDAT;
	if (rc != 0 || !s->in_tx || s->nrcpt == 0 || s->bdat_failed) {
		/*
		 * RFC 3030 2: a refused BDAT's chunk is still read (and
		 * dropped), or it would be taken for commands; the reply,
		 * built here in bdat_err, follows the chunk.
		 */
		save = s->out;
		s->out = s->bdat_err;
		if (rc != 0)
			err_reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		else if (s->bdat_failed)
			err_reply(s, 503, "5.5.1",
			    "Error: BDAT transaction failed, send RSET");
		else
			(void)data_allowed(s);
		s->bdat_err = s->out;
		s->out = save;
		if (s->bdat_err.len == 0)
			fatal(s);
		goto discard;
	}
	if (!s->bdat) {
		r = s->ops.data_begin ? s->ops.data_begin(s->ctx, &s->reply) :
		    0;
		if (r != 0) {
			if (s->reply.len == 0 && buf_append_str(&s->reply,
			    "451 4.3.0 Error: local error in processing\r\n")
			    < 0)
				fatal(s);
			if (buf_append(&s->bdat_err, s->reply.p,
			    s->reply.len) < 0)
				fatal(s);
			buf_reset(&s->reply);
			s->errors++;
			s->bdat_failed = 1;
			goto discard;
		}
		s->bdat = 1;
		s->data_begun = 1;
		data_start(s);
	}
	s->bdat_discard = 0;
	smtp_data_chunk(&s->data, c->bdat_size);
	return;
discard:
	/* a throw-away byte machine counts the dropped chunk */
	smtp_data_init(&s->discard, 0, NULL, NULL);
	smtp_data_chunk(&s->discard, c->bdat_size);
}

/* A BDAT chunk has been read. */
static void
bdat_end(struct smtp_session *s)
{
	s->st = ST_CMD;
	if (s->bdat_discard) {
		if (buf_append(&s->out, s->bdat_err.p, s->bdat_err.len) < 0)
			fatal(s);
		buf_reset(&s->bdat_err);
		return;
	}
	if (s->bdat_last) {
		message_end(s);
		return;
	}
	if (s->data.over || s->data_failed) {
		/* no use reading more chunks of a failed message */
		if (s->data_failed)
			err_reply(s, 451, "4.3.0",
			    "Error: local error in processing");
		else
			err_reply(s, 552, "5.3.4",
			    "Error: message size exceeds fixed limit");
		s->bdat_failed = 1;
		return;
	}
	reply(s, 250, "2.0.0", "Ok: %llu octets received",
	    (unsigned long long)s->bdat_size);
}

static void line_error(struct smtp_session *, int);

/* An AUTH callback's answer: authenticated, a challenge, or refused. */
static void
auth_outcome(struct smtp_session *s, int r)
{
	if (r == SMTP_SESSION_AUTH_MORE && s->reply.len > 0) {
		if (buf_append(&s->out, s->reply.p, s->reply.len) < 0)
			fatal(s);
		buf_reset(&s->reply);
		s->auth_more = 1;
		return;
	}
	s->auth_more = 0;
	if (take_reply(s, r, 235, "2.7.0", "Authentication successful") == 0)
		s->authed = 1;
}

static void
do_auth(struct smtp_session *s, const struct smtp_cmd *c, int rc)
{
	if (s->ops.auth == NULL || s->ops.auth_resp == NULL ||
	    s->cfg.auth_mechs == NULL) {
		err_reply(s, 502, "5.5.1", "Error: command not implemented");
		return;
	}
	/* AUTH is an extension: after EHLO/LHLO only (RFC 5321 4.1.1.1) */
	if (s->helo == HELO_NONE || s->helo == HELO_HELO) {
		err_reply(s, 503, "5.5.1", "Error: send EHLO first");
		return;
	}
	if (s->authed) {
		err_reply(s, 503, "5.5.1", "Error: already authenticated");
		return;
	}
	if (s->in_tx) {
		/* RFC 4954 4: not during a mail transaction */
		err_reply(s, 503, "5.5.1", "Error: MAIL transaction in progress");
		return;
	}
	if (!s->tls) {
		/* RFC 4954 6 */
		err_reply(s, 538, "5.7.11", "Encryption required for requested "
		    "authentication mechanism");
		return;
	}
	if (rc != 0 || c->arglen == 0) {
		err_reply(s, 501, "5.5.4",
		    "Syntax: AUTH mechanism [initial-response]");
		return;
	}
	auth_outcome(s, s->ops.auth(s->ctx, c->arg, c->arglen, &s->reply));
}

/* A line that answers a 334 (RFC 4954 4), or a line error in its place. */
static void
auth_line(struct smtp_session *s, const char *line, size_t len, int lerr)
{
	s->auth_more = 0;
	if (lerr == SMTP_LINE_E_TOOLONG) {
		err_reply(s, 500, "5.5.6",
		    "Authentication Exchange line is too long");
		return;
	}
	if (lerr < 0) {
		line_error(s, lerr);
		return;
	}
	auth_outcome(s, s->ops.auth_resp(s->ctx, line, len, &s->reply));
}

static void
do_simple(struct smtp_session *s, const struct smtp_cmd *c, int rc)
{
	int r;

	switch (c->verb) {
	case SMTP_V_RSET:
		if (rc != 0) {
			err_reply(s, 501, "5.5.4", "Syntax: RSET");
			return;
		}
		tx_reset(s);
		reply(s, 250, "2.0.0", "Ok");
		return;
	case SMTP_V_NOOP:
		reply(s, 250, "2.0.0", "Ok");
		return;
	case SMTP_V_QUIT:
		if (rc != 0) {
			err_reply(s, 501, "5.5.4", "Syntax: QUIT");
			return;
		}
		close_with(s, 221, "2.0.0", "Bye");
		return;
	case SMTP_V_STARTTLS:
		if (s->ops.starttls == NULL || !s->cfg.starttls) {
			err_reply(s, 502, "5.5.1",
			    "Error: command not implemented");
			return;
		}
		if (s->tls) {
			err_reply(s, 503, "5.5.1", "Error: TLS already active");
			return;
		}
		if (rc != 0) {
			err_reply(s, 501, "5.5.4", "Syntax: STARTTLS");
			return;
		}
		r = s->ops.starttls(s->ctx, &s->reply);
		if (take_reply(s, r, 220, "2.0.0", "Ready to start TLS") == 0)
			s->tls_pending = 1;
		return;
	case SMTP_V_AUTH:
		do_auth(s, c, rc);
		return;
	default:
		/* HELP TURN SEND SOML SAML EXPN VRFY: the seed says 502 */
		err_reply(s, 502, "5.5.1", "Error: command not implemented");
		return;
	}
}

static int
is_sync_verb(enum smtp_verb v)
{
	return v == SMTP_V_HELO || v == SMTP_V_EHLO || v == SMTP_V_LHLO ||
	    v == SMTP_V_DATA || v == SMTP_V_STARTTLS;
}

/* `more`: input follows this command line in the same feed. */
static void
command(struct smtp_session *s, const char *line, size_t len, int more)
{
	struct smtp_cmd c;
	int rc;

	rc = smtp_cmd_parse(line, len, &c);
	/* a group of RCPTs ends here (a RCPT settles only what it must) */
	if (rc == SMTP_CMD_E_UNKNOWN)
		settle(s, SMTP_V_UNKNOWN);
	else if (c.verb != SMTP_V_RCPT)
		settle(s, (c.verb == SMTP_V_DATA && !more) ||
		    c.verb == SMTP_V_BDAT ? c.verb : SMTP_V_UNKNOWN);
	if (rc == SMTP_CMD_E_UNKNOWN) {
		s->count[SMTP_V_UNKNOWN]++;
		err_reply(s, 500, "5.5.1", "Error: command not recognized");
		return;
	}
	s->count[c.verb]++;
	if (more && is_sync_verb(c.verb)) {
		sync_error(s);
		return;
	}
	switch (c.verb) {
	case SMTP_V_HELO:
	case SMTP_V_EHLO:
	case SMTP_V_LHLO:
		do_helo(s, &c, rc);
		break;
	case SMTP_V_MAIL:
		do_mail(s, &c, rc);
		break;
	case SMTP_V_RCPT:
		do_rcpt(s, &c, rc);
		break;
	case SMTP_V_DATA:
		do_data(s, rc);
		break;
	case SMTP_V_BDAT:
		do_bdat(s, &c, rc);
		break;
	default:
		do_simple(s, &c, rc);
		break;
	}
}

static void
line_error(struct smtp_session *s, int r)
{
	settle(s, SMTP_V_UNKNOWN);
	switch (r) {
	case SMTP_LINE_E_TOOLONG:
		err_reply(s, 500, "5.5.2", "Error: line too long");
		break;
	case SMTP_LINE_E_BARELF:
		err_reply(s, 500, "5.5.2", "Error: bare <LF> received");
		break;
	case SMTP_LINE_E_BARECR:
		err_reply(s, 500, "5.5.2", "Error: bare <CR> received");
		break;
	default:
		err_reply(s, 500, "5.5.2", "Error: NUL character received");
		break;
	}
}

static size_t feed(struct smtp_session *s, const char *p, size_t n);

size_t
smtp_session_feed(struct smtp_session *s, const char *p, size_t n)
{
	size_t used = feed(s, p, n);

	/* no RCPT stays unanswered between feeds */
	settle(s, SMTP_V_UNKNOWN);
	return used;
}

static size_t
feed(struct smtp_session *s, const char *p, size_t n)
{
	const char *line = NULL;
	size_t off = 0, used, ll;
	int r;

	if (s->closing || s->tls_pending)
		return n;
	if (!s->greeted && n > 0) {
		/* the client talked before it could see our greeting */
		sync_error(s);
		return n;
	}
	while (off < n && !s->closing) {
		if (s->out.len >= SMTP_SESSION_OUT_HIWAT)
			break;
		switch (s->st) {
		case ST_CMD:
			r = smtp_line_get(&s->lr, p + off, n - off, &line,
			    &ll, &used);
			off += used;
			if (r == SMTP_LINE_MORE)
				return off;
			if (s->auth_more)
				auth_line(s, line, r < 0 ? 0 : ll, r);
			else if (r < 0)
				line_error(s, r);
			else
				command(s, line, ll, off < n);
			if (s->tls_pending)
				return n;	/* RFC 3207 4.2: discard */
			if (s->errors >= s->cfg.max_errors && !s->closing)
				close_with(s, 421, "4.7.0",
				    "Error: too many errors");
			break;
		case ST_DATA:
			r = smtp_data_feed(&s->data, p + off, n - off, &used);
			off += used;
			if (r == SMTP_DATA_END) {
				s->st = ST_CMD;
				message_end(s);
			}
			break;
		case ST_BDAT:
			r = smtp_data_chunk_feed(s->bdat_discard ?
			    &s->discard : &s->data, p + off, n - off, &used);
			off += used;
			if (r == SMTP_DATA_END)
				bdat_end(s);
			break;
		}
		/* "BDAT 0" has no octets to wait for */
		if (s->st == ST_BDAT && s->bdat_size == 0)
			bdat_end(s);
	}
	return s->closing ? n : off;
}

const char *
smtp_session_output(struct smtp_session *s, size_t *len)
{
	*len = s->out.len;
	return s->out.p;
}

void
smtp_session_output_done(struct smtp_session *s, size_t n)
{
	if (n > 0)
		s->greeted = 1;
	buf_consume(&s->out, n);
	if (s->closing && s->out.len == 0)
		tx_reset(s);
}

int
smtp_session_closing(const struct smtp_session *s)
{
	return s->closing;
}

int
smtp_session_tls_pending(const struct smtp_session *s)
{
	return s->tls_pending;
}

void
smtp_session_tls_done(struct smtp_session *s)
{
	/* RFC 3207 4.2: forget everything learnt before TLS */
	tx_reset(s);
	s->tls_pending = 0;
	s->tls = 1;
	s->helo = HELO_NONE;
	s->helo_name[0] = '\0';
	s->lmtp = 0;
	smtp_line_reset(&s->lr);
	s->st = ST_CMD;
}

void
smtp_session_timeout(struct smtp_session *s)
{
	if (s->closing)
		return;
	close_with(s, 421, "4.4.2", "Error: timeout exceeded");
}

void
smtp_session_eof(struct smtp_session *s)
{
	tx_reset(s);
	s->closing = 1;
}

unsigned
smtp_session_count(const struct smtp_session *s, enum smtp_verb verb)
{
	return (unsigned)verb < SMTP_V_COUNT ? s->count[verb] : 0;
}

unsigned
smtp_session_errors(const struct smtp_session *s)
{
	return s->errors;
}

int
smtp_session_lmtp(const struct smtp_session *s)
{
	return s->lmtp;
}

int
smtp_session_tls(const struct smtp_session *s)
{
	return s->tls;
}

int
smtp_session_authenticated(const struct smtp_session *s)
{
	return s->authed;
}

const char *
smtp_session_helo(const struct smtp_session *s)
{
	return s->helo_name;
}
