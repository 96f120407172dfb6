#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client_tls.h"
#include "queue/queue_cfg.h"
#include "queue/queue_sched.h"

int
queue_cfg_str(struct cf_db *db, const char *kind, const char *name,
    const char *key, char *out, size_t cap)
{
	out[0] = '\0';
	return cf_db_str(db, kind, name, key, out, cap);
}

int
queue_cfg_load(struct queue_cfg *c, struct cf_db *db,
    const struct spool_dir *sp)
{
	char v[64];
	uint64_t u;
	const char *scale;

	c->db = db;
	c->sp = sp;
	if (queue_cfg_str(db, "core", "", "hostname", c->hostname,
	        sizeof c->hostname) < 0)
		return -1;
	if (c->hostname[0] == '\0' &&
	    gethostname(c->hostname, sizeof c->hostname - 1) < 0)
		snprintf(c->hostname, sizeof c->hostname, "localhost");
	queue_cfg_str(db, "core", "", "local-mailer", c->local_mailer,
	    sizeof c->local_mailer);
	if (c->local_mailer[0] == '\0' ||
	    strcmp(c->local_mailer, "lmtpd") == 0)
		snprintf(c->local_kind, sizeof c->local_kind, "lmtpd");
	else if (cf_db_target_kind(db, c->local_mailer, c->local_kind,
	             sizeof c->local_kind) <= 0)
		snprintf(c->local_kind, sizeof c->local_kind, "lmtpd");
	queue_cfg_str(db, "core", "", "dns-server", c->dns_server,
	    sizeof c->dns_server);
	c->smtp_port = 25;
	if (cf_db_uint(db, "core", "", "smtp-port", &u) >= 0 && u > 0 &&
	    u < 65536)
		c->smtp_port = (unsigned)u;
	queue_cfg_str(db, "core", "", "tls-client", v, sizeof v);
	c->tls_client =
	    strcmp(v, "none") == 0 ? CLIENT_TLS_NONE : CLIENT_TLS_MAY;
	c->retry_first = QUEUE_RETRY_FIRST;
	c->retry_cap = QUEUE_RETRY_CAP;
	c->lifetime = 5 * 86400;
	if (cf_db_uint(db, "core", "", "retry-interval", &u) >= 0 && u > 0)
		c->retry_first = (int64_t)u;
	if (cf_db_uint(db, "core", "", "retry-max-interval", &u) >= 0 && u > 0)
		c->retry_cap = (int64_t)u;
	if (cf_db_uint(db, "core", "", "queue-lifetime", &u) >= 0)
		c->lifetime = (int64_t)u;
	queue_cfg_str(db, "core", "", "bounce-to", v, sizeof v);
	c->bounce_to = strcmp(v, "postmaster") == 0 ? QUEUE_BOUNCE_POSTMASTER :
	    strcmp(v, "both") == 0                  ? QUEUE_BOUNCE_BOTH :
	                                              QUEUE_BOUNCE_SENDER;
	/* Tests shrink the SMTP client's RFC 5321 timeouts. */
	if ((scale = getenv("PM_QUEUE_TIMEOUT_SCALE_MS")) != NULL)
		c->timeout_scale_ms = (unsigned)strtoul(scale, NULL, 10);
	return 0;
}
