#define _DEFAULT_SOURCE
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_addr.h"
#include "dns/dns_mx.h"

enum dns_status
dns_mx_parse(const unsigned char *pkt, size_t len, struct dns_mx_list *out)
{
	ns_msg msg;
	ns_rr rr;
	int i, n, nnull = 0;

	out->n = 0;
	out->implicit = 0;
	if (len > DNS_PACKET_MAX || ns_initparse(pkt, (int)len, &msg) < 0)
		return DNS_TEMP;
	n = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < n; i++) {
		struct dns_mx *mx;
		const unsigned char *rd;
		size_t hl;

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			goto malformed;
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in)
			continue;
		rd = ns_rr_rdata(rr);
		if (ns_rr_rdlen(rr) < 3)
			goto malformed;
		if (out->n == DNS_MX_MAX)
			continue;
		mx = &out->mx[out->n];
		mx->pref = (unsigned)rd[0] << 8 | rd[1];
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 2,
		    mx->host, (int)sizeof mx->host) < 0)
			goto malformed;
		hl = strlen(mx->host);
		if (hl > 0 && mx->host[hl - 1] == '.')
			mx->host[--hl] = '\0';
		/* dn_expand gives "" for the root name: a null MX. */
		if (hl == 0) {
			nnull++;
			continue;
		}
		out->n++;
	}
	if (out->n == 0)
		return nnull > 0 ? DNS_NULLMX : DNS_NODATA;
	return DNS_OK;
malformed:
	/* Nothing from an answer we cannot read whole (found by
	 * fuzz_dns_mx: the hosts before the bad record were kept). */
	out->n = 0;
	return DNS_TEMP;
}

static uint32_t
default_rand(void *arg)
{
	(void)arg;
	return arc4random();
}

static int
cmp_pref(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	return (x->pref > y->pref) - (x->pref < y->pref);
}

void
dns_mx_sort(struct dns_mx_list *l, dns_mx_rand_fn *rnd, void *arg)
{
	size_t i, j, k;

	if (rnd == NULL)
		rnd = default_rand;
	qsort(l->mx, l->n, sizeof l->mx[0], cmp_pref);
	/* Fisher-Yates within each run of equal preference. */
	for (i = 0; i < l->n; i = j) {
		for (j = i + 1; j < l->n && l->mx[j].pref == l->mx[i].pref;
		    j++)
			;
		for (k = j - 1; k > i; k--) {
			size_t m = i + rnd(arg) % (k - i + 1);
			struct dns_mx t = l->mx[k];

			l->mx[k] = l->mx[m];
			l->mx[m] = t;
		}
	}
}

enum dns_status
dns_mx_lookup(struct dns_res *r, const char *domain, struct dns_mx_list *out,
    dns_mx_rand_fn *rnd, void *arg)
{
	unsigned char ans[DNS_PACKET_MAX];
	struct dns_addr_list al;
	enum dns_status st;
	size_t len, dl;

	out->n = 0;
	out->implicit = 0;
	st = dns_res_query(r, domain, ns_t_mx, ans, &len);
	if (st == DNS_OK)
		st = dns_mx_parse(ans, len, out);
	if (st == DNS_OK) {
		dns_mx_sort(out, rnd, arg);
		return DNS_OK;
	}
	if (st != DNS_NODATA)
		return st;
	/* RFC 5321 5.1: no MX, so the domain's own address is an implicit
	 * MX of preference 0 -- only if it has one. */
	st = dns_addr_lookup(r, domain, &al);
	if (st != DNS_OK)
		return st;
	dl = strlen(domain);
	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	if (dl >= sizeof out->mx[0].host)
		return DNS_BADNAME;
	memcpy(out->mx[0].host, domain, dl);
	out->mx[0].host[dl] = '\0';
	out->mx[0].pref = 0;
	out->n = 1;
	out->implicit = 1;
	return DNS_OK;
}
