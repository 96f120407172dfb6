/*
 * client_tls_steps: what a client session does between EHLO and its
 * first MAIL when the destination asks for TLS or AUTH (client_dest.tls,
 * auth_user; client_deliver.h):
 *   - STARTTLS (RFC 3207) by the level: may when offered, encrypt and
 *     verify required; the handshake (client_conn_starttls, which drops
 *     plaintext sent after the 220), then EHLO/LHLO again, whose
 *     extensions replace the first ones (RFC 3207 4.2);
 *   - AUTH (RFC 4954) as auth_user: only inside TLS; PLAIN (RFC 4616),
 *     or LOGIN when only that is offered; the password read from its
 *     file now and wiped after.
 * Under may a failed handshake sets retry_plain and fallback and notes
 * the address in the cache's client_tls_memo, unless auth_user is set
 * (then TLS is tried each time and its failure defers); a server that
 * refused EHLO has not offered STARTTLS; verify's anchors are kept
 * in the cache (client_tls_trust).
 */
#ifndef PM_CLIENT_TLS_STEPS_H
#define PM_CLIENT_TLS_STEPS_H

#include "client/client_conn.h"
#include "client/client_deliver.h"
#include "client/client_reply.h"

struct client_cache;

struct client_tls_steps {
	/* in */
	const struct client_dest *d;
	struct client_cache *cache; /* may be NULL */
	/* the host dialled: verify's name and SNI unless d->tls_name */
	const char *host;
	const char *helo;
	/* 1: may stays in the clear (a local stream, or the retry after a
	 * failed handshake) */
	int plain;
	/* out */
	struct client_why why; /* when not ready */
	int retry_plain; /* may: the handshake failed, dial again in clear */
	char fallback[CLIENT_RESULT_WHY_MAX]; /* that failure, for the log */
};

/*
 * 0: ready for MAIL (in TLS, or in the clear where the level allows);
 * -1: this host will not do (why), try the next; -2: the delivery ends
 * with why (a 5xx to AUTH, a password file or trust file that cannot be
 * read). On -2 the connection is closed; on -1 the caller closes it.
 */
int client_tls_steps_run(struct client_tls_steps *j, struct client_conn *c);

#endif
