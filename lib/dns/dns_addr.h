/*
 * dns_addr: the addresses of a host (A and AAAA) through dns_res, IP
 * literals without any lookup, and "localhost" as loopback (RFC 6761 6.3:
 * it never goes to DNS).
 *
 * Order: A records before AAAA records, each in the server's order; the
 * client tries them in turn, so an unreachable IPv6 path still falls back
 * and a broken one costs one refused connect. Lists are bounded
 * (DNS_ADDR_MAX); extra records are ignored.
 *
 * dns_addr_parse() is pure (a packet in, records appended) for unit tests.
 */
#ifndef PM_DNS_ADDR_H
#define PM_DNS_ADDR_H

#include <stddef.h>

#include "dns/dns_res.h"

#define DNS_ADDR_MAX 16
#define DNS_ADDR_STRLEN 46	/* INET6_ADDRSTRLEN */

struct dns_addr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char a[16];	/* network order; 4 bytes used for AF_INET */
};

struct dns_addr_list {
	struct dns_addr a[DNS_ADDR_MAX];
	size_t n;
};

/* Appends the records of type (ns_t_a or ns_t_aaaa) found in the answer
 * section. Returns DNS_OK (maybe none found) or DNS_TEMP if malformed
 * (then nothing is appended). */
enum dns_status dns_addr_parse(const unsigned char *pkt, size_t len,
    int type, struct dns_addr_list *out);

/* 1 and *out set if s is an IPv4 or IPv6 literal (no brackets), else 0. */
int dns_addr_literal(const char *s, struct dns_addr *out);

/*
 * All addresses of host into out (reset first). DNS_OK with out->n > 0,
 * or DNS_NXDOMAIN / DNS_NODATA (no address at all) / DNS_TEMP (none found
 * and at least one query failed temporarily) / DNS_BADNAME.
 */
enum dns_status dns_addr_lookup(struct dns_res *r, const char *host,
    struct dns_addr_list *out);

/* Presentation form into buf (DNS_ADDR_STRLEN bytes). */
void dns_addr_format(const struct dns_addr *a, char *buf, size_t cap);

#endif
