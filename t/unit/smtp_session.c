#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "smtp/smtp_session.h"
#include "tap.h"

/* The fake driver: records what the session asked of it. */
struct fake {
	struct buf log;
	struct buf msg;
	int fail_write;
	int fail_second;	/* LMTP: second recipient gets 452 */
	int refuse_data;
};

static int
f_mail(void *ctx, const struct smtp_path *from, const struct smtp_params *p,
    struct buf *reply)
{
	struct fake *f = ctx;

	buf_printf(&f->log, "M:%s%s ", from->addr,
	    p->body == SMTP_BODY_BINARYMIME ? "/bin" : "");
	if (strncmp(from->addr, "tempfail", 8) == 0) {
		buf_append_str(reply, "451 4.3.0 try later\r\n");
		return 1;
	}
	return 0;
}

static int
f_rcpt(void *ctx, const struct smtp_path *to, const struct smtp_params *p,
    struct buf *reply)
{
	struct fake *f = ctx;

	(void)p;
	buf_printf(&f->log, "R:%s ", to->addr);
	if (strncmp(to->addr, "bad", 3) == 0) {
		buf_printf(reply, "550 5.1.1 <%s>: unknown user\r\n", to->addr);
		return 1;
	}
	return 0;
}

static int
f_begin(void *ctx, struct buf *reply)
{
	struct fake *f = ctx;

	buf_append_str(&f->log, "B ");
	if (f->refuse_data) {
		buf_append_str(reply, "451 4.3.1 no space\r\n");
		return 1;
	}
	return 0;
}

static int
f_write(void *ctx, const char *p, size_t n)
{
	struct fake *f = ctx;

	if (f->fail_write)
		return -1;
	return buf_append(&f->msg, p, n);
}

static int
f_end(void *ctx, const struct smtp_msg_info *in, struct buf *reply)
{
	struct fake *f = ctx;
	unsigned i;

	buf_printf(&f->log, "E:%llu,%d,%u,%u%s%s ",
	    (unsigned long long)in->size, in->eightbit, in->received,
	    in->nrcpt, in->bdat ? ",bdat" : "", in->lmtp ? ",lmtp" : "");
	if (!in->lmtp)
		return 0;
	for (i = 0; i < in->nrcpt; i++) {
		if (i == 1 && f->fail_second)
			buf_append_str(reply, "452 4.2.2 mailbox full\r\n");
		else
			buf_append_str(reply, "250 2.0.0 delivered\r\n");
	}
	return 0;
}

static void
f_abort(void *ctx)
{
	struct fake *f = ctx;

	buf_append_str(&f->log, "A ");
}

static int
f_starttls(void *ctx, struct buf *reply)
{
	(void)ctx;
	(void)reply;
	return 0;
}

static const struct smtp_session_ops ops = {
	f_mail, f_rcpt, f_begin, f_write, f_end, f_abort, NULL, NULL, NULL, NULL
};

static struct smtp_session_cfg
test_cfg(void)
{
	struct smtp_session_cfg c;

	memset(&c, 0, sizeof c);
	c.hostname = "mx.test";
	c.accept_mail = 1;
	c.size_max = 1000;
	c.max_rcpt = 3;
	return c;
}

static void
drain(struct smtp_session *s, struct buf *out)
{
	size_t n;
	const char *p = smtp_session_output(s, &n);

	buf_append(out, p, n);
	smtp_session_output_done(s, n);
}

/*
 * Plays the driver: the greeting is written first (not part of out), then
 * each chunk ('^' for NUL) arrives as one read (split into `step`-octet
 * reads if step > 0); output is written after every feed that drained its
 * input. Returns 1 if the session asked to close.
 */
static int
play(struct smtp_session *s, const char *const *chunks, size_t step,
    struct buf *out)
{
	struct buf pend = BUF_INIT(0);
	struct buf greet = BUF_INIT(0);
	size_t i, off, k, c, j;

	drain(s, &greet);
	buf_free(&greet);
	for (i = 0; chunks[i] != NULL; i++) {
		size_t len = strlen(chunks[i]);

		for (off = 0; off < len; off += k) {
			k = step && step < len - off ? step : len - off;
			buf_append(&pend, chunks[i] + off, k);
			/* '^' stands for a NUL octet, which a C string lacks */
			for (j = pend.len - k; j < pend.len; j++)
				if (pend.p[j] == '^')
					pend.p[j] = '\0';
			for (;;) {
				c = smtp_session_feed(s, pend.p, pend.len);
				buf_consume(&pend, c);
				drain(s, out);
				if (c == 0 || pend.len == 0)
					break;
			}
		}
	}
	drain(s, out);
	buf_free(&pend);
	return smtp_session_closing(s);
}

#define EHLO_REPLY \
	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n" \
	"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-BINARYMIME\r\n" \
	"250-SMTPUTF8\r\n250-X-LMTP\r\n250 CHUNKING\r\n"
#define LHLO_REPLY \
	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n" \
	"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-BINARYMIME\r\n" \
	"250-SMTPUTF8\r\n250 CHUNKING\r\n"
#define OK_MAIL "250 2.1.0 Ok\r\n"
#define OK_RCPT "250 2.1.5 Ok\r\n"
#define GO "354 End data with <CR><LF>.<CR><LF>\r\n"
#define QUEUED "250 2.0.0 Ok: queued\r\n"
#define OK "250 2.0.0 Ok\r\n"
#define SYNC "554 5.5.0 Error: SMTP protocol synchronization\r\n"
#define SEQ "503 5.5.1 "
#define NUL_REFUSED "550 5.6.0 Error: NUL character in message, allowed " \
	"only with BODY=BINARYMIME\r\n"
#define BDAT_SYNTAX "501 5.5.4 Syntax: BDAT size [LAST]\r\n"
#define TX "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"

enum { O_LMTP_FAIL2 = 1, O_FAILWRITE = 2, O_REFUSEDATA = 4, O_ERR3 = 8,
	O_TLS = 16, O_NOMAIL = 32, O_LMTPONLY = 64, O_LOCAL = 128 };

struct tcase {
	const char *name;
	int opts;
	const char *in[8];
	const char *want;
	int closed;
	const char *log;	/* NULL: not checked */
};

static const struct tcase cases[] = {
	{ "EHLO", 0, { "EHLO client.test\r\n" }, EHLO_REPLY, 0, "" },
	{ "HELO", 0, { "HELO client.test\r\n" }, "250 mx.test\r\n", 0, "" },
	{ "EHLO syntax", 0, { "EHLO\r\n" },
	    "501 5.5.4 Syntax: EHLO hostname\r\n", 0, "" },
	{ "one transaction, pipelined", 0,
	    { "EHLO c.test\r\n", TX "RCPT TO:<bad@y.test>\r\nDATA\r\n",
	    "Subject: x\r\n\r\nhi\r\n.\r\n", "QUIT\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT
	    "550 5.1.1 <bad@y.test>: unknown user\r\n" GO QUEUED
	    "221 2.0.0 mx.test Bye\r\n", 1,
	    "M:a@x.test R:b@y.test R:bad@y.test B E:18,0,0,1 " },
	{ "two transactions after the dot", 0,
	    { "EHLO c.test\r\n", TX "DATA\r\n",
	    "a\r\n.\r\n" TX "DATA\r\n", "b\r\n.\r\nQUIT\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT GO QUEUED OK_MAIL OK_RCPT GO QUEUED
	    "221 2.0.0 mx.test Bye\r\n", 1, NULL },
	{ "MAIL before HELO", 0, { "MAIL FROM:<a@x.test>\r\n" },
	    SEQ "Error: send HELO/EHLO first\r\n", 0, "" },
	{ "RCPT before MAIL", 0, { "EHLO c\r\n", "RCPT TO:<a@x.test>\r\n" },
	    EHLO_REPLY SEQ "Error: need MAIL command\r\n", 0, "" },
	{ "DATA before MAIL", 0, { "EHLO c\r\n", "DATA\r\n" },
	    EHLO_REPLY SEQ "Error: need MAIL command\r\n", 0, "" },
	{ "nested MAIL", 0, { "EHLO c\r\n", TX "MAIL FROM:<c@x.test>\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT SEQ "Error: nested MAIL command\r\n",
	    0, NULL },
	{ "not implemented", 0, { "HELP\r\nTURN\r\nSEND\r\nSOML\r\nSAML\r\n"
	    "EXPN x\r\nVRFY x\r\nAUTH PLAIN\r\nSTARTTLS\r\n" },
	    "502 5.5.1 Error: command not implemented\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "502 5.5.1 Error: command not implemented\r\n", 0, "" },
	{ "unknown", 0, { "FOO bar\r\nNOOP\r\n" },
	    "500 5.5.1 Error: command not recognized\r\n" OK, 0, "" },
	{ "bare LF in command", 0, { "NOOP\nNOOP\r\nNOOP\r\n" },
	    "500 5.5.2 Error: bare <LF> received\r\n" OK, 0, "" },
	{ "bare CR in command", 0, { "NOOP\rNOOP\r\nNOOP\r\n" },
	    "500 5.5.2 Error: bare <CR> received\r\n" OK, 0, "" },
	{ "pipelined past EHLO", 0,
	    { "EHLO c.test\r\nMAIL FROM:<a@x.test>\r\n" }, SYNC, 1, "" },
	{ "pipelined past HELO, partial line", 0, { "HELO c.test\r\nMA" },
	    SYNC, 1, "" },
	{ "message pipelined past DATA", 0,
	    { "EHLO c\r\n", TX "DATA\r\nSubject: x\r\n\r\n.\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT SYNC, 1,
	    "M:a@x.test R:b@y.test A " },
	{ "refused DATA pipelined with body", 0,
	    { "EHLO c\r\n", "MAIL FROM:<a@x.test>\r\nDATA\r\nRSET\r\n" },
	    EHLO_REPLY OK_MAIL SYNC, 1, NULL },
	{ "too many recipients", 0, { "EHLO c\r\n", "MAIL FROM:<a@x.test>\r\n"
	    "RCPT TO:<r1@x.test>\r\nRCPT TO:<r2@x.test>\r\n"
	    "RCPT TO:<r3@x.test>\r\nRCPT TO:<r4@x.test>\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT OK_RCPT OK_RCPT
	    "452 4.5.3 Error: too many recipients\r\n", 0, NULL },
	{ "refused recipients do not count", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test>\r\nRCPT TO:<bad1@x.test>\r\n"
	    "RCPT TO:<r1@x.test>\r\nRCPT TO:<r2@x.test>\r\n"
	    "RCPT TO:<r3@x.test>\r\n" },
	    EHLO_REPLY OK_MAIL "550 5.1.1 <bad1@x.test>: unknown user\r\n"
	    OK_RCPT OK_RCPT OK_RCPT, 0, NULL },
	{ "DATA without valid recipient", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test>\r\nRCPT TO:<bad@x.test>\r\nDATA\r\n" },
	    EHLO_REPLY OK_MAIL "550 5.1.1 <bad@x.test>: unknown user\r\n"
	    "554 5.5.1 Error: no valid recipients\r\n", 0, NULL },
	{ "SIZE at limit", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test> SIZE=1000\r\n" }, EHLO_REPLY OK_MAIL, 0,
	    NULL },
	{ "SIZE over limit", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test> SIZE=1001\r\n" }, EHLO_REPLY
	    "552 5.3.4 Error: message size exceeds fixed limit\r\n", 0, "" },
	{ "SIZE overflow", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test> SIZE=99999999999999999999\r\n" },
	    EHLO_REPLY
	    "552 5.3.4 Error: message size exceeds fixed limit\r\n", 0, "" },
	{ "bad sender path", 0, { "EHLO c\r\n", "MAIL FROM:<a@@x>\r\n"
	    "MAIL FROM:a@x.test\r\nMAIL FROM:<a@x.test> FOO=1\r\n"
	    "MAIL FROM:<a@x.test> SIZE=x\r\nMAIL FROM:<j\xc3\xb6@x.test>\r\n"
	    "MAIL FROM:<a@x.test> BODY=7BIT BODY=7BIT\r\nMAIL TO:<a@b>\r\n" },
	    EHLO_REPLY "501 5.1.7 Error: bad sender address syntax\r\n"
	    "501 5.1.7 Error: bad sender address syntax\r\n"
	    "555 5.5.4 Error: unsupported parameter\r\n"
	    "501 5.5.4 Error: bad parameter syntax\r\n"
	    "553 5.6.7 Error: non-ASCII sender address requires SMTPUTF8\r\n"
	    "501 5.5.4 Error: duplicate parameter\r\n"
	    "501 5.5.4 Syntax: MAIL FROM:<address>\r\n", 0, "" },
	{ "SMTPUTF8", 0, { "EHLO c\r\n",
	    "MAIL FROM:<j\xc3\xb6@x.test> SMTPUTF8\r\n"
	    "RCPT TO:<\xc3\xa9@y.test>\r\nRCPT TO:<a@y.test> X=1\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT
	    "555 5.5.4 Error: unsupported parameter\r\n", 0, NULL },
	{ "UTF-8 recipient without SMTPUTF8", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test>\r\nRCPT TO:<\xc3\xa9@y.test>\r\n"
	    "RCPT TO:<\xff@y.test>\r\nRCPT TO:<>\r\n" },
	    EHLO_REPLY OK_MAIL
	    "553 5.6.7 Error: non-ASCII recipient address requires "
	    "SMTPUTF8\r\n"
	    "501 5.1.3 Error: recipient address is not valid UTF-8\r\n"
	    "501 5.1.3 Error: bad recipient address syntax\r\n", 0, NULL },
	{ "C1 control and bidi override in SMTPUTF8 addresses", 0,
	    { "EHLO c\r\n", "MAIL FROM:<a\xc2\x85@x.test> SMTPUTF8\r\n"
	    "MAIL FROM:<a@x.test> SMTPUTF8\r\n"
	    "RCPT TO:<\xe2\x80\xaemoc.elpmaxe@y.test>\r\n" },
	    EHLO_REPLY "501 5.1.7 Error: sender address contains a control "
	    "or bidi formatting character\r\n" OK_MAIL
	    "501 5.1.3 Error: recipient address contains a control or bidi "
	    "formatting character\r\n", 0, "M:a@x.test " },
	{ "ESMTP parameters after HELO", 0, { "HELO c\r\n",
	    "MAIL FROM:<a@x.test> SIZE=10\r\n" }, "250 mx.test\r\n"
	    "555 5.5.4 Error: unsupported parameter\r\n", 0, "" },
	{ "message at size limit", 0, { "EHLO c\r\n", TX "DATA\r\n",
	    "0123456789012345678901234567890123456789012345678"
	    "90123456789012345678901234567890123456789012345678\r\n.\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT GO QUEUED, 0, NULL },
	{ "oversized message read to its end", 0, { "EHLO c\r\n",
	    TX "DATA\r\n", "@1001.", "NOOP\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT GO
	    "552 5.3.4 Error: message size exceeds fixed limit\r\n" OK, 0,
	    "M:a@x.test R:b@y.test B A " },
	{ "bare LF in message", 0, { "EHLO c\r\n", TX "DATA\r\n",
	    "a\nb\r\n.\r\nNOOP\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT GO
	    "550 5.5.2 Error: bare <CR> or <LF> in message, lines must end "
	    "in <CR><LF>\r\n" OK, 0, NULL },
	/* one rule at every entry point: NUL only in BINARYMIME */
	{ "NUL in DATA", 0, { "EHLO c\r\n", TX "DATA\r\n",
	    "a\r\n^\r\n.\r\nNOOP\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT GO
	    NUL_REFUSED OK, 0, "M:a@x.test R:b@y.test B A " },
	{ "NUL in BDAT without BINARYMIME", 0, { "EHLO c\r\n",
	    TX "BDAT 3 LAST\r\na^b", "NOOP\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT
	    NUL_REFUSED OK, 0, "M:a@x.test R:b@y.test B A " },
	{ "NUL in BDAT with BODY=8BITMIME", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test> BODY=8BITMIME\r\nRCPT TO:<b@y.test>\r\n"
	    "BDAT 3\r\na^bBDAT 0 LAST\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT
	    "250 2.0.0 Ok: 3 octets received\r\n" NUL_REFUSED, 0, NULL },
	{ "LMTP: NUL refused once per recipient", 0, { "LHLO c\r\n",
	    TX "RCPT TO:<c@y.test>\r\nDATA\r\n", "^\r\n.\r\n" }, LHLO_REPLY
	    OK_MAIL OK_RCPT OK_RCPT GO NUL_REFUSED NUL_REFUSED, 0, NULL },
	{ "NUL in BDAT with BODY=BINARYMIME", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test> BODY=BINARYMIME\r\nRCPT TO:<b@y.test>\r\n"
	    "BDAT 3 LAST\r\na^b" }, EHLO_REPLY OK_MAIL OK_RCPT QUEUED, 0,
	    "M:a@x.test/bin R:b@y.test B E:3,0,0,1,bdat " },
	{ "smuggling: LF.LF then a command", 0, { "EHLO c\r\n", TX "DATA\r\n",
	    "a\r\n\n.\nMAIL FROM:<evil@x.test>\nRCPT TO:<v@y.test>\n"
	    "DATA\n\r\n.\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT GO
	    "550 5.5.2 Error: bare <CR> or <LF> in message, lines must end "
	    "in <CR><LF>\r\n", 0, "M:a@x.test R:b@y.test B A " },
	{ "smuggling: CR.CR", 0, { "EHLO c\r\n", TX "DATA\r\n",
	    "a\r.\rMAIL FROM:<evil@x.test>\r\n.\r\n" }, EHLO_REPLY OK_MAIL
	    OK_RCPT GO "550 5.5.2 Error: bare <CR> or <LF> in message, lines "
	    "must end in <CR><LF>\r\n", 0, NULL },
	{ "hops at limit", 0, { "EHLO c\r\n", TX "DATA\r\n",
	    "#50", "\r\nx\r\n.\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT GO QUEUED,
	    0, NULL },
	{ "too many hops", 0, { "EHLO c\r\n", TX "DATA\r\n",
	    "#51", "\r\nx\r\n.\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT GO
	    "554 5.4.6 Error: too many hops\r\n", 0, NULL },
	{ "BINARYMIME with DATA", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test> BODY=BINARYMIME\r\nRCPT TO:<b@y.test>\r\n"
	    "DATA\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT
	    SEQ "Error: BODY=BINARYMIME requires BDAT\r\n", 0, NULL },
	{ "BINARYMIME with BDAT, bare LF fine", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test> BODY=BINARYMIME\r\nRCPT TO:<b@y.test>\r\n"
	    "BDAT 3 LAST\r\na\nb" }, EHLO_REPLY OK_MAIL OK_RCPT QUEUED, 0,
	    "M:a@x.test/bin R:b@y.test B E:3,0,0,1,bdat " },
	{ "BDAT chunks pipelined", 0, { "EHLO c\r\n",
	    TX "BDAT 5\r\nhelloBDAT 7\r\n\r\n.\r\nxyBDAT 0 LAST\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT "250 2.0.0 Ok: 5 octets received\r\n"
	    "250 2.0.0 Ok: 7 octets received\r\n" QUEUED, 0,
	    "M:a@x.test R:b@y.test B E:12,0,0,1,bdat " },
	{ "BDAT bare LF without BINARYMIME", 0, { "EHLO c\r\n",
	    TX "BDAT 3 LAST\r\na\nb" }, EHLO_REPLY OK_MAIL OK_RCPT
	    "550 5.5.2 Error: bare <CR> or <LF> in message, lines must end "
	    "in <CR><LF>\r\n", 0, NULL },
	{ "DATA after BDAT", 0, { "EHLO c\r\n", TX "BDAT 2\r\nabDATA\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT "250 2.0.0 Ok: 2 octets received\r\n"
	    SEQ "Error: DATA after BDAT\r\n", 0, NULL },
	{ "RCPT after BDAT", 0, { "EHLO c\r\n",
	    TX "BDAT 2\r\nabRCPT TO:<c@y.test>\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT "250 2.0.0 Ok: 2 octets received\r\n"
	    SEQ "Error: BDAT transaction in progress\r\n", 0, NULL },
	{ "BDAT without MAIL: chunk skipped", 0, { "EHLO c\r\n",
	    "BDAT 6\r\nQUIT\r\nNOOP\r\n" }, EHLO_REPLY
	    SEQ "Error: need MAIL command\r\n" OK, 0, "" },
	{ "BDAT without recipient", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test>\r\nBDAT 6 LAST\r\nQUIT\r\n" }, EHLO_REPLY
	    OK_MAIL "554 5.5.1 Error: no valid recipients\r\n", 0, NULL },
	{ "BDAT over the limit", 0, { "EHLO c\r\n", TX "BDAT 1001\r\n",
	    "@1001", "BDAT 1 LAST\r\nx", "RSET\r\n" }, EHLO_REPLY OK_MAIL
	    OK_RCPT "552 5.3.4 Error: message size exceeds fixed limit\r\n"
	    SEQ "Error: BDAT transaction failed, send RSET\r\n" OK, 0,
	    "M:a@x.test R:b@y.test B A " },
	/* RFC 3030 4.2: BDAT LAST is no sync point; QUIT may follow it */
	{ "BDAT LAST then QUIT in one write", 0, { "EHLO c\r\n",
	    TX "BDAT 2 LAST\r\nabQUIT\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT
	    QUEUED "221 2.0.0 mx.test Bye\r\n", 1,
	    "M:a@x.test R:b@y.test B E:2,0,0,1,bdat " },
	{ "BDAT n, BDAT m, BDAT 0 LAST, NOOP in one write", 0, { "EHLO c\r\n",
	    TX "BDAT 3\r\nabcBDAT 2\r\nd\nBDAT 0 LAST\r\nNOOP\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT "250 2.0.0 Ok: 3 octets received\r\n"
	    "250 2.0.0 Ok: 2 octets received\r\n"
	    "550 5.5.2 Error: bare <CR> or <LF> in message, lines must end "
	    "in <CR><LF>\r\n" OK, 0, NULL },
	{ "BDAT LAST then the next transaction in one write", 0,
	    { "EHLO c\r\n", TX "BDAT 3 LAST\r\na\r\n" TX
	    "BDAT 0 LAST\r\nNOOP\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT QUEUED
	    OK_MAIL OK_RCPT QUEUED OK, 0, "M:a@x.test R:b@y.test B "
	    "E:3,0,0,1,bdat M:a@x.test R:b@y.test B E:0,0,0,1,bdat " },
	/* no size: nothing to skip, 501 and the session goes on in sync */
	{ "BDAT without a size", 0, { "EHLO c\r\n", "BDAT\r\nBDAT xyz\r\n"
	    "BDAT -5 LAST\r\nBDAT 99999999999999999999\r\nNOOP\r\n" },
	    EHLO_REPLY BDAT_SYNTAX BDAT_SYNTAX BDAT_SYNTAX BDAT_SYNTAX OK, 0,
	    "" },
	{ "BDAT with a size and a bad end marker: chunk skipped", 0,
	    { "EHLO c\r\n", "BDAT 6 LASTX\r\nQUIT\r\nNOOP\r\n" }, EHLO_REPLY
	    BDAT_SYNTAX OK, 0, "" },
	{ "bad BDAT inside a BDAT message fails it", 0, { "EHLO c\r\n",
	    TX "BDAT 2\r\nabBDAT x\r\nBDAT 1 LAST\r\nc", "RSET\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT "250 2.0.0 Ok: 2 octets received\r\n"
	    BDAT_SYNTAX SEQ "Error: BDAT transaction failed, send RSET\r\n" OK,
	    0, "M:a@x.test R:b@y.test B A " },
	{ "bare local names refused", 0, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test>\r\nRCPT TO:<joe>\r\n" }, EHLO_REPLY OK_MAIL
	    "501 5.1.3 Error: bad recipient address syntax\r\n", 0,
	    "M:a@x.test " },
	{ "bare local names with local_names", O_LOCAL, { "EHLO c\r\n",
	    "MAIL FROM:<a@x.test>\r\nRCPT TO:<joe>\r\n" }, EHLO_REPLY OK_MAIL
	    OK_RCPT, 0, "M:a@x.test R:joe " },
	{ "RSET aborts", 0,
	    { "EHLO c\r\n", TX "RSET\r\nRCPT TO:<c@y.test>\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT OK SEQ "Error: need MAIL command\r\n", 0,
	    "M:a@x.test R:b@y.test A " },
	{ "EHLO resets", 0, { "EHLO c\r\n", TX, "EHLO c\r\n",
	    "RCPT TO:<c@y.test>\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT EHLO_REPLY
	    SEQ "Error: need MAIL command\r\n", 0,
	    "M:a@x.test R:b@y.test A " },
	{ "QUIT ends, rest ignored", 0, { "QUIT\r\nNOOP\r\n" },
	    "221 2.0.0 mx.test Bye\r\n", 1, "" },
	{ "QUIT mid transaction", 0, { "EHLO c\r\n", TX "QUIT\r\n" },
	    EHLO_REPLY OK_MAIL OK_RCPT "221 2.0.0 mx.test Bye\r\n", 1,
	    "M:a@x.test R:b@y.test A " },
	{ "driver refuses MAIL", 0, { "EHLO c\r\n",
	    "MAIL FROM:<tempfail@x.test>\r\nRCPT TO:<a@b.test>\r\n" },
	    EHLO_REPLY "451 4.3.0 try later\r\n"
	    SEQ "Error: need MAIL command\r\n", 0, NULL },
	{ "LMTP: one reply per recipient", O_LMTP_FAIL2, { "LHLO c\r\n",
	    TX "RCPT TO:<bad@y.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\n",
	    "x\r\n.\r\n" }, LHLO_REPLY OK_MAIL OK_RCPT
	    "550 5.1.1 <bad@y.test>: unknown user\r\n" OK_RCPT GO
	    "250 2.0.0 delivered\r\n452 4.2.2 mailbox full\r\n", 0,
	    "M:a@x.test R:b@y.test R:bad@y.test R:c@y.test B E:3,0,0,2,lmtp " },
	{ "LMTP: refusal repeated", 0, { "LHLO c\r\n",
	    TX "RCPT TO:<c@y.test>\r\nDATA\r\n", "@1001." }, LHLO_REPLY
	    OK_MAIL OK_RCPT OK_RCPT GO
	    "552 5.3.4 Error: message size exceeds fixed limit\r\n"
	    "552 5.3.4 Error: message size exceeds fixed limit\r\n", 0, NULL },
	{ "LMTP: DATA without recipients is 503", 0, { "LHLO c\r\n",
	    "MAIL FROM:<a@x.test>\r\nDATA\r\n" }, LHLO_REPLY OK_MAIL
	    SEQ "Error: no valid recipients\r\n", 0, NULL },
	{ "LMTP only refuses EHLO", O_LMTPONLY, { "EHLO c\r\n" },
	    "500 5.5.1 Error: this is LMTP, use LHLO\r\n", 0, "" },
	{ "data_write fails", O_FAILWRITE, { "EHLO c\r\n", TX "DATA\r\n",
	    "x\r\n.\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT GO
	    "451 4.3.0 Error: local error in processing\r\n", 0, NULL },
	{ "data_begin refuses", O_REFUSEDATA, { "EHLO c\r\n", TX "DATA\r\n",
	    "RSET\r\n" }, EHLO_REPLY OK_MAIL OK_RCPT "451 4.3.1 no space\r\n"
	    OK, 0, NULL },
	{ "data_begin refuses BDAT", O_REFUSEDATA, { "EHLO c\r\n",
	    TX "BDAT 4\r\nQUITBDAT 1 LAST\r\nx" }, EHLO_REPLY OK_MAIL OK_RCPT
	    "451 4.3.1 no space\r\n"
	    SEQ "Error: BDAT transaction failed, send RSET\r\n", 0, NULL },
	{ "error limit", O_ERR3, { "FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n" },
	    "500 5.5.1 Error: command not recognized\r\n"
	    "500 5.5.1 Error: command not recognized\r\n"
	    "500 5.5.1 Error: command not recognized\r\n"
	    "421 4.7.0 mx.test Error: too many errors\r\n", 1, "" },
	{ "STARTTLS advertised", O_TLS, { "EHLO c\r\n" },
	    "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
	    "250-8BITMIME\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n"
	    "250-BINARYMIME\r\n250-SMTPUTF8\r\n250-X-LMTP\r\n250 CHUNKING\r\n",
	    0, "" },
	{ "STARTTLS discards pipelined input", O_TLS, { "EHLO c\r\n",
	    "STARTTLS\r\nMAIL FROM:<a@x.test>\r\n" },
	    "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
	    "250-8BITMIME\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n"
	    "250-BINARYMIME\r\n250-SMTPUTF8\r\n250-X-LMTP\r\n250 CHUNKING\r\n"
	    SYNC, 1, "" },
	{ "STARTTLS then input is discarded", O_TLS, { "STARTTLS\r\n",
	    "MAIL FROM:<a@x.test>\r\n" }, "220 2.0.0 Ready to start TLS\r\n",
	    0, "" },
};

/* Expands "@N" (N octets), "@N." (and the end) and "#N" (N Received). */
static const char *
expand(const char *in, struct buf *tmp)
{
	long n, i;

	if (in[0] != '@' && in[0] != '#')
		return in;
	n = strtol(in + 1, NULL, 10);
	buf_reset(tmp);
	for (i = 0; i < n; i++) {
		if (in[0] == '#')
			buf_append_str(tmp, "Received: x\r\n");
		else
			buf_append_byte(tmp, "0123456789abcdef\r\n"[i % 16]);
	}
	if (in[0] == '@' && strchr(in, '.') != NULL)
		buf_append_str(tmp, "\r\n.\r\n");
	return tmp->p;
}

static void
fake_init(struct fake *f, int opts)
{
	memset(f, 0, sizeof *f);
	buf_init(&f->log, 0);
	buf_init(&f->msg, 0);
	f->fail_second = !!(opts & O_LMTP_FAIL2);
	f->fail_write = !!(opts & O_FAILWRITE);
	f->refuse_data = !!(opts & O_REFUSEDATA);
}

static void
fake_free(struct fake *f)
{
	buf_free(&f->log);
	buf_free(&f->msg);
}

static struct smtp_session *
make(int opts, struct fake *f)
{
	struct smtp_session_cfg cfg = test_cfg();
	struct smtp_session_ops o = ops;

	if (opts & O_ERR3)
		cfg.max_errors = 3;
	if (opts & O_TLS) {
		cfg.starttls = 1;
		o.starttls = f_starttls;
	}
	if (opts & O_NOMAIL)
		cfg.accept_mail = 0;
	if (opts & O_LMTPONLY)
		cfg.lmtp_only = 1;
	if (opts & O_LOCAL)
		cfg.local_names = 1;
	return smtp_session_new(&cfg, &o, f);
}

/* A new session whose greeting and EHLO reply have been written. */
static struct smtp_session *
after_ehlo(struct fake *f, struct buf *out)
{
	struct smtp_session *s;

	fake_init(f, 0);
	s = make(0, f);
	buf_reset(out);
	drain(s, out);
	smtp_session_feed(s, "EHLO c\r\n", 8);
	drain(s, out);
	return s;
}

static void
run_case(const struct tcase *t, size_t step)
{
	struct fake f;
	struct smtp_session *s;
	struct buf out = BUF_INIT(0), ex[8];
	const char *in[9];
	char name[200];
	size_t i;
	int closed;

	fake_init(&f, t->opts);
	s = make(t->opts, &f);
	for (i = 0; i < 8 && t->in[i] != NULL; i++) {
		buf_init(&ex[i], 0);
		in[i] = expand(t->in[i], &ex[i]);
	}
	in[i] = NULL;
	closed = play(s, in, step, &out);
	snprintf(name, sizeof name, "%s%s", t->name, step ? " (1 by 1)" : "");
	is_mem(out.p, out.len, t->want, strlen(t->want), name);
	is_int(closed, t->closed, "  closing");
	if (t->log != NULL)
		is_str(f.log.p ? f.log.p : "", t->log, "  driver calls");
	while (i-- > 0)
		buf_free(&ex[i]);
	buf_free(&out);
	smtp_session_free(s);
	fake_free(&f);
}

static int
sync_sensitive(const struct tcase *t)
{
	return strstr(t->want, "synchronization") != NULL ||
	    strstr(t->name, "STARTTLS") != NULL ||
	    strstr(t->name, "QUIT ends") != NULL;
}

int
main(void)
{
	struct fake f;
	struct smtp_session *s;
	struct buf out = BUF_INIT(0), in = BUF_INIT(0);
	const char *chunks[4];
	const char *p;
	size_t i, n, c, off;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		run_case(&cases[i], 0);
		/* one octet per read gives the same replies */
		if (!sync_sensitive(&cases[i]))
			run_case(&cases[i], 1);
	}

	/* greeting */
	fake_init(&f, 0);
	s = make(0, &f);
	p = smtp_session_output(s, &n);
	is_mem(p, n, "220 mx.test ESMTP Postmaster\r\n", 30, "greeting 220");
	ok(!smtp_session_closing(s), "  open");
	smtp_session_free(s);
	s = make(O_NOMAIL, &f);
	p = smtp_session_output(s, &n);
	is_mem(p, n, "521 5.3.2 mx.test does not accept mail\r\n", 40,
	    "greeting 521 (RFC 7504)");
	ok(smtp_session_closing(s), "  and close");
	smtp_session_free(s);
	s = make(O_LMTPONLY, &f);
	p = smtp_session_output(s, &n);
	is_mem(p, n, "220 mx.test LMTP Postmaster\r\n", 29, "LMTP greeting");
	smtp_session_free(s);

	/* a client that talks before the greeting */
	s = make(0, &f);
	c = smtp_session_feed(s, "EHLO c\r\n", 8);
	p = smtp_session_output(s, &n);
	ok(c == 8 && smtp_session_closing(s) && n > 30 &&
	    memcmp(p + 30, SYNC, strlen(SYNC)) == 0,
	    "early talker: greeting then 554 5.5.0");
	smtp_session_free(s);

	/* a sync refusal ends the transaction only once its reply has been
	 * handed over, so the driver can log it with the sender */
	s = after_ehlo(&f, &out);
	smtp_session_feed(s, TX "DATA\r\nx\r\n", strlen(TX) + 9);
	is_str(f.log.p, "M:a@x.test R:b@y.test ",
	    "sync refusal: no abort while its reply is pending");
	buf_reset(&out);
	drain(s, &out);
	is_str(out.p, OK_MAIL OK_RCPT SYNC, "  the reply");
	is_str(f.log.p, "M:a@x.test R:b@y.test A ",
	    "  abort once the reply is handed over");
	smtp_session_free(s);
	fake_free(&f);

	/* command line limit: 2048 with CRLF at max and max + 1 */
	buf_reset(&in);
	buf_append_str(&in, "NOOP ");
	while (in.len < 2046)
		buf_append_byte(&in, 'x');
	buf_append_str(&in, "\r\n");
	buf_append_str(&in, "NOOP ");
	while (in.len < 2048 + 2047)
		buf_append_byte(&in, 'y');
	buf_append_str(&in, "\r\nNOOP\r\n");
	chunks[0] = in.p;
	chunks[1] = NULL;
	s = make(0, &f);
	buf_reset(&out);
	play(s, chunks, 0, &out);
	is_str(out.p, OK "500 5.5.2 Error: line too long\r\n" OK,
	    "line of 2048 ok, 2049 refused, session survives");
	smtp_session_free(s);
	s = make(0, &f);
	buf_reset(&out);
	play(s, chunks, 100, &out);
	is_str(out.p, OK "500 5.5.2 Error: line too long\r\n" OK,
	    "  same in 100-octet reads");
	smtp_session_free(s);

	/* NUL in a command */
	s = make(0, &f);
	buf_reset(&out);
	buf_reset(&in);
	buf_append(&in, "NO\0OP\r\nNOOP\r\n", 13);
	drain(s, &out);
	buf_reset(&out);
	c = smtp_session_feed(s, in.p, in.len);
	drain(s, &out);
	ok(c == 13, "NUL line consumed");
	is_str(out.p, "500 5.5.2 Error: NUL character received\r\n" OK,
	    "NUL refused, session survives");
	smtp_session_free(s);

	/* a client that pipelines without reading: back-pressure */
	buf_reset(&in);
	for (i = 0; i < 3000; i++)
		buf_append_str(&in, "NOOP\r\n");
	s = make(0, &f);
	buf_reset(&out);
	drain(s, &out);
	buf_reset(&out);
	off = 0;
	c = smtp_session_feed(s, in.p, in.len);
	ok(c < in.len, "feed stops at the output high-water mark");
	p = smtp_session_output(s, &n);
	ok(n >= SMTP_SESSION_OUT_HIWAT && n < SMTP_SESSION_OUT_HIWAT + 100,
	    "  with about HIWAT pending");
	for (off = c; ; off += c) {
		drain(s, &out);
		if (off == in.len)
			break;
		c = smtp_session_feed(s, in.p + off, in.len - off);
	}
	is_int((long long)out.len, 3000 * 14, "  all 3000 replies in the end");
	smtp_session_free(s);

	/* timeout and EOF */
	s = make(0, &f);
	drain(s, &out);
	smtp_session_timeout(s);
	p = smtp_session_output(s, &n);
	is_mem(p, n, "421 4.4.2 mx.test Error: timeout exceeded\r\n", 43,
	    "timeout 421 4.4.2");
	ok(smtp_session_closing(s), "  closes");
	smtp_session_free(s);
	fake_free(&f);

	s = after_ehlo(&f, &out);
	smtp_session_feed(s, TX, strlen(TX));
	smtp_session_eof(s);
	is_str(f.log.p, "M:a@x.test R:b@y.test A ", "EOF aborts");
	is_int(smtp_session_count(s, SMTP_V_RCPT), 1, "counts RCPT");
	is_int(smtp_session_count(s, SMTP_V_EHLO), 1, "counts EHLO");
	smtp_session_free(s);
	fake_free(&f);

	/* message bytes reach the driver unstuffed */
	fake_init(&f, 0);
	s = make(0, &f);
	chunks[0] = "EHLO c\r\n";
	chunks[1] = TX "DATA\r\n";
	chunks[2] = "..a\r\nb\r\n.\r\n";
	chunks[3] = NULL;
	buf_reset(&out);
	play(s, chunks, 0, &out);
	is_mem(f.msg.p, f.msg.len, ".a\r\nb\r\n", 7, "message unstuffed");
	smtp_session_free(s);
	fake_free(&f);

	/* after STARTTLS: state forgotten */
	fake_init(&f, O_TLS);
	s = make(O_TLS, &f);
	chunks[0] = "EHLO c\r\n";
	chunks[1] = "STARTTLS\r\n";
	chunks[2] = NULL;
	buf_reset(&out);
	play(s, chunks, 0, &out);
	ok(smtp_session_tls_pending(s), "TLS pending");
	smtp_session_tls_done(s);
	buf_reset(&out);
	chunks[0] = "MAIL FROM:<a@x.test>\r\n";
	chunks[1] = "EHLO c\r\n";
	chunks[2] = "STARTTLS\r\n";
	chunks[3] = NULL;
	play(s, chunks, 0, &out);
	ok(strncmp(out.p, SEQ "Error: send HELO/EHLO first\r\n",
	    strlen(SEQ "Error: send HELO/EHLO first\r\n")) == 0 &&
	    strstr(out.p, "STARTTLS") == NULL &&
	    strstr(out.p, "503 5.5.1 Error: TLS already active\r\n") != NULL,
	    "after TLS: HELO forgotten, STARTTLS gone");
	smtp_session_free(s);
	fake_free(&f);

	buf_free(&in);
	buf_free(&out);
	return done_testing();
}
