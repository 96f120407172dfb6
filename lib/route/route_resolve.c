#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/str.h"
#include "route/route_resolve.h"

struct walk {
	const struct route_ops *ops;
	const struct route_query *q;
	struct route_result *r;
	char chain[ROUTE_MAX_DEPTH + 1][ROUTE_ADDR_MAX + 1];
};

static const char *const kind_names[] = { "local", "relay", "pipe", "cmd",
	"host", "mx", "reject" };

const char *
route_kind_name(enum route_kind k)
{
	return kind_names[k];
}

void
route_result_init(struct route_result *r, struct buf *trace)
{
	memset(r, 0, sizeof *r);
	r->trace = trace;
}

void
route_result_free(struct route_result *r)
{
	free(r->t);
	r->t = NULL;
	r->n = r->cap = 0;
}

static void
trace(struct walk *w, int depth, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
trace(struct walk *w, int depth, const char *fmt, ...)
{
	va_list ap;

	if (w->r->trace == NULL)
		return;
	buf_printf(w->r->trace, "%*s", 2 * depth + 2, "");
	va_start(ap, fmt);
	buf_vprintf(w->r->trace, fmt, ap);
	va_end(ap);
	buf_append_byte(w->r->trace, '\n');
}

static enum route_status
fail(struct walk *w, enum route_status st, const char *fmt, const char *a)
{
	if (w->r->status == ROUTE_OK) {
		w->r->status = st;
		snprintf(w->r->why, sizeof w->r->why, fmt, a);
	}
	return st;
}

static enum route_status
add_target(struct walk *w, enum route_kind k, const char *rcpt,
    const char *val, size_t vlen, int depth)
{
	struct route_target *t;
	size_t i;

	/* The same delivery reached twice through a list is one delivery;
	 * for the local mailer that is the same mailbox (value), however
	 * the list spelled the address or the mailbox (ASCII case, as the
	 * lookup matches; the first spelling wins). */
	for (i = 0; i < w->r->n; i++)
		if (w->r->t[i].kind == k && strlen(w->r->t[i].value) == vlen &&
		    (k == ROUTE_LOCAL ?
		    str_ncasecmp(w->r->t[i].value, val, vlen) == 0 :
		    strcmp(w->r->t[i].rcpt, rcpt) == 0 &&
		    memcmp(w->r->t[i].value, val, vlen) == 0))
			return ROUTE_OK;
	if (w->r->n == ROUTE_MAX_TARGETS)
		return fail(w, ROUTE_TOO_MANY, "more than %s targets", "1000");
	if (vlen >= sizeof t->value || strlen(rcpt) >= sizeof t->rcpt)
		return fail(w, ROUTE_BAD_ADDRESS, "%s", "target too long");
	t = array_grow(w->r->t, &w->r->cap, w->r->n + 1, sizeof *t);
	if (t == NULL)
		return fail(w, ROUTE_ERROR, "%s", "out of memory");
	w->r->t = t;
	t = &w->r->t[w->r->n++];
	t->kind = k;
	snprintf(t->rcpt, sizeof t->rcpt, "%s", rcpt);
	memcpy(t->value, val, vlen);
	t->value[vlen] = '\0';
	trace(w, depth, "=> %s:%s (for %s)", kind_names[k], t->value, rcpt);
	return ROUTE_OK;
}

/*
 * A virtual mailbox for the local mailer: "local@domain", where the
 * mailbox name is one spelling whatever the case the sender used (else
 * ALICE@, Alice@ and alice@ are three Maildirs, and a sender can make
 * 2^n of them). A route line's spelling is kept (fold = 0): the operator
 * wrote it. With no line to give one, the local part is folded to lower
 * case, ASCII only: RFC 6531 defines no case equivalence for UTF-8 local
 * parts, and Unicode case mapping depends on the locale (Turkish i), so
 * octets >= 0x80 name the mailbox as they came. Domains are
 * case-insensitive (RFC 5321 2.4): always lower case.
 */
static enum route_status
add_mailbox(struct walk *w, const char *rcpt, const char *mbox, size_t n,
    int fold, int depth)
{
	char v[ROUTE_ADDR_MAX + 1];
	const char *at = memchr(mbox, '@', n);

	if (n >= sizeof v)
		return fail(w, ROUTE_BAD_ADDRESS, "%s", "address too long");
	memcpy(v, mbox, n);
	v[n] = '\0';
	if (fold || at == NULL)
		str_lower(v, n);
	else
		str_lower(v + (at - mbox), n - (size_t)(at - mbox));
	return add_target(w, ROUTE_LOCAL, rcpt, v, n, depth);
}

/* One table: the lowest order among user@domain, user@ and @domain. */
static int
find_in_table(struct walk *w, const char *table, unsigned forms,
    const char *addr, struct cf_words *rhs, char *matched, size_t mcap)
{
	/* Probe order: user@domain, user@, @domain; a bare name probes once. */
	static const unsigned bit[3] = { 0x01, 0x02, 0x04 };
	const char *at = strchr(addr, '@');
	char key[ROUTE_ADDR_MAX + 2];
	uint32_t order, best = UINT32_MAX;
	struct cf_words tmp;
	int r, found = 0, i;

	for (i = 0; i < 3; i++) {
		size_t len;

		if (at == NULL && i > 0)
			break;
		if (forms && !(forms & (at ? bit[i] : 0x08u)))
			continue;
		if (i == 0)
			len = strlen(addr);
		else if (i == 1)
			len = (size_t)(at - addr) + 1;
		else
			len = strlen(at);
		memcpy(key, i == 2 ? at : addr, len);
		key[len] = '\0';
		r = w->ops->find(w->ops->ctx, table, key, len, &order, &tmp);
		if (r < 0)
			return -1;
		if (r > 0 && order < best) {
			best = order;
			*rhs = tmp;
			snprintf(matched, mcap, "%s", key);
			found = 1;
		}
	}
	return found;
}

static int
lookup(struct walk *w, const char *addr, struct cf_words *rhs,
    const char **table, char *matched, size_t mcap)
{
	size_t i;
	int r;

	for (i = 0; i <= w->q->ntables; i++) {
		const char *t = i < w->q->ntables ? w->q->tables[i] : "";

		r = find_in_table(w, t, w->q->forms[i], addr, rhs, matched,
		    mcap);
		if (r != 0) {
			*table = t;
			return r;
		}
	}
	return 0;
}

static enum route_status resolve(struct walk *w, const char *addr, int depth);

static int
is_host_name(const char *s, size_t n)
{
	return (n > 2 && s[0] == '[' && s[n - 1] == ']') ||
	    memchr(s, '.', n) != NULL;
}

static enum route_status
expand_item(struct walk *w, const char *addr, const char *it, size_t n,
    int depth)
{
	char next[ROUTE_ADDR_MAX + 1], name[256], kind[16];
	const char *at = strchr(addr, '@');
	const char *iat = memchr(it, '@', n);
	int r;

	if (n && it[0] == '|')
		return add_target(w, ROUTE_CMD, addr, it, n, depth + 1);
	/* An address routed to itself is delivered here by the local
	 * mailer (virtual mailboxes), like a name mapped to itself; the
	 * mailbox is spelled as the route line spells it. */
	if (iat && strlen(addr) == n && str_ncasecmp(it, addr, n) == 0)
		return add_mailbox(w, addr, it, n, 0, depth + 1);
	/* A domain routed to itself: every local part there is a virtual
	 * mailbox (a catch-all), named in lower case. */
	if (iat == it && at && strlen(at) == n && str_ncasecmp(it, at, n) == 0)
		return add_mailbox(w, addr, addr, strlen(addr), 1, depth + 1);
	if (iat) {
		const char *local = addr;
		size_t llen = at ? (size_t)(at - addr) : strlen(addr);

		if (iat == it) { /* @domain: keep the local part */
			r = snprintf(next, sizeof next, "%.*s%.*s", (int)llen,
			    local, (int)n, it);
		} else if (iat == it + n - 1) { /* user@: keep the domain */
			r = snprintf(next, sizeof next, "%.*s%s", (int)(n - 1),
			    it, at ? at : "");
		} else {
			r = snprintf(next, sizeof next, "%.*s", (int)n, it);
		}
		if (r < 0 || (size_t)r >= sizeof next)
			return fail(w, ROUTE_BAD_ADDRESS, "%s",
			    "rewritten address too long");
		return resolve(w, next, depth + 1);
	}
	if (n >= sizeof name)
		return fail(w, ROUTE_BAD_ADDRESS, "%s", "target name too long");
	memcpy(name, it, n);
	name[n] = '\0';
	r = w->ops->target_kind(w->ops->ctx, name, kind, sizeof kind);
	if (r < 0)
		return fail(w, ROUTE_ERROR, "%s", "configuration lookup failed");
	if (r > 0) {
		enum route_kind k = strcmp(kind, "relay") == 0 ? ROUTE_RELAY :
		    strcmp(kind, "pipe") == 0 ? ROUTE_PIPE : ROUTE_REJECT;

		return add_target(w, k, addr, name, n, depth + 1);
	}
	if (is_host_name(name, n))
		return add_target(w, ROUTE_HOST, addr, name, n, depth + 1);
	/* A local name mapped to itself is that system user, not a loop. */
	if (str_casecmp(name, addr) == 0)
		return add_target(w, ROUTE_LOCAL, name, name, n, depth + 1);
	return resolve(w, name, depth + 1);
}

static enum route_status
resolve(struct walk *w, const char *addr_in, int depth)
{
	char addr[ROUTE_ADDR_MAX + 1], matched[ROUTE_ADDR_MAX + 2];
	const char *table = "";
	struct cf_words rhs;
	size_t len = strlen(addr_in), i, j;
	int r;

	if (len > ROUTE_ADDR_MAX)
		return fail(w, ROUTE_BAD_ADDRESS, "%s", "address too long");
	memcpy(addr, addr_in, len + 1);
	str_lower(addr, len);
	for (i = 0; i < (size_t)depth; i++)
		if (strcmp(w->chain[i], addr) == 0)
			return fail(w, ROUTE_LOOP, "routing loop at %s", addr);
	if (depth >= ROUTE_MAX_DEPTH)
		return fail(w, ROUTE_LOOP, "routes nested too deep at %s", addr);
	memcpy(w->chain[depth], addr, len + 1);

	r = lookup(w, addr, &rhs, &table, matched, sizeof matched);
	if (r < 0)
		return fail(w, ROUTE_ERROR, "%s", "route lookup failed");
	if (r == 0) {
		const char *at = strchr(addr_in, '@');

		if (at == NULL) {
			trace(w, depth, "%s: no route: a system user", addr_in);
			return add_mailbox(w, addr_in, addr_in, len, 1, depth);
		}
		if (depth == 0)
			return fail(w, ROUTE_NO_ROUTE, "no route for %s", addr_in);
		trace(w, depth, "%s: no route: by MX of %s", addr_in, at + 1);
		return add_target(w, ROUTE_MX, addr_in, at + 1, strlen(at + 1),
		    depth);
	}
	if (w->r->trace) {
		buf_printf(w->r->trace, "%*sroute.\"%s\".%s =", 2 * depth + 2, "",
		    table, matched);
		for (j = 0; j < rhs.n; j++)
			buf_printf(w->r->trace, " %.*s", (int)rhs.len[j], rhs.w[j]);
		buf_append_byte(w->r->trace, '\n');
	}
	for (j = 0; j < rhs.n; j++) {
		const char *s = rhs.w[j];
		size_t n = rhs.len[j], start = 0, k;

		if (rhs.quoted[j]) {
			if (expand_item(w, addr_in, s, n, depth) != ROUTE_OK)
				return w->r->status;
			continue;
		}
		for (k = 0; k <= n; k++) {
			if (k < n && s[k] != ',')
				continue;
			if (k > start &&
			    expand_item(w, addr_in, s + start, k - start, depth) !=
			    ROUTE_OK)
				return w->r->status;
			start = k + 1;
		}
	}
	return ROUTE_OK;
}

int
route_is_our_domain(const struct route_ops *ops, const struct route_query *q,
    const char *domain, size_t len)
{
	char d[256];
	size_t i;

	if (len == 0 || len >= sizeof d)
		return 0;
	memcpy(d, domain, len);
	d[len] = '\0';
	str_lower(d, len);
	for (i = 0; i < sizeof q->domains / sizeof q->domains[0]; i++)
		if (q->domains[i] && str_casecmp(q->domains[i], d) == 0)
			return 1;
	for (i = 0; i <= q->ntables; i++)
		if (ops->routes_domain(ops->ctx,
		    i < q->ntables ? q->tables[i] : "", d, len) > 0)
			return 1;
	return 0;
}

enum route_status
route_resolve(const struct route_ops *ops, const struct route_query *q,
    const char *addr, size_t len, struct route_result *r)
{
	struct walk walk, *w = &walk;
	char a[ROUTE_ADDR_MAX + 1];
	const char *at;

	r->status = ROUTE_OK;
	r->n = 0;
	r->why[0] = '\0';
	if (len == 0 || len > ROUTE_ADDR_MAX || memchr(addr, '\0', len)) {
		r->status = ROUTE_BAD_ADDRESS;
		snprintf(r->why, sizeof r->why, "bad address");
		return r->status;
	}
	memcpy(a, addr, len);
	a[len] = '\0';
	at = strchr(a, '@');
	if (at == NULL && !q->local_names_ok &&
	    str_casecmp(a, "postmaster") != 0) {
		r->status = ROUTE_LOCAL_DENIED;
		snprintf(r->why, sizeof r->why,
		    "local names are not accepted here: %s", a);
		return r->status;
	}
	/* On the stack and not zeroed: chain[] is written before it is read. */
	w->ops = ops;
	w->q = q;
	w->r = r;
	if (r->trace)
		buf_printf(r->trace, "%s\n", a);
	resolve(w, a, 0);
	/* RFC 5321 4.5.1: postmaster at any of our domains always works. */
	if (r->status == ROUTE_NO_ROUTE && at &&
	    str_ncasecmp(a, "postmaster@", 11) == 0 &&
	    route_is_our_domain(ops, q, at + 1, strlen(at + 1))) {
		r->status = ROUTE_OK;
		r->why[0] = '\0';
		r->n = 0;
		trace(w, 0, "postmaster of our domain %s (RFC 5321 4.5.1)",
		    at + 1);
		resolve(w, "postmaster", 1);
	}
	if (r->status != ROUTE_OK)
		r->n = 0;
	return r->status;
}

int
route_target_format(const struct route_target *t, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s:%s", kind_names[t->kind], t->value);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}
