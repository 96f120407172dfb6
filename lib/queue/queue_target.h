/*
 * queue_target: where one delivery goes. Pure over the configuration:
 * reads the CDB, no other I/O.
 *
 * A delivery's target is one of lib/route's strings: local:NAME (the
 * [core] local-mailer: postmaster-lmtpd, or a [pipe]/[relay] section),
 * relay:NAME, pipe:NAME, cmd:|/path args, host:NAME and mx:DOMAIN (by
 * MX), reject:NAME and error:CODE X.Y.Z TEXT. queue_target_of() applies
 * the local mailer and checks that a named [pipe] or [relay] still is
 * one (the route may predate a configuration change): anything else is
 * QUEUE_T_BAD, deferred as unknown to this configuration.
 *
 * Deliveries with the same target (kind and name) go in one attempt: one
 * SMTP/LMTP transaction of up to QUEUE_BATCH_MAX recipients, or one
 * program run for up to [pipe] max_rcpt_to of them.
 */
#ifndef PM_QUEUE_TARGET_H
#define PM_QUEUE_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "queue/queue_cfg.h"
#include "spool/spool_env.h"

#define QUEUE_BATCH_MAX 1000 /* deliveries in one attempt */

enum queue_target_kind {
	QUEUE_T_LMTPD,
	QUEUE_T_PIPE,
	QUEUE_T_CMD,
	QUEUE_T_RELAY,
	QUEUE_T_HOST,
	QUEUE_T_MX,
	QUEUE_T_REJECT,
	QUEUE_T_ERROR,
	QUEUE_T_BAD
};

struct queue_target {
	enum queue_target_kind k;
	char name[1100];  /* section, host, domain, command or reply */
	const char *rcpt; /* the address handed to the destination */
	int network;      /* talks to a remote host: after the drop */
};

/* Where delivery d goes; t->rcpt points into d. */
void queue_target_of(const struct queue_cfg *c, const struct spool_dlv *d,
    struct queue_target *t);

/* 1 when d's target string is local:NAME. */
int queue_target_is_local(const struct spool_dlv *d);

/* 1 when a and b go in the same attempt. */
int queue_target_same(const struct queue_target *a,
    const struct queue_target *b);

/* How many deliveries to t one attempt may carry (at least 1). */
size_t queue_target_batch_max(const struct queue_cfg *c,
    const struct queue_target *t);

/*
 * The destination t counts against for [core] max-per-destination: 1 and
 * its 64-bit key (FNV-1a of the kind and the name, host names in lower
 * case, every local name the same) in *key; 0 for reject, error and bad
 * targets, which have none.
 */
int queue_target_dest_key(const struct queue_target *t, uint64_t *key);

#endif
