#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "client/client_cache.h"

int
client_cache_init(struct client_cache *c, size_t max, unsigned idle_ms,
    unsigned max_age_ms)
{
	c->max = max ? max : 16;
	c->idle_ms = idle_ms ? idle_ms : 10000;
	c->max_age_ms = max_age_ms ? max_age_ms : 300000;
	memset(&c->tls_memo, 0, sizeof c->tls_memo);
	c->tls_trust = NULL;
	c->ent = calloc(c->max, sizeof c->ent[0]);
	return c->ent == NULL ? -1 : 0;
}

int
client_cache_key(const struct client_dest *d, char *key, size_t cap)
{
	int n;

	if (d->fd >= 0)
		return -1;
	if (d->open_fd != NULL) {
		n = snprintf(key, cap, "%s|open|%s|%s",
		    d->proto == CLIENT_LMTP ? "lmtp" : "smtp",
		    d->host ? d->host : "", d->helo ? d->helo : "");
		return n < 0 || (size_t)n >= cap ? -1 : 0;
	}
	n = snprintf(key, cap, "%s|%s|%u|%d|%s|%s|%d|%s|%s|%s",
	    d->proto == CLIENT_LMTP ? "lmtp" : "smtp",
	    d->host ? d->host : "", d->port, d->use_mx ? 1 : 0,
	    d->dns_server ? d->dns_server : "", d->helo ? d->helo : "",
	    d->tls, d->tls_name ? d->tls_name : "",
	    d->tls_ca_file ? d->tls_ca_file : "",
	    d->auth_user ? d->auth_user : "");
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void
client_cache_conn_free(struct client_conn *conn, int quit)
{
	if (conn == NULL)
		return;
	client_conn_close_within(conn, quit, CLIENT_TO_QUIT_CACHED);
	free(conn);
}

static int
too_old(const struct client_cache *c, const struct client_conn *conn,
    int64_t now)
{
	return now - conn->used_ms > (int64_t)c->idle_ms ||
	    now - conn->opened_ms > (int64_t)c->max_age_ms;
}

void
client_cache_expire(struct client_cache *c)
{
	int64_t now = clock_now_ms();
	size_t i;

	for (i = 0; i < c->max; i++) {
		struct client_conn *conn = c->ent[i].conn;

		if (conn == NULL)
			continue;
		if (too_old(c, conn, now) || client_conn_stale(conn)) {
			/* A stale peer has closed or said 421: no QUIT. */
			client_cache_conn_free(conn, !client_conn_stale(conn));
			c->ent[i].conn = NULL;
		}
	}
}

struct client_conn *
client_cache_get(struct client_cache *c, const char *key)
{
	size_t i;

	if (c == NULL || c->ent == NULL)
		return NULL;
	client_cache_expire(c);
	for (i = 0; i < c->max; i++) {
		struct client_conn *conn = c->ent[i].conn;

		if (conn != NULL && strcmp(c->ent[i].key, key) == 0) {
			c->ent[i].conn = NULL;
			return conn;
		}
	}
	return NULL;
}

void
client_cache_put(struct client_cache *c, const char *key,
    struct client_conn *conn)
{
	size_t i, slot = c->max;

	if (c->ent == NULL || strlen(key) >= CLIENT_CACHE_KEY_MAX ||
	    conn->broken) {
		client_cache_conn_free(conn, 1);
		return;
	}
	for (i = 0; i < c->max; i++) {
		if (c->ent[i].conn == NULL) {
			slot = i;
			break;
		}
		if (slot == c->max ||
		    c->ent[i].conn->used_ms < c->ent[slot].conn->used_ms)
			slot = i;
	}
	if (c->ent[slot].conn != NULL)
		client_cache_conn_free(c->ent[slot].conn, 1);
	memcpy(c->ent[slot].key, key, strlen(key) + 1);
	c->ent[slot].conn = conn;
}

size_t
client_cache_count(const struct client_cache *c)
{
	size_t i, n = 0;

	for (i = 0; c->ent != NULL && i < c->max; i++)
		n += c->ent[i].conn != NULL;
	return n;
}

void
client_cache_close(struct client_cache *c)
{
	size_t i;

	for (i = 0; c->ent != NULL && i < c->max; i++) {
		client_cache_conn_free(c->ent[i].conn, 1);
		c->ent[i].conn = NULL;
	}
	free(c->ent);
	c->ent = NULL;
	client_tls_trust_free(c->tls_trust);
	c->tls_trust = NULL;
}
