/*
 * net_tlsd_req: what postmaster-smtpd sends the postmaster-tlsd service
 * on a new connection to its unix socket: the client's socket as the one
 * SCM_RIGHTS descriptor, and as data the [smtpd] instance's name and
 * smtpd's log id, each ended by a NUL:
 *
 *   NAME \0 ID \0
 *
 * NAME is 1-255 octets and ID 0-31, printable ASCII without spaces. The
 * service answers exactly as a spawned postmaster-tlsd does over its
 * socketpair (net_tls_report.h), then relays plaintext on the same
 * connection. Encoding and parsing are pure.
 */
#ifndef PM_NET_TLSD_REQ_H
#define PM_NET_TLSD_REQ_H

#include <stddef.h>

#define NET_TLSD_REQ_MAX (256 + 32)

struct net_tlsd_req {
	char name[256];
	char id[32];
};

/* The request into out[0..NET_TLSD_REQ_MAX): its length, or 0 when a
 * field is empty (name), too long or not printable. */
size_t net_tlsd_req_encode(const struct net_tlsd_req *r, char *out);

/* 0, or -1 when p[0..n) is not exactly one request. */
int net_tlsd_req_parse(const char *p, size_t n, struct net_tlsd_req *r);

#endif
