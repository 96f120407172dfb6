/*
 * dns_mx / dns_addr: any bytes as a DNS answer (what a resolver on the
 * path, or a spoofed reply, can put in front of the queue). The MX parser
 * returns one of its statuses, every host it keeps is a NUL-terminated
 * name without a trailing dot inside its buffer, at most DNS_MX_MAX of
 * them, none when the answer is malformed; sorting keeps the same hosts
 * in ascending preference; the address parser stays within DNS_ADDR_MAX
 * with A records first and appends nothing from a malformed answer.
 */
#define _DEFAULT_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_addr.h"
#include "dns/dns_mx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
fixed_rand(void *arg)
{
	uint32_t *s = arg;

	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void
mx(const uint8_t *data, size_t size)
{
	static struct dns_mx_list l, sorted;
	enum dns_status st = dns_mx_parse(data, size, &l);
	uint32_t seed = 1;
	size_t i, j, hl;

	if (st != DNS_OK && st != DNS_NODATA && st != DNS_NULLMX &&
	    st != DNS_TEMP)
		abort();
	if (l.n > DNS_MX_MAX || (st == DNS_OK) != (l.n > 0) || l.implicit)
		abort();
	for (i = 0; i < l.n; i++) {
		if (memchr(l.mx[i].host, '\0', sizeof l.mx[i].host) == NULL)
			abort();
		hl = strlen(l.mx[i].host);
		if (hl == 0 || l.mx[i].host[hl - 1] == '.' ||
		    l.mx[i].pref > 65535)
			abort();
	}
	sorted = l;
	dns_mx_sort(&sorted, fixed_rand, &seed);
	for (i = 1; i < sorted.n; i++)
		if (sorted.mx[i - 1].pref > sorted.mx[i].pref)
			abort();
	/* a permutation: each host of l is in sorted as often */
	for (i = 0; i < l.n; i++) {
		size_t in_l = 0, in_sorted = 0;

		for (j = 0; j < l.n; j++) {
			in_l += strcmp(l.mx[j].host, l.mx[i].host) == 0 &&
			    l.mx[j].pref == l.mx[i].pref;
			in_sorted += strcmp(sorted.mx[j].host,
			    l.mx[i].host) == 0 &&
			    sorted.mx[j].pref == l.mx[i].pref;
		}
		if (in_l != in_sorted)
			abort();
	}
}

static void
addr(const uint8_t *data, size_t size)
{
	struct dns_addr_list al;
	enum dns_status st;
	size_t i, n4;

	al.n = 0;
	st = dns_addr_parse(data, size, ns_t_a, &al);
	if ((st != DNS_OK && st != DNS_TEMP) || (st == DNS_TEMP && al.n))
		abort();
	n4 = al.n;
	st = dns_addr_parse(data, size, ns_t_aaaa, &al);
	if ((st != DNS_OK && st != DNS_TEMP) || al.n > DNS_ADDR_MAX ||
	    al.n < n4 || (st == DNS_TEMP && al.n != n4))
		abort();
	for (i = 0; i < al.n; i++)
		if (al.a[i].family != (i < n4 ? AF_INET : AF_INET6))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mx(data, size);
	addr(data, size);
	return 0;
}
