#define _DEFAULT_SOURCE /* explicit_bzero */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth_crypt.h"
#include "auth/auth_dovecot.h"
#include "auth/auth_pwfile.h"
#include "auth/auth_smtpd.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "smtp/smtp_reply.h"
#include "smtp/smtp_session.h"

enum { CHECK_OK, CHECK_FAIL, CHECK_TEMP };

int
auth_smtpd_open(struct auth_smtpd *a, struct cf_db *db, const char *smtpd,
    const char *cdb_path, const char **why)
{
	char path[PATH_MAX], mode[16];
	int b;

	memset(a, 0, sizeof *a);
	a->pwdb.fd = -1;
	a->deadline_ms = INT64_MAX;
	/* Read first: required without an [auth] fails closed (cfcompile
	 * refuses that configuration; a CDB is not to be trusted blindly). */
	a->required =
	    cf_db_bool(db, "smtpd", smtpd, "auth-required", &b) >= 0 && b;
	if (cf_db_str(db, "smtpd", smtpd, "auth", a->name, sizeof a->name) <
	        0 ||
	    a->name[0] == '\0')
		return 0;
	a->enabled = 1;
	if (cf_db_str(db, "auth", a->name, "sender-login", mode,
	        sizeof mode) >= 0 &&
	    strcmp(mode, "any") == 0)
		a->sender_any = 1;
	a->delay_ms = 1;
	cf_db_uint(db, "auth", a->name, "failure-delay", &a->delay_ms);
	a->delay_ms = clock_ms_from_s(a->delay_ms);
	a->timeout_ms = 10;
	cf_db_uint(db, "auth", a->name, "timeout", &a->timeout_ms);
	a->timeout_ms = clock_ms_from_s(a->timeout_ms);
	if (cf_db_str(db, "auth", a->name, "dovecot", a->dovecot,
	        sizeof a->dovecot) < 0) {
		*why = "[auth] dovecot: path too long";
		return -1;
	}
	if (a->dovecot[0] != '\0')
		return 0;
	if (snprintf(path, sizeof path, "%s%s", cdb_path,
	        CF_DB_PASSWD_SUFFIX) >= (int)sizeof path) {
		*why = "the passwd CDB's path is too long";
		return -1;
	}
	if (cf_db_open(&a->pwdb, path, why) < 0)
		return -1;
	a->pwdb_open = 1;
	return 0;
}

void
auth_smtpd_close(struct auth_smtpd *a)
{
	if (a->pwdb_open)
		cf_db_close(&a->pwdb);
	a->pwdb_open = 0;
	auth_sasl_clear(&a->sasl);
}

const char *
auth_smtpd_mechs(const struct auth_smtpd *a)
{
	return a->enabled ? "PLAIN LOGIN" : NULL;
}

/* The passwd CDB's verdict; an unknown user costs one hash of the file's
 * scheme and cost too (cf_db_passwd_dummy). */
static int
check_passwd(struct auth_smtpd *a, const char **why)
{
	char hash[AUTH_PWFILE_HASH_MAX + 1];
	int r = cf_db_passwd(&a->pwdb, a->name, a->sasl.user, a->sasl.userlen,
	    hash, sizeof hash);

	if (r < 0) {
		*why = "passwd CDB lookup failed";
		return CHECK_TEMP;
	}
	if (r == 0) {
		/* as long as a known user of this file takes */
		auth_crypt_dummy(a->sasl.pass,
		    cf_db_passwd_dummy(&a->pwdb, a->name, hash, sizeof hash) ==
		            1 ?
		        hash :
		        NULL);
		*why = "no such user";
		return CHECK_FAIL;
	}
	switch (auth_crypt_verify(a->sasl.pass, hash)) {
	case 1:
		snprintf(a->login, sizeof a->login, "%s", a->sasl.user);
		return CHECK_OK;
	case 0:
		*why = "wrong password";
		return CHECK_FAIL;
	default:
		*why = "the stored hash is not usable by crypt(3)";
		return CHECK_TEMP;
	}
}

static int
check_dovecot(struct auth_smtpd *a, int secured, const char **why)
{
	char canon[AUTH_SASL_FIELD_MAX + 1];
	int64_t until = clock_now_ms() + (int64_t)a->timeout_ms;
	int r;

	if (until > a->deadline_ms)
		until = a->deadline_ms;
	r = auth_dovecot_check(a->dovecot, a->sasl.user, a->sasl.userlen,
	    a->sasl.pass, a->sasl.passlen, a->client, "", secured, until,
	    canon, sizeof canon, why);
	switch (r) {
	case AUTH_DOVECOT_OK:
		/* Dovecot may canonicalize the name (auth_username_format) */
		snprintf(a->login, sizeof a->login, "%s",
		    canon[0] ? canon : a->sasl.user);
		return CHECK_OK;
	case AUTH_DOVECOT_FAIL:
		*why = "rejected by dovecot";
		return CHECK_FAIL;
	default:
		return CHECK_TEMP;
	}
}

/*
 * RFC 4954 4 leaves the pace of failures to the server: wait before
 * answering, so guessing costs time, but never past the session deadline
 * (the driver then ends the session with 421 4.4.2).
 */
static void
failure_delay(const struct auth_smtpd *a)
{
	int64_t until = clock_now_ms() + (int64_t)a->delay_ms, left;

	if (until > a->deadline_ms)
		until = a->deadline_ms;
	while ((left = until - clock_now_ms()) > 0)
		(void)poll(NULL, 0, left > INT_MAX ? INT_MAX : (int)left);
}

static void
log_user(const struct auth_smtpd *a, const char *what, const char *why)
{
	struct buf esc = BUF_INIT(0);

	log_escape(&esc, a->sasl.user, a->sasl.userlen, 200);
	log_info("%s: client=%s mech=%s user=<%s>%s%s", what, a->client,
	    a->mech ? a->mech : "?", esc.p ? esc.p : "", why ? ": " : "",
	    why ? why : "");
	buf_free(&esc);
}

/* A finished SASL exchange (or its error) into the session's reply. */
static int
finish(struct auth_smtpd *a, int r, int secured, struct buf *reply)
{
	const char *why = NULL;
	int c;

	if (r == AUTH_SASL_MORE) {
		smtp_reply_text(reply, "334 %s", a->sasl.challenge);
		return SMTP_SESSION_AUTH_MORE;
	}
	a->mech = auth_sasl_mech_name(a->sasl.mech);
	if (r != AUTH_SASL_DONE) {
		if (r == AUTH_SASL_E_MESSAGE) {
			log_info("auth failed: client=%s mech=%s: malformed "
			         "credentials",
			    a->client, a->mech);
			failure_delay(a);
		}
		smtp_reply_text(reply, "%s", auth_sasl_reply(r));
		return 1;
	}
	c = a->dovecot[0] ? check_dovecot(a, secured, &why) :
	                    check_passwd(a, &why);
	auth_sasl_clear(&a->sasl);
	switch (c) {
	case CHECK_OK:
		log_user(a, "auth", NULL);
		return 0;
	case CHECK_FAIL:
		log_user(a, "auth failed", why);
		failure_delay(a);
		smtp_reply_text(reply, "%s",
		    auth_sasl_reply(AUTH_SASL_E_MESSAGE));
		return 1;
	default:
		log_user(a, "auth temporary failure", why);
		smtp_reply_text(reply,
		    "454 4.7.0 Temporary authentication "
		    "failure");
		return 1;
	}
}

int
auth_smtpd_start(struct auth_smtpd *a, const char *arg, size_t len,
    int secured, struct buf *reply)
{
	return finish(a, auth_sasl_start(&a->sasl, arg, len), secured, reply);
}

int
auth_smtpd_resp(struct auth_smtpd *a, const char *line, size_t len,
    int secured, struct buf *reply)
{
	return finish(a, auth_sasl_step(&a->sasl, line, len), secured, reply);
}

/* Does the login own this sender? (sender-login = own, see the header) */
static int
owns(const struct auth_smtpd *a, const char *s, size_t n)
{
	const char *at;
	size_t ll = strlen(a->login);

	if (n == 0)
		return 1;
	if (strchr(a->login, '@') != NULL)
		return ll == n && str_ncasecmp(a->login, s, n) == 0;
	at = memchr(s, '@', n);
	if (at == NULL || (size_t)(at - s) != ll ||
	    str_ncasecmp(a->login, s, ll) != 0)
		return 0;
	return a->our_domain != NULL &&
	    a->our_domain(a->arg, at + 1, n - ll - 1) > 0;
}

int
auth_smtpd_mail(struct auth_smtpd *a, const char *sender, size_t len,
    struct buf *reply)
{
	/* a login exists only where AUTH is enabled */
	if (a->login[0] == '\0') {
		if (!a->required)
			return 0;
		smtp_reply_text(reply, "530 5.7.0 Authentication required");
		return 1;
	}
	if (a->sender_any || owns(a, sender, len))
		return 0;
	smtp_reply_text(reply,
	    "553 5.7.1 <%.*s>: Sender address rejected: "
	    "not owned by user %s",
	    (int)len, sender, a->login);
	return 1;
}

void
auth_smtpd_comment_name(const char *login, char *out, size_t cap)
{
	size_t i;

	if (cap == 0)
		return;
	for (i = 0; login[i] && i + 1 < cap; i++)
		out[i] =
		    login[i] == '(' || login[i] == ')' || login[i] == '\\' ?
		    '?' :
		    login[i];
	out[i] = '\0';
}
