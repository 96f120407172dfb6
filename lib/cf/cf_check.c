#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/strset.h"
#include "cf/cf_check.h"
#include "cf/cf_check_tls.h"
#include "cf/cf_schema.h"
#include "cf/cf_value.h"
#include "spf/spf_input.h"

struct checker {
	struct cf *cf;
	struct cf_diag *d;
	unsigned errs;
};

static struct cf_pos
word_pos(const struct cf_assign *a, size_t i)
{
	struct cf_pos p = a->pos;

	if (i < a->nw && a->w[i].col)
		p.col = a->w[i].col;
	return p;
}

static void
err(struct checker *c, struct cf_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
err(struct checker *c, struct cf_pos pos, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->errs++;
	cf_diag_error(c->d, pos, "%s", msg);
}

static int
in_list(const char *s, const char *list)
{
	size_t n = strlen(s);
	const char *p = list;

	while (list && *p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, s, n) == 0)
			return 1;
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	return 0;
}

static int
section_of_kinds(struct cf *cf, const char *name, const char *kinds)
{
	size_t i;

	for (i = 0; i < cf->ns; i++)
		if (strcmp(cf->s[i].name, name) == 0 &&
		    in_list(cf->s[i].kind, kinds))
			return 1;
	return 0;
}

static void
check_ref(struct checker *c, const struct cf_key_def *kd,
    const struct cf_assign *a, size_t i)
{
	const char *v = a->w[i].s;
	char kinds[64], builtin[64];

	if (kd->builtin && in_list(v, kd->builtin))
		return;
	if (section_of_kinds(c->cf, v, kd->arg))
		return;
	str_list_join(kinds, sizeof kinds, kd->arg, "] or [");
	if (kd->builtin) {
		str_list_join(builtin, sizeof builtin, kd->builtin, ", ");
		err(c, word_pos(a, i),
		    "%s '%s' refers to no [%s] section (built in: %s)", a->key, v,
		    kinds, builtin);
	} else {
		err(c, word_pos(a, i), "%s '%s' refers to no [%s] section",
		    a->key, v, kinds);
	}
}

static void
check_value(struct checker *c, const struct cf_key_def *kd,
    const struct cf_assign *a, size_t i)
{
	const char *v = a->w[i].s, *why = NULL;
	struct cf_hostport hp;
	uint64_t n, lo = 0, hi = UINT64_MAX;
	int b;

	switch (kd->type) {
	case CF_T_STRING:
		return;
	case CF_T_WORDS:
		if (strcmp(kd->key, "spf-exempt") == 0 &&
		    spf_input_net_match(v, "::") < 0)
			err(c, word_pos(a, i), "%s: '%s' is not an address or "
			    "ADDRESS/LENGTH network", a->key, v);
		return;
	case CF_T_BOOL:
		if (cf_value_bool(v, &b, &why) < 0)
			break;
		return;
	case CF_T_UINT:
		if (kd->arg)
			sscanf(kd->arg, "%lu-%lu", (unsigned long *)&lo,
			    (unsigned long *)&hi);
		if (cf_value_uint(v, lo, hi, &n, &why) < 0) {
			if (kd->arg && strcmp(why, "number out of range") == 0) {
				err(c, word_pos(a, i),
				    "%s must be %llu to %llu, not '%s'", a->key,
				    (unsigned long long)lo, (unsigned long long)hi, v);
				return;
			}
			break;
		}
		return;
	case CF_T_SIZE:
		if (cf_value_size(v, &n, &why) < 0)
			break;
		return;
	case CF_T_DURATION:
		if (cf_value_duration(v, &n, &why) < 0)
			break;
		return;
	case CF_T_ENUM:
		if (!in_list(v, kd->arg)) {
			char vals[160];

			str_list_join(vals, sizeof vals, kd->arg, ", ");
			err(c, word_pos(a, i), "%s must be one of %s, not '%s'",
			    a->key, vals, v);
		}
		return;
	case CF_T_REF:
		check_ref(c, kd, a, i);
		return;
	case CF_T_LISTEN:
		if (cf_value_listen(v, &hp, &why) < 0)
			break;
		if (!cf_value_port_number(hp.port) &&
		    getservbyname(hp.port, "tcp") == NULL) {
			err(c, word_pos(a, i),
			    "listen-port: unknown service '%s' (not in /etc/services)",
			    hp.port);
		}
		return;
	case CF_T_PATH:
		if (v[0] != '/') {
			why = "expected an absolute path";
			break;
		}
		return;
	case CF_T_ADDRESS:
		if (cf_value_address(v, &hp, &why) < 0)
			break;
		return;
	case CF_T_STATUS:
		if (cf_value_status(v, &why) < 0)
			break;
		return;
	}
	err(c, word_pos(a, i), "%s: %s, not '%s'", a->key, why ? why : "bad value",
	    v);
}

static void
check_assign(struct checker *c, const struct cf_kind_def *kd,
    struct cf_section *s, size_t ai)
{
	const struct cf_assign *a = &s->a[ai];
	const struct cf_key_def *key = cf_schema_key(kd, a->key);
	size_t j;

	if (key == NULL) {
		const char *sug = cf_diag_suggest(a->key, cf_schema_key_names(kd));

		if (sug)
			err(c, a->pos, "unknown key '%s' in [%s] (did you mean '%s'?)",
			    a->key, kd->kind, sug);
		else
			err(c, a->pos, "unknown key '%s' in [%s]", a->key, kd->kind);
		return;
	}
	if (!(key->flags & CF_MULTI)) {
		for (j = 0; j < ai; j++)
			if (strcmp(s->a[j].key, a->key) == 0) {
				err(c, a->pos, "'%s' is already set at line %u",
				    a->key, s->a[j].pos.line);
				return;
			}
	}
	if (key->type != CF_T_WORDS && a->nw > 1 &&
	    !(key->type == CF_T_REF && (key->flags & CF_MULTI))) {
		err(c, word_pos(a, 1), "%s takes one value", a->key);
		return;
	}
	for (j = 0; j < a->nw; j++)
		check_value(c, key, a, j);
}

int
cf_route_items(const struct cf_assign *a,
    int (*fn)(void *arg, const char *item, size_t len, unsigned col),
    void *arg)
{
	size_t i;

	for (i = 0; i < a->nw; i++) {
		const struct cf_word *w = &a->w[i];
		size_t start = 0, k;

		if (w->quoted) {
			if (fn(arg, w->s, w->len, w->col) < 0)
				return -1;
			continue;
		}
		for (k = 0; k <= w->len; k++) {
			if (k == w->len || w->s[k] == ',') {
				if (k > start &&
				    fn(arg, w->s + start, k - start,
				    w->col + (unsigned)start) < 0)
					return -1;
				start = k + 1;
			}
		}
	}
	return 0;
}

struct item_ctx {
	struct checker *c;
	const struct cf_assign *a;
	unsigned n;
};

static int
valid_domain(const char *d, size_t n)
{
	size_t i;

	if (n == 0 || n > 255 || d[0] == '.' || d[0] == '-' || d[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)d[i];

		if (!(ch >= 0x80 || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_'))
			return 0;
		if (ch == '.' && i + 1 < n && d[i + 1] == '.')
			return 0;
	}
	return 1;
}

static int
valid_local(const char *l, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)l[i] <= 0x20 || l[i] == '@' || l[i] == ',')
			return 0;
	return 1;
}

/* Accepts user@domain, user@, @domain and name; explains the rest. */
static const char *
address_form_error(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);

	if (at == NULL)
		return valid_local(s, n) ? NULL : "bad local name";
	if (memchr(at + 1, '@', n - (size_t)(at - s) - 1))
		return "more than one '@'";
	if (at == s && at + 1 == s + n)
		return "'@' alone is not an address";
	if (at > s && !valid_local(s, (size_t)(at - s)))
		return "bad local part";
	if (at + 1 < s + n && !valid_domain(at + 1, n - (size_t)(at - s) - 1))
		return "bad domain";
	return NULL;
}

static int
check_item(void *arg, const char *it, size_t len, unsigned col)
{
	struct item_ctx *x = arg;
	struct cf_pos pos = x->a->pos;
	const char *why;
	char name[256];
	size_t i;

	pos.col = col;
	x->n++;
	if (it[0] == '|') {
		if (len < 2 || it[1] != '/')
			err(x->c, pos, "pipe target must start with an absolute path: '%.*s'",
			    (int)len, it);
		return 0;
	}
	if ((why = address_form_error(it, len)) != NULL) {
		err(x->c, pos, "route target '%.*s': %s", (int)len, it, why);
		return 0;
	}
	if (memchr(it, '@', len) || len >= sizeof name)
		return 0;
	memcpy(name, it, len);
	name[len] = '\0';
	for (i = 0; i < x->c->cf->ns; i++) {
		const struct cf_section *s = &x->c->cf->s[i];
		const struct cf_kind_def *kd;

		if (strcmp(s->name, name) != 0 || s->name[0] == '\0')
			continue;
		kd = cf_schema_kind(s->kind);
		/* An [smtpd] name doubles as its host name (the seed). */
		if (kd && !kd->is_target && strcmp(s->kind, "smtpd") != 0)
			err(x->c, pos,
			    "route target '%s' names a [%s] section, which is "
			    "not a delivery target", name, s->kind);
	}
	return 0;
}

static void
check_route(struct checker *c, struct cf_section *s, size_t ai,
    struct strset *seen)
{
	const struct cf_assign *a = &s->a[ai];
	struct item_ctx x = { c, a, 0 };
	const char *why;
	char lower[512];
	size_t len = strlen(a->key), first;

	if (strcmp(a->key, "file") == 0)
		return; /* cf_load expanded it already */
	if ((why = address_form_error(a->key, strlen(a->key))) != NULL) {
		err(c, a->pos, "route '%s': %s", a->key, why);
		return;
	}
	if (len < sizeof lower) {
		memcpy(lower, a->key, len);
		str_lower(lower, len);
		if (strset_put(seen, lower, len, ai, &first) == 0)
			cf_diag_warn(c->d, a->pos,
			    "route '%s' never matches: %s:%u has the same left side",
			    a->key, s->a[first].pos.file, s->a[first].pos.line);
	}
	cf_route_items(a, check_item, &x);
	if (x.n == 0)
		err(c, word_pos(a, 0), "route '%s' has no target", a->key);
}

/* The first word of key in s, or NULL. */
static const struct cf_assign *
assign_of(const struct cf_section *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->na; i++)
		if (strcmp(s->a[i].key, key) == 0 && s->a[i].nw > 0)
			return &s->a[i];
	return NULL;
}

/* auth-required = yes needs an [auth] to log in with: without one the
 * instance would refuse every MAIL (smtpd fails closed). */
static void
check_auth_required(struct checker *c, const struct cf_section *s)
{
	const struct cf_assign *req = assign_of(s, "auth-required");
	const struct cf_assign *tls = assign_of(s, "tls");
	const char *why;
	int b;

	if (req == NULL || cf_value_bool(req->w[0].s, &b, &why) < 0 || !b)
		return;
	if (assign_of(s, "auth") == NULL)
		err(c, req->pos, "[smtpd \"%s\"]: auth-required = yes needs "
		    "auth (an [auth] section to check logins)", s->name);
	else if (tls == NULL || strcmp(tls->w[0].s, "off") == 0)
		err(c, req->pos, "[smtpd \"%s\"]: auth-required = yes needs "
		    "tls: AUTH is offered only under TLS, so every MAIL "
		    "would be refused", s->name);
}

/* No tls in the relay: [core] tls-client is its level, none included.
 * 1 when that is none (the error reported), else 0. */
static int
check_relay_auth_core(struct checker *c, const struct cf_section *s,
    const struct cf_assign *user)
{
	const struct cf_assign *d;
	size_t i;

	for (i = 0; i < c->cf->ns; i++) {
		if (strcmp(c->cf->s[i].kind, "core") != 0 ||
		    (d = assign_of(&c->cf->s[i], "tls-client")) == NULL ||
		    strcmp(d->w[0].s, "none") != 0)
			continue;
		err(c, user->pos, "[relay \"%s\"]: auth-user with [core] "
		    "tls-client = none and no tls here: the password is sent "
		    "only inside TLS", s->name);
		return 1;
	}
	return 0;
}

/* A [relay]'s AUTH keys go together, and never with tls = none: the
 * queue sends a password only inside TLS (RFC 4954 4 leaves that to
 * the client; postmaster-queue(8)), so the relay would get no mail. */
static void
check_relay_auth(struct checker *c, const struct cf_section *s)
{
	const struct cf_assign *user = assign_of(s, "auth-user");
	const struct cf_assign *file = assign_of(s, "auth-password-file");
	const struct cf_assign *tls = assign_of(s, "tls");

	if (user != NULL && file == NULL)
		err(c, user->pos, "[relay \"%s\"]: auth-user needs "
		    "auth-password-file", s->name);
	if (file != NULL && user == NULL)
		err(c, file->pos, "[relay \"%s\"]: auth-password-file needs "
		    "auth-user", s->name);
	if (user != NULL && tls != NULL && strcmp(tls->w[0].s, "none") == 0)
		err(c, tls->pos, "[relay \"%s\"]: tls = none with auth-user: "
		    "the password is sent only inside TLS", s->name);
	/* RFC 4616 2: an authentication identity is at most 255 octets
	 * (the queue and the proxy read it into that much) */
	if (user != NULL && strlen(user->w[0].s) > 255)
		err(c, user->pos, "[relay \"%s\"]: auth-user is over 255 "
		    "octets (RFC 4616)", s->name);
	if (user != NULL && tls == NULL && check_relay_auth_core(c, s, user))
		return;
	/* TLS without verification takes any certificate: who sits in the
	 * middle and offers one gets the password (doc/THREATS.md). */
	if (user != NULL && file != NULL &&
	    (tls == NULL || strcmp(tls->w[0].s, "may") == 0 ||
	        strcmp(tls->w[0].s, "encrypt") == 0))
		cf_diag_warn(c->d, user->pos, "[relay \"%s\"]: auth-user "
		    "without tls = verify: the relay's certificate is not "
		    "checked, so a man in the middle could take the password",
		    s->name);
}

static void
check_section(struct checker *c, struct cf_section *s)
{
	const struct cf_kind_def *kd = cf_schema_kind(s->kind);
	size_t i;

	if (kd == NULL) {
		const char *sug = cf_diag_suggest(s->kind, cf_schema_kind_names());

		if (sug)
			err(c, s->pos, "unknown section kind '%s' (did you mean '%s'?)",
			    s->kind, sug);
		else
			err(c, s->pos, "unknown section kind '%s'", s->kind);
		return;
	}
	if (kd->naming == CF_NAMED && s->name[0] == '\0')
		err(c, s->pos, "[%s] needs a name: [%s \"NAME\"]", s->kind, s->kind);
	if (kd->naming == CF_UNNAMED && s->name[0] != '\0')
		err(c, s->pos, "[%s] takes no name", s->kind);
	/* The instance a message records when no [smtpd] took it
	 * (postmaster-inject.c, inject_pickup.c, queue_bounce.c): an [smtpd]
	 * of that name would route their bounces. */
	if (strcmp(s->kind, "smtpd") == 0 && (strcmp(s->name, "inject") == 0 ||
	    strcmp(s->name, "queue") == 0))
		err(c, s->pos, "[smtpd \"%s\"]: the name is reserved (the queue "
		    "records it as the instance of %s)", s->name,
		    s->name[0] == 'i' ? "messages from postmaster-inject" :
		    "bounces");
	if (kd->keys == NULL) {
		struct strset seen;

		strset_init(&seen);
		for (i = 0; i < s->na; i++)
			check_route(c, s, i, &seen);
		strset_free(&seen);
	} else {
		for (i = 0; i < s->na; i++)
			check_assign(c, kd, s, i);
	}
	if (strcmp(s->kind, "smtpd") == 0)
		c->errs += cf_check_tls(s, c->d);
	if (strcmp(s->kind, "relay") == 0)
		check_relay_auth(c, s);
	if (strcmp(s->kind, "smtpd") == 0)
		check_auth_required(c, s);
	if (kd->keys) {
		const struct cf_key_def *key;

		for (key = kd->keys; key->key; key++) {
			if (!(key->flags & CF_REQUIRED))
				continue;
			for (i = 0; i < s->na; i++)
				if (strcmp(s->a[i].key, key->key) == 0)
					break;
			if (i == s->na)
				err(c, s->pos, "[%s \"%s\"] needs '%s'", s->kind,
				    s->name, key->key);
		}
	}
}

/* Route right-hand sides name targets by bare name: keep names unique. */
static void
check_target_names(struct checker *c)
{
	size_t i, j;

	for (i = 0; i < c->cf->ns; i++) {
		const struct cf_kind_def *ki = cf_schema_kind(c->cf->s[i].kind);

		if (ki == NULL || !ki->is_target)
			continue;
		for (j = 0; j < i; j++) {
			const struct cf_kind_def *kj =
			    cf_schema_kind(c->cf->s[j].kind);

			if (kj && kj->is_target &&
			    strcmp(c->cf->s[i].name, c->cf->s[j].name) == 0)
				err(c, c->cf->s[i].pos,
				    "name '%s' is already used by [%s] at line %u",
				    c->cf->s[i].name, c->cf->s[j].kind,
				    c->cf->s[j].pos.line);
		}
	}
}

unsigned
cf_check(struct cf *cf, struct cf_diag *d)
{
	struct checker c = { cf, d, 0 };
	size_t i;

	for (i = 0; i < cf->ns; i++)
		check_section(&c, &cf->s[i]);
	check_target_names(&c);
	return c.errs;
}
