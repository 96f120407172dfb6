/*
 * smtp_session: RCPTs answered later (SMTP_SESSION_RCPT_LATER and
 * ops.rcpt_done), as smtpd's ultra pipelining uses them: the replies come
 * in command order, a group of RCPTs is settled before any other reply,
 * at the end of each feed, and with the command that ended it.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "smtp/smtp_session.h"
#include "tap.h"

struct fake {
	struct buf log;
	char held[8][320]; /* addresses whose replies are owed */
	unsigned nheld, next;
};

static int
f_mail(void *ctx, const struct smtp_path *from, const struct smtp_params *p,
    struct buf *reply)
{
	struct fake *f = ctx;

	(void)p;
	(void)reply;
	buf_printf(&f->log, "M:%s ", from->addr);
	return 0;
}

/* "later..." is held; "bad..." refused at once; others accepted. */
static int
f_rcpt(void *ctx, const struct smtp_path *to, const struct smtp_params *p,
    struct buf *reply)
{
	struct fake *f = ctx;

	(void)p;
	buf_printf(&f->log, "R:%s ", to->addr);
	if (strncmp(to->addr, "later", 5) == 0 && f->nheld < 8) {
		snprintf(f->held[f->nheld++], sizeof f->held[0], "%s",
		    to->addr);
		return SMTP_SESSION_RCPT_LATER;
	}
	if (strncmp(to->addr, "bad", 3) == 0) {
		buf_printf(reply, "550 5.1.1 <%s>: unknown\r\n", to->addr);
		return 1;
	}
	return 0;
}

/* "laterbad..." is refused, the others accepted with their own text. */
static int
f_done(void *ctx, enum smtp_verb next, struct buf *reply)
{
	struct fake *f = ctx;
	const char *a = f->held[f->next++];

	buf_printf(&f->log, "D:%s/%s ", a,
	    next == SMTP_V_DATA     ? "data" :
	        next == SMTP_V_BDAT ? "bdat" :
	                              "-");
	if (f->next == f->nheld)
		f->next = f->nheld = 0;
	if (strncmp(a, "laterbad", 8) == 0) {
		buf_printf(reply, "550 5.1.1 <%s>: target says no\r\n", a);
		return 1;
	}
	buf_printf(reply, "250 2.1.5 <%s> target ok\r\n", a);
	return 0;
}

static int
f_begin(void *ctx, struct buf *reply)
{
	struct fake *f = ctx;

	(void)reply;
	buf_append_str(&f->log, "B ");
	return 0;
}

static int
f_write(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return 0;
}

static int
f_end(void *ctx, const struct smtp_msg_info *in, struct buf *reply)
{
	struct fake *f = ctx;

	(void)reply;
	buf_printf(&f->log, "E:%u ", in->nrcpt);
	return 0;
}

static const struct smtp_session_ops ops = { f_mail, f_rcpt, f_begin, f_write,
	f_end, NULL, NULL, NULL, NULL, f_done };

/* Greets, then feeds each chunk as one read; the replies after it. */
static void
run(const char *const *in, int max_rcpt, struct buf *out, struct fake *f)
{
	struct smtp_session_cfg c;
	struct smtp_session *s;
	const char *p;
	size_t n, i;

	memset(&c, 0, sizeof c);
	c.hostname = "mx.test";
	c.accept_mail = 1;
	c.max_rcpt = (unsigned)max_rcpt;
	memset(f, 0, sizeof *f);
	buf_init(&f->log, 0);
	s = smtp_session_new(&c, &ops, f);
	p = smtp_session_output(s, &n);
	smtp_session_output_done(s, n);
	for (i = 0; in[i] != NULL; i++) {
		size_t len = strlen(in[i]);

		ok(smtp_session_feed(s, in[i], len) == len, "chunk %zu used",
		    i);
		ok(f->nheld == 0, "chunk %zu: nothing owed after the feed", i);
		p = smtp_session_output(s, &n);
		buf_append(out, p, n);
		buf_append_str(out, "|");
		smtp_session_output_done(s, n);
	}
	smtp_session_free(s);
}

int
main(void)
{
	struct buf out = BUF_INIT(0);
	struct fake f;

	{
		const char *in[] = { "EHLO c\r\n",
			"MAIL FROM:<s@x>\r\nRCPT TO:<later1@y>\r\n"
			"RCPT TO:<laterbad@y>\r\nRCPT TO:<now@y>\r\n"
			"RCPT TO:<later2@y>\r\nRCPT TO:<later3@y>\r\nDATA\r\n",
			"hi\r\n.\r\n", NULL };

		run(in, 0, &out, &f);
		is_str(strchr(out.p, '|') + 1,
		    "250 2.1.0 Ok\r\n"
		    "250 2.1.5 <later1@y> target ok\r\n"
		    "550 5.1.1 <laterbad@y>: target says no\r\n"
		    "250 2.1.5 Ok\r\n"
		    "250 2.1.5 <later2@y> target ok\r\n"
		    "250 2.1.5 <later3@y> target ok\r\n"
		    "354 End data with <CR><LF>.<CR><LF>\r\n|"
		    "250 2.0.0 Ok: queued\r\n|",
		    "held RCPTs answered in command order, each with its reply");
		is_str(f.log.p,
		    "M:s@x R:later1@y R:laterbad@y R:now@y D:later1@y/- "
		    "D:laterbad@y/- R:later2@y R:later3@y "
		    "D:later2@y/data D:later3@y/data B E:4 ",
		    "a RCPT answered at once settles those before its reply; DATA "
		    "settles the rest and is named; the refused one is not "
		    "counted");
		buf_free(&f.log);
	}
	{
		const char *in[] = { "EHLO c\r\n",
			"MAIL FROM:<s@x>\r\nRCPT TO:<later1@y>\r\n",
			"RCPT TO:<later2@y>\r\nRSET\r\n", NULL };

		buf_reset(&out);
		run(in, 0, &out, &f);
		is_str(strchr(out.p, '|') + 1,
		    "250 2.1.0 Ok\r\n250 2.1.5 <later1@y> target ok\r\n|"
		    "250 2.1.5 <later2@y> target ok\r\n250 2.0.0 Ok\r\n|",
		    "settled at the end of each feed, and before RSET's reply");
		is_str(f.log.p,
		    "M:s@x R:later1@y D:later1@y/- R:later2@y D:later2@y/- ",
		    "nothing owed between feeds");
		buf_free(&f.log);
	}
	{
		const char *in[] = { "EHLO c\r\n",
			"MAIL FROM:<s@x>\r\nRCPT TO:<later1@y>\r\n"
			"RCPT TO:<x@y\r\nRCPT TO:<laterbad@y>\r\n"
			"RCPT TO:<later2@y>\r\nRCPT TO:<later3@y>\r\n"
			"BDAT 0 LAST\r\n",
			NULL };

		buf_reset(&out);
		run(in, 2, &out, &f);
		is_str(strchr(out.p, '|') + 1,
		    "250 2.1.0 Ok\r\n"
		    "250 2.1.5 <later1@y> target ok\r\n"
		    "501 5.1.3 Error: bad recipient address syntax\r\n"
		    "550 5.1.1 <laterbad@y>: target says no\r\n"
		    "250 2.1.5 <later2@y> target ok\r\n"
		    "452 4.5.3 Error: too many recipients\r\n"
		    "250 2.0.0 Ok: queued\r\n|",
		    "a syntax error settles first; max-recipients counts the "
		    "accepted ones once settled");
		is_str(f.log.p,
		    "M:s@x R:later1@y D:later1@y/- R:laterbad@y "
		    "D:laterbad@y/- R:later2@y D:later2@y/- B E:2 ",
		    "the limit settles those held before it counts");
		buf_free(&f.log);
	}
	{
		/* a RCPT refused at once right after a held one: its own
		 * reply must not be taken for the held one's */
		const char *in[] = { "EHLO c\r\n",
			"MAIL FROM:<s@x>\r\nRCPT TO:<later1@y>\r\n"
			"RCPT TO:<bad@y>\r\nRCPT TO:<later2@y>\r\n"
			"RCPT TO:<bad2@y>\r\nDATA\r\n",
			"hi\r\n.\r\n", NULL };

		buf_reset(&out);
		run(in, 0, &out, &f);
		is_str(strchr(out.p, '|') + 1,
		    "250 2.1.0 Ok\r\n"
		    "250 2.1.5 <later1@y> target ok\r\n"
		    "550 5.1.1 <bad@y>: unknown\r\n"
		    "250 2.1.5 <later2@y> target ok\r\n"
		    "550 5.1.1 <bad2@y>: unknown\r\n"
		    "354 End data with <CR><LF>.<CR><LF>\r\n|"
		    "250 2.0.0 Ok: queued\r\n|",
		    "held, then refused at once: each RCPT its own reply, in "
		    "order, and DATA its 354");
		is_str(f.log.p,
		    "M:s@x R:later1@y R:bad@y D:later1@y/- R:later2@y R:bad2@y "
		    "D:later2@y/- B E:2 ",
		    "the refused ones are not counted");
		buf_free(&f.log);
	}
	buf_free(&out);
	return done_testing();
}
