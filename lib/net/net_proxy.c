#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net_proxy.h"

static const unsigned char v1_sig[6] = { 'P', 'R', 'O', 'X', 'Y', ' ' };
static const unsigned char v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00,
	0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* "PROXY UNKNOWN\r\n" (spec 2.1) is the shortest header of either version. */
#define NET_PROXY_MIN 15

static int
prefix_ok(const unsigned char *p, size_t n, const unsigned char *sig,
    size_t siglen)
{
	return memcmp(p, sig, n < siglen ? n : siglen) == 0;
}

/* A decimal 0..max without leading zeros (spec 2.1: no octal confusion). */
static int
decimal(const char *p, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5 || (n > 1 && p[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Exactly four decimal octets 0..255 joined by single dots. */
static int
ipv4(const char *p, size_t n, unsigned char *out)
{
	size_t i, start = 0, k = 0;
	unsigned long v;

	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != '.')
			continue;
		if (k == 4 || decimal(p + start, i - start, 255, &v) < 0)
			return -1;
		out[k++] = (unsigned char)v;
		start = i + 1;
	}
	return k == 4 ? 0 : -1;
}

/* RFC 4291 2.2 text forms, as inet_pton(3) reads them; at most the
 * longest form (eight groups with an IPv4 tail, 45 characters). */
static int
ipv6(const char *p, size_t n, unsigned char *out)
{
	char tmp[46];
	size_t i;

	if (n == 0 || n >= sizeof tmp)
		return -1;
	for (i = 0; i < n; i++)
		if (strchr("0123456789abcdefABCDEF:.", p[i]) == NULL ||
		    p[i] == '\0')
			return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1 ? 0 : -1;
}

/* One line without its CRLF, after "PROXY ". */
static int
v1_fields(const char *p, size_t n, struct net_proxy_hdr *h)
{
	const char *tok[5];
	size_t len[5], i, k = 0, start = 0;
	unsigned long port;
	int (*addr)(const char *, size_t, unsigned char *);

	for (i = 0; i <= n && k < 5; i++) {
		if (i < n && p[i] != ' ')
			continue;
		tok[k] = p + start;
		len[k++] = i - start;
		start = i + 1;
		/* UNKNOWN: the receiver ignores the rest of the line. */
		if (k == 1 && len[0] == 7 && memcmp(tok[0], "UNKNOWN", 7) == 0)
			return NET_PROXY_OK;
	}
	if (len[0] == 4 && memcmp(tok[0], "TCP4", 4) == 0) {
		h->family = AF_INET;
		addr = ipv4;
	} else if (len[0] == 4 && memcmp(tok[0], "TCP6", 4) == 0) {
		h->family = AF_INET6;
		addr = ipv6;
	} else {
		return NET_PROXY_E_V1_FAMILY;
	}
	/* exactly one space between exactly five fields */
	if (k != 5 || start <= n)
		return NET_PROXY_E_V1_SYNTAX;
	for (i = 1; i < 5; i++)
		if (len[i] == 0)
			return NET_PROXY_E_V1_SYNTAX;
	if (addr(tok[1], len[1], h->src) < 0 || addr(tok[2], len[2], h->dst) < 0)
		return NET_PROXY_E_V1_ADDRESS;
	if (decimal(tok[3], len[3], 65535, &port) < 0)
		return NET_PROXY_E_V1_PORT;
	h->src_port = (uint16_t)port;
	if (decimal(tok[4], len[4], 65535, &port) < 0)
		return NET_PROXY_E_V1_PORT;
	h->dst_port = (uint16_t)port;
	return NET_PROXY_OK;
}

/* Spec 2.1: only CRLF ends the line, within 107 octets. */
static int
v1(const unsigned char *p, size_t n, struct net_proxy_hdr *h)
{
	size_t i, lim = n < NET_PROXY_V1_MAX ? n : NET_PROXY_V1_MAX;
	int r;

	h->version = 1;
	for (i = 0; i < lim; i++) {
		if (p[i] == '\n')
			return NET_PROXY_E_V1_EOL;	/* a CR would have ended it */
		if (p[i] != '\r')
			continue;
		if (i + 1 == n)
			break;
		if (p[i + 1] != '\n')
			return NET_PROXY_E_V1_EOL;
		if (i + 2 > NET_PROXY_V1_MAX)
			return NET_PROXY_E_V1_TOOLONG;
		h->len = i + 2;
		r = v1_fields((const char *)p + sizeof v1_sig, i - sizeof v1_sig,
		    h);
		if (r != NET_PROXY_OK)
			h->family = 0;
		return r;
	}
	/* the CRLF, or the LF of a trailing CR, is still to come */
	h->len = n + (n && p[n - 1] == '\r' ? 1 : 2);
	if (h->len < NET_PROXY_MIN)
		h->len = NET_PROXY_MIN;
	return h->len > NET_PROXY_V1_MAX ? NET_PROXY_E_V1_TOOLONG :
	    NET_PROXY_MORE;
}

/* Spec 2.2 and its TLVs (2.2.1-2.2.8), which we skip. */
static int
v2(const unsigned char *p, size_t n, struct net_proxy_hdr *h)
{
	size_t total, addrlen, off;
	unsigned fam, proto;

	h->version = 2;
	if (n > 12 && (p[12] >> 4) != 2)
		return NET_PROXY_E_V2_VERSION;
	if (n > 12 && (p[12] & 0x0f) > 1)
		return NET_PROXY_E_V2_COMMAND;
	if (n < NET_PROXY_V2_FIXED) {
		h->len = NET_PROXY_V2_FIXED;
		return NET_PROXY_MORE;
	}
	total = NET_PROXY_V2_FIXED + ((size_t)p[14] << 8 | p[15]);
	if (total > NET_PROXY_V2_MAX)
		return NET_PROXY_E_V2_TOOLONG;
	h->local = (p[12] & 0x0f) == 0;
	fam = p[13] >> 4;
	proto = p[13] & 0x0f;
	if (!h->local && (fam > 3 || proto > 2))
		return NET_PROXY_E_V2_FAMILY;
	h->len = total;
	if (n < total)
		return NET_PROXY_MORE;
	/* LOCAL: the proxy's own connection (a health check); the address
	 * block and the family are to be ignored. */
	if (h->local)
		return NET_PROXY_OK;
	/* UNSPEC: the layout of what follows is unknown; skip it all. */
	if (fam == 0 || proto == 0)
		return NET_PROXY_OK;
	addrlen = fam == 1 ? 12 : fam == 2 ? 36 : 216;
	if (total - NET_PROXY_V2_FIXED < addrlen)
		return NET_PROXY_E_V2_SHORT;
	for (off = NET_PROXY_V2_FIXED + addrlen; off < total;
	    off += 3 + ((size_t)p[off + 1] << 8 | p[off + 2]))
		if (total - off < 3 ||
		    total - off - 3 < ((size_t)p[off + 1] << 8 | p[off + 2]))
			return NET_PROXY_E_V2_TLV;
	/* Only TCP over IPv4 or IPv6 names a client; UNIX and datagrams
	 * fall back to the real endpoints, as UNSPEC (spec 2.2). */
	if (proto != 1 || fam == 3)
		return NET_PROXY_OK;
	p += NET_PROXY_V2_FIXED;
	addrlen = fam == 1 ? 4 : 16;
	h->family = fam == 1 ? AF_INET : AF_INET6;
	memcpy(h->src, p, addrlen);
	memcpy(h->dst, p + addrlen, addrlen);
	h->src_port = (uint16_t)(p[2 * addrlen] << 8 | p[2 * addrlen + 1]);
	h->dst_port = (uint16_t)(p[2 * addrlen + 2] << 8 | p[2 * addrlen + 3]);
	return NET_PROXY_OK;
}

int
net_proxy_parse(const void *buf, size_t n, struct net_proxy_hdr *h)
{
	const unsigned char *p = buf;

	memset(h, 0, sizeof *h);
	if (n == 0) {
		h->len = NET_PROXY_MIN;
		return NET_PROXY_MORE;
	}
	if (p[0] == v1_sig[0])
		return prefix_ok(p, n, v1_sig, sizeof v1_sig) ? v1(p, n, h) :
		    NET_PROXY_E_SIGNATURE;
	if (prefix_ok(p, n, v2_sig, sizeof v2_sig))
		return v2(p, n, h);
	return NET_PROXY_E_SIGNATURE;
}

const char *
net_proxy_strerror(int status)
{
	switch (status) {
	case NET_PROXY_OK:
		return "ok";
	case NET_PROXY_MORE:
		return "incomplete";
	case NET_PROXY_E_SIGNATURE:
		return "no PROXY signature";
	case NET_PROXY_E_V1_TOOLONG:
		return "v1 line without CRLF in 107 octets";
	case NET_PROXY_E_V1_EOL:
		return "v1 line with a bare CR or LF";
	case NET_PROXY_E_V1_SYNTAX:
		return "v1 line not five fields with single spaces";
	case NET_PROXY_E_V1_FAMILY:
		return "v1 protocol not TCP4, TCP6 or UNKNOWN";
	case NET_PROXY_E_V1_ADDRESS:
		return "v1 address not canonical for its family";
	case NET_PROXY_E_V1_PORT:
		return "v1 port not 0-65535";
	case NET_PROXY_E_V2_VERSION:
		return "v2 version not 2";
	case NET_PROXY_E_V2_COMMAND:
		return "v2 command not LOCAL or PROXY";
	case NET_PROXY_E_V2_FAMILY:
		return "v2 address family or transport unassigned";
	case NET_PROXY_E_V2_TOOLONG:
		return "v2 header over 1024 octets";
	case NET_PROXY_E_V2_SHORT:
		return "v2 address block shorter than its family";
	case NET_PROXY_E_V2_TLV:
		return "v2 TLV past the end of the header";
	case NET_PROXY_R_TIMEOUT:
		return "timed out";
	case NET_PROXY_R_EOF:
		return "connection closed";
	case NET_PROXY_R_IO:
		return "read error";
	}
	return "unknown error";
}

int
net_proxy_source(const struct net_proxy_hdr *h, char *out, size_t cap)
{
	if (h->family != AF_INET && h->family != AF_INET6)
		return -1;
	return inet_ntop(h->family, h->src, out, (socklen_t)cap) ? 0 : -1;
}
