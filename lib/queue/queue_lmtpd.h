/*
 * queue_lmtpd: the built-in local mailer, postmaster-lmtpd, as a client
 * destination.
 *
 * Each connection to it is a new postmaster-lmtpd -C CDB on a socketpair
 * (its fd 0 and 1), started by the client when it opens the connection
 * (client_dest.open_fd). A worker's connection cache keeps it for the
 * next message like any TCP peer; when the connection is closed the
 * program has had its QUIT and end of file, and queue_lmtpd_reap()
 * collects it. It runs as root only for [lmtpd] maildir = ~/...
 * (delivery as each system user; queue_lmtpd_as_users()), else as the
 * runner's user. Its children get a parent-death SIGTERM.
 */
#ifndef PM_QUEUE_LMTPD_H
#define PM_QUEUE_LMTPD_H

#include <sys/types.h>

#include "client/client_deliver.h"
#include "queue/queue_cfg.h"

/* What open_fd needs, and the pid it started (-1: none). */
struct queue_lmtpd_open {
	const struct queue_cfg *c;
	pid_t pid;
};

/* 1 when [lmtpd] maildir starts with "~": postmaster-lmtpd needs root. */
int queue_lmtpd_as_users(const struct queue_cfg *c);

/* The local mailer as a client destination; lo may be NULL when only
 * the cache key is wanted. */
void queue_lmtpd_dest(const struct queue_cfg *c, struct client_dest *cd,
    struct queue_lmtpd_open *lo);

/* Closes the cached connection to the local mailer, if any, and waits
 * up to a second for its program to end. */
void queue_lmtpd_close_cached(const struct queue_cfg *c);

/*
 * Reaps the children left behind by cached connections (the
 * postmaster-lmtpd of a closed one), waiting up to wait_ms for all of
 * them to end; a worker calls it between messages (0) and before it
 * exits. Only where no other child is being waited for. Returns 1 while
 * some are still running, 0 when none is left.
 */
int queue_lmtpd_reap(int wait_ms);

#endif
