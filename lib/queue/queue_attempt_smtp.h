/*
 * queue_attempt_smtp: one attempt of a group of deliveries over SMTP or
 * LMTP (lib/client): the built-in local mailer (postmaster-lmtpd, local
 * names as NAME@our-hostname), a [relay] (by its address lines in
 * order, else its name by MX; protocol = lmtp or smtp), a host (an
 * address literal [ip] or a name by MX) or a mail domain by MX.
 *
 * A destination is a list of hops, each one client_deliver_cached()
 * call; the next hop is tried only while the previous one left every
 * recipient deferred without a transaction (a relay's next address
 * line), so a message never goes out twice. [core] smtp-port applies
 * where a hop names no port. Each recipient's result is the client's:
 * 2xx OK, 5xx PERM, anything else TEMP, with the reply as "smtp; ...".
 */
#ifndef PM_QUEUE_ATTEMPT_SMTP_H
#define PM_QUEUE_ATTEMPT_SMTP_H

#include <stddef.h>

#include "queue/queue_job.h"
#include "queue/queue_target.h"

void queue_attempt_smtp(struct queue_job *j, const struct queue_target *t,
    const size_t *idx, size_t n, struct queue_result *o);

#endif
