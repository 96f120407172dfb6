/*
 * smtpd_tls: what postmaster-smtpd does for [smtpd] tls (postmaster.cf(5)),
 * over net_starttls: which mode the instance has, STARTTLS's 220 or 454,
 * the 530 to MAIL in the clear under `required`, the TLS log lines, the
 * comment of the Received field, and the end of the helper.
 *
 * At STARTTLS smtpd first asks the postmaster-tlsd service at [core]
 * tls-socket; when none listens there it starts a postmaster-tlsd for
 * the session, found beside the running smtpd (/proc/self/exe), so an
 * installed smtpd starts the installed tlsd and a test build its own.
 * The "established" log line says which served the session.
 */
#ifndef PM_SMTPD_TLS_H
#define PM_SMTPD_TLS_H

#include <stdint.h>

#include "base/buf.h"
#include "cf/cf_db.h"
#include "net/net_starttls.h"

enum smtpd_tls_mode {
	SMTPD_TLS_OFF,
	SMTPD_TLS_OPTIONAL,
	SMTPD_TLS_REQUIRED,
	SMTPD_TLS_IMPLICIT
};

struct smtpd_tls {
	enum smtpd_tls_mode mode;
	struct net_starttls t;
	const char *client; /* for log lines; may change (PROXY) */
	int sock, out;      /* the client's connection: in, out */
	uint64_t wait_ms;   /* for each report of tlsd: idle-timeout */
	char prog[4096 + 32];
	char socket[4096]; /* [core] tls-socket; "" none */
	char cdb[4096];
	char name[256];
	char id[32];
	char *argv[8];
};

/* Reads the instance's mode; with TLS, finds tlsd. 0, or -1 (why). x must
 * be zero-filled (smtpd's is static): with tls = off only a few fields
 * are written, so the rest of x costs a session no memory. */
int smtpd_tls_setup(struct smtpd_tls *x, struct cf_db *db, const char *cdb,
    const char *name, const char *client, int in, int out, uint64_t idle_ms,
    char *why, size_t cap);

/* STARTTLS is offered (optional, required) */
int smtpd_tls_offered(const struct smtpd_tls *x);
/* TLS is up (after STARTTLS or implicit) */
int smtpd_tls_active(const struct smtpd_tls *x);

/* The ops->starttls of the session: 0 (220 goes), or 1 with a 454 4.7.0
 * in reply and a log line saying why. */
int smtpd_tls_starttls(struct smtpd_tls *x, struct buf *reply);

/* After the 220 was written (or at once for implicit): waits for the
 * handshake; logs it either way. 0: the connection's fds now carry
 * plaintext; -1: the session is over. */
int smtpd_tls_handshake(struct smtpd_tls *x);

/* implicit: starts tlsd and waits for the handshake; -1: the connection
 * is over (logged). */
int smtpd_tls_implicit(struct smtpd_tls *x);

/* required and not yet TLS: 1 with 530 5.7.0 in reply (RFC 3207 4). */
int smtpd_tls_refuse_mail(const struct smtpd_tls *x, struct buf *reply);

/* Appends the Received field's TLS comment, "(using TLS1.3 with cipher
 * C)" on a folded line, when TLS is up. */
void smtpd_tls_received(const struct smtpd_tls *x, struct buf *hdr);

/* The session ended: close_notify, wait for tlsd. */
void smtpd_tls_finish(struct smtpd_tls *x);

#endif
