#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/log.h"
#include "client/client_deliver.h"
#include "client/client_tls.h"
#include "queue/queue_attempt_smtp.h"
#include "queue/queue_lmtpd.h"

/* Where a hop goes: the host, kept while the client uses it. */
struct hop {
	struct client_dest cd;
	char host[1100];
	struct queue_lmtpd_open lo;
	char tls_name[1100];
	char ca_file[4096];
	char auth_user[256];
	char auth_file[4096];
};

/* "host", "host:port", "[v6]", "[v6]:port" or "/unix/path". */
static void
split_address(const char *a, char *host, size_t cap, unsigned *port)
{
	const char *colon;

	*port = 0;
	if (a[0] == '/') {
		snprintf(host, cap, "%s", a);
		return;
	}
	if (a[0] == '[') {
		const char *end = strchr(a, ']');

		if (end) {
			snprintf(host, cap, "%.*s", (int)(end - a - 1), a + 1);
			if (end[1] == ':')
				*port = (unsigned)strtoul(end + 2, NULL, 10);
			return;
		}
	}
	colon = strrchr(a, ':');
	if (colon && strchr(a, ':') == colon) {
		snprintf(host, cap, "%.*s", (int)(colon - a), a);
		*port = (unsigned)strtoul(colon + 1, NULL, 10);
		return;
	}
	snprintf(host, cap, "%s", a);
}

/* A [relay]'s TLS and AUTH keys (client_deliver.h says what they do). */
static void
relay_tls(const struct queue_cfg *c, const struct queue_target *t,
    struct hop *h)
{
	char v[16];
	int l;

	queue_cfg_str(c->db, "relay", t->name, "tls", v, sizeof v);
	l = client_tls_level_of(v);
	h->cd.tls = l >= 0 ? l : c->tls_client;
	queue_cfg_str(c->db, "relay", t->name, "tls-ca-file", h->ca_file,
	    sizeof h->ca_file);
	h->cd.tls_ca_file = h->ca_file;
	queue_cfg_str(c->db, "relay", t->name, "auth-user", h->auth_user,
	    sizeof h->auth_user);
	h->cd.auth_user = h->auth_user;
	queue_cfg_str(c->db, "relay", t->name, "auth-password-file",
	    h->auth_file, sizeof h->auth_file);
	h->cd.auth_password_file = h->auth_file;
}

/* Hop a of a [relay]: its a-th address line, or (no address) hop 0 is
 * its name by MX. 0 when there is no such hop. */
static int
hop_relay(const struct queue_cfg *c, const struct queue_target *t, size_t a,
    struct hop *h)
{
	struct cf_words w;
	char proto[16], addr[1100];

	queue_cfg_str(c->db, "relay", t->name, "protocol", proto,
	    sizeof proto);
	h->cd.proto = strcmp(proto, "lmtp") == 0 ? CLIENT_LMTP : CLIENT_SMTP;
	relay_tls(c, t, h);
	if (cf_db_words(c->db, "relay", t->name, "address", &w) < 0)
		w.n = 0;
	if (w.n == 0) {
		if (a > 0)
			return 0;
		queue_cfg_str(c->db, "relay", t->name, "name", h->host,
		    sizeof h->host);
		if (h->host[0] == '\0')
			snprintf(h->host, sizeof h->host, "%s", t->name);
		h->cd.host = h->host;
		h->cd.use_mx = 1;
		if (h->cd.proto == CLIENT_SMTP)
			h->cd.port = c->smtp_port;
		return 1;
	}
	if (a >= w.n)
		return 0;
	/* verify and SNI: the relay's own name where it has one, else
	 * the host of the address line */
	queue_cfg_str(c->db, "relay", t->name, "name", h->tls_name,
	    sizeof h->tls_name);
	h->cd.tls_name = h->tls_name[0] != '\0' ? h->tls_name : NULL;
	snprintf(addr, sizeof addr, "%.*s", (int)w.len[a], w.w[a]);
	split_address(addr, h->host, sizeof h->host, &h->cd.port);
	h->cd.host = h->host;
	/* [core] smtp-port when the line names no port. */
	if (h->cd.port == 0 && h->cd.proto == CLIENT_SMTP && h->host[0] != '/')
		h->cd.port = c->smtp_port;
	return 1;
}

/* Hop a of target t in h; 0 when there is no such hop. */
static int
hop_of(const struct queue_cfg *c, const struct queue_target *t, size_t a,
    struct hop *h)
{
	memset(&h->cd, 0, sizeof h->cd);
	h->cd.fd = -1;
	h->cd.helo = c->hostname;
	h->cd.dns_server = c->dns_server[0] ? c->dns_server : NULL;
	h->cd.timeout_scale_ms = c->timeout_scale_ms;
	switch (t->k) {
	case QUEUE_T_LMTPD:
		/* One postmaster-lmtpd per connection: a worker's cache
		 * keeps it for the next message, like a TCP peer. */
		if (a > 0)
			return 0;
		queue_lmtpd_dest(c, &h->cd, &h->lo);
		return 1;
	case QUEUE_T_RELAY:
		return hop_relay(c, t, a, h);
	case QUEUE_T_HOST:
	case QUEUE_T_MX:
		if (a > 0)
			return 0;
		h->cd.proto = CLIENT_SMTP;
		h->cd.tls = c->tls_client;
		if (t->name[0] == '[') {
			/* host:[192.0.2.1] is an address literal: no MX. */
			split_address(t->name, h->host, sizeof h->host,
			    &h->cd.port);
			h->cd.host = h->host;
		} else {
			h->cd.host = t->name;
			h->cd.use_mx = 1;
		}
		if (h->cd.port == 0)
			h->cd.port = c->smtp_port;
		return 1;
	default:
		return 0;
	}
}

static void
from_client(const struct client_rcpt *r, const struct client_result *res,
    size_t n, struct queue_result *o)
{
	size_t i;

	for (i = 0; i < n; i++) {
		o[i].o = r[i].status == CLIENT_OK ? QUEUE_OK :
		    r[i].status == CLIENT_PERM    ? QUEUE_PERM :
		                                    QUEUE_TEMP;
		snprintf(o[i].relay, sizeof o[i].relay, "%s",
		    res->relay[0] ? res->relay : "none");
		snprintf(o[i].diag, sizeof o[i].diag, "smtp; %s",
		    r[i].reply[0] ? r[i].reply : res->reply);
		o[i].conn_use = res->conn_use;
	}
}

/* 1 while every recipient is still deferred: the next hop may try. */
static int
all_temp(const struct client_rcpt *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i].status != CLIENT_TEMP)
			return 0;
	return 1;
}

/*
 * The recipients as the client wants them. LMTP wants a mailbox: a local
 * name goes as NAME@our-hostname (lmtpd uses the local part; %d in its
 * template is our name). -1: out of memory.
 */
static int
rcpts_of(const struct queue_job *j, const struct queue_target *t,
    const size_t *idx, size_t n, struct client_rcpt **rp, char (**lp)[600])
{
	const struct queue_cfg *c = j->c;
	struct client_rcpt *r;
	char(*local)[600] = NULL;
	struct queue_target tt;
	size_t i;

	if ((r = calloc(n, sizeof *r)) == NULL)
		return -1;
	if (t->k == QUEUE_T_LMTPD &&
	    (local = calloc(n, sizeof *local)) == NULL) {
		free(r);
		return -1;
	}
	for (i = 0; i < n; i++) {
		queue_target_of(c, &j->m.env.dlv[idx[i]], &tt);
		r[i].addr = tt.rcpt;
		if (local && strchr(tt.rcpt, '@') == NULL) {
			snprintf(local[i], sizeof local[i], "%.300s@%.255s",
			    tt.rcpt, c->hostname);
			r[i].addr = local[i];
		}
		r[i].status = CLIENT_TEMP;
	}
	*rp = r;
	*lp = local;
	return 0;
}

/* One line per TLS connection, when it carries its first message (as
 * Postfix's "... TLS connection established to ..."), and one for a
 * handshake that tls = may went around in the clear. */
static void
log_tls(const struct queue_job *j, const struct client_result *res)
{
	if (res->tls_fallback[0] != '\0')
		log_warn("%s: %s; trying again in the clear (tls = may)",
		    j->m.env.id, res->tls_fallback);
	if (res->tls[0] != '\0' && res->conn_use == 1)
		log_info("%s: %s TLS connection established to %s: %s",
		    j->m.env.id, res->tls_verified ? "Verified" : "Untrusted",
		    res->relay, res->tls);
}

void
queue_attempt_smtp(struct queue_job *j, const struct queue_target *t,
    const size_t *idx, size_t n, struct queue_result *o)
{
	const struct queue_cfg *c = j->c;
	const struct spool_env *env = &j->m.env;
	struct client_msg cm;
	struct client_rcpt *r;
	struct client_result res;
	struct hop h;
	char(*local)[600];
	size_t a, i;
	int rc;

	if (rcpts_of(j, t, idx, n, &r, &local) < 0) {
		queue_result_set_all(o, n, QUEUE_TEMP, t->name,
		    "smtp; 451 4.3.0 out of memory");
		return;
	}
	memset(&res, 0, sizeof res);
	memset(&h, 0, sizeof h);
	h.lo.pid = -1;
	cm.fd = j->m.fd;
	cm.off = j->m.body_off;
	cm.len = (uint64_t)(j->m.file_size - j->m.body_off);
	cm.sender = env->sender.p;
	cm.body = (int)env->body;
	cm.smtputf8 = env->smtputf8;
	cm.wire = env->wire;
	/* The one retry loop: the next hop only while nothing happened. */
	for (a = 0; hop_of(c, t, a, &h); a++) {
		for (i = 0; i < n; i++)
			r[i].status = CLIENT_TEMP;
		rc = client_deliver_cached(c->cache, &h.cd, &cm, r, n, &res);
		log_tls(j, &res);
		if (rc == 0 || !all_temp(r, n))
			break;
	}
	if (t->k == QUEUE_T_LMTPD)
		snprintf(res.relay, sizeof res.relay, "lmtpd");
	from_client(r, &res, n, o);
	/* Uncached, postmaster-lmtpd has had its QUIT and EOF: it is
	 * ending. */
	if (t->k == QUEUE_T_LMTPD && c->cache == NULL && h.lo.pid > 0)
		while (waitpid(h.lo.pid, NULL, 0) < 0 && errno == EINTR)
			;
	free(local);
	free(r);
}
