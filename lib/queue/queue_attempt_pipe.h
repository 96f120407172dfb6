/*
 * queue_attempt_pipe: one attempt of a group of deliveries through a
 * program: a [pipe] section (its exec words, timeout, user) or a
 * "|/path args" command target. The program itself runs in queue_pipe.c.
 *
 * The argument vector is the [pipe] exec (or the command, cut by
 * queue_argv_split()) with the envelope substituted (queue_argv.h); an
 * address that starts with '-' is refused as an argument: its owner fails
 * for good, the others of the group are deferred and go again as a
 * smaller group. The program runs as queue_priv_pipe_user() says, with a
 * fixed environment (PATH, HOME, QUEUE_ID, SENDER, RECIPIENT, and USER
 * and LOGNAME when it runs as another user), a Return-Path line before
 * the message, and at most [pipe] timeout seconds (one day at most).
 *
 * Every one of the n deliveries gets the same result, except for the
 * refused '-' address above; nothing is returned: failures are results.
 */
#ifndef PM_QUEUE_ATTEMPT_PIPE_H
#define PM_QUEUE_ATTEMPT_PIPE_H

#include <stddef.h>

#include "queue/queue_job.h"
#include "queue/queue_target.h"

void queue_attempt_pipe(struct queue_job *j, const struct queue_target *t,
    const size_t *idx, size_t n, struct queue_result *o);

#endif
