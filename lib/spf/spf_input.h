/*
 * spf_input: what smtpd may hand to libspf2, checked before it leaves
 * the session. Pure.
 *
 * libspf2's record and macro code has had memory-safety bugs reachable
 * through the identity (CVE-2021-20314: a long local part through %{l};
 * CVE-2023-42118), so only values that RFC 5321 and RFC 7208 allow go
 * across: an IP address in canonical text, a HELO name, and an identity
 * whose local part is at most 64 octets without control characters and
 * whose domain is a multi-label domain name of LDH (and "_") labels of 1
 * to 63 octets, 253 in all.
 *
 * spf_input_request() picks the identity (RFC 7208 2.4: MAIL FROM; for
 * the null reverse-path "postmaster@" and the HELO name, 2.3) and fills
 * a request: SPF_INPUT_CHECK. When no check can be made it says why:
 * SPF_INPUT_NONE (RFC 7208 4.3: a malformed or single-label domain is
 * "none"; an address-literal HELO for the null sender) with a reason in
 * why[0..whycap), or SPF_INPUT_NOIP (the client address is not an IP
 * address: a local pipe; nothing to check).
 */
#ifndef PM_SPF_INPUT_H
#define PM_SPF_INPUT_H

#include <stddef.h>

#include "spf/spf_proto.h"

enum spf_input_status {
	SPF_INPUT_CHECK = 0,
	SPF_INPUT_NONE = 1,
	SPF_INPUT_NOIP = 2
};

int spf_input_request(const char *ip, const char *helo, const char *sender,
    struct spf_req *req, char *why, size_t whycap);

/* 1 if d[0..n) is a domain libspf2 may be asked about (see above). */
int spf_input_domain_ok(const char *d, size_t n);

/*
 * Is ip (text) inside net: "ADDR" or "ADDR/LEN", IPv4 or IPv6? 1 yes,
 * 0 no, -1 net is malformed. An IPv4-mapped IPv6 client matches IPv4
 * networks.
 */
int spf_input_net_match(const char *net, const char *ip);

#endif
