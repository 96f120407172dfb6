#include <stdio.h>
#include <string.h>

#include "deliver/deliver_loop.h"
#include "tap.h"

struct tcase {
	const char *name;
	const char *msg;
	size_t maxhdr;		/* 0: unbounded */
	const char *rcpt;
	int found;
	unsigned hops;
	int truncated;
	long hdrlen;		/* -1: don't check */
};

static const struct tcase cases[] = {
	{ "empty message", "", 0, "a@b", 0, 0, 0, 0 },
	{ "no loop", "Received: from x\nDelivered-To: c@d\nSubject: s\n\nb\n",
	    0, "a@b", 0, 2, 0, 47 },
	{ "loop", "Received: from x\nDelivered-To: a@b\n\nbody\n", 0, "a@b",
	    1, 2, 0, 36 },
	{ "loop, CRLF", "Received: from x\r\nDelivered-To: a@b\r\n\r\nbody\r\n",
	    0, "a@b", 1, 2, 0, 39 },
	{ "body does not count", "Subject: s\n\nDelivered-To: a@b\n"
	    "Received: x\n", 0, "a@b", 0, 0, 0, 12 },
	{ "CRLF body does not count", "Subject: s\r\n\r\nDelivered-To: a@b\r\n",
	    0, "a@b", 0, 0, 0, 14 },
	{ "case-insensitive name and value", "delivered-TO: A@B\n\n", 0,
	    "a@b", 1, 1, 0, -1 },
	{ "recipient case", "Delivered-To: Alice@Example.Org\n\n", 0,
	    "alice@example.org", 1, 1, 0, -1 },
	{ "white space around value", "Delivered-To:   a@b \t\n\n", 0, "a@b",
	    1, 1, 0, -1 },
	{ "no space after colon", "Delivered-To:a@b\n\n", 0, "a@b", 1, 1, 0,
	    -1 },
	{ "obsolete space before colon", "Delivered-To \t: a@b\n\n", 0, "a@b",
	    1, 1, 0, -1 },
	{ "angle brackets", "Delivered-To: <a@b>\n\n", 0, "a@b", 1, 1, 0, -1 },
	{ "folded value", "Delivered-To:\r\n a@b\r\n\r\n", 0, "a@b", 1, 1, 0,
	    -1 },
	{ "prefix is no match", "Delivered-To: a@bc\n\n", 0, "a@b", 0, 1, 0,
	    -1 },
	{ "suffix is no match", "Delivered-To: xa@b\n\n", 0, "a@b", 0, 1, 0,
	    -1 },
	{ "other field name", "X-Delivered-To: a@b\n\n", 0, "a@b", 0, 0, 0,
	    -1 },
	{ "field name prefix", "Delivered-Tox: a@b\n\n", 0, "a@b", 0, 0, 0,
	    -1 },
	{ "value elsewhere", "Subject: a@b\n\n", 0, "a@b", 0, 0, 0, -1 },
	{ "empty recipient never matches", "Delivered-To: \n\n", 0, "", 0, 1,
	    0, -1 },
	{ "folded Received is one hop", "Received: from a\n\tby b\n  id c\n"
	    "Received: from d\n\n", 0, "a@b", 0, 2, 0, -1 },
	{ "headers only, last line unterminated", "Delivered-To: a@b", 0,
	    "a@b", 1, 1, 0, 17 },
	{ "non-field line ends the header", "Delivered-To: x\nnot a header\n"
	    "Delivered-To: a@b\n\n", 0, "a@b", 0, 1, 0, 16 },
	{ "leading continuation is not a header", " Delivered-To: a@b\n\n", 0,
	    "a@b", 0, 0, 0, 0 },
	{ "cut inside the field", "Delivered-To: a@b\nSubject: x\n\n", 10,
	    "a@b", 0, 0, 1, 0 },
	{ "cut after LF: folding may follow", "Delivered-To: a@b\n"
	    "Subject: x\n\n", 18, "a@b", 0, 0, 1, 0 },
	{ "cut one byte later: complete", "Delivered-To: a@b\nSubject: x\n\n",
	    19, "a@b", 1, 1, 1, 18 },
	{ "bound beyond header is harmless", "Delivered-To: a@b\n\nbody", 1000,
	    "a@b", 1, 1, 0, 19 },
	{ "bound exactly at header end", "Delivered-To: a@b\n\nbody", 19,
	    "a@b", 1, 1, 0, 19 },
	{ "bound equals length", "Delivered-To: a@b", 17, "a@b", 1, 1, 0,
	    17 },
};

static void
run_case(const struct tcase *c)
{
	struct deliver_loop res;
	int r;

	r = deliver_loop_scan(c->msg, strlen(c->msg), c->maxhdr, c->rcpt,
	    strlen(c->rcpt), &res);
	if (!ok(r == 0 && res.found == c->found && res.hops == c->hops &&
	    res.truncated == c->truncated &&
	    (c->hdrlen < 0 || (long)res.hdrlen == c->hdrlen), "%s", c->name))
		diag("r=%d found=%d hops=%u truncated=%d hdrlen=%zu", r,
		    res.found, res.hops, res.truncated, res.hdrlen);
}

/* A message with many hops, and the scan of it bounded. */
static void
hops(void)
{
	char msg[8192];
	struct deliver_loop res;
	size_t n;
	int i;

	n = 0;
	for (i = 0; i < 60; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n,
		    "Received: from h%d by h%d; Mon, 1 Jan 2024 00:00:00 +0000\r\n",
		    i, i + 1);
	n += (size_t)snprintf(msg + n, sizeof(msg) - n,
	    "Delivered-To: bob@example.org\r\n\r\nbody\r\n");
	deliver_loop_scan(msg, n, 0, "alice@example.org", 17, &res);
	is_int(res.hops, 61, "61 hops");
	is_int(res.found, 0, "not our recipient");
	deliver_loop_scan(msg, n, 0, "BOB@example.org", 15, &res);
	is_int(res.found, 1, "found after 60 Received");
	deliver_loop_scan(msg, n, 1000, "bob@example.org", 15, &res);
	ok(res.truncated && !res.found && res.hops < 60 && res.hops > 0,
	    "bounded scan counts what it saw (%u)", res.hops);
	ok(res.hdrlen <= 1000, "hdrlen within bound");
}

static void
args(void)
{
	struct deliver_loop res;

	is_int(deliver_loop_scan("x", 1, 0, "a", 1, NULL), -1, "NULL result");
	is_int(deliver_loop_scan(NULL, 1, 0, "a", 1, &res), -1, "NULL msg");
	is_int(deliver_loop_scan(NULL, 0, 0, "a", 1, &res), 0,
	    "NULL empty msg");
	/* Bytes after a NUL still belong to the header: ptr+len. */
	is_int(deliver_loop_scan("X: \0\nDelivered-To: a\n\n", 22, 0, "a", 1,
	    &res), 0, "NUL in header");
	is_int(res.found, 1, "NUL does not end the scan");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	hops();
	args();
	return done_testing();
}
