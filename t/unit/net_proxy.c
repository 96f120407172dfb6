#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "net/net_proxy.h"
#include "net/net_proxy_read.h"
#include "tap.h"

/*
 * Renders a parse result: "ok LEN SRC:PORT>DST:PORT" (addresses in text),
 * "ok LEN local" (v2 LOCAL), "ok LEN none" (no usable address),
 * "more LEN", or "!N" for error -N.
 */
static void
render(const void *in, size_t n, struct buf *out)
{
	struct net_proxy_hdr h;
	char src[64], dst[64];
	int r = net_proxy_parse(in, n, &h);

	buf_reset(out);
	if (r < 0) {
		buf_printf(out, "!%d", -r);
		return;
	}
	if (r == NET_PROXY_MORE) {
		buf_printf(out, "more %zu", h.len);
		return;
	}
	if (h.local)
		buf_printf(out, "ok %zu local", h.len);
	else if (net_proxy_source(&h, src, sizeof src) < 0)
		buf_printf(out, "ok %zu none", h.len);
	else
		buf_printf(out, "ok %zu %s:%u>%s:%u", h.len, src,
		    (unsigned)h.src_port,
		    inet_ntop(h.family, h.dst, dst, sizeof dst),
		    (unsigned)h.dst_port);
}

struct tcase {
	const char *name;
	const char *in;
	const char *want;
};

#define F39 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

static const struct tcase v1_cases[] = {
	{ "TCP4", "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n",
	    "ok 44 192.0.2.1:56324>198.51.100.2:25" },
	{ "TCP4 longest (56)",
	    "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
	    "ok 56 255.255.255.255:65535>255.255.255.255:65535" },
	{ "TCP4 zeros", "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n",
	    "ok 32 0.0.0.0:0>0.0.0.0:0" },
	{ "TCP6", "PROXY TCP6 2001:db8::1 2001:db8::2 4000 25\r\n",
	    "ok 44 2001:db8::1:4000>2001:db8::2:25" },
	{ "TCP6 longest (104)", "PROXY TCP6 " F39 " " F39 " 65535 65535\r\n",
	    "ok 104 " F39 ":65535>" F39 ":65535" },
	{ "TCP6 IPv4-mapped", "PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n",
	    "ok 37 ::ffff:192.0.2.1:1>::1:2" },
	{ "UNKNOWN short (15)", "PROXY UNKNOWN\r\n", "ok 15 none" },
	{ "UNKNOWN worst case (107)",
	    "PROXY UNKNOWN " F39 " " F39 " 65535 65535\r\n", "ok 107 none" },
	{ "UNKNOWN 108 octets",
	    "PROXY UNKNOWN " F39 " " F39 " 65535 655355\r\n", "!2" },
	{ "SMTP after the line is not read",
	    "PROXY TCP4 192.0.2.1 192.0.2.2 1 25\r\nEHLO x\r\n",
	    "ok 37 192.0.2.1:1>192.0.2.2:25" },
	{ "empty input", "", "more 15" },
	{ "P", "P", "more 15" },
	{ "PROXY TCP4 (no CR yet)", "PROXY TCP4 192.0.2.1", "more 22" },
	{ "CR waits for LF", "PROXY UNKNOWN\r", "more 15" },
	{ "lower case proxy", "proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n", "!1" },
	{ "SMTP instead", "EHLO client.test\r\n", "!1" },
	{ "PROXZ", "PROXZ", "!1" },
	{ "PROXY without space", "PROXY\r\n", "!1" },
	{ "bare LF", "PROXY UNKNOWN\n", "!3" },
	{ "CR not LF", "PROXY UNKNOWN\rX\r\n", "!3" },
	{ "LF CR", "PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n\r", "!3" },
	{ "TCP5", "PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n", "!5" },
	{ "tcp4", "PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n", "!5" },
	{ "UNKNOWNX", "PROXY UNKNOWNX\r\n", "!5" },
	{ "empty family", "PROXY \r\n", "!5" },
	{ "UNKNOWN with anything", "PROXY UNKNOWN \x01\xff junk\r\n",
	    "ok 23 none" },
	{ "double space", "PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n", "!4" },
	{ "trailing space", "PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n", "!4" },
	{ "four fields", "PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n", "!4" },
	{ "six fields", "PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", "!4" },
	{ "TCP4 alone", "PROXY TCP4\r\n", "!4" },
	{ "leading zero octet", "PROXY TCP4 192.0.2.01 1.2.3.4 1 2\r\n", "!6" },
	{ "octet 256", "PROXY TCP4 256.0.0.1 1.2.3.4 1 2\r\n", "!6" },
	{ "three octets", "PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n", "!6" },
	{ "five octets", "PROXY TCP4 1.2.3.4.5 1.2.3.4 1 2\r\n", "!6" },
	{ "empty octet", "PROXY TCP4 1..3.4 1.2.3.4 1 2\r\n", "!6" },
	{ "trailing dot", "PROXY TCP4 1.2.3.4. 1.2.3.4 1 2\r\n", "!6" },
	{ "bad destination", "PROXY TCP4 1.2.3.4 1.2.3.x 1 2\r\n", "!6" },
	{ "IPv6 under TCP4", "PROXY TCP4 ::1 ::1 1 2\r\n", "!6" },
	{ "IPv4 under TCP6", "PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n", "!6" },
	{ "two double colons", "PROXY TCP6 1::2::3 ::1 1 2\r\n", "!6" },
	{ "zone id", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "!6" },
	{ "port 65536", "PROXY TCP4 1.2.3.4 1.2.3.4 65536 25\r\n", "!7" },
	{ "port leading zero", "PROXY TCP4 1.2.3.4 1.2.3.4 1 025\r\n", "!7" },
	{ "port sign", "PROXY TCP4 1.2.3.4 1.2.3.4 +1 25\r\n", "!7" },
	{ "port six digits", "PROXY TCP4 1.2.3.4 1.2.3.4 000001 25\r\n",
	    "!7" },
};

/* A v2 header: the signature, ver_cmd, fam, then body (blen octets) with
 * the length field set to len (normally blen). */
static size_t
v2(unsigned char *out, unsigned ver_cmd, unsigned fam, unsigned len,
    const void *body, size_t blen)
{
	memcpy(out, "\r\n\r\n\0\r\nQUIT\n", 12);
	out[12] = (unsigned char)ver_cmd;
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)(len >> 8);
	out[15] = (unsigned char)len;
	if (blen)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

static const unsigned char tcp4[12] = { 192, 0, 2, 1, 198, 51, 100, 2,
	0xdc, 0x04, 0, 25 };
/* 2001:db8::1 port 587 to 2001:db8::2 port 25 */
static const unsigned char tcp6[36] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 1, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 2, 0x02, 0x4b, 0, 25 };

static const unsigned char unix216[216] = { 'u' };

struct v2case {
	const char *name;
	unsigned ver_cmd, fam, len;
	const void *body;
	const char *want;
};

static const struct v2case v2_table[] = {
	{ "v2 PROXY TCP6", 0x21, 0x21, 36, tcp6,
	    "ok 52 2001:db8::1:587>2001:db8::2:25" },
	{ "v2 LOCAL", 0x20, 0x00, 0, NULL, "ok 16 local" },
	{ "v2 LOCAL with addresses ignores them", 0x20, 0x11, 12, tcp4,
	    "ok 28 local" },
	{ "v2 LOCAL ignores the family", 0x20, 0xff, 3, "abc", "ok 19 local" },
	{ "v2 UNSPEC", 0x21, 0x00, 0, NULL, "ok 16 none" },
	{ "v2 UNSPEC with bytes", 0x21, 0x00, 5, "12345", "ok 21 none" },
	{ "v2 UDP over IPv4: no usable address", 0x21, 0x12, 12, tcp4,
	    "ok 28 none" },
	{ "v2 UNIX", 0x21, 0x31, 216, unix216, "ok 232 none" },
	{ "v2 UNIX 215", 0x21, 0x31, 215, unix216, "!12" },
	{ "v2 TCP4 11 octets", 0x21, 0x11, 11, tcp4, "!12" },
	{ "v2 TCP6 35 octets", 0x21, 0x21, 35, tcp6, "!12" },
	{ "v2 TCP4 no addresses", 0x21, 0x11, 0, NULL, "!12" },
	{ "v2 version 1", 0x11, 0x11, 12, tcp4, "!8" },
	{ "v2 version 3", 0x31, 0x11, 12, tcp4, "!8" },
	{ "v2 command 2", 0x22, 0x11, 12, tcp4, "!9" },
	{ "v2 command 15", 0x2f, 0x11, 12, tcp4, "!9" },
	{ "v2 family 4", 0x21, 0x41, 12, tcp4, "!10" },
	{ "v2 transport 3", 0x21, 0x13, 12, tcp4, "!10" },
};

static void
check(const char *name, const void *in, size_t n, const char *want)
{
	struct buf got = BUF_INIT(0);

	render(in, n, &got);
	is_str(got.p, want, name);
	buf_free(&got);
}

/*
 * Every proper prefix of a valid header asks for more, with a lower bound
 * that never reaches past the header: a reader following it consumes
 * exactly the header.
 */
static void
prefixes(const char *name, const unsigned char *in, size_t n)
{
	struct net_proxy_hdr h;
	size_t k, bad = 0;

	for (k = 0; k < n; k++)
		if (net_proxy_parse(in, k, &h) != NET_PROXY_MORE ||
		    h.len <= k || h.len > n)
			bad++;
	ok(bad == 0, "%s: each of %zu truncations asks for more, within it",
	    name, n);
}

static void
v2_cases(void)
{
	unsigned char b[2048], body[1100];
	size_t n, i, bad;

	n = v2(b, 0x21, 0x11, 12, tcp4, 12);
	check("v2 PROXY TCP4", b, n, "ok 28 192.0.2.1:56324>198.51.100.2:25");
	prefixes("v2 PROXY TCP4", b, n);
	memcpy(b + n, "EHLO x\r\n", 8);
	check("v2 SMTP after the header is not read", b, n + 8,
	    "ok 28 192.0.2.1:56324>198.51.100.2:25");
	bad = 0;
	for (i = 0; i < 12; i++) {
		unsigned char c[28];

		memcpy(c, b, 28);
		c[i] ^= 0x40;
		if (net_proxy_parse(c, 28, &(struct net_proxy_hdr){ 0 }) !=
		    NET_PROXY_E_SIGNATURE)
			bad++;
	}
	ok(bad == 0, "v2: a change in any signature octet is refused");
	check("v2 signature cut to 11 then SMTP", "\r\n\r\n\0\r\nQUITX", 12,
	    "!1");

	for (i = 0; i < sizeof v2_table / sizeof v2_table[0]; i++) {
		const struct v2case *t = &v2_table[i];

		n = v2(b, t->ver_cmd, t->fam, t->len, t->body, t->len);
		check(t->name, b, n, t->want);
		if (strncmp(t->want, "ok ", 3) == 0)
			prefixes(t->name, b, n);
	}
	check("v2 version seen early", "\r\n\r\n\0\r\nQUIT\n\x31", 13, "!8");

	/* TLVs after the addresses are skipped, but must fit */
	memcpy(body, tcp4, 12);
	memcpy(body + 12, "\x04\x00\x03xyz\x05\x00\x00", 9);
	n = v2(b, 0x21, 0x11, 21, body, 21);
	check("v2 TCP4 with TLVs", b, n, "ok 37 192.0.2.1:56324>198.51.100.2:25");
	prefixes("v2 TCP4 with TLVs", b, n);
	n = v2(b, 0x21, 0x11, 20, body, 20);
	check("v2 TLV header cut", b, n, "!13");
	n = v2(b, 0x21, 0x11, 17, body, 17);
	check("v2 TLV value cut", b, n, "!13");
	n = v2(b, 0x21, 0x11, 14, body, 14);
	check("v2 TLV of two octets", b, n, "!13");

	/* the length bound: 1024 octets in all, then refused */
	memcpy(body, tcp4, 12);
	body[12] = 0x04;	/* one NOOP TLV fills the rest */
	body[13] = (1024 - 16 - 12 - 3) >> 8;
	body[14] = (1024 - 16 - 12 - 3) & 0xff;
	memset(body + 15, 0, sizeof body - 15);
	n = v2(b, 0x21, 0x11, 1024 - 16, body, 1024 - 16);
	check("v2 1024 octets", b, n,
	    "ok 1024 192.0.2.1:56324>198.51.100.2:25");
	prefixes("v2 1024 octets", b, n);
	body[14]++;
	n = v2(b, 0x21, 0x11, 1025 - 16, body, 1025 - 16);
	check("v2 1025 octets", b, n, "!11");
	check("v2 1025 octets refused from the fixed part", b, 16, "!11");
	n = v2(b, 0x21, 0x11, 0xffff, body, 0);
	check("v2 length 65535", b, n, "!11");
}

/* net_proxy_read over a pipe: the header is consumed, the SMTP stays. */
static void
reader(void)
{
	static const char v1[] = "PROXY TCP4 192.0.2.9 192.0.2.2 4321 25\r\n";
	unsigned char b[64];
	struct net_proxy_hdr h;
	char rest[32], src[64];
	int fd[2];
	ssize_t n;
	size_t hl;

	if (pipe(fd) < 0)
		return;
	if (write(fd[1], v1, sizeof v1 - 1) < 0 || write(fd[1], "QUIT\r\n", 6) < 0)
		return;
	is_int(net_proxy_read(fd[0], 5, &h), NET_PROXY_OK, "read: v1 header");
	net_proxy_source(&h, src, sizeof src);
	is_str(src, "192.0.2.9", "read: v1 source");
	is_int(h.src_port, 4321, "read: v1 source port");
	n = read(fd[0], rest, sizeof rest);
	is_mem(rest, n > 0 ? (size_t)n : 0, "QUIT\r\n", 6,
	    "read: the SMTP after a v1 header stays unread");

	hl = v2(b, 0x21, 0x11, 12, tcp4, 12);
	memcpy(b + hl, "QUIT\r\n", 6);
	if (write(fd[1], b, hl + 6) < 0)
		return;
	is_int(net_proxy_read(fd[0], 5, &h), NET_PROXY_OK, "read: v2 header");
	n = read(fd[0], rest, sizeof rest);
	is_mem(rest, n > 0 ? (size_t)n : 0, "QUIT\r\n", 6,
	    "read: the SMTP after a v2 header stays unread");

	if (write(fd[1], "EHLO x\r\n", 8) < 0)
		return;
	is_int(net_proxy_read(fd[0], 5, &h), NET_PROXY_E_SIGNATURE,
	    "read: SMTP instead of a header");

	if (write(fd[1], b, 20) < 0)
		return;
	close(fd[1]);
	is_int(net_proxy_read(fd[0], 5, &h), NET_PROXY_R_EOF,
	    "read: a v2 header cut by the close");
	is_int((long long)h.len, 20, "read: ... after 20 octets");
	close(fd[0]);

	if (pipe(fd) < 0)
		return;
	if (write(fd[1], "PROXY TCP4", 10) < 0)
		return;
	is_int(net_proxy_read(fd[0], 1, &h), NET_PROXY_R_TIMEOUT,
	    "read: an incomplete header times out at the deadline");
	is_int((long long)h.len, 10, "read: ... after 10 octets");
	close(fd[0]);
	close(fd[1]);
}

int
main(void)
{
	size_t i;
	char name[160];

	for (i = 0; i < sizeof v1_cases / sizeof v1_cases[0]; i++) {
		const struct tcase *t = &v1_cases[i];

		snprintf(name, sizeof name, "v1 %s", t->name);
		check(name, t->in, strlen(t->in), t->want);
		if (strncmp(t->want, "ok ", 3) == 0) {
			size_t len = strtoul(t->want + 3, NULL, 10);

			snprintf(name, sizeof name, "v1 %s", t->name);
			prefixes(name, (const unsigned char *)t->in, len);
		}
	}
	{
		/* 107 octets with the CRLF, arbitrary UNKNOWN text, and 108 */
		char b[160];

		memset(b, 'x', sizeof b);
		memcpy(b, "PROXY UNKNOWN ", 14);
		memcpy(b + 105, "\r\n", 2);
		check("v1 UNKNOWN 107 octets", b, 107, "ok 107 none");
		memset(b, 'x', sizeof b);
		memcpy(b, "PROXY UNKNOWN ", 14);
		memcpy(b + 106, "\r\n", 2);
		check("v1 UNKNOWN 108 octets", b, 108, "!2");
		check("v1 105 octets without CR: more", b, 105, "more 107");
		check("v1 106 octets without CR: refused", b, 106, "!2");
		b[105] = '\r';
		check("v1 106 octets ending in CR: more", b, 106, "more 107");
		b[105] = 'x';
		b[106] = '\r';
		check("v1 107 octets, CR last: refused", b, 107, "!2");
		memset(b, 'x', sizeof b);
		memcpy(b, "PROXY UNKNOWN ", 14);
		check("v1 160 octets without CRLF", b, sizeof b, "!2");
	}
	v2_cases();
	reader();
	is_str(net_proxy_strerror(NET_PROXY_E_V2_TLV),
	    "v2 TLV past the end of the header", "strerror");
	return done_testing();
}
