/*
 * inject_msg: the message preparer behind postmaster-inject, table by
 * table: line endings, the lone dot, where the header ends, Bcc removal,
 * added fields, -t extraction, malformed headers, the mbox From_ line, and
 * every limit at its value and one past it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "inject/inject_msg.h"
#include "tap.h"

/* A string literal and its length, so cases may hold NUL octets. */
#define B(s) s, sizeof(s) - 1

#define FROM_V "Joe User <joe@host.test>"
#define DATE_V "Mon, 1 Jan 2024 00:00:00 +0000"
#define MSGID_V "<id1@host.test>"
#define F "From: " FROM_V "\r\n"
#define D "Date: " DATE_V "\r\n"
#define M "Message-ID: " MSGID_V "\r\n"

#define ADD 0x100		/* pass From, Date and Message-ID values */
#define X INJECT_MSG_EXTRACT
#define I INJECT_MSG_DOT_OK

struct mcase {
	const char *name;
	int flags;		/* INJECT_MSG_* | ADD */
	const char *in;
	size_t inlen;
	int rc;
	const char *out;	/* the whole output when rc is OK */
	size_t outlen;
	const char *rcpts;	/* extracted, space separated */
	size_t line;		/* err_line when rc is not OK */
};

static const struct mcase cases[] = {
	/* --- line endings -------------------------------------------- */
	{ "LF becomes CRLF", 0,
	    B("Subject: s\nTo: a@x.test\n\nline 1\nline 2\n"), 0,
	    B("Subject: s\r\nTo: a@x.test\r\n\r\nline 1\r\nline 2\r\n"), "", 0 },
	{ "CRLF stays CRLF", 0,
	    B("Subject: s\r\nTo: a@x.test\r\n\r\nline 1\r\n"), 0,
	    B("Subject: s\r\nTo: a@x.test\r\n\r\nline 1\r\n"), "", 0 },
	{ "a lone CR ends a line", 0,
	    B("Subject: s\r\rone\rtwo\r"), 0,
	    B("Subject: s\r\n\r\none\r\ntwo\r\n"), "", 0 },
	{ "mixed endings", 0,
	    B("Subject: s\r\n\nA\rB\nC\r\nD"), 0,
	    B("Subject: s\r\n\r\nA\r\nB\r\nC\r\nD\r\n"), "", 0 },
	{ "CR CR LF is a line and an empty line", 0,
	    B("Subject: s\r\r\nbody\n"), 0,
	    B("Subject: s\r\n\r\nbody\r\n"), "", 0 },
	{ "the last line gets its CRLF", 0,
	    B("Subject: s\n\nno newline"), 0,
	    B("Subject: s\r\n\r\nno newline\r\n"), "", 0 },
	{ "empty input: just the separator", 0, B(""), 0, B("\r\n"), "", 0 },
	{ "empty input gets From, Date, Message-ID", ADD, B(""), 0,
	    B(F D M "\r\n"), "", 0 },
	{ "empty lines in the body kept", 0,
	    B("Subject: s\n\n\n\nx\n\n"), 0,
	    B("Subject: s\r\n\r\n\r\n\r\nx\r\n\r\n"), "", 0 },

	/* --- the lone dot -------------------------------------------- */
	{ "a lone dot ends the input", 0,
	    B("Subject: s\n\nbefore\n.\nafter\n"), 0,
	    B("Subject: s\r\n\r\nbefore\r\n"), "", 0 },
	{ "a lone dot with CRLF ends the input", 0,
	    B("Subject: s\r\n\r\nbefore\r\n.\r\nafter\r\n"), 0,
	    B("Subject: s\r\n\r\nbefore\r\n"), "", 0 },
	{ "a lone dot at the very end without newline", 0,
	    B("Subject: s\n\nbefore\n."), 0,
	    B("Subject: s\r\n\r\nbefore\r\n"), "", 0 },
	{ "-i: a lone dot is data", I,
	    B("Subject: s\n\nbefore\n.\nafter\n"), 0,
	    B("Subject: s\r\n\r\nbefore\r\n.\r\nafter\r\n"), "", 0 },
	{ "dots are not unstuffed", 0,
	    B("Subject: s\n\n..x\n.y\n. \n"), 0,
	    B("Subject: s\r\n\r\n..x\r\n.y\r\n. \r\n"), "", 0 },
	{ "a lone dot in the header ends the input", 0,
	    B("Subject: s\n.\nTo: a@x.test\n"), 0,
	    B("Subject: s\r\n\r\n"), "", 0 },
	{ "a lone dot first: an empty message", 0,
	    B(".\nSubject: s\n"), 0, B("\r\n"), "", 0 },
	{ "-i: a lone dot first is body", I,
	    B(".\nSubject: s\n"), 0, B("\r\n.\r\nSubject: s\r\n"), "", 0 },

	/* --- where the header ends ----------------------------------- */
	{ "first line not a field: all is body", 0,
	    B("Hello there\nSubject: s\n\nx\n"), 0,
	    B("\r\nHello there\r\nSubject: s\r\n\r\nx\r\n"), "", 0 },
	{ "all body still gets the added fields", ADD,
	    B("Hello there\n"), 0,
	    B(F D M "\r\nHello there\r\n"), "", 0 },
	{ "a line starting with ':' is no field", 0,
	    B(":x\n"), 0, B("\r\n:x\r\n"), "", 0 },
	{ "a name with a space is no field", 0,
	    B("Not a: field\n"), 0, B("\r\nNot a: field\r\n"), "", 0 },
	{ "an 8-bit name is no field", 0,
	    B("Gr\xc3\xbc\xc3\x9f: x\n"), 0,
	    B("\r\nGr\xc3\xbc\xc3\x9f: x\r\n"), "", 0 },
	{ "obsolete white space before the colon", 0,
	    B("Subject : s\nX-A\t: b\n\nx\n"), 0,
	    B("Subject : s\r\nX-A\t: b\r\n\r\nx\r\n"), "", 0 },
	{ "an empty field value", 0,
	    B("Subject:\nX:\n\nx\n"), 0,
	    B("Subject:\r\nX:\r\n\r\nx\r\n"), "", 0 },
	{ "folded fields kept as they are", 0,
	    B("Subject: a\n b\n\tc\nX: y\n\nx\n"), 0,
	    B("Subject: a\r\n b\r\n\tc\r\nX: y\r\n\r\nx\r\n"), "", 0 },
	{ "a header without body", 0,
	    B("Subject: s\n"), 0, B("Subject: s\r\n\r\n"), "", 0 },
	{ "a header-like body line stays in the body", 0,
	    B("Subject: s\n\nTo: b@x.test\n"), 0,
	    B("Subject: s\r\n\r\nTo: b@x.test\r\n"), "", 0 },

	/* --- malformed headers ---------------------------------------- */
	{ "a non-field after fields is refused", 0,
	    B("Subject: s\nnot a field\n\nx\n"), INJECT_MSG_E_HEADER,
	    B(""), "", 2 },
	{ "a continuation first is refused", 0,
	    B(" folded: x\nSubject: s\n\nx\n"), INJECT_MSG_E_HEADER,
	    B(""), "", 1 },
	{ "a tab continuation first is refused", 0,
	    B("\tx\n\nx\n"), INJECT_MSG_E_HEADER, B(""), "", 1 },
	{ "a continuation after From_ is refused", 0,
	    B("From a@b Mon Jan  1 00:00:00 2024\n x\n"), INJECT_MSG_E_HEADER,
	    B(""), "", 2 },
	{ "NUL in a field is refused", 0,
	    B("Subject: a\0b\n\nx\n"), INJECT_MSG_E_HEADER, B(""), "", 1 },
	{ "NUL in a continuation is refused", 0,
	    B("Subject: a\nX: y\n \0\n\nx\n"), INJECT_MSG_E_HEADER, B(""),
	    "", 3 },
	{ "NUL in the first line is refused", 0,
	    B("\0\n"), INJECT_MSG_E_HEADER, B(""), "", 1 },
	{ "a field line after an 8-bit field name is refused", 0,
	    B("Subject: s\nGr\xc3\xbc\xc3\x9f: x\n\nx\n"), INJECT_MSG_E_HEADER,
	    B(""), "", 2 },

	/* --- mbox From_ ----------------------------------------------- */
	{ "the mbox From_ line is dropped", 0,
	    B("From joe@x.test Mon Jan  1 00:00:00 2024\nSubject: s\n\nx\n"), 0,
	    B("Subject: s\r\n\r\nx\r\n"), "", 0 },
	{ "From_ then directly the body", 0,
	    B("From joe@x.test Mon Jan  1 00:00:00 2024\n\nx\n"), 0,
	    B("\r\nx\r\n"), "", 0 },
	{ "From_ on a later header line is refused", 0,
	    B("Subject: s\nFrom joe@x.test Mon\n\nx\n"), INJECT_MSG_E_HEADER,
	    B(""), "", 2 },
	{ "From_ in the body is kept", 0,
	    B("Subject: s\n\nFrom here on\n"), 0,
	    B("Subject: s\r\n\r\nFrom here on\r\n"), "", 0 },
	{ "From: is a field, not From_", ADD,
	    B("From: a@x.test\n\nx\n"), 0,
	    B("From: a@x.test\r\n" D M "\r\nx\r\n"), "", 0 },

	/* --- Bcc removal ---------------------------------------------- */
	{ "Bcc removed", 0,
	    B("To: a@x.test\nBcc: b@x.test\nSubject: s\n\nx\n"), 0,
	    B("To: a@x.test\r\nSubject: s\r\n\r\nx\r\n"), "", 0 },
	{ "a folded Bcc removed with its continuations", 0,
	    B("Bcc: b@x.test,\n c@x.test,\n\td@x.test\nSubject: s\n\nx\n"), 0,
	    B("Subject: s\r\n\r\nx\r\n"), "", 0 },
	{ "Resent-Bcc removed, any case, obs white space", 0,
	    B("RESENT-BCC: r@x.test\nbcc : q@x.test\nResent-To: t@x.test\n"
	    "BcC:\n\nx\n"), 0,
	    B("Resent-To: t@x.test\r\n\r\nx\r\n"), "", 0 },
	{ "fields that only look like Bcc stay", 0,
	    B("Bcc-Note: keep\nX-Bcc: keep\n\nBcc: body\n"), 0,
	    B("Bcc-Note: keep\r\nX-Bcc: keep\r\n\r\nBcc: body\r\n"), "", 0 },
	{ "only Bcc: the header section is empty", 0,
	    B("Bcc: a@x.test\n\nx\n"), 0, B("\r\nx\r\n"), "", 0 },

	/* --- added fields --------------------------------------------- */
	{ "From, Date, Message-ID appended in that order", ADD,
	    B("Subject: s\n\nx\n"), 0,
	    B("Subject: s\r\n" F D M "\r\nx\r\n"), "", 0 },
	{ "present fields are not added again (any case)", ADD,
	    B("DATE: d\nmessage-id: <m@x.test>\n\nx\n"), 0,
	    B("DATE: d\r\nmessage-id: <m@x.test>\r\n" F "\r\nx\r\n"), "", 0 },
	{ "all three present: nothing added", ADD,
	    B("From: a@x.test\nDate: d\nMessage-ID: <m@x.test>\n\nx\n"), 0,
	    B("From: a@x.test\r\nDate: d\r\nMessage-ID: <m@x.test>\r\n\r\nx\r\n"),
	    "", 0 },
	{ "Resent-From and Sender do not count as From", ADD,
	    B("Resent-From: a@x.test\nSender: b@x.test\n\nx\n"), 0,
	    B("Resent-From: a@x.test\r\nSender: b@x.test\r\n" F D M "\r\nx\r\n"),
	    "", 0 },
	{ "an added field follows even a header-only message", ADD,
	    B("Subject: s"), 0, B("Subject: s\r\n" F D M "\r\n"), "", 0 },

	/* --- -t extraction -------------------------------------------- */
	{ "-t: To, Cc and Bcc, Bcc removed", X,
	    B("To: a@x.test\nCc: b@x.test\nBcc: c@x.test\n\nx\n"), 0,
	    B("To: a@x.test\r\nCc: b@x.test\r\n\r\nx\r\n"),
	    "a@x.test b@x.test c@x.test", 0 },
	{ "-t: a group", X,
	    B("To: friends: a@x.test, b@y.test;, c@z.test\n\n"), 0,
	    B("To: friends: a@x.test, b@y.test;, c@z.test\r\n\r\n"),
	    "a@x.test b@y.test c@z.test", 0 },
	{ "-t: undisclosed-recipients:; gives none", X,
	    B("To: undisclosed-recipients:;\nBcc: z@x.test\n\n"), 0,
	    B("To: undisclosed-recipients:;\r\n\r\n"), "z@x.test", 0 },
	{ "-t: comments and display names", X,
	    B("To: Joe (the boss) <joe@x.test>, (note) ann@x.test (Ann),\n"
	    " \"Doe, John\" <jd@x.test>, \"a <b@c>\" <e@x.test>\n\n"), 0,
	    B("To: Joe (the boss) <joe@x.test>, (note) ann@x.test (Ann),\r\n"
	    " \"Doe, John\" <jd@x.test>, \"a <b@c>\" <e@x.test>\r\n\r\n"),
	    "joe@x.test ann@x.test jd@x.test e@x.test", 0 },
	{ "-t: nested comments and escapes", X,
	    B("To: a@x.test (x (y, z) \\) w), b@x.test\n\n"), 0,
	    B("To: a@x.test (x (y, z) \\) w), b@x.test\r\n\r\n"),
	    "a@x.test b@x.test", 0 },
	{ "-t: quoted local parts keep their spaces", X,
	    B("To: \"a b\"@x.test, \"c,d\"@x.test, \"x\\\" y\"@x.test\n\n"), 0,
	    B("To: \"a b\"@x.test, \"c,d\"@x.test, \"x\\\" y\"@x.test\r\n\r\n"),
	    "\"a b\"@x.test \"c,d\"@x.test \"x\\\" y\"@x.test", 0 },
	{ "-t: a quoted local part that needs no quotes", X,
	    B("To: \"ab\"@x.test\n\n"), 0, B("To: \"ab\"@x.test\r\n\r\n"),
	    "ab@x.test", 0 },
	{ "-t: obsolete white space around dots and @", X,
	    B("To: joe . q @ x.test, Ann <ann @x.test>\n\n"), 0,
	    B("To: joe . q @ x.test, Ann <ann @x.test>\r\n\r\n"),
	    "joe.q@x.test ann@x.test", 0 },
	{ "-t: several To and Cc lines, folded", X,
	    B("To: a@x.test,\n b@x.test\nSubject: s\nTo: c@x.test\n"
	    "CC: d@x.test,\n\t e@x.test\n\nx\n"), 0,
	    B("To: a@x.test,\r\n b@x.test\r\nSubject: s\r\nTo: c@x.test\r\n"
	    "CC: d@x.test,\r\n\t e@x.test\r\n\r\nx\r\n"),
	    "a@x.test b@x.test c@x.test d@x.test e@x.test", 0 },
	{ "-t: a group folded over lines", X,
	    B("Cc: team:\n a@x.test,\n b@x.test;\n\n"), 0,
	    B("Cc: team:\r\n a@x.test,\r\n b@x.test;\r\n\r\n"),
	    "a@x.test b@x.test", 0 },
	{ "-t: a folded Bcc extracted, then removed", X,
	    B("Bcc: a@x.test,\n b@x.test\nSubject: s\n\n"), 0,
	    B("Subject: s\r\n\r\n"), "a@x.test b@x.test", 0 },
	{ "-t: the same address once", X,
	    B("To: a@x.test, A <a@x.test>\nCc: a@x.test\n\n"), 0,
	    B("To: a@x.test, A <a@x.test>\r\nCc: a@x.test\r\n\r\n"),
	    "a@x.test", 0 },
	{ "-t: local names kept as they are", X,
	    B("To: joe, ann\n\n"), 0, B("To: joe, ann\r\n\r\n"), "joe ann", 0 },
	{ "-t: an obsolete source route is dropped", X,
	    B("To: <@r1.test,@r2.test:a@x.test>\n\n"), 0,
	    B("To: <@r1.test,@r2.test:a@x.test>\r\n\r\n"), "a@x.test", 0 },
	{ "-t: empty list elements skipped", X,
	    B("To: a@x.test,, ,b@x.test,\n\n"), 0,
	    B("To: a@x.test,, ,b@x.test,\r\n\r\n"), "a@x.test b@x.test", 0 },
	{ "-t: an empty To", X,
	    B("To:\nCc: b@x.test\n\n"), 0, B("To:\r\nCc: b@x.test\r\n\r\n"),
	    "b@x.test", 0 },
	{ "-t: other fields are not recipients", X,
	    B("Resent-To: r@x.test\nReply-To: q@x.test\nFrom: f@x.test\n"
	    "Resent-Cc: s@x.test\nTo: a@x.test\n\n"), 0,
	    B("Resent-To: r@x.test\r\nReply-To: q@x.test\r\nFrom: f@x.test\r\n"
	    "Resent-Cc: s@x.test\r\nTo: a@x.test\r\n\r\n"), "a@x.test", 0 },
	{ "-t: To in the body is not a recipient", X,
	    B("To: a@x.test\n\nTo: b@x.test\n"), 0,
	    B("To: a@x.test\r\n\r\nTo: b@x.test\r\n"), "a@x.test", 0 },
	{ "-t: no header section, no recipients", X,
	    B("hello\nTo: a@x.test\n"), 0, B("\r\nhello\r\nTo: a@x.test\r\n"),
	    "", 0 },
	{ "-t: To after a lone dot is not read", X,
	    B("To: a@x.test\n.\nCc: b@x.test\n"), 0,
	    B("To: a@x.test\r\n\r\n"), "a@x.test", 0 },
	{ "without -t nothing is extracted, Bcc still removed", 0,
	    B("To: a@x.test\nBcc: b@x.test\n\n"), 0,
	    B("To: a@x.test\r\n\r\n"), "", 0 },
	{ "-t: a bad address is refused", X,
	    B("To: a@@x.test\n\n"), INJECT_MSG_E_ADDRESS, B(""), "", 0 },
	{ "-t: an unclosed <> is refused", X,
	    B("To: <a@x.test\n\n"), INJECT_MSG_E_ADDRESS, B(""), "", 0 },
	{ "-t: an unclosed quote is refused", X,
	    B("To: \"a@x.test\n\n"), INJECT_MSG_E_ADDRESS, B(""), "", 0 },
	{ "-t: an unclosed comment is refused", X,
	    B("Cc: (a@x.test\n\n"), INJECT_MSG_E_ADDRESS, B(""), "", 0 },
	{ "-t: an empty <> is refused", X,
	    B("To: <>\n\n"), INJECT_MSG_E_ADDRESS, B(""), "", 0 },
	{ "-t: a bad address in Bcc is refused too", X,
	    B("To: a@x.test\nBcc: b@\n\n"), INJECT_MSG_E_ADDRESS, B(""), "", 0 },
	{ "-t: two words are no address", X,
	    B("To: joe smith\n\n"), INJECT_MSG_E_ADDRESS, B(""), "", 0 },
	{ "-t: two words before the @ are no address", X,
	    B("To: joe smith@x.test\n\n"), INJECT_MSG_E_ADDRESS, B(""), "", 0 },
	{ "-t: a display name without <> is no address", X,
	    B("Cc: Joe Smith joe@x.test\n\n"), INJECT_MSG_E_ADDRESS, B(""), "",
	    0 },
	{ "-t: a bad address folded: why is one line", X,
	    B("To: a@x.test,\n b@@x.test\n\n"), INJECT_MSG_E_ADDRESS, B(""),
	    "", 0 },
};

static void
init_opts(struct inject_msg_opts *o, int flags, size_t max)
{
	memset(o, 0, sizeof *o);
	o->flags = flags & ~ADD;
	o->max_size = max;
	if (flags & ADD) {
		o->from = FROM_V;
		o->date = DATE_V;
		o->msgid = MSGID_V;
	}
}

static void
join(const struct inject_rcpts *rc, char *out, size_t cap)
{
	size_t i, k = 0;

	out[0] = '\0';
	for (i = 0; i < rc->n; i++)
		k += (size_t)snprintf(out + k, k < cap ? cap - k : 0, "%s%s",
		    i ? " " : "", rc->a[i]);
}

static void
run_case(const struct mcase *c)
{
	struct inject_msg_opts o;
	struct inject_msg_info info;
	struct inject_rcpts rc = { NULL, 0, 0 };
	struct buf out = BUF_INIT(0);
	char got[4096], name[300];
	int r;

	init_opts(&o, c->flags, 0);
	r = inject_msg_build(c->in, c->inlen, &o, &out, &rc, &info);
	snprintf(name, sizeof name, "%s: result", c->name);
	is_int(r, c->rc, name);
	if (c->rc == INJECT_MSG_OK) {
		snprintf(name, sizeof name, "%s: output", c->name);
		is_mem(out.p ? out.p : "", out.len, c->out, c->outlen, name);
		join(&rc, got, sizeof got);
		snprintf(name, sizeof name, "%s: recipients", c->name);
		is_str(got, c->rcpts, name);
	} else {
		ok(out.len == 0, "%s: nothing in the output", c->name);
		ok(info.why[0] != '\0' && strpbrk(info.why, "\r\n") == NULL,
		    "%s: why is one line: %s", c->name, info.why);
		if (c->line) {
			snprintf(name, sizeof name, "%s: line", c->name);
			is_int((long long)info.err_line, (long long)c->line,
			    name);
		}
	}
	inject_rcpts_free(&rc);
	buf_free(&out);
}

/* Builds in with flags and max; returns the code, output in *out. */
static int
build(const char *in, size_t n, int flags, size_t max, struct buf *out,
    struct inject_rcpts *rc, struct inject_msg_info *info)
{
	struct inject_msg_opts o;

	init_opts(&o, flags, max);
	return inject_msg_build(in, n, &o, out, rc, info);
}

/* A header line "X: yyy..." of exactly len octets. */
static void
long_field(struct buf *b, size_t len)
{
	buf_append_str(b, "X: ");
	while (b->len < len)
		buf_append_byte(b, 'y');
}

static void
test_line_limit(void)
{
	struct inject_msg_info info;
	struct inject_rcpts rc = { NULL, 0, 0 };
	struct buf in = BUF_INIT(0), out = BUF_INIT(0), want = BUF_INIT(0);
	int r;

	long_field(&in, INJECT_MSG_LINE_MAX);
	buf_append(&want, in.p, in.len);
	buf_append_str(&in, "\nSubject: s\n\nx\n");
	buf_append_str(&want, "\r\nSubject: s\r\n\r\nx\r\n");
	r = build(in.p, in.len, 0, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_OK, "a 998-octet header line is accepted");
	is_mem(out.p, out.len, want.p, want.len, "and kept whole");

	buf_reset(&in);
	buf_reset(&out);
	buf_append_str(&in, "Subject: s\r\n");
	long_field(&in, in.len + INJECT_MSG_LINE_MAX + 1);
	buf_append_str(&in, "\r\n\r\nx\r\n");
	r = build(in.p, in.len, 0, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_HEADER, "a 999-octet header line is refused");
	is_int((long long)info.err_line, 2, "on its line");
	ok(strstr(info.why, "998") != NULL, "why names the limit: %s",
	    info.why);

	/* A 999-octet continuation line is just as long. */
	buf_reset(&in);
	buf_reset(&out);
	buf_append_str(&in, "Subject: s\n ");
	while (in.len < 11 + INJECT_MSG_LINE_MAX + 1)
		buf_append_byte(&in, 'z');
	buf_append_str(&in, "\n\nx\n");
	r = build(in.p, in.len, 0, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_HEADER, "a 999-octet continuation is refused");

	/* The body is not the header: its line length is not checked. */
	buf_reset(&in);
	buf_reset(&out);
	buf_append_str(&in, "Subject: s\n\n");
	long_field(&in, in.len + 5000);
	r = build(in.p, in.len, 0, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_OK, "a long body line passes");
	is_int((long long)out.len, (long long)in.len + 4,
	    "a long body line is kept (CRLFs added)");

	/*
	 * A first line over the limit is refused before the "no field: all
	 * is body" rule is tried (a later body line that long would pass).
	 */
	buf_reset(&in);
	buf_reset(&out);
	while (in.len < 2000)
		buf_append_byte(&in, 'w');
	r = build(in.p, in.len, 0, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_HEADER,
	    "an over-long first line is refused before the field test");
	buf_free(&in);
	buf_free(&out);
	buf_free(&want);
	inject_rcpts_free(&rc);
}

static void
test_size_limit(void)
{
	struct inject_msg_info info;
	struct inject_rcpts rc = { NULL, 0, 0 };
	struct buf in = BUF_INIT(0), out = BUF_INIT(0);
	size_t full, i;
	int r;

	/* Body heavy: the limit hits while the body streams. */
	buf_append_str(&in, "Subject: s\n\n");
	for (i = 0; i < 1000; i++)
		buf_append_str(&in, "0123456789012345678901234567890123456789\n");
	r = build(in.p, in.len, ADD, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_OK, "size: unlimited build");
	full = out.len;
	is_int((long long)full, (long long)(in.len + 1002 +
	    strlen(F D M)), "size: CRLF and added fields counted");
	buf_reset(&out);
	r = build(in.p, in.len, ADD, full, &out, &rc, &info);
	is_int(r, INJECT_MSG_OK, "size: exactly max_size is accepted");
	is_int((long long)out.len, (long long)full, "size: all of it");
	buf_reset(&out);
	r = build(in.p, in.len, ADD, full - 1, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_TOOBIG, "size: max_size + 1 is refused");
	is_int((long long)out.len, 0, "size: nothing left in the output");
	ok(strstr(info.why, "large") != NULL, "size: why: %s", info.why);
	buf_reset(&out);
	r = build(in.p, in.len, ADD, 100, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_TOOBIG, "size: far over max_size is refused");

	/* Header heavy: the limit hits while the header is read. */
	buf_reset(&in);
	for (i = 0; i < 200; i++)
		buf_append_str(&in, "X-Field: 0123456789012345678901234567\n");
	r = build(in.p, in.len, 0, 0, &out, &rc, &info);
	full = out.len;
	is_int((long long)full, (long long)(in.len + 200 + 2),
	    "size: a header-only message");
	buf_reset(&out);
	r = build(in.p, in.len, 0, full, &out, &rc, &info);
	is_int(r, INJECT_MSG_OK, "size: header-only at max_size is accepted");
	buf_reset(&out);
	r = build(in.p, in.len, 0, full - 1, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_TOOBIG, "size: header-only at max_size + 1 is "
	    "refused");
	buf_reset(&out);
	r = build(in.p, in.len, 0, 1000, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_TOOBIG, "size: a header over max_size is "
	    "refused while read");

	/* The added fields alone may push it over. */
	buf_reset(&in);
	buf_append_str(&in, "Subject: s\n\nx\n");
	buf_reset(&out);
	r = build(in.p, in.len, ADD, strlen("Subject: s\r\n\r\nx\r\n" F D M),
	    &out, &rc, &info);
	is_int(r, INJECT_MSG_OK, "size: added fields fit exactly");
	buf_reset(&out);
	r = build(in.p, in.len, ADD, strlen("Subject: s\r\n\r\nx\r\n" F D M) -
	    1, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_TOOBIG, "size: added fields one octet over");
	buf_free(&in);
	buf_free(&out);
	inject_rcpts_free(&rc);
}

static void
test_rcpt_limit(void)
{
	struct inject_msg_info info;
	struct inject_rcpts rc = { NULL, 0, 0 };
	struct buf in = BUF_INIT(0), out = BUF_INIT(0);
	size_t i;
	int r;

	buf_append_str(&in, "To: u0@x.test");
	for (i = 1; i < INJECT_MSG_MAX_RCPT; i++)
		buf_printf(&in, ",\n u%zu@x.test", i);
	/* Repeats of known addresses do not count. */
	buf_append_str(&in, "\nCc: u0@x.test, u999@x.test\n\nx\n");
	r = build(in.p, in.len, X, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_OK, "rcpt: 1000 recipients are accepted");
	is_int((long long)rc.n, INJECT_MSG_MAX_RCPT, "rcpt: all 1000 kept");
	ok(rc.n == INJECT_MSG_MAX_RCPT && strcmp(rc.a[999], "u999@x.test") == 0,
	    "rcpt: in header order");
	inject_rcpts_free(&rc);

	buf_reset(&in);
	buf_reset(&out);
	buf_append_str(&in, "Bcc: extra@x.test\nTo: u0@x.test");
	for (i = 1; i < INJECT_MSG_MAX_RCPT; i++)
		buf_printf(&in, ",\n u%zu@x.test", i);
	buf_append_str(&in, "\n\nx\n");
	r = build(in.p, in.len, X, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_TOOMANY, "rcpt: 1001 recipients are refused");
	is_int((long long)out.len, 0, "rcpt: nothing in the output");
	inject_rcpts_free(&rc);
	buf_free(&in);
	buf_free(&out);
}

/* The output is appended to what out holds; a failure leaves that alone. */
static void
test_append(void)
{
	struct inject_msg_info info;
	struct inject_rcpts rc = { NULL, 0, 0 };
	struct buf out = BUF_INIT(0);
	int r;

	static const char want[] = "PREFIX|Subject: s\r\n\r\nbody\r\n";

	buf_append_str(&out, "PREFIX|");
	r = build(B("Subject: s\n\nbody\n"), 0, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_OK, "append: built after a prefix");
	is_mem(out.p, out.len, want, sizeof want - 1,
	    "append: header goes after the prefix, not before it");
	r = build(B("Subject: s\nbad line\n"), 0, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_HEADER, "append: a refused message");
	is_mem(out.p, out.len, want, sizeof want - 1,
	    "append: leaves the earlier contents as they were");
	ok(out.p[out.len] == '\0', "append: still NUL terminated");
	buf_free(&out);
	inject_rcpts_free(&rc);
}

static void
test_info(void)
{
	struct inject_msg_info info;
	struct inject_rcpts rc = { NULL, 0, 0 };
	struct buf out = BUF_INIT(0);

	build(B("Subject: s\n\nplain\n"), 0, 0, &out, &rc, &info);
	is_int(info.eightbit, 0, "eightbit: 7-bit text");
	buf_reset(&out);
	build(B("Subject: \xc3\xa9t\xc3\xa9\n\nplain\n"), 0, 0, &out, &rc, &info);
	is_int(info.eightbit, 1, "eightbit: in the header");
	buf_reset(&out);
	build(B("Subject: s\n\n\xff\n"), 0, 0, &out, &rc, &info);
	is_int(info.eightbit, 1, "eightbit: in the body");
	buf_reset(&out);
	build(B("Subject: s\n\nx\n.\n\xff\n"), 0, 0, &out, &rc, &info);
	is_int(info.eightbit, 0, "eightbit: what follows the lone dot is not "
	    "read");
	buf_free(&out);
	inject_rcpts_free(&rc);
}

/*
 * The maildrop pickup refuses a body holding NUL (doc/THREATS.md), so a
 * NUL that got through here would be accepted and then thrown away.
 */
static void
test_body_nul(void)
{
	struct inject_msg_info info;
	struct inject_rcpts rc = { NULL, 0, 0 };
	struct buf out = BUF_INIT(0);
	int r;

	r = build(B("Subject: s\n\na\0b\n"), 0, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_BODY, "NUL in the body is refused");
	is_str(info.why, "NUL character in the body", "NUL in the body: why");
	is_int((long long)info.err_line, 3, "NUL in the body: its line");
	is_int((long long)out.len, 0, "NUL in the body: nothing in the output");
	r = build(B("no header\nbut a\0\n"), 0, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_BODY, "NUL in an all-body message is refused");
	r = build(B("Subject: s\n\nx\n.\n\0\n"), 0, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_OK, "a NUL after the lone dot is never read");
	is_int((long long)out.len, 17, "and is not in the output");
	buf_reset(&out);
	r = build(B("Subject: s\n\nx\n.\n\0\n"), I, 0, &out, &rc, &info);
	is_int(r, INJECT_MSG_E_BODY, "with -i it is body, and refused");
	is_str(inject_msg_strerror(INJECT_MSG_E_BODY), "malformed body",
	    "strerror of the new code");
	buf_free(&out);
	inject_rcpts_free(&rc);
}

static void
test_addr_api(void)
{
	struct inject_rcpts rc = { NULL, 0, 0 };
	char why[160], got[1024], one[SMTP_PATH_MAX + 1];
	char big[SMTP_PATH_MAX + 10];

	is_int(inject_addr_list(B("a@x.test, Joe <j@x.test>, bob"), &rc, why,
	    sizeof why), INJECT_MSG_OK, "addr list: sendmail arguments");
	join(&rc, got, sizeof got);
	is_str(got, "a@x.test j@x.test bob", "addr list: the addresses");
	inject_rcpts_free(&rc);
	is_int(inject_addr_list(B("a@x.test, <b@"), &rc, why, sizeof why),
	    INJECT_MSG_E_ADDRESS, "addr list: a bad one");
	ok(strstr(why, "<b@") != NULL, "addr list: why names it: %s", why);
	inject_rcpts_free(&rc);

	is_int(inject_addr_check(B("Joe@Example.TEST"), one), 0,
	    "addr check: a domain address");
	is_int(inject_addr_check(B("joe"), one), 0, "addr check: a local name");
	is_str(one, "joe", "addr check: kept");
	is_int(inject_addr_check(B(".joe"), one), -1,
	    "addr check: a leading dot is refused");
	is_int(inject_addr_check(B("jo e"), one), -1,
	    "addr check: a space is refused");
	is_int(inject_addr_check(B(""), one), -1, "addr check: empty");
	memset(big, 'a', sizeof big);
	is_int(inject_addr_check(big, SMTP_LOCAL_MAX, one), 0,
	    "addr check: a 64-octet local name");
	is_int(inject_addr_check(big, SMTP_LOCAL_MAX + 1, one), -1,
	    "addr check: a 65-octet local name is refused");
	is_int(inject_addr_check(big, SMTP_PATH_MAX + 1, one), -1,
	    "addr check: over the path limit");
	is_str(inject_msg_strerror(INJECT_MSG_E_TOOBIG), "message too large",
	    "strerror");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
	test_line_limit();
	test_size_limit();
	test_rcpt_limit();
	test_append();
	test_info();
	test_body_nul();
	test_addr_api();
	return done_testing();
}
