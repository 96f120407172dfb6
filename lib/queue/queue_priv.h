/*
 * queue_priv: the privilege policy of a queue worker (postmaster-queue(8)
 * PRIVILEGES, doc/INTERNALS.md).
 *
 * A runner started as root runs as the postmaster user with root kept as
 * its saved user id, only so that it can start programs as other users:
 * a [pipe] with user =, a local name's own account when the local mailer
 * is a [pipe], postmaster-lmtpd for ~/Maildir. Before its first network
 * delivery, or before it builds a bounce (which quotes the message), a
 * worker gives root up for good (queue_priv_drop()); a message that then
 * needs a program as another user goes back to a worker that kept it
 * (QUEUE_RUN_NEEDS_ROOT).
 *
 * queue_priv_pipe_user() decides which user a program runs as: 0 (req
 * filled: setuser, user, uid, gid, dir), -1 and a temporary reason, or
 * QUEUE_PRIV_REFUSED and a permanent one (root, a system account below
 * [core] first-valid-uid), as postmaster-lmtpd refuses them.
 */
#ifndef PM_QUEUE_PRIV_H
#define PM_QUEUE_PRIV_H

#include <pwd.h>
#include <stddef.h>

#include "queue/queue_cfg.h"
#include "queue/queue_job.h"
#include "queue/queue_pipe.h"
#include "queue/queue_target.h"

#define QUEUE_PRIV_REFUSED (-2)

/* 1 while this process can still start programs as another user: it
 * was not started as root (then it never can, nor needs to), or it
 * still holds root as its saved user id. */
int queue_priv_held(const struct queue_cfg *c);

int queue_priv_pipe_user(const struct queue_cfg *c,
    const struct queue_target *t, const struct spool_dlv *first,
    struct passwd *pwbuf, char *sbuf, size_t slen, struct queue_pipe_req *req,
    char *why, size_t wcap);

/* 1 when a delivery due now must start a program as another user. */
int queue_priv_wanted(const struct queue_job *j);

/* Gives up the saved root for good (a cached root postmaster-lmtpd is
 * closed first); 0, or -1 logged. */
int queue_priv_drop(const struct queue_cfg *c, const char *id);

#endif
