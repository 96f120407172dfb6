/*
 * dns_res: a private libresolv state (res_ninit) and one query on it.
 *
 * Mail routing must be testable against a DNS server the test starts, so
 * the resolver can be pointed at "ip" or "ip:port" (IPv4 only: glibc keeps
 * IPv6 name servers in private storage it frees itself) instead of
 * /etc/resolv.conf. getaddrinfo() is never used for names because it
 * ignores that override.
 *
 * Queries never apply the search list or default domain (RFC 5321 5.1:
 * the domain is looked up as given). Results are enum dns_status; the
 * caller decides what is permanent: NXDOMAIN and "no data" are answers,
 * TEMP covers SERVFAIL, REFUSED, timeouts and malformed replies.
 *
 * A struct dns_res is not thread-safe; use one per thread.
 */
#ifndef PM_DNS_RES_H
#define PM_DNS_RES_H

#include <stddef.h>

#define DNS_NAME_MAX 256	/* presentation form incl. NUL, RFC 1035 */
#define DNS_PACKET_MAX 65536

enum dns_status {
	DNS_OK = 0,
	DNS_NXDOMAIN,		/* the name does not exist (rcode 3) */
	DNS_NODATA,		/* the name exists, no record of that type */
	DNS_NULLMX,		/* RFC 7505: the domain accepts no mail */
	DNS_TEMP,		/* try again later */
	DNS_BADNAME		/* not a usable domain name */
};

struct dns_res;

/*
 * server: NULL (resolv.conf), "ip" or "ip:port"; timeout_ms: per try,
 * 0 = libresolv's default. Returns 0, or -1 with errno (EINVAL for a bad
 * server string, EAFNOSUPPORT for IPv6, ENOMEM).
 */
int dns_res_open(struct dns_res **out, const char *server,
    unsigned timeout_ms);
/* timeout_ms per try from now on (0: left as it is). */
void dns_res_set_timeout(struct dns_res *r, unsigned timeout_ms);
void dns_res_close(struct dns_res *r);

/*
 * Sends one query (class IN) for name and type (ns_t_mx, ns_t_a, ...).
 * On DNS_OK the answer is in ans[0..*len). ans must hold DNS_PACKET_MAX.
 */
enum dns_status dns_res_query(struct dns_res *r, const char *name, int type,
    unsigned char *ans, size_t *len);

const char *dns_status_name(enum dns_status s);

#endif
