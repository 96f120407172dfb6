/*
 * route_resolve: where an address goes, by DESIGN.md's routing rules.
 *
 * Pure given a lookup interface (route_ops): the CDB backs it in every
 * program, tests may back it with anything. Each table costs at most three
 * O(1) probes (user@domain, user@, @domain; or the bare name); the lowest
 * line order among the hits wins, because routes match in file order.
 * Tables are tried in the instance's order with [route] ("") last.
 *
 * Right-hand sides, comma lists allowed: `|/cmd args` (single-recipient
 * pipe), `@domain` (rewrite the domain), `user@` (that user at the same
 * domain), `user@domain` (rewrite), a [relay]/[pipe]/[reject] section
 * name, a host name (contains a dot, or [bracketed]: relay there), or a
 * local name (resolved again; with no route it is a system user for the
 * local mailer). An address (or name) routed to itself is delivered by
 * the local mailer, and a domain routed to itself makes every local part
 * there a virtual mailbox (catch-all). A rewritten address that matches no
 * route goes to its domain's MX. Local parts and domains match
 * case-insensitively (ASCII), and a local target's value is one spelling
 * per mailbox: the route line's, else the local part in lower case (see
 * add_mailbox() in route_resolve.c); rcpt keeps the address as given.
 * Loops and expansions deeper than ROUTE_MAX_DEPTH end in ROUTE_LOOP.
 */
#ifndef PM_ROUTE_RESOLVE_H
#define PM_ROUTE_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "cf/cf_words.h"

#define ROUTE_MAX_TABLES 16
#define ROUTE_MAX_TARGETS 1000
#define ROUTE_MAX_DEPTH 16
#define ROUTE_ADDR_MAX 320 /* 64 local + '@' + 255 domain, RFC 5321 4.5.3.1 */

enum route_kind {
	ROUTE_LOCAL,  /* value: system user name, for the local mailer */
	ROUTE_RELAY,  /* value: [relay] section name */
	ROUTE_PIPE,   /* value: [pipe] section name */
	ROUTE_CMD,    /* value: "|/path args" */
	ROUTE_HOST,   /* value: host name or [address], relay there */
	ROUTE_MX,     /* value: domain, deliver by its MX */
	ROUTE_REJECT  /* value: [reject] section name */
};

enum route_status {
	ROUTE_OK,
	ROUTE_NO_ROUTE,    /* the address itself matched nothing */
	ROUTE_LOCAL_DENIED,/* a bare local name where they are not allowed */
	ROUTE_LOOP,
	ROUTE_TOO_MANY,    /* expansion over ROUTE_MAX_TARGETS */
	ROUTE_BAD_ADDRESS,
	ROUTE_ERROR        /* lookup failed (I/O): temporary */
};

struct route_target {
	enum route_kind kind;
	char rcpt[ROUTE_ADDR_MAX + 1]; /* the address delivered to */
	char value[1024];
};

struct route_ops {
	int (*find)(void *ctx, const char *table, const char *key, size_t len,
	    uint32_t *order, struct cf_words *rhs);
	/* Writes "relay", "pipe" or "reject" for a target section: 1; else 0. */
	int (*target_kind)(void *ctx, const char *name, char *out, size_t cap);
	int (*routes_domain)(void *ctx, const char *table, const char *domain,
	    size_t len);
	void *ctx;
};

struct route_query {
	const char *tables[ROUTE_MAX_TABLES]; /* the instance's, without "" */
	size_t ntables;
	int local_names_ok; /* local-rcpt-to = yes, or a trusted local caller */
	const char *domains[4]; /* also ours: hostname, instance name */
	/* Left-side forms each table uses (tables[], then [route]); bits
	 * 1 user@domain, 2 user@, 4 @domain, 8 name. 0 = unknown: all. */
	unsigned char forms[ROUTE_MAX_TABLES + 1];
};

struct route_result {
	enum route_status status;
	struct route_target *t;
	size_t n, cap;
	char why[512];
	struct buf *trace; /* optional: one line per step, for --route */
};

void route_result_init(struct route_result *r, struct buf *trace);
void route_result_free(struct route_result *r);

/* Resolves addr (local@domain, or a local name). Returns r->status. */
enum route_status route_resolve(const struct route_ops *ops,
    const struct route_query *q, const char *addr, size_t len,
    struct route_result *r);

/* Does the instance route this domain (so unknown users get 550 5.1.1)? */
int route_is_our_domain(const struct route_ops *ops,
    const struct route_query *q, const char *domain, size_t len);

/* "local:joe", "relay:NAME", "mx:example.org", ... as the spool stores. */
int route_target_format(const struct route_target *t, char *out, size_t cap);
const char *route_kind_name(enum route_kind k);

#endif
