/*
 * spf_eval_dns: a libspf2 DNS layer over dns_res that counts void
 * lookups and refuses to query past a deadline (see spf_eval.h). Only
 * spf_eval.c uses it.
 */
#ifndef PM_SPF_EVAL_DNS_H
#define PM_SPF_EVAL_DNS_H

#include <stdint.h>

#include "dns/dns_res.h"

struct spf_eval_dns {
	struct dns_res *res;
	unsigned char *ans;  /* DNS_PACKET_MAX */
	int64_t deadline_ms; /* clock_now_ms() time */
	unsigned voids;      /* void A/AAAA/MX/PTR answers, RFC 7208 4.6.4 */
	unsigned queries;
	int timed_out; /* a query was refused: the deadline passed */
	int temp;      /* a query failed (SERVFAIL, no answer) */
};

struct SPF_dns_server_struct;

/* A layer reading and counting into st (which must outlive it); NULL
 * without memory. libspf2 frees it with its server. */
struct SPF_dns_server_struct *spf_eval_dns_new(struct spf_eval_dns *st);

#endif
