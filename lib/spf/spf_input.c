#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spf_input.h"

#define SPF_DOMAIN_MAX 253
#define SPF_LOCAL_MAX 64

static int
ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int
spf_input_domain_ok(const char *d, size_t n)
{
	size_t i, label = 0, labels = 0;

	if (n > 0 && d[n - 1] == '.')
		n--; /* a trailing dot names the root, RFC 7208 4.3 */
	if (n == 0 || n > SPF_DOMAIN_MAX)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || d[i] == '.') {
			if (label == 0 || label > 63)
				return 0;
			labels++;
			label = 0;
			continue;
		}
		if (!ldh((unsigned char)d[i]))
			return 0;
		label++;
	}
	return labels >= 2;
}

/* A client address in canonical text; an IPv4-mapped one as IPv4. */
static int
canonical_ip(const char *ip, char *out, size_t cap)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)cap) ? 0 : -1;
	if (inet_pton(AF_INET6, ip, a) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)(void *)a))
		return inet_ntop(AF_INET, a + 12, out, (socklen_t)cap) ? 0 :
		                                                         -1;
	return inet_ntop(AF_INET6, a, out, (socklen_t)cap) ? 0 : -1;
}

static int
local_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > SPF_LOCAL_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

static int
none(char *why, size_t whycap, const char *text)
{
	snprintf(why, whycap, "%s", text);
	return SPF_INPUT_NONE;
}

int
spf_input_request(const char *ip, const char *helo, const char *sender,
    struct spf_req *req, char *why, size_t whycap)
{
	const char *at;
	size_t hl = strlen(helo), sl = strlen(sender);

	memset(req, 0, sizeof *req);
	if (whycap > 0)
		why[0] = '\0';
	if (canonical_ip(ip, req->ip, sizeof req->ip) < 0)
		return SPF_INPUT_NOIP;
	/* The HELO name travels for %{h} even when MAIL FROM is checked;
	 * one libspf2 may not see becomes a placeholder it can expand. */
	if (spf_input_domain_ok(helo, hl))
		memcpy(req->helo, helo, hl + 1);
	else
		snprintf(req->helo, sizeof req->helo, "unknown");
	if (sl == 0) {
		/* RFC 7208 2.4: the null reverse-path checks the HELO name */
		if (!spf_input_domain_ok(helo, hl))
			return none(why, whycap, "HELO name is not a domain");
		req->kind = SPF_KIND_HELO;
		snprintf(req->id, sizeof req->id, "postmaster@%s", helo);
		return SPF_INPUT_CHECK;
	}
	at = strrchr(sender, '@');
	if (at == NULL || !local_ok(sender, (size_t)(at - sender)))
		return none(why, whycap, "malformed local part");
	if (!spf_input_domain_ok(at + 1, strlen(at + 1)))
		return none(why, whycap, "sender domain is not a domain name");
	if (sl + 1 > sizeof req->id)
		return none(why, whycap, "sender address too long");
	req->kind = SPF_KIND_MAILFROM;
	memcpy(req->id, sender, sl + 1);
	return SPF_INPUT_CHECK;
}

static int
prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff00u >> rest) & 0xffu) == 0;
}

int
spf_input_net_match(const char *net, const char *ip)
{
	char addr[SPF_IP_MAX], cip[SPF_IP_MAX];
	const char *slash = strchr(net, '/');
	size_t al = slash ? (size_t)(slash - net) : strlen(net);
	unsigned char n[16], c[16];
	unsigned long bits;
	int fam;

	if (al == 0 || al >= sizeof addr)
		return -1;
	memcpy(addr, net, al);
	addr[al] = '\0';
	if (inet_pton(AF_INET, addr, n) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, addr, n) == 1)
		fam = AF_INET6;
	else
		return -1;
	bits = fam == AF_INET ? 32 : 128;
	if (slash != NULL) {
		char *end;

		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || bits > (fam == AF_INET ? 32u : 128u) ||
		    (slash[1] == '0' && slash[2] != '\0'))
			return -1;
	}
	if (canonical_ip(ip, cip, sizeof cip) < 0)
		return 0;
	if (inet_pton(fam, cip, c) != 1)
		return 0; /* the other family */
	return prefix_match(n, c, (unsigned)bits);
}
