/*
 * client_cache: open SMTP/LMTP connections kept between messages, keyed
 * by destination (protocol, host or domain, port, MX flag, resolver,
 * HELO name), so the queue runner can send the next message for a
 * destination without a new connect, greeting and EHLO.
 *
 * A cached connection has finished its last transaction and is idle. It
 * is closed once idle longer than idle_ms or older than max_age_ms
 * (bounding what one session carries, as Postfix's
 * smtp_connection_reuse_time_limit does), when the cache is full and a
 * newer one needs the slot (least recently used goes), and on
 * client_cache_close(): with QUIT, waiting at most CLIENT_TO_QUIT_CACHED
 * for its reply, since the worker closing it may have a message waiting. A connection taken with client_cache_get() is
 * the caller's until it is put back or closed; client_deliver_cached()
 * does both and also proves it alive with RSET before reusing it.
 *
 * Connections on a caller's fd (client_dest.fd >= 0) are never cached.
 * The key includes the TLS level, name and trust file and the AUTH user,
 * so a connection set up for one policy never carries another's mail.
 */
#ifndef PM_CLIENT_CACHE_H
#define PM_CLIENT_CACHE_H

#include <stddef.h>

#include "client/client_conn.h"
#include "client/client_deliver.h"
#include "client/client_tls_memo.h"

#define CLIENT_CACHE_KEY_MAX 640

struct client_cache_ent {
	char key[CLIENT_CACHE_KEY_MAX];
	struct client_conn *conn;	/* NULL: free slot */
};

struct client_cache {
	struct client_cache_ent *ent;
	size_t max;
	unsigned idle_ms;
	unsigned max_age_ms;
	/* servers whose TLS failed under tls = may (client_deliver.h) */
	struct client_tls_memo tls_memo;
	/* verify's anchors of the last tls-ca-file used (or the system
	 * store), kept for the worker's life */
	struct client_tls_trust *tls_trust;
};

/* Returns 0, or -1 (ENOMEM). max 0 = 16; idle_ms/max_age_ms 0 = 10 s and
 * 300 s. */
int client_cache_init(struct client_cache *c, size_t max, unsigned idle_ms,
    unsigned max_age_ms);
/* The destination's key; 0, or -1 when it does not fit (then uncached). */
int client_cache_key(const struct client_dest *d, char *key, size_t cap);
/* Removes and returns a live connection for key, or NULL. */
struct client_conn *client_cache_get(struct client_cache *c, const char *key);
/* Takes ownership of conn (malloc'ed, from client_deliver_cached). */
void client_cache_put(struct client_cache *c, const char *key,
    struct client_conn *conn);
/* Closes idle and old connections; call now and then. */
void client_cache_expire(struct client_cache *c);
size_t client_cache_count(const struct client_cache *c);
/* Closes everything and frees the table. */
void client_cache_close(struct client_cache *c);

/* Frees a connection from the cache or client_cache_get(). */
void client_cache_conn_free(struct client_conn *conn, int quit);

#endif
