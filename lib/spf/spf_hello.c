#include <stdio.h>
#include <string.h>

#include "spf/spf_hello.h"

#define BUDGET_DIGITS 7

static int
token_ok(const char *s, size_t n, size_t cap)
{
	size_t i;

	if (n == 0 || n >= cap)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

int
spf_hello_parse(const char *p, size_t n, struct spf_hello *h, size_t *used)
{
	const char *lf =
	    memchr(p, '\n', n < SPF_HELLO_LINE_MAX ? n : SPF_HELLO_LINE_MAX);
	const char *rs, *bs, *ds, *tab;
	size_t rn, bn, dn, i;
	uint64_t b = 0;

	if (lf == NULL)
		return n < SPF_HELLO_LINE_MAX ? SPF_PROTO_MORE :
		                                SPF_PROTO_E_TOOLONG;
	if ((size_t)(lf - p) < 6 || memcmp(p, "hello\t", 6) != 0)
		return SPF_PROTO_E_KIND;
	rs = p + 6;
	if ((tab = memchr(rs, '\t', (size_t)(lf - rs))) == NULL)
		return SPF_PROTO_E_FIELDS;
	rn = (size_t)(tab - rs);
	bs = tab + 1;
	if ((tab = memchr(bs, '\t', (size_t)(lf - bs))) == NULL)
		return SPF_PROTO_E_FIELDS;
	bn = (size_t)(tab - bs);
	ds = tab + 1;
	dn = (size_t)(lf - ds);
	if (memchr(ds, '\t', dn) != NULL)
		return SPF_PROTO_E_FIELDS;
	if (!token_ok(rs, rn, SPF_HELLO_RECEIVER_MAX) ||
	    !token_ok(ds, dn, SPF_HELLO_DNS_MAX))
		return SPF_PROTO_E_FIELDLEN;
	if (bn == 0 || bn > BUDGET_DIGITS || bs[0] == '0')
		return SPF_PROTO_E_FIELDLEN;
	for (i = 0; i < bn; i++) {
		if (bs[i] < '0' || bs[i] > '9')
			return SPF_PROTO_E_OCTET;
		b = b * 10 + (uint64_t)(bs[i] - '0');
	}
	memcpy(h->receiver, rs, rn);
	h->receiver[rn] = '\0';
	if (dn == 1 && ds[0] == '-')
		dn = 0;
	memcpy(h->dns, ds, dn);
	h->dns[dn] = '\0';
	h->budget_ms = b;
	*used = (size_t)(lf - p) + 1;
	return SPF_PROTO_OK;
}

int
spf_hello_format(const struct spf_hello *h, char *out, size_t cap)
{
	const char *dns = h->dns[0] ? h->dns : "-";
	int n;

	if (!token_ok(h->receiver, strlen(h->receiver),
	        SPF_HELLO_RECEIVER_MAX) ||
	    !token_ok(dns, strlen(dns), SPF_HELLO_DNS_MAX) ||
	    h->budget_ms == 0 || h->budget_ms > 9999999)
		return -1;
	n = snprintf(out, cap, "hello\t%s\t%llu\t%s\n", h->receiver,
	    (unsigned long long)h->budget_ms, dns);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}
