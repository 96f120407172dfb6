#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "client/client_wire.h"
#include "smtp/smtp_data.h"
#include "tap.h"

static int
collect(void *ctx, const char *p, size_t n)
{
	return buf_append(ctx, p, n);
}

static int
failing(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return -1;
}

struct tcase {
	const char *name;
	const char *in;
	const char *out;	/* delivered octets */
	long used;		/* consumed; -1: all, no end; 0: all, end */
	unsigned long lf, cr;	/* bare LF / CR counts */
	size_t outlen;		/* 0: strlen(out) */
};

/*
 * Smuggling variants: none of these may end the message. Each input
 * ends with a real CRLF.CRLF so we can check where the end is found.
 */
static const struct tcase cases[] = {
	{ "empty message", ".\r\n", "", 0, 0, 0, 0 },
	{ "simple", "a\r\n.\r\n", "a\r\n", 0, 0, 0, 0 },
	{ "trailing after end", "a\r\n.\r\nQUIT\r\n", "a\r\n", 6, 0, 0, 0 },
	{ "dot-stuffed", "..a\r\n.\r\n", ".a\r\n", 0, 0, 0, 0 },
	{ "dot-stuffed lone dot", "..\r\n.\r\n", ".\r\n", 0, 0, 0, 0 },
	{ "dot mid line", "a.b\r\n.\r\n", "a.b\r\n", 0, 0, 0, 0 },
	{ "no end yet", "a\r\nb", "a\r\nb", -1, 0, 0, 0 },
	{ "dot line pending", "a\r\n.\r", "a\r\n", -1, 0, 0, 0 },
	{ "LF.LF", "a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", 0, 2, 0, 0 },
	{ "CR.CR", "a\r.\rb\r\n.\r\n", "a\r.\rb\r\n", 0, 0, 2, 0 },
	{ "LF.CRLF", "a\n.\r\nb\r\n.\r\n", "a\n.\r\nb\r\n", 0, 1, 0, 0 },
	{ "CRLF.LF", "a\r\n.\nb\r\n.\r\n", "a\r\n\nb\r\n", 0, 1, 0, 0 },
	{ "CR.CRLF", "a\r.\r\nb\r\n.\r\n", "a\r.\r\nb\r\n", 0, 0, 1, 0 },
	{ "CRLF.CR", "a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", 0, 0, 1, 0 },
	{ "CRLF.CRCRLF", "a\r\n.\r\r\n.\r\n", "a\r\n\r\r\n", 0, 0, 1, 0 },
	{ "LF.LF then commands", "x\n.\nMAIL FROM:<e@x>\n",
	    "x\n.\nMAIL FROM:<e@x>\n", -1, 3, 0, 0 },
	{ "bare CR at start", "\r.\r\n.\r\n", "\r.\r\n", 0, 0, 1, 0 },
	{ "bare LF at start", "\n.\r\n", "\n.\r\n", -1, 1, 0, 0 },
	{ "CR CR LF", "a\r\r\n.\r\n", "a\r\r\n", 0, 0, 1, 0 },
	{ "NUL and 8-bit pass", "\0\xff\r\n.\r\n", "\0\xff\r\n", 7, 0, 0,
	    4 },
	/* Lines of 16 octets and more take the span path, several lines
	 * at once (span_lines): each stop it must make. */
	{ "long lines, stuffed dot next",
	    "0123456789abcdefgh\r\n..stuffed line here\r\nsecond long line "
	    "here\r\n.\r\n",
	    "0123456789abcdefgh\r\n.stuffed line here\r\nsecond long line "
	    "here\r\n", 0, 0, 0, 0 },
	{ "long lines, empty line between",
	    "0123456789abcdefgh\r\n\r\n0123456789abcdefgh\r\n.\r\n",
	    "0123456789abcdefgh\r\n\r\n0123456789abcdefgh\r\n", 0, 0, 0, 0 },
	{ "long lines, bare LF at a line start",
	    "0123456789abcdefgh\r\n\n.\r\n0123456789abcdefgh\r\n.\r\n",
	    "0123456789abcdefgh\r\n\n.\r\n0123456789abcdefgh\r\n", 0, 1, 0,
	    0 },
	{ "long lines, bare CR in a later line",
	    "0123456789abcdefgh\r\n0123456789abc\rdefgh\r\n.\r\n",
	    "0123456789abcdefgh\r\n0123456789abc\rdefgh\r\n", 0, 0, 1, 0 },
	{ "long lines, LF.LF inside",
	    "0123456789abcdefgh\r\n0123456789abcdefgh\n.\nmore text after "
	    "it\r\n.\r\n",
	    "0123456789abcdefgh\r\n0123456789abcdefgh\n.\nmore text after "
	    "it\r\n", 0, 2, 0, 0 },
	{ "long lines, CRLF then CR.CRLF",
	    "0123456789abcdefgh\r\n\r.\r\n0123456789abcdefgh\r\n.\r\n",
	    "0123456789abcdefgh\r\n\r.\r\n0123456789abcdefgh\r\n", 0, 0, 1,
	    0 },
};

/* Feeds in[0..n) split at `cut` (and byte by byte if cut == 0). */
static int
feed(struct smtp_data *d, const char *in, size_t n, size_t cut,
    size_t *used)
{
	size_t off = 0, u, k;
	int r = SMTP_DATA_MORE;

	while (off < n && r == SMTP_DATA_MORE) {
		k = cut == 0 ? 1 : (off < cut ? cut - off : n - off);
		r = smtp_data_feed(d, in + off, k, &u);
		off += u;
	}
	*used = off;
	return r;
}

static void
check(const struct tcase *t, size_t n, size_t cut)
{
	struct smtp_data d;
	struct buf out = BUF_INIT(0);
	char name[200];
	size_t used, wantlen;
	int r;

	smtp_data_init(&d, 0, collect, &out);
	r = feed(&d, t->in, n, cut, &used);
	snprintf(name, sizeof name, "%s, cut %zu", t->name, cut);
	wantlen = t->outlen ? t->outlen : strlen(t->out);
	if (!ok(r == (t->used < 0 ? SMTP_DATA_MORE : SMTP_DATA_END) &&
	    used == (t->used <= 0 ? n : (size_t)t->used) &&
	    out.len == wantlen &&
	    memcmp(out.p ? out.p : "", t->out, wantlen) == 0 &&
	    d.bare_lf == t->lf && d.bare_cr == t->cr &&
	    d.size == out.len, "%s", name))
		diag("r %d used %zu outlen %zu lf %lu cr %lu", r, used,
		    out.len, d.bare_lf, d.bare_cr);
	buf_free(&out);
}

static void
whole(const char *in, size_t n, uint64_t max, struct smtp_data *d,
    struct buf *out)
{
	size_t used;

	buf_reset(out);
	smtp_data_init(d, max, collect, out);
	smtp_data_feed(d, in, n, &used);
}

/*
 * smtp_data_wire_canonical against the queue's own test of the delivered
 * octets (client_wire_canonical, plus a line end last): random messages of
 * lines around the 998 limit, dot-stuffed, some with a bare CR or LF, fed
 * by DATA and by BDAT in random cuts. What the flag promises is exactly
 * that the client would send the octets unchanged.
 */
static unsigned long rng = 12345;

static size_t
rnd(size_t n)
{
	rng = rng * 6364136223846793005UL + 1442695040888963407UL;
	return (size_t)((rng >> 33) % n);
}

static int
expect_canonical(const struct buf *o)
{
	return o->len == 0 || (o->p[o->len - 1] == '\n' &&
	    client_wire_canonical(o->p, o->len));
}

static void
test_wire_canonical(void)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 997, 998, 999, 1000,
		2000 };
	struct buf msg = BUF_INIT(0), wire = BUF_INIT(0), out = BUF_INIT(0);
	struct smtp_data d;
	int round, bad = 0, yes = 0, no = 0;

	for (round = 0; round < 3000; round++) {
		size_t nl = 1 + rnd(8), i, k, off, used;
		int bdat = (int)rnd(2), r = SMTP_DATA_MORE;

		buf_reset(&msg);
		buf_reset(&wire);
		/* the span path runs in the body only */
		if (rnd(4) != 0)
			buf_append_str(&msg, "Subject: x\r\n\r\n");
		for (i = 0; i < nl; i++) {
			size_t len = lens[rnd(sizeof lens / sizeof lens[0])];

			for (k = 0; k < len; k++)
				buf_append(&msg, k == 0 && rnd(8) == 0 ? "." :
				    "abcdefgh" + rnd(8), 1);
			switch (rnd(40)) {
			case 0: buf_append_str(&msg, "\n"); break;
			case 1: buf_append_str(&msg, "\r"); break;
			case 2: if (i + 1 == nl && bdat) break; /* FALLTHROUGH */
			default: buf_append_str(&msg, "\r\n"); break;
			}
		}
		buf_reset(&out);
		smtp_data_init(&d, 0, collect, &out);
		if (bdat) {
			smtp_data_chunk(&d, msg.len);
			for (off = 0; off < msg.len; off += used) {
				k = 1 + rnd(msg.len - off);
				smtp_data_chunk_feed(&d, msg.p + off, k, &used);
			}
		} else {
			/* stuff as a client does; the dot line ends it */
			for (i = 0; i < msg.len; i++) {
				if (msg.p[i] == '.' && (i == 0 || (i >= 2 &&
				    msg.p[i - 1] == '\n' && msg.p[i - 2] == '\r')))
					buf_append_str(&wire, ".");
				buf_append(&wire, msg.p + i, 1);
			}
			if (msg.len && msg.p[msg.len - 1] != '\n')
				continue;	/* DATA always ends with CRLF */
			buf_append_str(&wire, ".\r\n");
			for (off = 0; off < wire.len && r == SMTP_DATA_MORE;
			    off += used) {
				k = 1 + rnd(wire.len - off);
				r = smtp_data_feed(&d, wire.p + off, k, &used);
			}
		}
		if (smtp_data_wire_canonical(&d) != expect_canonical(&out)) {
			if (bad++ == 0)
				diag("round %d bdat %d len %zu: flag %d", round,
				    bdat, out.len, smtp_data_wire_canonical(&d));
		}
		if (smtp_data_wire_canonical(&d))
			yes++;
		else
			no++;
	}
	is_int(bad, 0, "wire_canonical agrees with client_wire_canonical");
	ok(yes > 300 && no > 300, "both outcomes seen (%d yes, %d no)", yes,
	    no);
	buf_free(&msg);
	buf_free(&wire);
	buf_free(&out);
}

int
main(void)
{
	struct smtp_data d;
	struct buf out = BUF_INIT(0);
	size_t i, cut, n, used;
	const char *m;
	int r;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tcase *t = &cases[i];

		/* the NUL case is the only one with an embedded NUL */
		n = t->in[0] == '\0' ? 7 : strlen(t->in);
		for (cut = 0; cut <= n; cut++)
			check(t, n, cut);
	}

	/* size limit: at max and max + 1; input still consumed */
	m = "12345\r\n.\r\nNOOP\r\n";
	whole(m, strlen(m), 7, &d, &out);
	ok(!d.over && d.size == 7 && out.len == 7, "size at max");
	whole(m, strlen(m), 6, &d, &out);
	ok(d.over && d.size == 7 && out.len == 6, "size max + 1: over");
	smtp_data_init(&d, 3, collect, &out);
	r = smtp_data_feed(&d, m, strlen(m), &used);
	ok(r == SMTP_DATA_END && used == 10, "over limit still ends at .");
	m = "..x\r\n.\r\n";
	whole(m, strlen(m), 4, &d, &out);
	ok(!d.over && d.size == 4, "size counted after unstuffing");

	/* header accounting */
	m = "Received: a\r\nreceived : b\r\n x\r\nRECEIVED:c\r\n"
	    "Subject: Received: no\r\n\r\nReceived: body\r\n.\r\n";
	whole(m, strlen(m), 0, &d, &out);
	is_int(d.received, 3, "Received in header only");
	ok(!d.mime_version && !d.content_type && !d.eightbit, "no MIME");
	m = "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n\xe9\r\n"
	    ".\r\n";
	whole(m, strlen(m), 0, &d, &out);
	ok(d.mime_version && d.content_type && d.eightbit, "MIME and 8-bit");
	m = "X-Received-Long-Name-Here: a\r\nReceivedX: b\r\n"
	    " Received: folded\r\n.\r\n";
	whole(m, strlen(m), 0, &d, &out);
	is_int(d.received, 0, "look-alike names are not Received");
	/* byte-by-byte header */
	m = "Received: a\r\nReceived: b\r\n\r\n.\r\n";
	smtp_data_init(&d, 0, NULL, NULL);
	for (i = 0, r = 0; m[i] && r == 0; i++)
		r = smtp_data_feed(&d, m + i, 1, &used);
	ok(r == SMTP_DATA_END && d.received == 2, "headers byte by byte");

	/* large input crosses the stage buffer */
	{
		static char big[5000];

		memset(big, 'x', sizeof big);
		memcpy(big + sizeof big - 5, "\r\n.\r\n", 5);
		for (cut = 1; cut < sizeof big; cut += 997) {
			buf_reset(&out);
			smtp_data_init(&d, 0, collect, &out);
			r = feed(&d, big, sizeof big, cut, &used);
			if (r != SMTP_DATA_END || out.len != sizeof big - 3)
				break;
		}
		ok(cut >= sizeof big, "5000 octets in any cut");
	}

	/* output failure */
	smtp_data_init(&d, 0, failing, NULL);
	r = smtp_data_feed(&d, "abc\r\n.\r\n", 8, &used);
	ok(r == SMTP_DATA_E_OUTPUT, "output failure reported");

	/* BDAT: exact octet counts, no unstuffing, no end marker */
	buf_reset(&out);
	smtp_data_init(&d, 0, collect, &out);
	smtp_data_chunk(&d, 8);
	r = smtp_data_chunk_feed(&d, "..\r\n.\r\nXYZ", 10, &used);
	ok(r == SMTP_DATA_END && used == 8 && out.len == 8 &&
	    memcmp(out.p, "..\r\n.\r\nX", 8) == 0, "BDAT takes n octets");
	smtp_data_chunk(&d, 3);
	r = smtp_data_chunk_feed(&d, "a", 1, &used);
	ok(r == SMTP_DATA_MORE && used == 1, "BDAT partial");
	r = smtp_data_chunk_feed(&d, "\nbc", 3, &used);
	ok(r == SMTP_DATA_END && used == 2 && d.bare_lf == 1 &&
	    d.size == 11, "BDAT rest, bare LF counted");
	smtp_data_chunk(&d, 0);
	r = smtp_data_chunk_feed(&d, "", 0, &used);
	ok(r == SMTP_DATA_END && used == 0, "BDAT 0");
	smtp_data_init(&d, 5, collect, &out);
	smtp_data_chunk(&d, 6);
	r = smtp_data_chunk_feed(&d, "Received: x", 11, &used);
	ok(r == SMTP_DATA_END && used == 6 && d.over, "BDAT over limit");
	smtp_data_init(&d, 0, NULL, NULL);
	m = "Received: a\r\nReceived: b\r\n\r\n";
	for (i = 0; m[i]; i++) {
		smtp_data_chunk(&d, 1);
		smtp_data_chunk_feed(&d, m + i, 1, &used);
	}
	ok(d.received == 2 && d.bare_lf == 0 && d.bare_cr == 0,
	    "BDAT Received across one-octet chunks");

	buf_free(&out);
	test_wire_canonical();
	return done_testing();
}
