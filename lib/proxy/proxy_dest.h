/*
 * proxy_dest: where postmaster-smtpd may proxy a recipient (full
 * pipelining, postmaster.cf(5) "pipelining"), decided from its route.
 *
 *   - a [relay] whose every address line is an IP literal, "localhost"
 *     or a unix socket path, in the relay's protocol (smtp or lmtp):
 *     smtpd looks nothing up in the DNS, so a relay named by a host
 *     name (or by MX) is left to the queue, as is one that must have
 *     TLS (tls = encrypt, verify) or AUTH (auth-user): the proxy has
 *     neither, the queue's client both;
 *   - the local mailer, when [core] local-mailer names such a relay
 *     (e.g. Dovecot's LMTP), or when it is postmaster-lmtpd with a virtual
 *     [lmtpd] maildir template: smtpd starts it on a socketpair as the
 *     queue does. With maildir = ~/... lmtpd delivers as each system
 *     user and needs root, which smtpd has dropped: the queue delivers.
 *
 * Two recipients with the same key go to one connection. Reads only the
 * compiled configuration; no I/O of its own.
 */
#ifndef PM_PROXY_DEST_H
#define PM_PROXY_DEST_H

#include <stddef.h>

#include "cf/cf_db.h"
#include "client/client_deliver.h"
#include "route/route_resolve.h"

#define PROXY_DEST_ADDR_MAX 4

struct proxy_addr {
	char host[256]; /* IP literal, "localhost" or /socket/path */
	unsigned port;
};

struct proxy_dest {
	char key[300]; /* "relay:NAME" or "lmtpd" */
	enum client_proto proto;
	int lmtpd; /* start postmaster-lmtpd for it */
	size_t naddr;
	struct proxy_addr addr[PROXY_DEST_ADDR_MAX];
};

/*
 * What the instance allows: lmtpd_ok when the local mailer is a virtual
 * postmaster-lmtpd (see above); smtp_port is [core] smtp-port for
 * address lines without a port.
 */
struct proxy_dest_cfg {
	struct cf_db *db;
	int lmtpd_ok;
	const char *local_relay; /* [core] local-mailer a [relay] */
	/* a local name goes to lmtpd as NAME@local_domain, as the queue
	 * sends it ([core] hostname; lmtpd uses the local part) */
	const char *local_domain;
	unsigned smtp_port;
};

/* 1 and *out filled when t can be proxied, else 0. */
int proxy_dest_of(const struct proxy_dest_cfg *c, const struct route_target *t,
    struct proxy_dest *out);

/*
 * The one target an instance can proxy to, if there is one: every route
 * table it consults (q's and [route]) that exists names the same [relay]
 * as the whole right-hand side of each of its lines (cf_db_table_sole),
 * e.g. "@example.org backend", and that relay can be proxied. 1 and *out
 * filled, else 0. A guess about what RCPTs will come, not a promise: a
 * name routed by no table may still reach the local mailer.
 */
int proxy_dest_sole(const struct proxy_dest_cfg *c,
    const struct route_query *q, struct proxy_dest *out);

#endif
