/*
 * queue_bounce: the bounces of one message, routed and queued as new
 * messages from the null sender (RFC 3464 DSNs built by queue_dsn.h).
 *
 * The list rule: an RCPT fails only when every delivery it expanded to
 * failed; then the sender (per [core] bounce-to) hears about each failed
 * target. When some of its deliveries succeeded, the failed ones are
 * reported to postmaster only. A failure of a null-sender message goes
 * to postmaster only; a failure of a message to postmaster from the null
 * sender (our own bounce to postmaster, or anyone's) is logged and
 * dropped: nothing loops.
 *
 * A bounce's recipients are routed as a trusted local caller (local
 * names allowed) through the tables of the [smtpd "instance"] that took
 * the message, then [route]; an unrouted domain goes by MX. A bounce
 * nobody can be routed to is logged and dropped.
 *
 * queue_bounce_all() marks the deliveries it reported BOUNCED (and the
 * job dirty); a bounce that could not be queued leaves them FAILED for
 * the next pass. The caller saves the state.
 */
#ifndef PM_QUEUE_BOUNCE_H
#define PM_QUEUE_BOUNCE_H

#include "queue/queue_job.h"

void queue_bounce_all(struct queue_job *j);

#endif
