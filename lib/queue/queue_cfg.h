/*
 * queue_cfg: what the queue runner and its workers read from the CDB
 * once, at start: the [core] keys that shape delivery (host name, local
 * mailer, DNS server, SMTP port, retry timing, queue lifetime, bounce
 * recipients), and the runner's own facts (spool, lmtpd path, user, the
 * stop flag, a worker's connection cache) that the caller fills in.
 *
 * queue_cfg_load() returns 0, or -1 when the CDB cannot be read; a key
 * that is absent has its default from the schema (lib/cf/cf_schema.c),
 * never one written here. The test-only knobs PM_QUEUE_WINDOW,
 * PM_QUEUE_WORKER_MAX_USE and PM_QUEUE_TIMEOUT_SCALE_MS are read only in
 * a build with PM_TEST_KNOBS (doc/HACKING.md).
 */
#ifndef PM_QUEUE_CFG_H
#define PM_QUEUE_CFG_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cf/cf_db.h"
#include "client/client_cache.h"
#include "spool/spool_dir.h"

#define QUEUE_CFG_WINDOW 8192         /* messages the scheduler holds */
#define QUEUE_CFG_WORKER_MAX_USE 1000 /* messages per worker process */

enum queue_bounce_to {
	QUEUE_BOUNCE_SENDER = 1,
	QUEUE_BOUNCE_POSTMASTER = 2,
	QUEUE_BOUNCE_BOTH = 3
};

struct queue_cfg {
	struct cf_db *db;
	const struct spool_dir *sp;
	const char *cdb_path; /* for postmaster-lmtpd -C */
	char lmtpd[4096];     /* postmaster-lmtpd beside us */
	char hostname[256];
	char local_mailer[256]; /* "lmtpd" or a section name */
	char local_kind[16];    /* "lmtpd", "pipe" or "relay" */
	char dns_server[256];
	unsigned smtp_port;  /* [core] smtp-port */
	int tls_client;      /* [core] tls-client: enum client_tls_level */
	int64_t retry_first; /* [core] retry-interval */
	int64_t retry_cap;   /* [core] retry-max-interval */
	int64_t lifetime;    /* [core] queue-lifetime */
	size_t concurrency;  /* [core] queue-concurrency (workers) */
	size_t max_per_dest; /* [core] max-per-destination */
	enum queue_bounce_to bounce_to;
	size_t window;             /* QUEUE_CFG_WINDOW; PM_QUEUE_WINDOW */
	unsigned worker_max_use;   /* QUEUE_CFG_WORKER_MAX_USE; PM_QUEUE_... */
	unsigned timeout_scale_ms; /* PM_QUEUE_TIMEOUT_SCALE_MS (tests) */
	int flush;                 /* ignore next-attempt times */
	volatile sig_atomic_t *stop; /* set by SIGTERM: abandon */
	/* SMTP/LMTP connections kept between messages (a worker's, see
	 * queue_worker.h); NULL: one connection per delivery */
	struct client_cache *cache;
	/* Started as root: ruid = euid = uid, saved uid 0 (see INTERNALS). */
	int root;
	uid_t uid;
	gid_t gid;
	char user[128];
};

/* Reads the [core] keys; hostname defaults to the host name. */
int queue_cfg_load(struct queue_cfg *c, struct cf_db *db,
    const struct spool_dir *sp);

/* cf_db_str(), with out "" when the key is absent or unreadable. */
int queue_cfg_str(struct cf_db *db, const char *kind, const char *name,
    const char *key, char *out, size_t cap);

#endif
