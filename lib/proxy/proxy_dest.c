#include <stdio.h>
#include <string.h>

#include "cf/cf_value.h"
#include "dns/dns_addr.h"
#include "proxy/proxy_dest.h"

/* An address smtpd can reach without the DNS. */
static int
reachable(const struct cf_hostport *hp)
{
	struct dns_addr a;

	return hp->is_unix || strcmp(hp->host, "localhost") == 0 ||
	    dns_addr_literal(hp->host, &a);
}

/* The proxy speaks to its target in the clear and without AUTH; a relay
 * that must have TLS (encrypt, verify) or AUTH is left to the queue,
 * whose client does both (postmaster.cf(5) pipelining). */
static int
wants_tls_or_auth(const struct proxy_dest_cfg *c, const char *name)
{
	char tls[16] = "", user[256] = "";

	/* unreadable (or too long) counts as wanted: never in the clear */
	if (cf_db_str(c->db, "relay", name, "tls", tls, sizeof tls) < 0 ||
	    cf_db_str(c->db, "relay", name, "auth-user", user, sizeof user) <
	        0)
		return 1;
	return strcmp(tls, "encrypt") == 0 || strcmp(tls, "verify") == 0 ||
	    user[0] != '\0';
}

static int
relay_dest(const struct proxy_dest_cfg *c, const char *name,
    struct proxy_dest *out)
{
	struct cf_words w;
	struct cf_hostport hp;
	char proto[16] = "", line[1100];
	const char *why;
	size_t i;

	if (cf_db_words(c->db, "relay", name, "address", &w) < 0 || w.n == 0 ||
	    w.n > PROXY_DEST_ADDR_MAX)
		return 0;
	if (wants_tls_or_auth(c, name))
		return 0;
	cf_db_str(c->db, "relay", name, "protocol", proto, sizeof proto);
	out->proto = strcmp(proto, "lmtp") == 0 ? CLIENT_LMTP : CLIENT_SMTP;
	for (i = 0; i < w.n; i++) {
		snprintf(line, sizeof line, "%.*s", (int)w.len[i], w.w[i]);
		if (cf_value_address(line, &hp, &why) < 0 || !reachable(&hp))
			return 0;
		snprintf(out->addr[i].host, sizeof out->addr[i].host, "%s",
		    hp.host);
		out->addr[i].port = cf_value_port_number(hp.port);
		if (!hp.is_unix && out->addr[i].port == 0) {
			if (hp.port[0] != '\0')
				return 0; /* a service name: not here */
			out->addr[i].port =
			    out->proto == CLIENT_LMTP ? 24 : c->smtp_port;
		}
	}
	out->naddr = w.n;
	snprintf(out->key, sizeof out->key, "relay:%.280s", name);
	return 1;
}

int
proxy_dest_of(const struct proxy_dest_cfg *c, const struct route_target *t,
    struct proxy_dest *out)
{
	memset(out, 0, sizeof *out);
	switch (t->kind) {
	case ROUTE_RELAY:
		return relay_dest(c, t->value, out);
	case ROUTE_LOCAL:
		if (c->local_relay != NULL)
			return relay_dest(c, c->local_relay, out);
		if (!c->lmtpd_ok)
			return 0;
		out->proto = CLIENT_LMTP;
		out->lmtpd = 1;
		snprintf(out->key, sizeof out->key, "lmtpd");
		return 1;
	default:
		return 0;
	}
}

int
proxy_dest_sole(const struct proxy_dest_cfg *c, const struct route_query *q,
    struct proxy_dest *out)
{
	struct route_target t;
	char word[sizeof t.value], kind[16];
	size_t i, n = 0;

	memset(&t, 0, sizeof t);
	for (i = 0; i <= q->ntables; i++) {
		const char *table = i < q->ntables ? q->tables[i] : "";

		if (cf_db_has_section(c->db, "route", table) != 1)
			continue;
		if (!cf_db_table_sole(c->db, table, word, sizeof word) ||
		    (n++ > 0 && strcmp(word, t.value) != 0))
			return 0;
		snprintf(t.value, sizeof t.value, "%s", word);
	}
	if (n == 0 ||
	    cf_db_target_kind(c->db, t.value, kind, sizeof kind) != 1 ||
	    strcmp(kind, "relay") != 0)
		return 0;
	t.kind = ROUTE_RELAY;
	return proxy_dest_of(c, &t, out);
}
