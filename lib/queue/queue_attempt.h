/*
 * queue_attempt: one attempt of a group of deliveries to one target
 * (queue_target.h), by kind: a program (queue_attempt_pipe.h), SMTP or
 * LMTP (queue_attempt_smtp.h), or answered here without I/O: a [reject]
 * section's code, status and text as smtpd would answer (its batch is
 * one delivery), an error:CODE X.Y.Z TEXT target (from the pickup of
 * injected mail; 4xx temporary, else permanent), and a target unknown to
 * this configuration (deferred, 451 4.3.5).
 *
 * o[0..n) receives one result per delivery idx[0..n) of the job.
 */
#ifndef PM_QUEUE_ATTEMPT_H
#define PM_QUEUE_ATTEMPT_H

#include <stddef.h>

#include "queue/queue_job.h"
#include "queue/queue_target.h"

void queue_attempt(struct queue_job *j, const struct queue_target *t,
    const size_t *idx, size_t n, struct queue_result *o);

#endif
