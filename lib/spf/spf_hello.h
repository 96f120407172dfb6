/*
 * spf_hello: the one exchange that opens a connection to the postmaster-spf
 * service (postmaster-spf -l) before the pipe protocol of spf_proto.h
 * runs over it. The service is shared by every smtpd instance, so what
 * the spawned program gets as arguments comes here as a line:
 *
 *   smtpd -> service:  "hello" TAB RECEIVER TAB BUDGET-MS TAB DNS LF
 *   service -> smtpd:  "ready" LF   (the child is sandboxed and set up)
 *
 * RECEIVER is the instance's host name (%{r}, RFC 7208 7.3): 1-255
 * printable ASCII octets, no space; BUDGET-MS 1-7 decimal digits, not 0,
 * no leading zero; DNS smtpd's [core] dns-server ("ip[:port]") or "-" for
 * /etc/resolv.conf, 1-127 such octets. Anything else, or no "ready" within the deadline,
 * and smtpd spawns postmaster-spf itself. Pure, like spf_proto.
 *
 * parse(): SPF_PROTO_OK with *used, SPF_PROTO_MORE, or SPF_PROTO_E_*.
 * format(): the line's length, or -1.
 */
#ifndef PM_SPF_HELLO_H
#define PM_SPF_HELLO_H

#include <stddef.h>
#include <stdint.h>

#include "spf/spf_proto.h"

#define SPF_HELLO_LINE_MAX 300
#define SPF_HELLO_RECEIVER_MAX 256 /* with its NUL */
#define SPF_HELLO_DNS_MAX 128      /* with its NUL */
#define SPF_HELLO_READY "ready\n"

struct spf_hello {
	char receiver[SPF_HELLO_RECEIVER_MAX];
	uint64_t budget_ms;
	char dns[SPF_HELLO_DNS_MAX]; /* "" for resolv.conf ("-" on the wire) */
};

int spf_hello_parse(const char *p, size_t n, struct spf_hello *h,
    size_t *used);
int spf_hello_format(const struct spf_hello *h, char *out, size_t cap);

#endif
