#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client_tls.h"
#include "queue/queue_cfg.h"

int
queue_cfg_str(struct cf_db *db, const char *kind, const char *name,
    const char *key, char *out, size_t cap)
{
	out[0] = '\0';
	return cf_db_str(db, kind, name, key, out, cap);
}

static int
core_uint(struct cf_db *db, const char *key, uint64_t *out)
{
	return cf_db_uint(db, "core", "", key, out);
}

/*
 * The environment variables tests set to reach a state quickly
 * (doc/HACKING.md "Test-only knobs"); compiled into test builds only.
 */
static void
test_knobs(struct queue_cfg *c)
{
	c->window = QUEUE_CFG_WINDOW;
	c->worker_max_use = QUEUE_CFG_WORKER_MAX_USE;
	c->timeout_scale_ms = 0;
#ifdef PM_TEST_KNOBS
	const char *v;

	if ((v = getenv("PM_QUEUE_TIMEOUT_SCALE_MS")) != NULL)
		c->timeout_scale_ms = (unsigned)strtoul(v, NULL, 10);
	if ((v = getenv("PM_QUEUE_WINDOW")) != NULL)
		c->window = (size_t)strtoul(v, NULL, 10);
	if ((v = getenv("PM_QUEUE_WORKER_MAX_USE")) != NULL &&
	    strtoul(v, NULL, 10) > 0)
		c->worker_max_use = (unsigned)strtoul(v, NULL, 10);
#endif
}

int
queue_cfg_load(struct queue_cfg *c, struct cf_db *db,
    const struct spool_dir *sp)
{
	char v[64];
	uint64_t u;

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
	/* The schema's defaults come with every key (cf_db_uint). */
	if (core_uint(db, "smtp-port", &u) < 0 || u == 0 || u > 65535)
		return -1;
	c->smtp_port = (unsigned)u;
	if (core_uint(db, "retry-interval", &u) < 0)
		return -1;
	c->retry_first = (int64_t)u;
	if (core_uint(db, "retry-max-interval", &u) < 0)
		return -1;
	c->retry_cap = (int64_t)u;
	if (core_uint(db, "queue-lifetime", &u) < 0)
		return -1;
	c->lifetime = (int64_t)u;
	if (core_uint(db, "queue-concurrency", &u) < 0 || u == 0)
		return -1;
	c->concurrency = (size_t)u;
	if (core_uint(db, "max-per-destination", &u) < 0)
		return -1;
	c->max_per_dest = (size_t)u;
	queue_cfg_str(db, "core", "", "tls-client", v, sizeof v);
	c->tls_client =
	    strcmp(v, "none") == 0 ? CLIENT_TLS_NONE : CLIENT_TLS_MAY;
	queue_cfg_str(db, "core", "", "bounce-to", v, sizeof v);
	c->bounce_to = strcmp(v, "postmaster") == 0 ? QUEUE_BOUNCE_POSTMASTER :
	    strcmp(v, "both") == 0                  ? QUEUE_BOUNCE_BOTH :
	                                              QUEUE_BOUNCE_SENDER;
	test_knobs(c);
	return 0;
}
