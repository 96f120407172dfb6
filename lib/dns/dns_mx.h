/*
 * dns_mx: the mail exchangers of a domain (RFC 5321 5.1).
 *
 * dns_mx_lookup() returns the hosts to try, in order: ascending
 * preference, shuffled among equal preferences (RFC 5321 5.1: "randomize
 * them to spread the load"). No MX record but an address record: the
 * domain itself as an implicit MX of preference 0 (implicit = 1). A
 * single MX whose exchange is "." is a null MX (RFC 7505 3): DNS_NULLMX,
 * which the caller must treat as a permanent failure (554 5.7.27 on the
 * wire, RFC 7505 4.3). A "." among other MX records is ignored as noise.
 *
 * Statuses (enum dns_status): DNS_OK; DNS_NXDOMAIN and DNS_NODATA (no MX
 * and no address) are permanent; DNS_TEMP is SERVFAIL, timeouts and
 * malformed answers.
 *
 * dns_mx_parse() and dns_mx_sort() are pure, for unit tests. The random
 * source is the caller's (NULL: arc4random) so tests can fix it.
 */
#ifndef PM_DNS_MX_H
#define PM_DNS_MX_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dns_res.h"

#define DNS_MX_MAX 32

struct dns_mx {
	char host[DNS_NAME_MAX];	/* no trailing dot */
	unsigned pref;
};

struct dns_mx_list {
	struct dns_mx mx[DNS_MX_MAX];
	size_t n;
	int implicit;		/* no MX records: the domain itself */
};

typedef uint32_t dns_mx_rand_fn(void *arg);

/* Parses the MX records of an answer into out (reset first), unsorted.
 * DNS_OK (n > 0), DNS_NODATA (none), DNS_NULLMX, or DNS_TEMP (malformed:
 * n = 0). */
enum dns_status dns_mx_parse(const unsigned char *pkt, size_t len,
    struct dns_mx_list *out);

/* Sorts by preference; equal preferences in random order. */
void dns_mx_sort(struct dns_mx_list *l, dns_mx_rand_fn *rnd, void *arg);

enum dns_status dns_mx_lookup(struct dns_res *r, const char *domain,
    struct dns_mx_list *out, dns_mx_rand_fn *rnd, void *arg);

#endif
