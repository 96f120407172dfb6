/*
 * proxy_outcome: what a proxied message's end of data comes to, from the
 * target's final replies (one per recipient for LMTP, one for all
 * otherwise). Pure.
 *
 * Per recipient, code is the target's reply code, or 0 when the target
 * was lost before it said anything about that recipient.
 *
 *   - every recipient 2xx: DELIVERED. The client gets the target's
 *     reply (per recipient when it speaks LMTP); the spool copy is
 *     dropped.
 *   - an LMTP client, every recipient answered: REPLIED. Each gets the
 *     target's own reply; nothing is queued, nothing bounced.
 *   - an SMTP client, every recipient refused with replies of one class
 *     (all 4xx or all 5xx): REFUSED with the first one; nothing queued.
 *   - otherwise QUEUE: the spool copy is committed and the client gets
 *     250 (an LMTP client: the target's reply for each recipient it
 *     answered, 250 for the others). Each delivery starts as given by
 *     proxy_outcome_status().
 */
#ifndef PM_PROXY_OUTCOME_H
#define PM_PROXY_OUTCOME_H

#include <stddef.h>

enum proxy_verdict {
	PROXY_V_DELIVERED,
	PROXY_V_REPLIED,
	PROXY_V_REFUSED,
	PROXY_V_QUEUE
};

/* What the queue does with one delivery of a committed copy. */
enum proxy_dlv {
	PROXY_DLV_PENDING, /* no answer, or 4xx to an SMTP client */
	PROXY_DLV_SENT,    /* the target took it: never again */
	PROXY_DLV_BOUNCE,  /* 5xx to an SMTP client: bounce it */
	PROXY_DLV_DROP     /* refused to an LMTP client: it knows */
};

enum proxy_verdict proxy_outcome(const int *code, size_t n, int lmtp_client);
enum proxy_dlv proxy_outcome_status(int code, int lmtp_client);

#endif
