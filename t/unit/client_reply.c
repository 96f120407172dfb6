/*
 * client_reply: reply parsing (RFC 5321 4.2), EHLO keywords and the DATA
 * transparency encoder (RFC 5321 4.5.2).
 */
#include <string.h>

#include "client/client_reply.h"
#include "tap.h"

static int
feed(struct client_reply *r, const char *line)
{
	return client_reply_feed(r, line, strlen(line));
}

static void
stuff(const char *const *parts, const char *want, const char *name)
{
	struct client_dot d;
	struct buf b = BUF_INIT(0);

	client_dot_init(&d);
	for (; *parts != NULL; parts++)
		client_dot_stuff(&d, *parts, strlen(*parts), &b);
	client_dot_end(&d, &b);
	is_mem(b.p, b.len, want, strlen(want), name);
	buf_free(&b);
}

/* The rule octet by octet, as RFC 5321 4.5.2 states it: the reference
 * for the line-at-a-time client_dot_stuff(). */
static void
ref_stuff(const char *p, size_t n, struct buf *out)
{
	int bol = 1, cr = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (bol && p[i] == '.')
			buf_append_byte(out, '.');
		buf_append_byte(out, p[i]);
		bol = cr && p[i] == '\n';
		cr = p[i] == '\r';
	}
	if (!bol)
		buf_append(out, "\r\n", 2);
	buf_append(out, ".\r\n", 3);
}

/* Random texts of ".", CR, LF and "a", cut at random places. */
static int
stuff_matches_reference(unsigned rounds)
{
	static const char alpha[] = ".\r\na";
	unsigned seed = 12345, r;
	char in[64];
	struct buf got = BUF_INIT(0), want = BUF_INIT(0);
	int same = 1;

	for (r = 0; r < rounds && same; r++) {
		struct client_dot d;
		size_t n, i, off;

		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % sizeof in;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			in[i] = alpha[(seed >> 16) & 3];
		}
		buf_reset(&got);
		buf_reset(&want);
		ref_stuff(in, n, &want);
		client_dot_init(&d);
		for (off = 0; off < n; ) {
			size_t k;

			seed = seed * 1103515245 + 12345;
			k = 1 + (seed >> 16) % 8;
			if (k > n - off)
				k = n - off;
			client_dot_stuff(&d, in + off, k, &got);
			off += k;
		}
		client_dot_end(&d, &got);
		same = got.len == want.len &&
		    memcmp(got.p, want.p, got.len) == 0;
	}
	buf_free(&got);
	buf_free(&want);
	return same;
}

int
main(void)
{
	struct client_reply r;
	struct client_ext e;

	client_reply_reset(&r);
	is_int(feed(&r, "250 2.1.0 Ok"), CLIENT_REPLY_DONE, "single line");
	is_int(r.code, 250, "code");
	is_str(r.text, "250 2.1.0 Ok", "text");

	is_int(feed(&r, "550-5.1.1 <x@y>: no"), CLIENT_REPLY_MORE, "first");
	is_int(feed(&r, "550-5.1.1 such"), CLIENT_REPLY_MORE, "middle");
	is_int(feed(&r, "550 5.1.1 user"), CLIENT_REPLY_DONE, "last");
	is_str(r.text, "550 5.1.1 <x@y>: no 5.1.1 such 5.1.1 user",
	    "multiline text joined");
	is_int(r.code, 550, "multiline code");

	is_int(feed(&r, "250"), CLIENT_REPLY_DONE, "bare code");
	is_str(r.text, "250", "bare code text");
	client_reply_reset(&r);
	is_int(feed(&r, "250-a"), CLIENT_REPLY_MORE, "start");
	is_int(feed(&r, "251 b"), CLIENT_REPLY_E_SYNTAX, "code change");
	client_reply_reset(&r);
	is_int(feed(&r, "hello"), CLIENT_REPLY_E_SYNTAX, "not a reply");
	is_int(feed(&r, "25"), CLIENT_REPLY_E_SYNTAX, "short");
	is_int(feed(&r, "2500"), CLIENT_REPLY_E_SYNTAX, "4 digits");
	is_int(feed(&r, "199 x"), CLIENT_REPLY_E_SYNTAX, "1xx refused");
	is_int(feed(&r, "421 4.3.2 bye\033[2J"), CLIENT_REPLY_DONE, "controls");
	is_str(r.text, "421 4.3.2 bye?[2J", "controls replaced");
	{
		char longl[2000];

		memset(longl, 'x', sizeof longl);
		memcpy(longl, "250 ", 4);
		client_reply_reset(&r);
		is_int(client_reply_feed(&r, longl, sizeof longl),
		    CLIENT_REPLY_DONE, "long line");
		is_int((long long)r.len, CLIENT_REPLY_MAX - 1, "text cut");
	}
	/* An endless continuation ends at the line and size caps. */
	{
		static char big[CLIENT_REPLY_SIZE_MAX];
		char l[2000];
		unsigned i;
		int res = CLIENT_REPLY_MORE;

		client_reply_reset(&r);
		for (i = 1; i < CLIENT_REPLY_LINES_MAX; i++)
			if (feed(&r, "250-x") != CLIENT_REPLY_MORE)
				break;
		is_int(i, CLIENT_REPLY_LINES_MAX, "99 continuation lines");
		is_int(feed(&r, "250 last"), CLIENT_REPLY_DONE,
		    "the 100th line ends the reply");
		client_reply_reset(&r);
		for (i = 0; i < CLIENT_REPLY_LINES_MAX; i++)
			feed(&r, "250-x");
		is_int(feed(&r, "250 last"), CLIENT_REPLY_E_TOOBIG,
		    "a 101st line: too big");
		is_int(feed(&r, "250 more"), CLIENT_REPLY_E_TOOBIG,
		    "and it stays too big");
		memset(l, 'x', sizeof l);
		memcpy(l, "250-", 4);
		client_reply_reset(&r);
		for (i = 0; i < 40 && res == CLIENT_REPLY_MORE; i++)
			res = client_reply_feed(&r, l, sizeof l);
		is_int(res, CLIENT_REPLY_E_TOOBIG, "2000-octet lines: too big");
		is_int(i, CLIENT_REPLY_SIZE_MAX / (sizeof l + 2) + 1,
		    "at the line that passes 64 KiB");
		memset(big, 'x', sizeof big);
		memcpy(big, "250-", 4);
		client_reply_reset(&r);
		is_int(client_reply_feed(&r, big, CLIENT_REPLY_SIZE_MAX - 2),
		    CLIENT_REPLY_MORE, "one line of 64 KiB - 2 (with CRLF: "
		    "the cap)");
		is_int(feed(&r, "250 x"), CLIENT_REPLY_E_TOOBIG, "one more");
	}
	client_reply_set(&r, 554, "5.6.3 %s", "no");
	is_str(r.text, "554 5.6.3 no", "own reply");

	memset(&e, 0, sizeof e);
	client_ext_line(&e, "PIPELINING", 10);
	client_ext_line(&e, "size 1000000", 12);
	client_ext_line(&e, "8BITMIME", 8);
	client_ext_line(&e, "CHUNKING", 8);
	client_ext_line(&e, "BINARYMIMEX", 11);
	client_ext_line(&e, "SMTPUTF8", 8);
	ok(e.flags == (CLIENT_EXT_PIPELINING | CLIENT_EXT_SIZE |
	    CLIENT_EXT_8BITMIME | CLIENT_EXT_CHUNKING | CLIENT_EXT_SMTPUTF8),
	    "keywords, case-insensitive, whole words only");
	is_int((long long)e.size, 1000000, "SIZE value");
	client_ext_line(&e, "SIZE", 4);
	is_int((long long)e.size, 0, "SIZE without a limit");
	client_ext_line(&e, "SIZE 99999999999999999999999", 27);
	ok(e.size == UINT64_MAX, "SIZE saturates");

	memset(&e, 0, sizeof e);
	client_ext_line(&e, "STARTTLSX", 9);
	client_ext_line(&e, "AUTH=PLAIN", 10);
	client_ext_line(&e, "AUTH CRAM-MD5 PLAINX XLOGIN", 27);
	is_int(e.flags, 0, "STARTTLSX, AUTH=, unknown mechanisms: nothing");
	client_ext_line(&e, "starttls", 8);
	is_int(e.flags, CLIENT_EXT_STARTTLS, "STARTTLS, case-insensitive");
	client_ext_line(&e, "AUTH CRAM-MD5 login", 19);
	is_int(e.flags, CLIENT_EXT_STARTTLS | CLIENT_EXT_AUTH_LOGIN,
	    "AUTH: LOGIN among others, case-insensitive");
	client_ext_line(&e, "AUTH PLAIN", 10);
	ok(e.flags & CLIENT_EXT_AUTH_PLAIN, "AUTH PLAIN, last on the line");
	memset(&e, 0, sizeof e);
	client_ext_line(&e, "AUTH  PLAIN ", 12);
	is_int(e.flags, CLIENT_EXT_AUTH_PLAIN, "AUTH with extra spaces");

	{
		static const char *const a[] = { ".a\r\n..b\r\nc.\r\n.", NULL };
		static const char *const b[] = { "x\r", "\n", ".y\r\n", NULL };
		static const char *const c[] = { "no end", NULL };
		static const char *const d[] = { "", NULL };
		static const char *const f[] = { "a\n.b\r\n", NULL };

		stuff(a, "..a\r\n...b\r\nc.\r\n..\r\n.\r\n", "leading dots");
		stuff(b, "x\r\n..y\r\n.\r\n", "CRLF split across calls");
		stuff(c, "no end\r\n.\r\n", "missing final CRLF added");
		stuff(d, ".\r\n", "empty message");
		stuff(f, "a\n.b\r\n.\r\n", "only CRLF starts a line");
	}
	ok(stuff_matches_reference(50000),
	    "50,000 random texts, randomly cut: as octet by octet");
	return done_testing();
}
