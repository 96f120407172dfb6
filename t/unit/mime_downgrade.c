/*
 * mime_codec and mime_downgrade. The downgrade cases build a message from
 * known leaf contents, convert it, then take the output apart with a
 * parser of their own (not the library's) and decode every leaf, which
 * must equal the original octets; the output must be 7-bit clean with
 * lines <= 998, and every header field but Content-Transfer-Encoding must
 * be unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "mime/mime_codec.h"
#include "mime/mime_downgrade.h"
#include "tap.h"

struct span {
	const char *p;
	size_t n;
};

/* ---- helpers independent of the library's parser ---- */

static size_t
find(const char *p, size_t n, const char *s, size_t from)
{
	size_t k = strlen(s), i;

	for (i = from; i + k <= n; i++)
		if (memcmp(p + i, s, k) == 0)
			return i;
	return n;
}

static int
clean7(const char *p, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r' && i + 1 < n && p[i + 1] == '\n') {
			i++;
			col = 0;
			continue;
		}
		if (c >= 0x80 || c == 0 || c == '\r' || c == '\n')
			return 0;
		if (++col > 998)
			return 0;
	}
	return 1;
}

/* Every line <= max characters (the codecs promise 76). */
static int
lines_within(const char *p, size_t n, size_t max)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
			i++;
			col = 0;
		} else if (++col > max)
			return 0;
	}
	return 1;
}

static void
split(struct span e, struct span *h, struct span *b)
{
	size_t k;

	if (e.n >= 2 && e.p[0] == '\r' && e.p[1] == '\n') {
		h->p = e.p;
		h->n = 0;
		b->p = e.p + 2;
		b->n = e.n - 2;
		return;
	}
	k = find(e.p, e.n, "\r\n\r\n", 0);
	if (k == e.n) {
		*h = e;
		b->p = e.p + e.n;
		b->n = 0;
		return;
	}
	h->p = e.p;
	h->n = k + 2;
	b->p = e.p + k + 4;
	b->n = e.n - k - 4;
}

/* The header without its Content-Transfer-Encoding field(s). */
static void
strip_cte(struct span h, struct buf *o)
{
	size_t i = 0, le;
	int skipping = 0;

	buf_reset(o);
	while (i < h.n) {
		le = find(h.p, h.n, "\r\n", i);
		le = le == h.n ? h.n : le + 2;
		if (h.p[i] == ' ' || h.p[i] == '\t') {
			if (!skipping)
				buf_append(o, h.p + i, le - i);
		} else {
			skipping = le - i >= 26 &&
			    strncasecmp(h.p + i, "Content-Transfer-Encoding:",
				26) == 0;
			if (!skipping)
				buf_append(o, h.p + i, le - i);
		}
		i = le;
	}
}

/* The C-T-E value, lowercased, "" when absent. */
static void
get_cte(struct span h, char *v, size_t vmax)
{
	size_t i = 0, le, k;

	v[0] = '\0';
	while (i < h.n) {
		le = find(h.p, h.n, "\r\n", i);
		if (le - i >= 26 &&
		    strncasecmp(h.p + i, "Content-Transfer-Encoding:", 26) == 0) {
			i += 26;
			while (i < le && h.p[i] == ' ')
				i++;
			for (k = 0; i < le && k + 1 < vmax && h.p[i] != ' '; i++)
				v[k++] = (char)(h.p[i] | 0x20);
			v[k] = '\0';
			return;
		}
		i = le + 2;
	}
}

/* Decoded body of an entity, by its C-T-E. */
static void
decode(struct span e, struct buf *o)
{
	struct span h, b;
	char cte[40];

	buf_reset(o);
	split(e, &h, &b);
	get_cte(h, cte, sizeof cte);
	if (strcmp(cte, "quoted-printable") == 0)
		mime_codec_qp_decode(b.p, b.n, o);
	else if (strcmp(cte, "base64") == 0)
		mime_codec_base64_decode(b.p, b.n, o);
	else
		buf_append(o, b.p, b.n);
}

/* Part i (0-based) of a multipart body, delimiters as whole lines. */
static struct span
part(struct span body, const char *bnd, int idx)
{
	struct span r = { NULL, 0 };
	char d[300];
	size_t dl, i = 0, le, start = 0;
	int seen = -1;

	dl = (size_t)snprintf(d, sizeof d, "--%s", bnd);
	while (i <= body.n) {
		le = find(body.p, body.n, "\r\n", i);
		if ((le - i == dl || (le - i == dl + 2 &&
		    memcmp(body.p + i + dl, "--", 2) == 0)) &&
		    memcmp(body.p + i, d, dl) == 0) {
			if (seen == idx) {
				r.p = body.p + start;
				r.n = (i >= 2 ? i - 2 : 0) - start;
				return r;
			}
			seen++;
			start = le + 2;
			if (le - i == dl + 2)
				break;
		}
		if (le == body.n)
			break;
		i = le + 2;
	}
	if (seen == idx && start <= body.n) {
		r.p = body.p + start;
		r.n = body.n - start;
	}
	return r;
}

static struct span
body_of(struct span e)
{
	struct span h, b;

	split(e, &h, &b);
	return b;
}

static struct span
hdr_of(struct span e)
{
	struct span h, b;

	split(e, &h, &b);
	return h;
}

static struct span
S(const struct buf *b)
{
	struct span s = { b->p, b->len };

	return s;
}

/* ---- assertions shared by the cases ---- */

static struct buf out = BUF_INIT(0);

static int
run(const struct buf *in, const char *name)
{
	const char *why = NULL;
	struct buf again = BUF_INIT(0);
	int r;

	buf_reset(&out);
	r = mime_downgrade(in->p, in->len, &out, &why);
	if (!ok(r == 0, "%s: converts", name)) {
		diag("why: %s", why ? why : "(null)");
		return -1;
	}
	ok(clean7(out.p, out.len), "%s: output 7-bit, lines <= 998", name);
	ok(!mime_needs_downgrade(out.p, out.len), "%s: needs no more", name);
	/* converting the result again changes nothing */
	r = mime_downgrade(out.p, out.len, &again, &why);
	ok(r == 0 && again.len == out.len &&
	    memcmp(again.p, out.p, out.len) == 0, "%s: idempotent", name);
	buf_free(&again);
	return 0;
}

/* Entity `o` decodes to `want` and kept every header field but C-T-E. */
static void
same_leaf(struct span o, struct span orig, const char *want, size_t wantlen,
    const char *name)
{
	struct buf d = BUF_INIT(0), h1 = BUF_INIT(0), h2 = BUF_INIT(0);
	char msg[200];

	if (want != NULL) {
		decode(o, &d);
		snprintf(msg, sizeof msg, "%s: content", name);
		is_mem(d.p, d.len, want, wantlen, msg);
	}
	strip_cte(hdr_of(o), &h1);
	strip_cte(hdr_of(orig), &h2);
	snprintf(msg, sizeof msg, "%s: other header fields unchanged", name);
	is_mem(h1.p, h1.len, h2.p, h2.len, msg);
	buf_free(&d);
	buf_free(&h1);
	buf_free(&h2);
}

static void
has_cte(struct span e, const char *want, const char *name)
{
	char v[40];

	get_cte(hdr_of(e), v, sizeof v);
	is_str(v, want, name);
}

/* ---- codec tests ---- */

static void
qp_enc(const char *in, size_t n, const char *want, const char *name)
{
	struct buf o = BUF_INIT(0), d = BUF_INIT(0);
	char msg[200];

	mime_codec_qp_encode(in, n, &o);
	is_mem(o.p, o.len, want, strlen(want), name);
	snprintf(msg, sizeof msg, "%s: size", name);
	is_int((long long)mime_codec_qp_size(in, n), (long long)o.len, msg);
	mime_codec_qp_decode(o.p, o.len, &d);
	snprintf(msg, sizeof msg, "%s: round trip", name);
	is_mem(d.p, d.len, in, n, msg);
	buf_free(&o);
	buf_free(&d);
}

static void
qp_dec(const char *in, const char *want, const char *name)
{
	struct buf d = BUF_INIT(0);

	mime_codec_qp_decode(in, strlen(in), &d);
	is_mem(d.p, d.len, want, strlen(want), name);
	buf_free(&d);
}

static void
b64(const char *in, const char *want)
{
	struct buf o = BUF_INIT(0), d = BUF_INIT(0);
	char msg[100];

	mime_codec_base64_encode(in, strlen(in), &o);
	snprintf(msg, sizeof msg, "base64 \"%s\"", in);
	is_mem(o.p, o.len, want, strlen(want), msg);
	mime_codec_base64_decode(o.p, o.len, &d);
	snprintf(msg, sizeof msg, "base64 \"%s\" decodes back", in);
	is_mem(d.p, d.len, in, strlen(in), msg);
	is_int((long long)mime_codec_base64_size(strlen(in)),
	    (long long)o.len, "base64 size");
	buf_free(&o);
	buf_free(&d);
}

static unsigned long rng = 12345;

static unsigned
rnd(void)
{
	rng = rng * 1103515245 + 12345;
	return (unsigned)(rng >> 16) & 0x7fff;
}

static void
test_codecs(void)
{
	struct buf o = BUF_INIT(0), d = BUF_INIT(0);
	char a[200], w[300];
	int i, bad, k;
	size_t n, j;

	/* RFC 4648 10 test vectors, with RFC 2045 CRLF line ends */
	b64("", "");
	b64("f", "Zg==\r\n");
	b64("fo", "Zm8=\r\n");
	b64("foo", "Zm9v\r\n");
	b64("foob", "Zm9vYg==\r\n");
	b64("fooba", "Zm9vYmE=\r\n");
	b64("foobar", "Zm9vYmFy\r\n");
	/* 57 octets make exactly one 76-character line */
	memset(a, 'x', 58);
	mime_codec_base64_encode(a, 57, &o);
	ok(o.len == 78 && o.p[76] == '\r', "base64: 57 octets, one line of 76");
	buf_reset(&o);
	mime_codec_base64_encode(a, 58, &o);
	ok(o.len == 78 + 6 && lines_within(o.p, o.len, 76),
	    "base64: 58 octets, 76 + 4");
	buf_reset(&o);
	/* RFC 2045 6.8: non-alphabet characters ignored, "=" ends */
	buf_reset(&d);
	mime_codec_base64_decode("Zm9v\r\nYm E!=Zm9v", 16, &d);
	is_mem(d.p, d.len, "fooba", 5, "base64 decode: ignores junk, stops at =");

	/* RFC 2045 6.7 (5) example of soft line breaks */
	qp_dec("Now's the time =\r\nfor all folk to come=\r\n"
	       " to the aid of their country.",
	    "Now's the time for all folk to come to the aid of their country.",
	    "qp decode: RFC 2045 soft break example");
	qp_dec("caf=c3=A9", "caf\xc3\xa9", "qp decode: either hex case");
	qp_dec("a=ZZb=4", "a=ZZb=4", "qp decode: malformed = kept literally");
	qp_dec("abc   \r\nd\t\r\n", "abc\r\nd\r\n",
	    "qp decode: transport white space stripped");
	qp_dec("abc= \t\r\ndef", "abcdef", "qp decode: soft break, space after =");
	qp_dec("end=", "end", "qp decode: soft break at end of data");

	qp_enc("a=b", 3, "a=3Db", "qp: = encoded");
	qp_enc("abc=\r\n", 6, "abc=3D\r\n", "qp: = at line end");
	qp_enc("caf\xc3\xa9", 5, "caf=C3=A9", "qp: 8-bit");
	qp_enc("a b \r\nc\t", 8, "a b=20\r\nc=09",
	    "qp: trailing space before CRLF and at end");
	qp_enc("a\rb\nc\0", 6, "a=0Db=0Ac=00", "qp: bare CR, bare LF, NUL");
	qp_enc("--b\r\n-x-\r\n", 10, "=2D-b\r\n=2Dx-\r\n",
	    "qp: no line starts with -");
	qp_enc("", 0, "", "qp: empty");

	memset(a, 'a', sizeof a);
	memcpy(w, a, 76);
	w[76] = '\0';
	qp_enc(a, 76, w, "qp: 76 characters, no soft break");
	memcpy(w, a, 75);
	memcpy(w + 75, "=\r\naa", 6);
	qp_enc(a, 77, w, "qp: 77 characters, soft break after 75");
	memcpy(a + 76, "\r\n", 2);
	memcpy(w, a, 78);
	w[78] = '\0';
	qp_enc(a, 78, w, "qp: 76 characters then CRLF");
	memset(a, 'a', sizeof a);
	a[75] = '=';
	memcpy(w, a, 75);
	memcpy(w + 75, "=\r\n=3D", 7);
	qp_enc(a, 76, w, "qp: escape that would end at 78 moves down");
	a[73] = '=';
	memcpy(w, a, 73);
	memcpy(w + 73, "=3D", 4);
	qp_enc(a, 74, w, "qp: escape ending exactly at 76");
	memset(a, 'a', sizeof a);
	a[74] = ' ';
	memcpy(w, a, 75);
	memcpy(w + 75, "=\r\naa", 6);
	qp_enc(a, 77, w, "qp: space before a soft break stays literal");

	/* random round trips, line lengths, sizes */
	bad = 0;
	for (i = 0; i < 2000; i++) {
		n = rnd() % 200;
		for (j = 0; j < n; j++) {
			k = (int)(rnd() % 10);
			a[j] = k < 3 ? "\r\n =-."[rnd() % 6] :
			    k < 5 ? (char)rnd() : (char)('a' + rnd() % 26);
		}
		buf_reset(&o);
		buf_reset(&d);
		mime_codec_qp_encode(a, n, &o);
		mime_codec_qp_decode(o.p, o.len, &d);
		if (d.len != n || memcmp(d.p, a, n) != 0 ||
		    !lines_within(o.p, o.len, 76) || !clean7(o.p, o.len) ||
		    mime_codec_qp_size(a, n) != o.len)
			bad++;
		buf_reset(&o);
		buf_reset(&d);
		mime_codec_base64_encode(a, n, &o);
		mime_codec_base64_decode(o.p, o.len, &d);
		if (d.len != n || memcmp(d.p, a, n) != 0 ||
		    !lines_within(o.p, o.len, 76) || !clean7(o.p, o.len) ||
		    mime_codec_base64_size(n) != o.len)
			bad++;
	}
	is_int(bad, 0, "2000 random inputs round-trip through QP and base64");
	buf_free(&o);
	buf_free(&d);
}

/* ---- downgrade cases ---- */

#define HDRS "From: a@example.org\r\nTo: b@example.net\r\n" \
	"Subject: test\r\n\t(folded)\r\nMIME-Version: 1.0\r\n"

static void
case_single(void)
{
	struct buf in = BUF_INIT(0);
	const char *body = "H\xc3\xa9llo w\xc3\xb6rld = x \r\n\tline2\t\r\n"
	    "--not a boundary\r\n.\r\n";

	buf_append_str(&in, HDRS "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\nX-After: kept\r\n\r\n");
	buf_append_str(&in, body);
	ok(mime_needs_downgrade(in.p, in.len), "single: needs downgrade");
	if (run(&in, "single") == 0) {
		has_cte(S(&out), "quoted-printable", "single: C-T-E QP");
		same_leaf(S(&out), S(&in), body, strlen(body), "single");
		ok(find(out.p, out.len, "Content-Transfer-Encoding: "
		    "quoted-printable\r\nX-After: kept\r\n", 0) < out.len,
		    "single: C-T-E replaced in place");
	}
	buf_free(&in);
}

static void
case_long_lines(void)
{
	struct buf in = BUF_INIT(0), body = BUF_INIT(0);
	int i;

	for (i = 0; i < 2000; i++)
		buf_append_byte(&body, (char)('a' + i % 26));
	buf_append_str(&body, "\r\nshort\r\n");
	for (i = 0; i < 1500; i++)
		buf_append_str(&body, i % 7 ? "x" : "\xc3\xa9");
	buf_append_str(&body, "\r\n");
	buf_append_str(&in, HDRS "Content-Type: text/plain\r\n\r\n");
	buf_append(&in, body.p, body.len);
	if (run(&in, "long lines") == 0) {
		has_cte(S(&out), "quoted-printable", "long lines: C-T-E added");
		same_leaf(S(&out), S(&in), body.p, body.len, "long lines");
		ok(lines_within(body_of(S(&out)).p, body_of(S(&out)).n, 76),
		    "long lines: encoded lines <= 76");
	}
	/* 7-bit but too long: also needs conversion */
	buf_reset(&in);
	buf_append_str(&in, "Subject: x\r\n\r\n");
	for (i = 0; i < 999; i++)
		buf_append_byte(&in, 'y');
	ok(mime_needs_downgrade(in.p, in.len), "999-octet line needs it");
	in.len--;
	ok(!mime_needs_downgrade(in.p, in.len), "998-octet line does not");
	buf_free(&in);
	buf_free(&body);
}

static void
case_mixed(void)
{
	struct buf in = BUF_INIT(0), bin = BUF_INIT(0);
	struct span ob, ib;
	const char *text = "Gr\xc3\xbc\xc3\x9f" "e\r\n";
	const char *b64part = "Content-Type: image/png\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n";
	const char *pre = "This is a multi-part message in MIME format.\r\n";
	const char *epi = "\r\nepilogue text\r\n";
	int i;

	for (i = 0; i < 256; i++)
		buf_append_byte(&bin, (char)i);
	buf_append(&bin, "\r\n\n\r\0tail", 9);
	buf_append_str(&in, HDRS "Content-Type: multipart/mixed;\r\n"
	    " boundary=\"outer=_1 x\"\r\n\r\n");
	buf_append_str(&in, pre);
	buf_append_str(&in, "--outer=_1 x\r\nContent-Type: text/plain; "
	    "charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
	buf_append_str(&in, text);
	buf_append_str(&in, "\r\n--outer=_1 x\r\nContent-Type: "
	    "application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
	    "Content-Disposition: attachment; filename=\"a.bin\"\r\n\r\n");
	buf_append(&in, bin.p, bin.len);
	buf_append_str(&in, "\r\n--outer=_1 x\r\n");
	buf_append_str(&in, b64part);
	buf_append_str(&in, "--outer=_1 x--");
	buf_append_str(&in, epi);
	if (run(&in, "mixed") == 0) {
		ob = body_of(S(&out));
		ib = body_of(S(&in));
		same_leaf(S(&out), S(&in), NULL, 0, "mixed: top");
		same_leaf(part(ob, "outer=_1 x", 0), part(ib, "outer=_1 x", 0),
		    text, strlen(text), "mixed: text 8bit");
		has_cte(part(ob, "outer=_1 x", 0), "quoted-printable",
		    "mixed: text is QP");
		same_leaf(part(ob, "outer=_1 x", 1), part(ib, "outer=_1 x", 1),
		    bin.p, bin.len, "mixed: binary");
		has_cte(part(ob, "outer=_1 x", 1), "base64",
		    "mixed: binary is base64");
		is_mem(part(ob, "outer=_1 x", 2).p, part(ob, "outer=_1 x", 2).n,
		    b64part, strlen(b64part) - 2, "mixed: base64 part unchanged");
		ok(ob.n > strlen(pre) && memcmp(ob.p, pre, strlen(pre)) == 0,
		    "mixed: preamble kept");
		ok(out.len > strlen(epi) && memcmp(out.p + out.len - strlen(epi),
		    epi, strlen(epi)) == 0, "mixed: epilogue kept");
	}
	buf_free(&in);
	buf_free(&bin);
}

static void
case_nested(void)
{
	struct buf in = BUF_INIT(0);
	struct span ob, ib, oa, ia;
	const char *plain = "pl\xe4in\r\n", *html = "<p>h\xe9tml</p>";
	const char *att = "r\xe9sum\xe9\r\n";

	buf_append_str(&in, HDRS "Content-Type: multipart/mixed; "
	    "boundary=OUT\r\n\r\n--OUT\r\nContent-Type: multipart/alternative;"
	    " boundary=\"IN\" (comment)\r\n\r\n--IN\r\nContent-Type: "
	    "text/plain\r\nContent-Transfer-Encoding: 8BIT\r\n\r\n");
	buf_append_str(&in, plain);
	buf_append_str(&in, "\r\n--IN\r\nContent-Type: text/html\r\n"
	    "Content-Transfer-Encoding: 8bit (yes)\r\n\r\n");
	buf_append_str(&in, html);
	buf_append_str(&in, "\r\n--IN--\r\n\r\n--OUT\r\nContent-Type: text/plain"
	    "\r\nContent-Disposition: attachment\r\n\r\n");
	buf_append_str(&in, att);
	buf_append_str(&in, "\r\n--OUT--\r\n");
	if (run(&in, "nested") == 0) {
		ob = body_of(S(&out));
		ib = body_of(S(&in));
		oa = body_of(part(ob, "OUT", 0));
		ia = body_of(part(ib, "OUT", 0));
		same_leaf(part(ob, "OUT", 0), part(ib, "OUT", 0), NULL, 0,
		    "nested: alternative header");
		same_leaf(part(oa, "IN", 0), part(ia, "IN", 0), plain,
		    strlen(plain), "nested: plain");
		same_leaf(part(oa, "IN", 1), part(ia, "IN", 1), html,
		    strlen(html), "nested: html");
		same_leaf(part(ob, "OUT", 1), part(ib, "OUT", 1), att,
		    strlen(att), "nested: attachment without C-T-E");
		has_cte(part(ob, "OUT", 1), "quoted-printable",
		    "nested: C-T-E added to attachment");
	}
	buf_free(&in);
}

static void
case_rfc822(void)
{
	struct buf in = BUF_INIT(0);
	struct span op, ip;
	const char *inner = "Inner b\xf6\x64y\r\n";
	const char *inner2 = "no mime \xff\r\n";

	buf_append_str(&in, HDRS "Content-Type: multipart/mixed; boundary=B"
	    "\r\n\r\n--B\r\nContent-Type: message/rfc822\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "From: x@y\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	buf_append_str(&in, inner);
	buf_append_str(&in, "\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n"
	    "From: old@y\r\nSubject: old\r\n\r\n");
	buf_append_str(&in, inner2);
	buf_append_str(&in, "\r\n--B--\r\n");
	if (run(&in, "rfc822") == 0) {
		op = part(body_of(S(&out)), "B", 0);
		ip = part(body_of(S(&in)), "B", 0);
		has_cte(op, "7bit", "rfc822: part relabelled 7bit");
		same_leaf(body_of(op), body_of(ip), inner, strlen(inner),
		    "rfc822: inner message");
		has_cte(body_of(op), "quoted-printable", "rfc822: inner QP");
		op = part(body_of(S(&out)), "B", 1);
		ok(find(op.p, op.n, "From: old@y\r\nSubject: old\r\n"
		    "MIME-Version: 1.0\r\nContent-Type: text/plain; "
		    "charset=unknown-8bit\r\nContent-Transfer-Encoding: "
		    "quoted-printable\r\n\r\nno mime =FF\r\n", 0) < op.n,
		    "rfc822: inner non-MIME message upgraded (RFC 1428)");
	}
	buf_free(&in);
}

static void
case_nomime(void)
{
	struct buf in = BUF_INIT(0);
	const char *hdr = "Received: from x\r\n\tby y; Mon, 1 Jan 2024\r\n"
	    "From: a@b\r\nSubject: plain\r\n";
	const char *body = "Caf\xe9 au lait\r\n";
	const char *want = "MIME-Version: 1.0\r\nContent-Type: text/plain; "
	    "charset=unknown-8bit\r\nContent-Transfer-Encoding: "
	    "quoted-printable\r\n\r\nCaf=E9 au lait\r\n";

	buf_append_str(&in, hdr);
	buf_append_str(&in, "\r\n");
	buf_append_str(&in, body);
	if (run(&in, "no-MIME") == 0) {
		ok(out.len == strlen(hdr) + strlen(want) &&
		    memcmp(out.p, hdr, strlen(hdr)) == 0 &&
		    memcmp(out.p + strlen(hdr), want, strlen(want)) == 0,
		    "no-MIME: RFC 1428 fields appended, rest unchanged");
	}
	/* clean non-MIME message: untouched */
	buf_reset(&in);
	buf_append_str(&in, "Subject: x\r\n\r\nascii only\r\n");
	if (run(&in, "clean") == 0)
		is_mem(out.p, out.len, in.p, in.len, "clean: copied as is");
	buf_free(&in);
}

static void
case_binarymime(void)
{
	struct buf in = BUF_INIT(0), t = BUF_INIT(0), bin = BUF_INIT(0);
	struct span ob, ib;
	int i;

	buf_append(&t, "line1\nline2\rline3\r\n\0nul\r\r\n", 27);
	for (i = 0; i < 5000; i++)
		buf_append_byte(&bin, (char)(i * 7));
	buf_append_str(&in, HDRS "Content-Type: multipart/mixed; boundary=Z"
	    "\r\n\r\n--Z\r\nContent-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: binary\r\n\r\n");
	buf_append(&in, t.p, t.len);
	buf_append_str(&in, "\r\n--Z\r\nContent-Type: application/x-blob\r\n"
	    "Content-Transfer-Encoding: binary\r\n\r\n");
	buf_append(&in, bin.p, bin.len);
	buf_append_str(&in, "\r\n--Z--\r\n");
	if (run(&in, "binarymime") == 0) {
		ob = body_of(S(&out));
		ib = body_of(S(&in));
		same_leaf(part(ob, "Z", 0), part(ib, "Z", 0), t.p, t.len,
		    "binarymime: text with bare CR/LF, NUL");
		has_cte(part(ob, "Z", 0), "base64",
		    "binarymime: text with bare line ends goes base64");
		same_leaf(part(ob, "Z", 1), part(ib, "Z", 1), bin.p, bin.len,
		    "binarymime: blob");
	}
	/* a binary text part with CRLF lines only may be QP */
	buf_reset(&in);
	buf_append_str(&in, HDRS "Content-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: binary\r\n\r\n");
	buf_reset(&t);
	for (i = 0; i < 3000; i++)
		buf_append_byte(&t, (char)('a' + i % 26));
	buf_append_str(&t, "\r\n");
	buf_append(&in, t.p, t.len);
	if (run(&in, "binary text") == 0) {
		same_leaf(S(&out), S(&in), t.p, t.len, "binary text");
		has_cte(S(&out), "quoted-printable", "binary text: QP");
	}
	/* mostly 8-bit text: base64 is smaller, so it is chosen */
	buf_reset(&in);
	buf_append_str(&in, HDRS "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	buf_reset(&t);
	for (i = 0; i < 300; i++)
		buf_append_str(&t, "\xd0\x96");
	buf_append_str(&t, "\r\n");
	buf_append(&in, t.p, t.len);
	if (run(&in, "cyrillic") == 0) {
		same_leaf(S(&out), S(&in), t.p, t.len, "cyrillic");
		has_cte(S(&out), "base64", "cyrillic: base64");
	}
	buf_free(&in);
	buf_free(&t);
	buf_free(&bin);
}

static void
case_boundary_in_content(void)
{
	struct buf in = BUF_INIT(0), t = BUF_INIT(0);
	struct span ob, ib;
	int i, n;
	size_t k;

	buf_append_str(&t, "--BNDx not a delimiter \xe9\r\n"
	    "text --BND\r\n--BND-- trailing\r\n -- BND\r\n--BND-x\r\n");
	/* a long line whose soft break would fall right before "--BND" */
	for (i = 0; i < 75; i++)
		buf_append_byte(&t, 'q');
	buf_append_str(&t, "--BND\r\n");
	buf_append_str(&in, HDRS "Content-Type: multipart/mixed; boundary=BND"
	    "\r\n\r\n--BND\r\nContent-Type: text/plain\r\n\r\n");
	buf_append(&in, t.p, t.len);
	buf_append_str(&in, "\r\n--BND\r\n\r\nsecond\xe9\r\n--BND--\r\n");
	if (run(&in, "boundary in content") == 0) {
		ob = body_of(S(&out));
		ib = body_of(S(&in));
		same_leaf(part(ob, "BND", 0), part(ib, "BND", 0), t.p, t.len,
		    "boundary in content: part 1");
		same_leaf(part(ob, "BND", 1), part(ib, "BND", 1),
		    "second\xe9", 7, "boundary in content: part 2");
		/* exactly the three real delimiter lines begin with "--BND" */
		n = 0;
		for (k = 0; (k = find(out.p, out.len, "\r\n--BND", k)) <
		    out.len; k++)
			n++;
		is_int(n, 3, "boundary in content: no new delimiter lines");
	}
	buf_free(&in);
	buf_free(&t);
}

static void
case_missing_close(void)
{
	struct buf in = BUF_INIT(0);
	const char *last = "trunc\xe4ted\r\nmore\r\n";

	buf_append_str(&in, HDRS "Content-Type: multipart/mixed; boundary=M"
	    "\r\n\r\n--M\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--M\r\n"
	    "Content-Type: text/plain; charset=latin1\r\n\r\n");
	buf_append_str(&in, last);
	if (run(&in, "missing close") == 0) {
		same_leaf(part(body_of(S(&out)), "M", 1),
		    part(body_of(S(&in)), "M", 1), last, strlen(last),
		    "missing close: last part to the end");
		ok(out.len > 7 &&
		    memcmp(out.p + out.len - 7, "--M--\r\n", 7) == 0,
		    "missing close: close-delimiter supplied");
	}
	/* fuzz regression: the body ends right after a delimiter */
	buf_reset(&in);
	buf_append_str(&in, "Content-Type: multipart/mixed; boundary=D\r\n"
	    "\r\npre\xe9\r\n--D");
	if (run(&in, "ends at delimiter") == 0)
		ok(out.len > 20 && memcmp(out.p + out.len - 20,
		    "pre?\r\n--D\r\n\r\n--D--\r\n", 20) == 0,
		    "ends at delimiter: empty last part, then close");
	/* fuzz regression: two delimiter lines in a row are an empty part,
	 * so the empty line supplied after a headerless part cannot make a
	 * new delimiter */
	buf_reset(&in);
	buf_append_str(&in, "Content-Type: multipart/digest; boundary=D\r\n"
	    "\r\n--D\r\n--D\r\nno header\r\n--D\r\n\r\n\xe9\r\n--D--\r\n");
	if (run(&in, "double delimiter") == 0)
		ok(find(out.p, out.len, "\r\n--D\r\n--D\r\n\r\n\r\nno header"
		    "\r\n--D\r\n", 0) < out.len,
		    "double delimiter: empty part, headerless message");
	/* fuzz regression: a bare CR ends the header; once the preamble is
	 * sanitized its first line must not turn into a header field */
	buf_reset(&in);
	buf_append_str(&in, "Content-Type: multipart/mixed; boundary=D\r\n"
	    "\rX-Hidden: 1\r\n\r\n--D\r\n\r\nx\r\n--D--\r\n");
	if (run(&in, "no empty line") == 0)
		ok(find(out.p, out.len, "\r\n\r\n?X-Hidden: 1\r\n", 0) <
		    out.len, "no empty line: one is supplied");
	buf_free(&in);
}

static void
case_malformed(void)
{
	struct buf in = BUF_INIT(0);
	const char *b1 = "not a header line\r\nX: y\r\n\r\nb\xf6\x64y\r\n";
	const char *b2 = "t\xe9xt";
	const char *b3 = "opaque \xff\xfe\r\n";

	/* top-level header broken by a line without a colon: the body
	 * starts there (and gets the empty line it lacked) */
	buf_append_str(&in, "From: a@b\r\n");
	buf_append_str(&in, b1);
	if (run(&in, "malformed top") == 0) {
		struct span o = S(&out);

		ok(memcmp(out.p, "From: a@b\r\nMIME-Version: 1.0\r\n", 30) == 0,
		    "malformed top: header kept, MIME-Version added");
		decode(o, &in);
		is_mem(in.p, in.len, b1, strlen(b1), "malformed top: content");
	}
	/* unreadable Content-Type is text/plain (RFC 2045 5.2); a part
	 * without an empty line; multipart without boundary is a leaf */
	buf_reset(&in);
	buf_append_str(&in, HDRS "Content-Type: multipart/mixed; "
	    "boundary=\"P\"\r\n\r\n--P\r\nContent-Type: ;;;/\r\n\r\n");
	buf_append_str(&in, b2);
	buf_append_str(&in, "\r\n--P\r\nContent-Type: multipart/mixed\r\n\r\n");
	buf_append_str(&in, b3);
	buf_append_str(&in, "\r\n--P\r\nContent-Type: text/plain; boundary="
	    "\"unterminated\r\n\r\nx\r\n--P--\r\n");
	if (run(&in, "malformed parts") == 0) {
		struct span ob = body_of(S(&out)), ib = body_of(S(&in));

		same_leaf(part(ob, "P", 0), part(ib, "P", 0), b2, strlen(b2),
		    "malformed parts: bad Content-Type");
		has_cte(part(ob, "P", 0), "quoted-printable",
		    "malformed parts: bad Content-Type is text");
		same_leaf(part(ob, "P", 1), part(ib, "P", 1), b3, strlen(b3),
		    "malformed parts: multipart without boundary");
		has_cte(part(ob, "P", 1), "base64",
		    "malformed parts: boundary-less multipart is opaque");
		same_leaf(part(ob, "P", 2), part(ib, "P", 2), "x", 1,
		    "malformed parts: unterminated quote");
	}
	/* 8-bit under a label we do not know: refuse, do not guess */
	buf_reset(&in);
	buf_append_str(&in, HDRS "Content-Transfer-Encoding: x-uuencode\r\n"
	    "\r\n\xff\r\n");
	{
		const char *why = NULL;

		buf_reset(&out);
		ok(mime_downgrade(in.p, in.len, &out, &why) < 0 && why &&
		    strstr(why, "unknown"), "unknown C-T-E over 8-bit refused");
	}
	/* QP with raw 8-bit and a long line (broken sender): normalized */
	buf_reset(&in);
	buf_append_str(&in, HDRS "Content-Transfer-Encoding: quoted-printable"
	    "\r\n\r\nraw \xe9 and =E9 here\r\n");
	if (run(&in, "dirty QP") == 0) {
		same_leaf(S(&out), S(&in), "raw \xe9 and \xe9 here\r\n", 18,
		    "dirty QP: decodes the same");
		has_cte(S(&out), "quoted-printable", "dirty QP: still QP");
	}
	buf_free(&in);
}

static void
nest(struct buf *in, int depth)
{
	int i;

	buf_reset(in);
	buf_append_str(in, "MIME-Version: 1.0\r\n");
	for (i = 0; i < depth; i++)
		buf_printf(in, "Content-Type: multipart/mixed; boundary=d%d\r\n"
		    "\r\n--d%d\r\n", i, i);
	buf_append_str(in, "Content-Type: text/plain\r\n\r\ndeep \xe9\r\n");
	for (i = depth - 1; i >= 0; i--)
		buf_printf(in, "\r\n--d%d--\r\n", i);
}

static void
case_limits(void)
{
	struct buf in = BUF_INIT(0), small = BUF_INIT(100);
	const char *why;
	struct span s;
	int i;

	nest(&in, MIME_DOWNGRADE_MAX_DEPTH);
	if (run(&in, "depth at limit") == 0) {
		char b[16];

		s = S(&out);
		for (i = 0; i < MIME_DOWNGRADE_MAX_DEPTH; i++) {
			snprintf(b, sizeof b, "d%d", i);
			s = part(body_of(s), b, 0);
		}
		same_leaf(s, s, "deep \xe9\r\n", 8, "depth at limit: leaf");
	}
	nest(&in, MIME_DOWNGRADE_MAX_DEPTH + 1);
	why = NULL;
	buf_reset(&out);
	ok(mime_downgrade(in.p, in.len, &out, &why) < 0 && why &&
	    strstr(why, "deep"), "depth over limit refused");

	/* the caller's cap holds, and is given back afterwards */
	nest(&in, 3);
	why = NULL;
	ok(mime_downgrade(in.p, in.len, &small, &why) < 0 && why &&
	    strstr(why, "too large"), "caller's out->max respected");
	is_int((long long)small.max, 100, "out->max restored");

	/* too many parts */
	buf_reset(&in);
	buf_append_str(&in, "Content-Type: multipart/mixed; boundary=a\r\n\r\n");
	for (i = 0; i < MIME_DOWNGRADE_MAX_PARTS + 1; i++)
		buf_append_str(&in, "--a\r\n\r\n\xe9\r\n");
	buf_reset(&out);
	why = NULL;
	ok(mime_downgrade(in.p, in.len, &out, &why) < 0 && why &&
	    strstr(why, "many"), "too many parts refused");
	buf_free(&in);
	buf_free(&small);
}

static void
case_header_8bit(void)
{
	struct buf in = BUF_INIT(0);
	const char *why;
	int i;

	buf_append_str(&in, "From: a@b\r\nSubject: caf\xc3\xa9\r\n\r\nbody\xe9\r\n");
	why = NULL;
	buf_reset(&out);
	ok(mime_downgrade(in.p, in.len, &out, &why) < 0 && why &&
	    strstr(why, "6532"), "8-bit top header refused");
	buf_reset(&in);
	buf_append_str(&in, HDRS "Content-Type: multipart/mixed; boundary=H"
	    "\r\n\r\n--H\r\nContent-Type: text/plain; name=\"\xe9.txt\"\r\n\r\n"
	    "x\r\n--H--\r\n");
	why = NULL;
	ok(mime_downgrade(in.p, in.len, &out, &why) < 0 && why &&
	    strstr(why, "6532"), "8-bit part header refused");
	buf_reset(&in);
	buf_append_str(&in, "X-Long: ");
	for (i = 0; i < 1000; i++)
		buf_append_byte(&in, 'h');
	buf_append_str(&in, "\r\n\r\n\xe9\r\n");
	why = NULL;
	ok(mime_downgrade(in.p, in.len, &out, &why) < 0 && why &&
	    strstr(why, "998"), "over-long header line refused");
	buf_free(&in);
}

int
main(void)
{
	test_codecs();
	case_single();
	case_long_lines();
	case_mixed();
	case_nested();
	case_rfc822();
	case_nomime();
	case_binarymime();
	case_boundary_in_content();
	case_missing_close();
	case_malformed();
	case_limits();
	case_header_8bit();
	buf_free(&out);
	return done_testing();
}
