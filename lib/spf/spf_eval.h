/*
 * spf_eval: one RFC 7208 check_host() evaluation with libspf2, for
 * postmaster-spf only (smtpd never links libspf2: it is static, and
 * libspf2 runs in a child that has nothing to lose, see
 * postmaster-spf(8)). With spf_eval_dns.c the only files that include
 * libspf2's headers.
 *
 * DNS goes through our own libspf2 DNS layer (spf_eval_dns.c) over
 * dns_res, so [core] dns-server is honoured and every query is counted
 * and timed:
 *   - RFC 7208 4.6.4: libspf2 stops at 10 DNS-querying terms
 *     (SPF_server max_dns_mech) and bounds the MX and PTR names it
 *     follows; it does not count void lookups, so the layer does: a third
 *     A, AAAA, MX or PTR query answered NXDOMAIN or with no records makes
 *     the result permerror;
 *   - the time budget: no query starts after the deadline, and a check
 *     that ran into it is temperror (RFC 7208 4.6.4 "SHOULD impose a
 *     limit ... of at least 20 seconds").
 *
 * The result's texts are cleaned (spf_text_clean) before they are put in
 * the response: what libspf2 or a domain's record says never reaches the
 * pipe with a control character or past SPF_TEXT_MAX.
 */
#ifndef PM_SPF_EVAL_H
#define PM_SPF_EVAL_H

#include <stdint.h>

#include "spf/spf_proto.h"

#define SPF_EVAL_VOID_MAX 2 /* RFC 7208 4.6.4 */

struct spf_eval;

/*
 * dns_server: NULL or "ip[:port]" ([core] dns-server); receiver: our
 * host name for %{r}; query_ms: the timeout of one DNS try. 0, or -1
 * with errno.
 */
int spf_eval_open(struct spf_eval **out, const char *dns_server,
    const char *receiver, unsigned query_ms);
/* %{r} and the DNS timeout per try for the checks from now on (a
 * service worker's next smtpd); the DNS server stays. */
void spf_eval_reset(struct spf_eval *e, const char *receiver,
    unsigned query_ms);
void spf_eval_close(struct spf_eval *e);

/* Evaluates req within budget_ms; always fills res. */
void spf_eval_check(struct spf_eval *e, const struct spf_req *req,
    uint64_t budget_ms, struct spf_res *res);

#endif
