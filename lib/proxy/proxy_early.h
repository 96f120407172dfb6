/*
 * proxy_early: ultra pipelining's connection opened before it is needed
 * (postmaster-smtpd(8) ULTRA PIPELINING). When an instance can only ever
 * proxy to one target (proxy_dest_sole), smtpd starts connecting to it
 * when the session starts, and moves the target's greeting and EHLO/LHLO
 * on whenever that costs no wait -- each time it is about to write a
 * reply to its client -- so that connect, greeting and EHLO overlap the
 * client's own commands.
 *
 * Nothing here waits: the connect is non-blocking, a reply is read only
 * once the whole of it is there (looked at with MSG_PEEK), EHLO is a few
 * octets into an empty socket. Anything that goes wrong (connect refused,
 * a greeting other than 220, EHLO refused, EOF) closes the connection
 * without a word and proxy_conn_open() connects as it would have without
 * it, so the client's replies are the same. proxy_early_finish() is
 * where proxy_conn_open() takes over what is left, with its deadlines.
 */
#ifndef PM_PROXY_EARLY_H
#define PM_PROXY_EARLY_H

#include "proxy/proxy_conn.h"
#include "proxy/proxy_dest.h"

/* Where the early connection stands (proxy_conn.early). */
enum {
	PROXY_EARLY_NONE,
	PROXY_EARLY_CONNECTING, /* connect() in progress */
	PROXY_EARLY_GREETING,   /* connected: the greeting is due */
	PROXY_EARLY_EHLO        /* EHLO/LHLO sent: its reply is due */
};

/* Starts connecting to d (TCP or a unix socket; not lmtpd). 0, or -1
 * (nothing open). */
int proxy_early_start(struct proxy_conn *p, const struct proxy_dest *d);

/* Moves it on as far as it can without waiting. */
void proxy_early_step(struct proxy_conn *p);

/*
 * proxy_conn_open() for d with an early connection: what is left of
 * connect, greeting and EHLO, each within timeout_ms. 0 open; 1 it failed
 * or was for another key (closed: connect as without it); -1 it timed
 * out (closed: the target is lost, as it would have been without it).
 */
int proxy_early_finish(struct proxy_conn *p, const struct proxy_dest *d);

#endif
