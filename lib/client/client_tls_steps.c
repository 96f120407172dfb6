#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "client/client_auth.h"
#include "client/client_cache.h"
#include "client/client_conn.h"
#include "client/client_tls.h"
#include "client/client_tls_steps.h"

static int
wants_auth(const struct client_tls_steps *j)
{
	return j->d->auth_user != NULL && j->d->auth_user[0] != '\0';
}

/* The TLS level of this connection: may never on a local stream, nor
 * where a handshake failed lately or just now (client_tls_memo.h). */
static enum client_tls_level
tls_level(const struct client_tls_steps *j, const struct client_conn *c)
{
	enum client_tls_level l = (enum client_tls_level)j->d->tls;

	if (l != CLIENT_TLS_MAY)
		return l;
	/* A relay we log in to keeps trying TLS: in the clear its AUTH
	 * would only defer (authenticate). */
	if (j->plain ||
	    (!wants_auth(j) && j->cache != NULL &&
	        client_tls_memo_has(&j->cache->tls_memo, c->relay,
	            clock_now_ms())))
		return CLIENT_TLS_NONE;
	return l;
}

/* EHLO or LHLO again inside TLS (RFC 3207 4.2: what the server said
 * before is forgotten). 0, or -1 (j->why). */
static int
hello_again(struct client_tls_steps *j, struct client_conn *c)
{
	const char *verb = j->d->proto == CLIENT_LMTP ? "LHLO" : "EHLO";
	struct client_reply rp;

	char line[300];
	int n = snprintf(line, sizeof line, "%s %.250s\r\n", verb, j->helo);

	if (client_conn_write(c, line, (size_t)n, CLIENT_TO_HELO, verb) < 0 ||
	    client_conn_ehlo_reply(c, &rp, CLIENT_TO_HELO, verb) < 0) {
		client_why_set(&j->why, 0, "451 4.4.2 %s", c->err);
		return -1;
	}
	if (rp.code != 250) {
		client_why_set(&j->why, 0,
		    "451 4.4.0 %s said: %s (in reply to %s after "
		    "STARTTLS)",
		    c->relay, rp.text, verb);
		client_conn_close(c, rp.code != 421);
		return -1;
	}
	return 0;
}

/*
 * verify's anchors in the worker's cache, loaded when missing or of
 * another file. 0, or -1: they cannot be loaded, the delivery is
 * deferred (j->why; the next host would fare no better).
 */
static int
trust_for(struct client_tls_steps *j, struct client_conn *c)
{
	struct client_cache *k = j->cache;
	char err[CLIENT_REPLY_MAX - 64];

	if (k == NULL ||
	    (k->tls_trust != NULL &&
	        client_tls_trust_is(k->tls_trust, j->d->tls_ca_file)))
		return 0;
	client_tls_trust_free(k->tls_trust);
	if ((k->tls_trust = client_tls_trust_load(j->d->tls_ca_file, err,
	         sizeof err)) == NULL) {
		client_why_set(&j->why, 0, "451 4.7.5 TLS with %s: %s",
		    c->relay, err);
		client_conn_close(c, 1);
		return -1;
	}
	return 0;
}

/*
 * STARTTLS when the level asks for it (RFC 3207). 0 goes on (in TLS, or
 * in the clear where may allows it), -1 (j->why) tries the next host, -2
 * (j->why) ends the delivery;
 * after may's failed handshake j->retry_plain asks for the same address
 * again in the clear.
 */
static int
starttls(struct client_tls_steps *j, struct client_conn *c)
{
	enum client_tls_level l = tls_level(j, c);
	struct client_reply rp;
	const char *name;

	if (l == CLIENT_TLS_NONE)
		goto plain;
	/* A server that refused EHLO offers nothing, STARTTLS included:
	 * answering EHLO with an error must not strip encrypt or verify. */
	if (!c->esmtp || !(c->ext.flags & CLIENT_EXT_STARTTLS)) {
		if (l == CLIENT_TLS_MAY)
			goto plain;
		client_why_set(&j->why, 0,
		    "451 4.7.4 TLS is required, but was not "
		    "offered by host %s",
		    c->relay);
		client_conn_close(c, 1);
		return -1;
	}
	if (l == CLIENT_TLS_VERIFY && trust_for(j, c) < 0)
		return -2;
	if (client_conn_write(c, "STARTTLS\r\n", 10, CLIENT_TO_STARTTLS,
	        "STARTTLS") < 0 ||
	    client_conn_reply(c, &rp, CLIENT_TO_STARTTLS, "STARTTLS") < 0) {
		client_why_set(&j->why, 0, "451 4.4.2 %s", c->err);
		return -1;
	}
	if (rp.code != 220) {
		/* RFC 3207 4: the session goes on as it was. */
		if (l == CLIENT_TLS_MAY && rp.code != 421)
			goto plain;
		client_why_set(&j->why, 0,
		    "451 4.7.4 TLS is required, but host %s "
		    "refused to start TLS: %s",
		    c->relay, rp.text);
		client_conn_close(c, rp.code != 421);
		return -1;
	}
	name = j->d->tls_name != NULL && j->d->tls_name[0] != '\0' ?
	    j->d->tls_name :
	    j->host;
	if (client_conn_starttls(c, l, name, j->d->tls_ca_file,
	        j->cache != NULL ? j->cache->tls_trust : NULL) < 0) {
		client_why_set(&j->why, 0, "451 4.7.5 %s", c->err);
		/* No dialling again in the clear for a relay we log in to:
		 * there the password stays unsent and the message deferred. */
		if (l == CLIENT_TLS_MAY && !wants_auth(j)) {
			j->retry_plain = 1;
			snprintf(j->fallback, sizeof j->fallback, "%s",
			    c->err);
			if (j->cache != NULL)
				client_tls_memo_note(&j->cache->tls_memo,
				    c->relay, clock_now_ms());
		}
		return -1;
	}
	return hello_again(j, c);
plain:
	return 0;
}

/*
 * AUTH (RFC 4954) when the destination names a user: only inside TLS,
 * PLAIN (RFC 4616) or else LOGIN. 0 authenticated or no AUTH wanted; -1
 * (j->why) tries the next host; -2 ends the delivery with j->why (a 5xx,
 * or a password file we cannot read).
 */
static int
authenticate(struct client_tls_steps *j, struct client_conn *c)
{
	const char *user = j->d->auth_user;
	char pass[CLIENT_AUTH_SECRET_MAX], line[CLIENT_AUTH_LINE_MAX];
	struct client_reply rp;
	int n, step, ret = -1, plain;

	if (user == NULL || user[0] == '\0')
		return 0;
	if (c->tls == NULL) {
		client_why_set(&j->why, 0,
		    "451 4.7.0 not sending the password of %s to "
		    "%s in the clear (STARTTLS %s)",
		    user, c->relay,
		    !c->esmtp || !(c->ext.flags & CLIENT_EXT_STARTTLS) ?
		        "not offered" :
		        "failed or not used");
		client_conn_close(c, 1);
		return -1;
	}
	if (!(c->ext.flags &
	        (CLIENT_EXT_AUTH_PLAIN | CLIENT_EXT_AUTH_LOGIN))) {
		client_why_set(&j->why, 0,
		    "451 4.7.0 host %s offers no AUTH mechanism we "
		    "speak (PLAIN, LOGIN)",
		    c->relay);
		client_conn_close(c, 1);
		return -1;
	}
	if (client_auth_password_read(
	        j->d->auth_password_file ? j->d->auth_password_file : "", pass,
	        sizeof pass) < 0) {
		client_why_set(&j->why, 0,
		    "451 4.3.0 cannot read auth-password-file %s: "
		    "%s",
		    j->d->auth_password_file ? j->d->auth_password_file :
		                               "(none)",
		    errno == EINVAL      ? "no password on its first line" :
		        errno == ENOTSUP ? "not a regular file" :
		                           strerror(errno));
		client_conn_close(c, 1);
		return -2;
	}
	plain = (c->ext.flags & CLIENT_EXT_AUTH_PLAIN) != 0;
	/* PLAIN: one line with the initial response. LOGIN: the name and
	 * the password, each after a 334. */
	for (step = 0; step < (plain ? 1 : 3); step++) {
		if (plain)
			n = client_auth_plain_line(user, pass, line,
			    sizeof line);
		else if (step == 0)
			n = snprintf(line, sizeof line, "AUTH LOGIN\r\n");
		else
			n = client_auth_b64_line(step == 1 ? user : pass, line,
			    sizeof line);
		if (n < 0 ||
		    client_conn_write(c, line, (size_t)n, CLIENT_TO_HELO,
		        "AUTH") < 0 ||
		    client_conn_reply(c, &rp, CLIENT_TO_HELO, "AUTH") < 0) {
			if (n < 0)
				client_why_set(&j->why, 0,
				    "451 4.7.0 user name or password "
				    "too long for AUTH");
			else
				client_why_set(&j->why, 0, "451 4.4.2 %s",
				    c->err);
			goto out;
		}
		if (rp.code != (step < (plain ? 0 : 2) ? 334 : 235))
			break;
	}
	if (rp.code == 235) {
		ret = 0;
		goto out;
	}
	/* The server's own reply decides (RFC 4954 6: 535 5.7.8 bad
	 * credentials, 454 4.7.0 temporary failure). */
	if (rp.code / 100 == 5 || rp.code / 100 == 4)
		client_why_set(&j->why, rp.code / 100 == 5,
		    "%s (in reply to AUTH from "
		    "%s)",
		    rp.text, c->relay);
	else
		client_why_set(&j->why, 0,
		    "451 4.7.0 %s said: %s (in reply to AUTH)", c->relay,
		    rp.text);
	client_conn_close(c, rp.code != 421);
	ret = rp.code / 100 == 5 ? -2 : -1;
out:
	client_auth_wipe(pass, sizeof pass);
	client_auth_wipe(line, sizeof line);
	return ret;
}

int
client_tls_steps_run(struct client_tls_steps *j, struct client_conn *c)
{
	int r = starttls(j, c);

	return r < 0 ? r : authenticate(j, c);
}
