#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "smtp/smtp_reply.h"
#include "base/sibling.h"
#include "smtpd/smtpd_tls.h"

#define SMTPD_TLS_GRACE_MS (5 * 1000) /* tlsd reports its own timeouts */
#define SMTPD_TLS_END_MS (15 * 1000)

static int64_t
until(const struct smtpd_tls *x)
{
	return clock_now_ms() + (int64_t)x->wait_ms + SMTPD_TLS_GRACE_MS;
}

int
smtpd_tls_setup(struct smtpd_tls *x, struct cf_db *db, const char *cdb,
    const char *name, const char *client, int in, int out, uint64_t idle_ms,
    char *why, size_t cap)
{
	char mode[32] = "";

	x->t.fd = -1;
	cf_db_str(db, "smtpd", name, "tls", mode, sizeof mode);
	if (strcmp(mode, "optional") == 0)
		x->mode = SMTPD_TLS_OPTIONAL;
	else if (strcmp(mode, "required") == 0)
		x->mode = SMTPD_TLS_REQUIRED;
	else if (strcmp(mode, "implicit") == 0)
		x->mode = SMTPD_TLS_IMPLICIT;
	else
		return 0;
	net_starttls_init(&x->t);
	x->client = client;
	x->sock = in;
	x->out = out;
	x->wait_ms = idle_ms > INT64_MAX / 4 ? INT64_MAX / 4 : idle_ms;
	if (sibling_path("postmaster-tlsd", x->prog, sizeof x->prog) < 0) {
		snprintf(why, cap,
		    "unable to find postmaster-tlsd beside this program: %s",
		    strerror(errno));
		x->mode = SMTPD_TLS_OFF;
		return -1;
	}
	cf_db_str(db, "core", "", "tls-socket", x->socket, sizeof x->socket);
	snprintf(x->cdb, sizeof x->cdb, "%s", cdb);
	snprintf(x->name, sizeof x->name, "%s", name);
	snprintf(x->id, sizeof x->id, "%ld", (long)getpid());
	x->argv[0] = x->prog;
	x->argv[1] = (char *)"-C";
	x->argv[2] = x->cdb;
	x->argv[3] = (char *)"-i";
	x->argv[4] = x->id;
	x->argv[5] = x->name;
	x->argv[6] = NULL;
	return 0;
}

int
smtpd_tls_offered(const struct smtpd_tls *x)
{
	return x->mode == SMTPD_TLS_OPTIONAL || x->mode == SMTPD_TLS_REQUIRED;
}

int
smtpd_tls_active(const struct smtpd_tls *x)
{
	return x->t.active;
}

/* The service, or a postmaster-tlsd of our own when none listens. */
static int
start(struct smtpd_tls *x, char *why, size_t cap)
{
	int r = 1;

	if (x->socket[0] != '\0') {
		r = net_starttls_connect(&x->t, x->sock, x->socket, x->name,
		    x->id, until(x), why, cap);
		/* no service here (tcpserver, inetd) is normal: say nothing */
		if (r == 1 && errno != ENOENT)
			log_info("tls: no postmaster-tlsd service: %s; "
			         "starting one for this session",
			    why);
	}
	if (r == 1)
		r = net_starttls_start(&x->t, x->sock, x->argv, until(x), why,
		    cap);
	return r;
}

int
smtpd_tls_starttls(struct smtpd_tls *x, struct buf *reply)
{
	char why[512];

	if (start(x, why, sizeof why) == 0)
		return 0;
	log_err("tls: not available: %s", why);
	/* RFC 3207 4: a temporary reason */
	smtp_reply_text(reply,
	    "454 4.7.0 TLS not available due to local "
	    "problem");
	return 1;
}

int
smtpd_tls_handshake(struct smtpd_tls *x)
{
	char why[512];
	const struct net_tls_report *r = &x->t.info;

	if (net_starttls_handshake(&x->t, x->sock, x->out, until(x), why,
	        sizeof why) < 0) {
		log_info("tls: handshake failed from %s: %s", x->client, why);
		return -1;
	}
	log_info("tls: established from %s: %s cipher=%s sni=%s session=%s "
	         "tlsd=%s",
	    x->client, r->version, r->cipher, r->sni[0] ? r->sni : "-",
	    r->resumed ? "resumed" : "new",
	    x->t.service ? "service" : "spawned");
	return 0;
}

int
smtpd_tls_implicit(struct smtpd_tls *x)
{
	char why[512];

	if (start(x, why, sizeof why) < 0) {
		log_err("tls: not available: %s; closing the connection "
		        "from %s",
		    why, x->client);
		return -1;
	}
	return smtpd_tls_handshake(x);
}

int
smtpd_tls_refuse_mail(const struct smtpd_tls *x, struct buf *reply)
{
	if (x->mode != SMTPD_TLS_REQUIRED || x->t.active)
		return 0;
	smtp_reply_text(reply,
	    "530 5.7.0 Must issue a STARTTLS command "
	    "first");
	return 1;
}

void
smtpd_tls_received(const struct smtpd_tls *x, struct buf *hdr)
{
	if (x->t.active)
		buf_printf(hdr, "\r\n\t(using %s with cipher %s)",
		    x->t.info.version, x->t.info.cipher);
}

void
smtpd_tls_finish(struct smtpd_tls *x)
{
	net_starttls_finish(&x->t, clock_now_ms() + SMTPD_TLS_END_MS);
}
