/*
 * A whole session with a fake driver: no crash, and everything the
 * session ever writes is a sequence of well-formed reply lines.
 * data[0] picks the configuration, data[1] the read size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_sasl.h"
#include "base/buf.h"
#include "smtp/smtp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
f_mail(void *ctx, const struct smtp_path *from, const struct smtp_params *p,
    struct buf *reply)
{
	(void)ctx;
	(void)p;
	if (from->addr[0] == 't')
		return buf_append_str(reply, "451 4.3.0 later\r\n") < 0 ? -1 :
		    1;
	return 0;
}

/* RCPTs answered later (ops.rcpt_done): never more asked than held. */
static unsigned owed;

static int
f_done(void *ctx, enum smtp_verb next, struct buf *reply)
{
	(void)ctx;
	(void)next;
	if (owed == 0)
		abort();
	if (--owed % 2)
		return buf_append_str(reply, "550 5.1.1 no\r\n") < 0 ? -1 : 1;
	return 0;
}

static int
f_rcpt(void *ctx, const struct smtp_path *to, const struct smtp_params *p,
    struct buf *reply)
{
	(void)ctx;
	(void)p;
	if (to->addr[0] == 'l') {
		owed++;
		return SMTP_SESSION_RCPT_LATER;
	}
	if (to->addr[0] == 'b') {
		buf_append_str(reply, "550 5.1.1 unknown\r\n");
		return 1;
	}
	return 0;
}

static int
f_begin(void *ctx, struct buf *reply)
{
	(void)ctx;
	(void)reply;
	return 0;
}

static int
f_write(void *ctx, const char *p, size_t n)
{
	size_t *total = ctx;

	(void)p;
	*total += n;
	return *total > 100000 ? -1 : 0;
}

static int
f_end(void *ctx, const struct smtp_msg_info *in, struct buf *reply)
{
	unsigned i;

	(void)ctx;
	if (in->lmtp)
		for (i = 0; i < in->nrcpt; i++)
			buf_append_str(reply, "250 2.0.0 ok\r\n");
	return in->size % 3 == 0;
}

static int
f_tls(void *ctx, struct buf *reply)
{
	(void)ctx;
	(void)reply;
	return 0;
}

/* AUTH through the real SASL machine; "pw" is the only password. */
static struct auth_sasl sasl;

static int
f_sasl(int r, struct buf *reply)
{
	if (r == AUTH_SASL_MORE) {
		buf_printf(reply, "334 %s\r\n", sasl.challenge);
		return SMTP_SESSION_AUTH_MORE;
	}
	if (r == AUTH_SASL_DONE && strcmp(sasl.pass, "pw") == 0)
		return 0;
	buf_printf(reply, "%s\r\n", auth_sasl_reply(r < 0 ? r :
	    AUTH_SASL_E_MESSAGE));
	return 1;
}

static int
f_auth(void *ctx, const char *arg, size_t len, struct buf *reply)
{
	(void)ctx;
	return f_sasl(auth_sasl_start(&sasl, arg, len), reply);
}

static int
f_auth_resp(void *ctx, const char *line, size_t len, struct buf *reply)
{
	(void)ctx;
	return f_sasl(auth_sasl_step(&sasl, line, len), reply);
}

static void
check_replies(const char *p, size_t n)
{
	size_t i = 0, e;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);

		if (nl == NULL)
			abort();
		e = (size_t)(nl - p);
		if (e - i < 5 || p[e - 1] != '\r' || p[i] < '2' ||
		    p[i] > '5' || (p[i + 3] != ' ' && p[i + 3] != '-') ||
		    e - i + 1 > 512)
			abort();
		if (memchr(p + i, '\r', e - 1 - i) != NULL)
			abort();
		i = e + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_session_cfg cfg;
	struct smtp_session_ops ops = { f_mail, f_rcpt, f_begin, f_write,
		f_end, NULL, f_tls, f_auth, f_auth_resp, f_done };
	struct smtp_session *s;
	struct buf pend = BUF_INIT(0);
	size_t off, k, c, n, total = 0, step;
	const char *out;

	if (size < 2)
		return 0;
	memset(&cfg, 0, sizeof cfg);
	cfg.hostname = "fuzz.test";
	cfg.accept_mail = !(data[0] & 1);
	cfg.lmtp_only = data[0] & 2;
	cfg.starttls = data[0] & 4;
	cfg.size_max = data[0] & 8 ? 200 : 0;
	cfg.max_rcpt = data[0] & 16 ? 2 : 0;
	cfg.line_max = data[0] & 32 ? 64 : 0;
	cfg.auth_mechs = data[0] & 64 ? "PLAIN LOGIN" : NULL;
	step = data[1] ? data[1] : size;
	owed = 0;
	s = smtp_session_new(&cfg, &ops, &total);
	if (s == NULL)
		return 0;
	for (off = 2; off < size && !smtp_session_closing(s); off += k) {
		out = smtp_session_output(s, &n);
		check_replies(out, n);
		smtp_session_output_done(s, n);
		if (smtp_session_tls_pending(s))
			smtp_session_tls_done(s);
		k = step < size - off ? step : size - off;
		buf_append(&pend, data + off, k);
		for (;;) {
			c = smtp_session_feed(s, pend.p, pend.len);
			/* no RCPT stays owed between feeds */
			if (c > pend.len || owed != 0)
				abort();
			buf_consume(&pend, c);
			out = smtp_session_output(s, &n);
			check_replies(out, n);
			smtp_session_output_done(s, n);
			if (c == 0 || pend.len == 0)
				break;
		}
		/* a partial line is never longer than the line limit */
		if (pend.len > (cfg.line_max ? cfg.line_max : 2048))
			abort();
	}
	if (data[0] & 64)
		smtp_session_timeout(s);
	else
		smtp_session_eof(s);
	out = smtp_session_output(s, &n);
	check_replies(out, n);
	smtp_session_free(s);
	buf_free(&pend);
	return 0;
}
