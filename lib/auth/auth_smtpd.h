/*
 * auth_smtpd: SMTP AUTH for one postmaster-smtpd session -- the policy
 * between the session's AUTH seam (smtp_session_ops auth/auth_resp) and
 * the password checks (a passwd CDB, or a Dovecot auth socket).
 *
 * [smtpd "NAME"] auth = A names [auth "A"]; without it AUTH is not
 * offered. The SASL exchange is auth_sasl's. Replies (RFC 4954 6):
 *   authenticated                           235 2.7.0
 *   wrong user or password                  535 5.7.8, after failure-delay
 *   the password check failed (Dovecot down) 454 4.7.0
 *   AUTH syntax, unknown mechanism, "*", bad base64: see auth_sasl.h
 * The delay is a wait bounded by the session deadline (a client cannot
 * hold the process past it); each failure also counts as an error of the
 * session (max-errors). Passwords are wiped after each check and never
 * logged; the log shows the login name (escaped) and the mechanism.
 *
 * MAIL (auth_smtpd_mail): with auth-required, 530 5.7.0 until AUTH. An
 * authenticated client's sender must be its own with sender-login = own
 * (the default; Postfix's reject_sender_login_mismatch): the null sender,
 * the login itself when it is an address, or, for a login without '@',
 * that local part at a domain the instance routes; anything else is
 * 553 5.7.1 "Sender address rejected: not owned by user LOGIN".
 * sender-login = any lets it use any sender.
 */
#ifndef PM_AUTH_SMTPD_H
#define PM_AUTH_SMTPD_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth_sasl.h"
#include "base/buf.h"
#include "cf/cf_db.h"

struct auth_smtpd {
	int enabled;       /* [smtpd] auth is set */
	int required;      /* auth-required = yes */
	int sender_any;    /* sender-login = any */
	char name[256];    /* the [auth] section */
	char dovecot[256]; /* socket path, or "" for the passwd CDB */
	struct cf_db pwdb;
	int pwdb_open;
	uint64_t delay_ms, timeout_ms;
	int64_t deadline_ms; /* the session's end (clock_now_ms time) */
	const char *client;  /* for logs and Dovecot's rip= */
	struct auth_sasl sasl;
	char login[AUTH_SASL_FIELD_MAX + 1]; /* "" until authenticated */
	const char *mech;                    /* of the successful AUTH */
	/* Is this domain one the instance routes? (sender-login = own) */
	int (*our_domain)(void *arg, const char *dom, size_t len);
	void *arg;
};

/*
 * Reads [smtpd "smtpd"] auth and its [auth] section from db; opens the
 * passwd CDB beside cdb_path (before smtpd drops privileges: it is mode
 * 0600). 0, or -1 with *why (static text) on a configuration problem.
 */
int auth_smtpd_open(struct auth_smtpd *a, struct cf_db *db, const char *smtpd,
    const char *cdb_path, const char **why);
void auth_smtpd_close(struct auth_smtpd *a);

/* The mechanisms EHLO offers, or NULL when AUTH is off. */
const char *auth_smtpd_mechs(const struct auth_smtpd *a);

/* ops->auth and ops->auth_resp (see smtp_session.h); secured: TLS on. */
int auth_smtpd_start(struct auth_smtpd *a, const char *arg, size_t len,
    int secured, struct buf *reply);
int auth_smtpd_resp(struct auth_smtpd *a, const char *line, size_t len,
    int secured, struct buf *reply);

/* MAIL FROM:<sender>: 0 to go on, else the refusal is in reply. */
int auth_smtpd_mail(struct auth_smtpd *a, const char *sender, size_t len,
    struct buf *reply);

/* Header-safe copy of the login for Received: ('?' for '(', ')', '\'). */
void auth_smtpd_comment_name(const char *login, char *out, size_t cap);

#endif
