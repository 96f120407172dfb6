#define _DEFAULT_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "dns/dns_addr.h"

enum dns_status
dns_addr_parse(const unsigned char *pkt, size_t len, int type,
    struct dns_addr_list *out)
{
	ns_msg msg;
	ns_rr rr;
	int i, n;
	size_t want = type == ns_t_aaaa ? 16 : 4, before = out->n;

	if (len > DNS_PACKET_MAX || ns_initparse(pkt, (int)len, &msg) < 0)
		return DNS_TEMP;
	n = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < n; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			goto malformed;
		/* A CNAME chain ends in the records we asked for; the owner
		 * names differ, the type does not. */
		if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;
		if (ns_rr_rdlen(rr) != want)
			goto malformed;
		if (out->n == DNS_ADDR_MAX)
			break;
		out->a[out->n].family = want == 16 ? AF_INET6 : AF_INET;
		memset(out->a[out->n].a, 0, sizeof out->a[out->n].a);
		memcpy(out->a[out->n].a, ns_rr_rdata(rr), want);
		out->n++;
	}
	return DNS_OK;
malformed:
	/* Nothing from an answer we cannot read whole. */
	out->n = before;
	return DNS_TEMP;
}

int
dns_addr_literal(const char *s, struct dns_addr *out)
{
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, s, out->a) == 1) {
		out->family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->family = AF_INET6;
		return 1;
	}
	return 0;
}

static void
add_literal(struct dns_addr_list *out, const char *lit)
{
	if (out->n < DNS_ADDR_MAX && dns_addr_literal(lit, &out->a[out->n]))
		out->n++;
}

enum dns_status
dns_addr_lookup(struct dns_res *r, const char *host,
    struct dns_addr_list *out)
{
	static const int types[] = { ns_t_a, ns_t_aaaa };
	unsigned char ans[DNS_PACKET_MAX];
	enum dns_status st, res[2];
	size_t len, i;

	out->n = 0;
	if (dns_addr_literal(host, &out->a[0])) {
		out->n = 1;
		return DNS_OK;
	}
	if (str_casecmp(host, "localhost") == 0 ||
	    str_casecmp(host, "localhost.") == 0) {
		add_literal(out, "127.0.0.1");
		add_literal(out, "::1");
		return DNS_OK;
	}
	for (i = 0; i < 2; i++) {
		st = dns_res_query(r, host, types[i], ans, &len);
		if (st == DNS_OK)
			st = dns_addr_parse(ans, len, types[i], out);
		if (st == DNS_BADNAME)
			return st;
		/* NXDOMAIN for A is final for AAAA too (RFC 8020). */
		if (st == DNS_NXDOMAIN && out->n == 0)
			return st;
		res[i] = st;
	}
	if (out->n > 0)
		return DNS_OK;
	if (res[0] == DNS_TEMP || res[1] == DNS_TEMP)
		return DNS_TEMP;
	if (res[0] == DNS_NXDOMAIN || res[1] == DNS_NXDOMAIN)
		return DNS_NXDOMAIN;
	return DNS_NODATA;
}

void
dns_addr_format(const struct dns_addr *a, char *buf, size_t cap)
{
	if (inet_ntop(a->family, a->a, buf, (socklen_t)cap) == NULL)
		snprintf(buf, cap, "?");
}
