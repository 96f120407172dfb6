/*
 * net_drive: the I/O loop around a sans-I/O smtp_session, shared by
 * postmaster-smtpd, postmaster-lmtpd and `postmaster-inject -bs`.
 *
 * It writes the greeting (after feeding whatever a client sent before it,
 * so the session refuses such a client), then reads with an idle timeout
 * and a whole-session deadline, feeds the session, and writes its replies
 * once per pipelined group: when the input is drained, the session closes,
 * or the input buffer is full (RFC 2920 3.2).
 *
 * Writes keep the same deadlines as reads: each batch of pending replies
 * must be written whole within the idle timeout (from the start of the
 * batch, not from the last octet written) and before the session
 * deadline, so a client that pipelines commands and never reads its
 * replies cannot pin the process in write(). The last replies, the 421 of
 * a timeout included, are a batch like any other: after an idle timeout
 * they may wait up to idle_ms more, cut at the session deadline; a session
 * that ended on the session deadline gets one non-blocking attempt.
 * Deadlines are milliseconds on CLOCK_MONOTONIC (a clock step neither ends
 * nor extends a session).
 */
#ifndef PM_NET_DRIVE_H
#define PM_NET_DRIVE_H

#include <stddef.h>
#include <stdint.h>

#include "smtp/smtp_session.h"

struct net_drive {
	int in, out;
	/* No input for this long -> 421 4.4.2; also the time each batch of
	 * replies has to be written whole. 0: input waits 5 min, writes only
	 * the session deadline. */
	uint64_t idle_ms;
	uint64_t deadline_ms; /* the whole session; 0: none */
	/* Sees every chunk of output before it is written (for logs). */
	void (*on_output)(void *arg, const char *p, size_t n);
	/* After each smtp_session_feed() of what was read (optional): a
	 * proxy pushes on what the feed gave it (postmaster-smtpd). */
	void (*on_fed)(void *arg);
	/* Called once if the client spoke before the greeting. */
	void (*on_pregreet)(void *arg);
	/* After STARTTLS's 220 is written: the handshake, after which in and
	 * out carry the session's plaintext. -1 ends the session. */
	int (*on_starttls)(void *arg);
	void *arg;
};

/* How net_drive_run() ended. */
enum net_drive_end {
	NET_DRIVE_DONE = 0,        /* the session closed (QUIT, 421, EOF) */
	NET_DRIVE_LOST = -1,       /* a write failed: the peer is gone */
	NET_DRIVE_WRITE_IDLE = -2, /* replies unread for the idle timeout */
	NET_DRIVE_WRITE_DEADLINE = -3, /* ... until the session deadline */
	NET_DRIVE_TLS_FAILED = -4      /* after STARTTLS: no TLS session */
};

int net_drive_run(struct smtp_session *s, const struct net_drive *d);

/*
 * Writes all of p[0..n) to a socket or pipe before until_ms (clock_now_ms()
 * time), never blocking past it and without changing the fd's flags.
 * 0, or -1 with errno (ETIMEDOUT when the deadline passed first).
 */
int net_write_until(int fd, const void *p, size_t n, int64_t until_ms);

/* "421 4.3.0 HOST Service not available: WHY" before any session exists. */
void net_early_fail(int out, const char *host, const char *why);

#endif
