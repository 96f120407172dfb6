/*
 * The session's AUTH seam (RFC 4954) with the real SASL machine behind
 * it: offered and accepted only under TLS, the 334 exchange, once per
 * session, never inside a transaction, errors counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_sasl.h"
#include "base/buf.h"
#include "smtp/smtp_session.h"
#include "tap.h"

struct fake {
	struct auth_sasl sasl;
	int checks; /* credentials the driver was asked to verify */
};

static int
f_mail(void *ctx, const struct smtp_path *from, const struct smtp_params *p,
    struct buf *reply)
{
	(void)ctx;
	(void)from;
	(void)p;
	(void)reply;
	return 0;
}

static int
f_starttls(void *ctx, struct buf *reply)
{
	(void)ctx;
	(void)reply;
	return 0;
}

/* joe / pw is the only account */
static int
outcome(struct fake *f, int r, struct buf *reply)
{
	if (r == AUTH_SASL_MORE) {
		buf_printf(reply, "334 %s\r\n", f->sasl.challenge);
		return SMTP_SESSION_AUTH_MORE;
	}
	if (r == AUTH_SASL_DONE) {
		f->checks++;
		if (strcmp(f->sasl.user, "joe") == 0 &&
		    strcmp(f->sasl.pass, "pw") == 0)
			return 0;
		r = AUTH_SASL_E_MESSAGE;
	}
	buf_printf(reply, "%s\r\n", auth_sasl_reply(r));
	return 1;
}

static int
f_auth(void *ctx, const char *arg, size_t len, struct buf *reply)
{
	struct fake *f = ctx;

	return outcome(f, auth_sasl_start(&f->sasl, arg, len), reply);
}

static int
f_auth_resp(void *ctx, const char *line, size_t len, struct buf *reply)
{
	struct fake *f = ctx;

	return outcome(f, auth_sasl_step(&f->sasl, line, len), reply);
}

static const struct smtp_session_ops ops = { f_mail, NULL, NULL, NULL, NULL,
	NULL, f_starttls, f_auth, f_auth_resp, NULL };

/* Feeds one chunk and returns everything the session answered. */
static const char *
say(struct smtp_session *s, const char *in, struct buf *out)
{
	size_t n, used = 0, len = strlen(in);
	const char *p;

	buf_reset(out);
	while (used < len) {
		size_t c = smtp_session_feed(s, in + used, len - used);

		p = smtp_session_output(s, &n);
		buf_append(out, p, n);
		smtp_session_output_done(s, n);
		if (c == 0)
			break;
		used += c;
	}
	p = smtp_session_output(s, &n);
	buf_append(out, p, n);
	smtp_session_output_done(s, n);
	return out->p ? out->p : "";
}

static struct smtp_session *
session(struct fake *f, int tls, unsigned max_errors, size_t line_max)
{
	struct smtp_session_cfg c;
	struct smtp_session *s;
	struct buf out = BUF_INIT(0);

	memset(&c, 0, sizeof c);
	memset(f, 0, sizeof *f);
	c.hostname = "mx.test";
	c.accept_mail = 1;
	c.starttls = 1;
	c.auth_mechs = "PLAIN LOGIN";
	c.max_errors = max_errors;
	c.line_max = line_max;
	s = smtp_session_new(&c, &ops, f);
	say(s, "", &out); /* the greeting */
	if (tls) {
		say(s, "EHLO c\r\n", &out);
		say(s, "STARTTLS\r\n", &out);
		smtp_session_tls_done(s);
	}
	buf_free(&out);
	return s;
}

#define AUTH_LINE "250-AUTH PLAIN LOGIN\r\n"
#define OK235 "235 2.7.0 Authentication successful\r\n"
#define BAD535 "535 5.7.8 Authentication credentials invalid\r\n"

struct tcase {
	const char *name;
	const char *in[6];
	const char *want[6];
};

/* Each case starts after STARTTLS and "EHLO c". */
static const struct tcase cases[] = {
	{ "PLAIN with initial response", { "AUTH PLAIN AGpvZQBwdw==\r\n" },
	    { OK235 } },
	{ "PLAIN, authzid equal to the user",
	    { "AUTH PLAIN am9lAGpvZQBwdw==\r\n" }, { OK235 } },
	{ "PLAIN, authzid of someone else",
	    { "AUTH PLAIN YW5uAGpvZQBwdw==\r\n" }, { BAD535 } },
	{ "PLAIN, mechanism in lower case", { "AUTH plain AGpvZQBwdw==\r\n" },
	    { OK235 } },
	{ "PLAIN without initial response: empty challenge",
	    { "AUTH PLAIN\r\n", "AGpvZQBwdw==\r\n" }, { "334 \r\n", OK235 } },
	{ "PLAIN, wrong password", { "AUTH PLAIN AGpvZQBiYWQ=\r\n" },
	    { BAD535 } },
	{ "PLAIN, no password field", { "AUTH PLAIN AGpvZQ==\r\n" },
	    { BAD535 } },
	{ "PLAIN '=': empty initial response", { "AUTH PLAIN =\r\n" },
	    { BAD535 } },
	{ "LOGIN", { "AUTH LOGIN\r\n", "am9l\r\n", "cHc=\r\n" },
	    { "334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n", OK235 } },
	{ "LOGIN with the user as initial response",
	    { "AUTH LOGIN am9l\r\n", "cHc=\r\n" },
	    { "334 UGFzc3dvcmQ6\r\n", OK235 } },
	{ "LOGIN, empty password line", { "AUTH LOGIN am9l\r\n", "\r\n" },
	    { "334 UGFzc3dvcmQ6\r\n", BAD535 } },
	{ "cancel with *", { "AUTH LOGIN\r\n", "*\r\n", "NOOP\r\n" },
	    { "334 VXNlcm5hbWU6\r\n",
	        "501 5.0.0 Authentication "
	        "cancelled\r\n",
	        "250 2.0.0 Ok\r\n" } },
	{ "bad base64 in the response", { "AUTH PLAIN\r\n", "AG!v\r\n" },
	    { "334 \r\n", "501 5.5.2 Cannot decode response\r\n" } },
	{ "bad base64 in the initial response",
	    { "AUTH PLAIN AGpvZQBwdw=\r\n" },
	    { "501 5.5.2 Cannot decode response\r\n" } },
	{ "non-zero padding bits", { "AUTH PLAIN AGpvZQBwdx==\r\n" },
	    { "501 5.5.2 Cannot decode response\r\n" } },
	{ "unknown mechanism", { "AUTH CRAM-MD5\r\n" },
	    { "504 5.5.4 Unrecognized authentication type\r\n" } },
	{ "no mechanism", { "AUTH\r\n" },
	    { "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n" } },
	{ "twice",
	    { "AUTH PLAIN AGpvZQBwdw==\r\n", "AUTH PLAIN AGpvZQBwdw==\r\n" },
	    { OK235, "503 5.5.1 Error: already authenticated\r\n" } },
	{ "inside a transaction",
	    { "MAIL FROM:<a@x.test>\r\n", "AUTH PLAIN AGpvZQBwdw==\r\n" },
	    { "250 2.1.0 Ok\r\n",
	        "503 5.5.1 Error: MAIL transaction in "
	        "progress\r\n" } },
	{ "after a failure, a second try",
	    { "AUTH PLAIN AGpvZQBiYWQ=\r\n", "AUTH PLAIN AGpvZQBwdw==\r\n" },
	    { BAD535, OK235 } },
	{ "response pipelined behind AUTH",
	    { "AUTH PLAIN\r\nAGpvZQBwdw==\r\n" }, { "334 \r\n" OK235 } },
	{ "EHLO after AUTH offers no second AUTH",
	    { "AUTH PLAIN AGpvZQBwdw==\r\n", "EHLO c\r\n" },
	    { OK235,
	        "250-mx.test\r\n250-PIPELINING\r\n250-SIZE\r\n"
	        "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-BINARYMIME\r\n"
	        "250-SMTPUTF8\r\n250-X-LMTP\r\n250 CHUNKING\r\n" } },
};

int
main(void)
{
	struct buf out = BUF_INIT(0);
	struct smtp_session *s;
	struct fake f;
	size_t i, j;
	char big[700];

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tcase *t = &cases[i];
		int good = 1;

		s = session(&f, 1, 0, 0);
		say(s, "EHLO c\r\n", &out);
		for (j = 0; j < 6 && t->in[j] != NULL; j++) {
			say(s, t->in[j], &out);
			if (strcmp(out.p ? out.p : "", t->want[j]) != 0) {
				diag("%s: step %zu: got '%s'", t->name, j,
				    out.p ? out.p : "");
				good = 0;
			}
		}
		ok(good, "%s", t->name);
		smtp_session_free(s);
	}

	/* In the clear: not offered, and refused (RFC 4954 6) */
	s = session(&f, 0, 0, 0);
	ok(strstr(say(s, "EHLO c\r\n", &out), "AUTH") == NULL &&
	        strstr(out.p, "STARTTLS") != NULL,
	    "clear: EHLO offers no AUTH");
	is_str(say(s, "AUTH PLAIN AGpvZQBwdw==\r\n", &out),
	    "538 5.7.11 Encryption required for requested authentication "
	    "mechanism\r\n",
	    "clear: AUTH 538 5.7.11");
	is_int(f.checks, 0, "clear: no credentials looked at");
	smtp_session_free(s);

	/* Under TLS: offered after EHLO, not after HELO */
	s = session(&f, 1, 0, 0);
	ok(strstr(say(s, "EHLO c\r\n", &out), AUTH_LINE) != NULL,
	    "TLS: EHLO offers AUTH PLAIN LOGIN");
	ok(strstr(out.p, "STARTTLS") == NULL, "TLS: no second STARTTLS");
	is_str(say(s, "HELO c\r\n", &out), "250 mx.test\r\n", "HELO");
	is_str(say(s, "AUTH PLAIN AGpvZQBwdw==\r\n", &out),
	    "503 5.5.1 Error: send EHLO first\r\n", "AUTH after HELO: 503");
	ok(!smtp_session_authenticated(s), "  not authenticated");
	smtp_session_free(s);

	s = session(&f, 1, 0, 0);
	is_str(say(s, "AUTH PLAIN AGpvZQBwdw==\r\n", &out),
	    "503 5.5.1 Error: send EHLO first\r\n", "AUTH before EHLO: 503");
	say(s, "EHLO c\r\n", &out);
	is_str(say(s, "AUTH PLAIN AGpvZQBwdw==\r\n", &out), OK235,
	    "then EHLO, AUTH: 235");
	ok(smtp_session_authenticated(s) && smtp_session_tls(s),
	    "  authenticated, under TLS");
	smtp_session_free(s);

	/* failures are errors: the session ends at max_errors */
	s = session(&f, 1, 3, 0);
	say(s, "EHLO c\r\n", &out);
	say(s, "AUTH PLAIN AGpvZQBiYWQ=\r\n", &out);
	say(s, "AUTH PLAIN AGpvZQBiYWQ=\r\n", &out);
	is_int(smtp_session_errors(s), 2, "two failures, two errors");
	is_str(say(s, "AUTH PLAIN AGpvZQBiYWQ=\r\n", &out),
	    BAD535 "421 4.7.0 mx.test Error: too many errors\r\n",
	    "third failure: 421 and close");
	ok(smtp_session_closing(s), "  closing");
	smtp_session_free(s);

	/* a response line over the limit ends the exchange: 500 5.5.6 */
	s = session(&f, 1, 0, 512);
	say(s, "EHLO c\r\n", &out);
	is_str(say(s, "AUTH LOGIN\r\n", &out), "334 VXNlcm5hbWU6\r\n",
	    "LOGIN challenge");
	memset(big, 'A', sizeof big - 3);
	memcpy(big + sizeof big - 3, "\r\n", 3);
	is_str(say(s, big, &out),
	    "500 5.5.6 Authentication Exchange line is "
	    "too long\r\n",
	    "long response: 500 5.5.6");
	is_str(say(s, "NOOP\r\n", &out), "250 2.0.0 Ok\r\n",
	    "  then commands again");
	smtp_session_free(s);

	/* without the driver's seam, AUTH does not exist */
	{
		struct smtp_session_cfg c;
		struct smtp_session_ops o = ops;

		memset(&c, 0, sizeof c);
		c.hostname = "mx.test";
		c.accept_mail = 1;
		o.auth = NULL;
		s = smtp_session_new(&c, &o, &f);
		say(s, "", &out);
		say(s, "EHLO c\r\n", &out);
		is_str(say(s, "AUTH PLAIN AGpvZQBwdw==\r\n", &out),
		    "502 5.5.1 Error: command not implemented\r\n",
		    "no auth op: 502");
		smtp_session_free(s);
	}

	buf_free(&out);
	return done_testing();
}
