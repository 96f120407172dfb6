/*
 * client_wire: canonical CRLF text and lines of at most 998 octets on the
 * way out (RFC 5322 2.1.1, 2.2.3; RFC 5321 4.5.3.1.6), exact bytes.
 */
#include <string.h>

#include "client/client_wire.h"
#include "tap.h"

/* The whole input in one call. */
static void
wire(const char *in, size_t n, int binary, struct buf *out, uint64_t *count)
{
	struct client_wire w;

	client_wire_init(&w, binary);
	client_wire_feed(&w, in, n, out);
	client_wire_end(&w, out);
	*count = w.count;
}

static void
check(const char *in, size_t n, int binary, const char *want, size_t wn,
    const char *name)
{
	struct buf b = BUF_INIT(0);
	struct client_wire w;
	uint64_t count;
	size_t i;

	wire(in, n, binary, &b, &count);
	is_mem(b.p, b.len, want, wn, name);
	is_int((long long)count, (long long)wn, "  and counts what it sends");
	/* the same, one octet at a time, counting only */
	client_wire_init(&w, binary);
	for (i = 0; i < n; i++)
		client_wire_feed(&w, in + i, 1, NULL);
	client_wire_end(&w, NULL);
	is_int((long long)w.count, (long long)wn, "  octet by octet");
	buf_free(&b);
}

#define CHECK(in, bin, want, name) \
	check(in, sizeof in - 1, bin, want, sizeof want - 1, name)

/* Random texts of CR, LF, SP, "a" and UTF-8 octets with long runs, cut
 * at random places: the same output as in one piece, canonical, and
 * client_wire_changed() exactly when it differs from the input. */
static int
random_texts(unsigned rounds, int binary)
{
	static const char alpha[] = "\r\n aa\xc3\xa9\xe2\x82\xac:";
	static char in[4000];
	unsigned seed = 4242, r;
	struct buf whole = BUF_INIT(0), cut = BUF_INIT(0);
	int good = 1;

	for (r = 0; r < rounds && good; r++) {
		struct client_wire w;
		uint64_t count;
		size_t n, i, off;
		unsigned runlen;
		int changed;

		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % sizeof in;
		runlen = 1 + ((seed >> 8) & 3) * 400;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			/* mostly "a", so that long lines happen */
			in[i] = (seed >> 16) % runlen == 0 ?
			    alpha[(seed >> 20) % (sizeof alpha - 1)] : 'a';
		}
		buf_reset(&whole);
		buf_reset(&cut);
		client_wire_init(&w, binary);
		client_wire_feed(&w, in, n, &whole);
		client_wire_end(&w, &whole);
		count = w.count;
		changed = client_wire_changed(&w, n);
		client_wire_init(&w, binary);
		for (off = 0; off < n; ) {
			size_t k;

			seed = seed * 1103515245 + 12345;
			k = 1 + (seed >> 16) % 1500;
			if (k > n - off)
				k = n - off;
			client_wire_feed(&w, in + off, k, &cut);
			off += k;
		}
		client_wire_end(&w, &cut);
		good = cut.len == whole.len &&
		    memcmp(cut.p, whole.p, cut.len) == 0 &&
		    count == whole.len &&
		    !changed == (n == whole.len &&
		    memcmp(in, whole.p, n) == 0) &&
		    (binary || client_wire_canonical(whole.p, whole.len));
		if (!good)
			diag("round %u, input of %zu octets", r, n);
	}
	buf_free(&whole);
	buf_free(&cut);
	return good;
}

int
main(void)
{
	static char in[3000], want[3100];
	struct buf b = BUF_INIT(0);
	struct client_wire w;
	uint64_t count;
	size_t n, k;

	CHECK("A: b\r\nC: d\r\n\r\nbody\r\n.x\r\n", 0,
	    "A: b\r\nC: d\r\n\r\nbody\r\n.x\r\n", "canonical text unchanged");
	CHECK("A: b\r.\r\nB: c\r\n\r\nx\r\n", 0,
	    "A: b\r\n.\r\nB: c\r\n\r\nx\r\n",
	    "bare CR in the header: a line end (CR . CR LF cannot pass)");
	CHECK("A: b\nC: d\r\n\r\nx\ny\r", 0,
	    "A: b\r\nC: d\r\n\r\nx\r\ny\r\n", "bare LF and a final bare CR");
	CHECK("A: b\r\r\nx", 0, "A: b\r\n\r\nx\r\n",
	    "CR CR LF is two line ends");
	CHECK("A: b\r\n\r\nlast", 0, "A: b\r\n\r\nlast\r\n",
	    "a last line without CRLF gets one");
	CHECK("A: b", 0, "A: b\r\n", "so does a header without a body");
	CHECK("A: b\r\n\r\nlast", 1, "A: b\r\n\r\nlast",
	    "not a BINARYMIME body");
	CHECK("", 0, "", "empty");
	CHECK("A: b\rC: d\r\n\r\nx\ry\n.z\r", 1,
	    "A: b\r\nC: d\r\n\r\nx\ry\n.z\r",
	    "BINARYMIME: header made canonical, body as it is");

	/* CRLF split between two calls: one line end */
	client_wire_init(&w, 0);
	client_wire_feed(&w, "A: b\r", 5, &b);
	client_wire_feed(&w, "\nC: d\r\n", 7, &b);
	client_wire_end(&w, &b);
	is_mem(b.p, b.len, "A: b\r\nC: d\r\n", 12, "CR | LF across calls");
	buf_reset(&b);

	/* A header line of 1014 octets folds before its last blank. */
	memcpy(in, "X: ", 3);
	memset(in + 3, 'a', 990);
	in[993] = ' ';
	memset(in + 994, 'b', 20);
	memcpy(in + 1014, "\r\n\r\n", 4);
	n = 1018;
	memcpy(want, in, 993);
	memcpy(want + 993, "\r\n bbbbbbbbbbbbbbbbbbbb\r\n\r\n", 27);
	check(in, n, 0, want, 1020, "long header line folded at a blank");

	/* A header line of 1202 octets without a blank: hard fold. */
	memcpy(in, "X:", 2);
	memset(in + 2, 'a', 1200);
	memcpy(in + 1202, "\r\n", 2);
	n = 1204;
	memcpy(want, in, 998);
	memcpy(want + 998, "\r\n ", 3);
	memset(want + 1001, 'a', 204);
	memcpy(want + 1205, "\r\n", 2);
	check(in, n, 0, want, 1207, "long header line without a blank: CRLF SP");

	/* A hard fold whose rest is the line's trailing blanks: they are
	 * dropped, not sent as a blank line that may end the header. */
	memcpy(in, "X-Long:", 7);
	memset(in + 7, 'a', 991);
	memcpy(in + 998, " \r\n\r\nbody\r\n", 11);
	memcpy(want, in, 998);
	memcpy(want + 998, "\r\n\r\nbody\r\n", 10);
	check(in, 1009, 0, want, 1008, "hard fold before a trailing blank: "
	    "dropped");
	memcpy(in + 998, "   \r\n\r\nbody\r\n", 13);
	check(in, 1011, 0, want, 1008, "three trailing blanks dropped");
	/* ... and without a line end at the end of the message */
	memcpy(in + 998, "  ", 2);
	check(in, 1000, 0, want, 1000, "trailing blanks of a last line "
	    "without a line end dropped");

	/* 2000 blanks then "y": a run of blanks is cut, no line is blank */
	memcpy(in, "X:", 2);
	memset(in + 2, ' ', 2000);
	memcpy(in + 2002, "y\r\n\r\n", 5);
	memcpy(want, in, 998);
	memcpy(want + 998, "\r\n", 2);
	memset(want + 1000, ' ', 8);
	memcpy(want + 1008, "y\r\n\r\n", 5);
	check(in, 2007, 0, want, 1013, "a run of 2000 blanks: no blank line");

	/* As long as the input, yet changed: a hard fold (+3) and three
	 * trailing blanks dropped from another line (-3). */
	memcpy(in, "X:", 2);
	memset(in + 2, 'a', 997);
	memcpy(in + 999, "\r\nY:", 4);
	memset(in + 1003, 'b', 996);
	memcpy(in + 1999, "   \r\n\r\n", 7);
	client_wire_init(&w, 0);
	client_wire_feed(&w, in, 2006, NULL);
	client_wire_end(&w, NULL);
	is_int((long long)w.count, 2006, "hard fold and dropped blanks: "
	    "as long as the input");
	ok(client_wire_changed(&w, 2006), "  yet changed");

	/* A body line of 2000 octets: 998 + 998 + 4. */
	memcpy(in, "A: b\r\n\r\n", 8);
	memset(in + 8, 'x', 2000);
	memcpy(in + 2008, "\r\n", 2);
	n = 2010;
	memcpy(want, "A: b\r\n\r\n", 8);
	k = 8;
	memset(want + k, 'x', 998);
	memcpy(want + k + 998, "\r\n", 2);
	k += 1000;
	memset(want + k, 'x', 998);
	memcpy(want + k + 998, "\r\n", 2);
	k += 1000;
	memcpy(want + k, "xxxx\r\n", 6);
	k += 6;
	check(in, n, 0, want, k, "long body line broken after 998 octets");

	/* The break does not split a UTF-8 sequence. */
	memcpy(in, "A: b\r\n\r\n", 8);
	memset(in + 8, 'a', 997);
	memcpy(in + 1005, "\xc3\xa9" "b\r\n", 5);
	n = 1010;
	memcpy(want, in, 1005);
	memcpy(want + 1005, "\r\n\xc3\xa9" "b\r\n", 7);
	check(in, n, 0, want, 1012, "UTF-8 sequence kept whole");

	/* A line of exactly 998 octets stays; 999 breaks. */
	memcpy(in, "A: b\r\n\r\n", 8);
	memset(in + 8, 'y', 998);
	memcpy(in + 1006, "\r\n", 2);
	wire(in, 1008, 0, &b, &count);
	ok(b.len == 1008 && memcmp(b.p, in, 1008) == 0 && count == 1008,
	    "998 octets: unchanged");
	buf_reset(&b);
	memset(in + 8, 'y', 999);
	memcpy(in + 1007, "\r\n", 2);
	wire(in, 1009, 0, &b, &count);
	ok(count == 1011 && memcmp(b.p + 1006, "\r\ny\r\n", 5) == 0,
	    "999 octets: broken");
	buf_reset(&b);

	/* BINARYMIME keeps long body lines too. */
	memcpy(in, "A: b\r\n\r\n", 8);
	memset(in + 8, 'z', 1500);
	wire(in, 1508, 1, &b, &count);
	ok(count == 1508 && memcmp(b.p, in, 1508) == 0,
	    "BINARYMIME body: no breaks");
	buf_free(&b);

	ok(random_texts(3000, 0), "3,000 random texts, cut anywhere: "
	    "canonical, same as in one piece, longer exactly when changed");
	ok(random_texts(3000, 1), "the same for BINARYMIME");
	return done_testing();
}
