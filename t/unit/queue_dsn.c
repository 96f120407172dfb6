/* DSN builder (RFC 3464) and status extraction; pipe exit classes. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "queue/queue_dsn.h"
#include "queue/queue_pipe.h"
#include "tap.h"

static int
has(const struct buf *b, const char *s)
{
	return b->p && strstr(b->p, s) != NULL;
}

int
main(void)
{
	static const char orig[] = "Received: from x\r\n\tby y\r\n"
	    "Subject: hello\r\nFrom: <s@z.org>\r\n\r\nsecret body\r\n";
	struct queue_dsn_rcpt r[2] = {
		{ "a@x.org", "list@x.org", "5.1.1",
		    "smtp; 550 5.1.1 <a@x.org>: no such user", "mx.x.org[192.0.2.1]",
		    1700000100 },
		{ "|/bin/prog", "list@x.org", "5.3.0",
		    "x-unix; 5.3.0 exit 69 (EX_UNAVAILABLE): line\r\nbreak", "", 0 },
	};
	struct queue_dsn d;
	struct buf b = BUF_INIT(0);
	char st[16];
	const char *status, *name;
	size_t i;
	static const struct {
		const char *diag;
		int perm;
		const char *want;
	} sc[] = {
		{ "smtp; 550 5.1.1 no such user", 1, "5.1.1" },
		{ "smtp; 451 4.7.1 later", 0, "4.7.1" },
		{ "smtp; 554 no status", 1, "5.0.0" },
		{ "smtp; 421 closing", 0, "4.0.0" },
		{ "x-unix; 5.1.1 exit 67", 1, "5.1.1" },
		{ "x-unix; 4.4.7 program timed out", 0, "4.4.7" },
		{ "garbage", 1, "5.0.0" },
		{ "garbage", 0, "4.0.0" },
		{ "smtp; 250-2.0.0 ok", 0, "2.0.0" },
		{ "smtp; 550 5.1.1.1 bad", 1, "5.0.0" },
	};

	memset(&d, 0, sizeof d);
	d.reporting_mta = "mx.test";
	d.queue_id = "0123456789ABCDEF0123456789ABCD";
	d.arrival = 1700000000;
	d.now = 1700000200;
	d.sender = "s@z.org";
	d.to = "<s@z.org>";
	d.msgid = "ID.dsn@mx.test";
	d.boundary = "B0UND/mx.test";
	d.r = r;
	d.n = 2;
	d.orig = orig;
	d.origlen = sizeof orig - 1;
	is_int(queue_dsn_build(&b, &d), 0, "build");
	ok(has(&b, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"B0UND/mx.test\"\r\n"), "multipart/report");
	ok(has(&b, "Date: Tue, 14 Nov 2023 22:16:40 +0000\r\n"), "Date");
	ok(has(&b, "Reporting-MTA: dns; mx.test\r\n"), "Reporting-MTA");
	ok(has(&b, "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"),
	    "Arrival-Date");
	ok(has(&b, "\r\nFinal-Recipient: rfc822; a@x.org\r\n"
	    "Original-Recipient: rfc822; list@x.org\r\nAction: failed\r\n"
	    "Status: 5.1.1\r\nRemote-MTA: dns; mx.x.org\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <a@x.org>: no such user\r\n"
	    "Last-Attempt-Date: Tue, 14 Nov 2023 22:15:00 +0000\r\n"),
	    "first recipient group; Remote-MTA is the host's name");
	ok(has(&b, "Diagnostic-Code: x-unix; 5.3.0 exit 69 (EX_UNAVAILABLE): "
	    "line  break\r\n"), "CR/LF in a diagnostic cannot start a field");
	ok(has(&b, "Content-Type: text/rfc822-headers\r\n\r\nReceived: from x\r\n"
	    "\tby y\r\nSubject: hello\r\nFrom: <s@z.org>\r\n\r\n"),
	    "original headers attached");
	ok(!has(&b, "secret body"), "the body is not");
	ok(has(&b, "\r\n--B0UND/mx.test--\r\n"), "closing boundary");
	for (i = 0; i + 1 < b.len; i++)
		if (b.p[i + 1] == '\n' && b.p[i] != '\r')
			break;
	is_int((long long)i, (long long)b.len - 1, "CRLF line ends only");

	/* A header section without an end (cut) and LF-only input. */
	buf_reset(&b);
	d.orig = "Subject: x\nX-Long: y";
	d.origlen = strlen(d.orig);
	is_int(queue_dsn_build(&b, &d), 0, "build with a cut header");
	ok(has(&b, "text/rfc822-headers\r\n\r\nSubject: x\r\n\r\n--B0UND"),
	    "cut at the last complete line, LF made CRLF");
	/* A BINARYMIME header with bare CR and LF: quoted as CRLF lines,
	 * ending where a reader that takes CR as a line end sees it end. */
	buf_reset(&b);
	d.orig = "Received: from x\r\nX-A: a\r.\r\nX-B: b\nSubject: s\r\r\n"
	    "X-Late: z\r\n\r\nbody";
	d.origlen = strlen(d.orig);
	is_int(queue_dsn_build(&b, &d), 0, "build with bare CR/LF in the header");
	ok(has(&b, "Content-Type: text/rfc822-headers\r\n\r\nReceived: from x\r\n"
	    "X-A: a\r\n.\r\nX-B: b\r\nSubject: s\r\n\r\n\r\n--B0UND/mx.test--\r\n"),
	    "bare CR and LF quoted as CRLF line ends (no CR . CR LF)");
	for (i = 0; i < b.len; i++)
		if ((b.p[i] == '\r') != (i + 1 < b.len && b.p[i + 1] == '\n') ||
		    (b.p[i] == '\n' && (i == 0 || b.p[i - 1] != '\r')))
			break;
	is_int((long long)i, (long long)b.len, "no bare CR or LF in the DSN");
	is_int((long long)queue_dsn_header_len("A: b\r.\r\n\r\nx", 12, 100), 10,
	    "header length: a bare CR ends a line");
	is_int((long long)queue_dsn_header_len("A: b\r\nC: d\r\n", 12, 11), 6,
	    "a CR at the cut may be half a CRLF: not a line end");
	is_int((long long)queue_dsn_header_len("\r\nA: b", 7, 100), 2,
	    "an empty header section");
	is_int((long long)queue_dsn_header_len("A: b\r\n\r\nbody", 12, 100), 8,
	    "header length with CRLF");
	is_int((long long)queue_dsn_header_len("A: b\n\nbody", 10, 100), 6,
	    "header length with LF");
	buf_free(&b);

	/* RFC 6533 for an SMTPUTF8 original, the whole DSN exactly. */
	{
		static const char uorig[] = "From: <s\xc3\xa9@z.org>\r\n"
		    "Subject: \xc3\xbc\r\n\r\nbody\r\n";
		static const char want[] =
		    "From: Mail Delivery System <MAILER-DAEMON@mx.test>\r\n"
		    "To: <s\xc3\xa9@z.org>\r\n"
		    "Subject: Undelivered Mail Returned to Sender\r\n"
		    "Date: Tue, 14 Nov 2023 22:16:40 +0000\r\n"
		    "Message-ID: <ID.dsn@mx.test>\r\n"
		    "Auto-Submitted: auto-replied\r\n"
		    "MIME-Version: 1.0\r\n"
		    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
		    "\tboundary=\"B/mx.test\"\r\n"
		    "\r\n"
		    "This is a MIME-encapsulated message (RFC 3464).\r\n"
		    "\r\n"
		    "--B/mx.test\r\n"
		    "Content-Description: Notification\r\n"
		    "Content-Type: text/plain; charset=utf-8\r\n"
		    "\r\n"
		    "This is the mail system at host mx.test.\r\n"
		    "\r\n"
		    "I'm sorry to have to inform you that your message could not\r\n"
		    "be delivered to one or more recipients. The report below says\r\n"
		    "why; the headers of your message are attached.\r\n"
		    "\r\n"
		    "<\xc3\xbc@x.org> (from <list@x.org>): smtp; 550 5.1.1 unknown\r\n"
		    "<b@x.org>: smtp; 554 no\r\n"
		    "<c@x.org>: smtp; 550 5.7.1 no\r\n"
		    "\r\n"
		    "--B/mx.test\r\n"
		    "Content-Description: Delivery report\r\n"
		    "Content-Type: message/global-delivery-status\r\n"
		    "\r\n"
		    "Reporting-MTA: dns; mx.test\r\n"
		    "X-Postmaster-Queue-ID: QID\r\n"
		    "X-Postmaster-Sender: utf-8; s\xc3\xa9@z.org\r\n"
		    "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
		    "\r\n"
		    "Final-Recipient: utf-8; \xc3\xbc@x.org\r\n"
		    "Original-Recipient: rfc822; list@x.org\r\n"
		    "Action: failed\r\n"
		    "Status: 5.1.1\r\n"
		    "Remote-MTA: dns; mx1.x.org\r\n"
		    "Diagnostic-Code: smtp; 550 5.1.1 unknown\r\n"
		    "Last-Attempt-Date: Tue, 14 Nov 2023 22:15:00 +0000\r\n"
		    "\r\n"
		    "Final-Recipient: rfc822; b@x.org\r\n"
		    "Action: failed\r\n"
		    "Status: 5.0.0\r\n"
		    "Remote-MTA: dns; mx.test\r\n"
		    "Diagnostic-Code: smtp; 554 no\r\n"
		    "\r\n"
		    "Final-Recipient: rfc822; c@x.org\r\n"
		    "Action: failed\r\n"
		    "Status: 5.7.1\r\n"
		    "Remote-MTA: dns; 127.0.0.1\r\n"
		    "Diagnostic-Code: smtp; 550 5.7.1 no\r\n"
		    "\r\n"
		    "--B/mx.test\r\n"
		    "Content-Description: Undelivered Message Headers\r\n"
		    "Content-Type: message/global-headers\r\n"
		    "\r\n"
		    "From: <s\xc3\xa9@z.org>\r\n"
		    "Subject: \xc3\xbc\r\n"
		    "\r\n"
		    "\r\n"
		    "--B/mx.test--\r\n";
		struct queue_dsn_rcpt u[3] = {
			{ "\xc3\xbc@x.org", "list@x.org", "5.1.1",
			    "smtp; 550 5.1.1 unknown", "mx1.x.org[127.0.0.1]:3602",
			    1700000100 },
			{ "b@x.org", "", "5.0.0", "smtp; 554 no",
			    "/run/lmtp.sock", 0 },
			{ "c@x.org", "", "5.7.1", "smtp; 550 5.7.1 no",
			    "127.0.0.1[127.0.0.1]:3602", 0 },
		};

		memset(&d, 0, sizeof d);
		d.reporting_mta = "mx.test";
		d.queue_id = "QID";
		d.arrival = 1700000000;
		d.now = 1700000200;
		d.sender = "s\xc3\xa9@z.org";
		d.to = "<s\xc3\xa9@z.org>";
		d.msgid = "ID.dsn@mx.test";
		d.boundary = "B/mx.test";
		d.r = u;
		d.n = 3;
		d.orig = uorig;
		d.origlen = sizeof uorig - 1;
		d.smtputf8 = 1;
		b = (struct buf)BUF_INIT(0);
		is_int(queue_dsn_build(&b, &d), 0, "build about an SMTPUTF8 original");
		is_mem(b.p, b.len, want, sizeof want - 1, "RFC 6533 DSN: "
		    "global-delivery-status, utf-8; addresses, global-headers; "
		    "Remote-MTA: dns; and a host name (ours for a unix socket)");
		buf_free(&b);
	}

	for (i = 0; i < sizeof sc / sizeof sc[0]; i++) {
		queue_dsn_status(sc[i].diag, sc[i].perm, st);
		is_str(st, sc[i].want, sc[i].diag);
	}

	is_int(queue_pipe_exit_class(0, &status, &name), QUEUE_OK, "exit 0");
	is_int(queue_pipe_exit_class(75, &status, &name), QUEUE_TEMP, "exit 75");
	is_str(name, "EX_TEMPFAIL", "75 is EX_TEMPFAIL");
	is_int(queue_pipe_exit_class(67, &status, &name), QUEUE_PERM, "exit 67");
	is_str(status, "5.1.1", "67 is 5.1.1");
	is_int(queue_pipe_exit_class(64, &status, &name), QUEUE_PERM, "exit 64");
	is_int(queue_pipe_exit_class(78, &status, &name), QUEUE_PERM, "exit 78");
	is_int(queue_pipe_exit_class(1, &status, &name), QUEUE_TEMP, "exit 1");
	is_int(queue_pipe_exit_class(79, &status, &name), QUEUE_TEMP, "exit 79");
	is_int(queue_pipe_exit_class(63, &status, &name), QUEUE_TEMP, "exit 63");
	return done_testing();
}
