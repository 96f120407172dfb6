/*
 * net_drive: the I/O loop around a sans-I/O smtp_session, shared by
 * postmaster-smtpd, postmaster-lmtpd and `postmaster-inject -bs`.
 *
 * It writes the greeting (after feeding whatever a client sent before it,
 * so the session refuses such a client), then reads with an idle timeout
 * and a whole-session deadline, feeds the session, and writes its replies
 * once per pipelined group: when the input is drained, the session closes,
 * or the input buffer is full (RFC 2920 3.2). Deadlines are wall-clock
 * seconds; 0 means none.
 */
#ifndef PM_NET_DRIVE_H
#define PM_NET_DRIVE_H

#include <stddef.h>
#include <stdint.h>

#include "smtp/smtp_session.h"

struct net_drive {
	int in, out;
	uint64_t idle;     /* seconds without input before 421 4.4.2 */
	uint64_t deadline; /* seconds for the whole session */
	/* Sees every chunk of output before it is written (for logs). */
	void (*on_output)(void *arg, const char *p, size_t n);
	/* Called once if the client spoke before the greeting. */
	void (*on_pregreet)(void *arg);
	void *arg;
};

/* 0 when the session ended, -1 when a write failed (peer gone). */
int net_drive_run(struct smtp_session *s, const struct net_drive *d);

int net_write_all(int fd, const void *p, size_t n);

/* "421 4.3.0 HOST Service not available: WHY" before any session exists. */
void net_early_fail(int out, const char *host, const char *why);

#endif
