#include <stdio.h>
#include <string.h>

#include "queue/queue_target.h"

static int
str_eq(const struct spool_str *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len >= n && memcmp(s->p, lit, n) == 0;
}

int
queue_target_is_local(const struct spool_dlv *d)
{
	return str_eq(&d->target, "local:");
}

/* The local mailer gets the local name, as procmail -d wants. */
static void
target_local(const struct queue_cfg *c, const char *v, struct queue_target *o)
{
	o->rcpt = v;
	if (strcmp(c->local_kind, "pipe") == 0) {
		o->k = QUEUE_T_PIPE;
		snprintf(o->name, sizeof o->name, "%s", c->local_mailer);
	} else if (strcmp(c->local_kind, "relay") == 0) {
		o->k = QUEUE_T_RELAY;
		o->network = 1;
		snprintf(o->name, sizeof o->name, "%s", c->local_mailer);
	} else {
		o->k = QUEUE_T_LMTPD;
	}
}

void
queue_target_of(const struct queue_cfg *c, const struct spool_dlv *d,
    struct queue_target *o)
{
	static const struct {
		const char *prefix;
		enum queue_target_kind k;
		int network;
	} tab[] = {
		{ "relay:", QUEUE_T_RELAY, 1 },
		{ "pipe:", QUEUE_T_PIPE, 0 },
		{ "cmd:", QUEUE_T_CMD, 0 },
		{ "host:", QUEUE_T_HOST, 1 },
		{ "mx:", QUEUE_T_MX, 1 },
		{ "reject:", QUEUE_T_REJECT, 0 },
		{ "error:", QUEUE_T_ERROR, 0 },
	};
	const char *t = d->target.p, *colon = strchr(t, ':');
	const char *v = colon ? colon + 1 : "";
	char kind[16];
	size_t i;

	o->k = QUEUE_T_BAD;
	o->rcpt = d->addr.p;
	o->network = 0;
	snprintf(o->name, sizeof o->name, "%s", v);
	if (queue_target_is_local(d))
		target_local(c, v, o);
	for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (str_eq(&d->target, tab[i].prefix)) {
			o->k = tab[i].k;
			o->network = tab[i].network;
		}
	/* A [pipe] or [relay] named by the route may since have changed. */
	if ((o->k == QUEUE_T_PIPE || o->k == QUEUE_T_RELAY) &&
	    (cf_db_target_kind(c->db, o->name, kind, sizeof kind) <= 0 ||
	        strcmp(kind, o->k == QUEUE_T_PIPE ? "pipe" : "relay") != 0))
		o->k = QUEUE_T_BAD;
}

int
queue_target_same(const struct queue_target *a, const struct queue_target *b)
{
	return a->k == b->k && strcmp(a->name, b->name) == 0;
}

size_t
queue_target_batch_max(const struct queue_cfg *c, const struct queue_target *t)
{
	uint64_t u = 1;

	switch (t->k) {
	case QUEUE_T_PIPE:
		if (cf_db_uint(c->db, "pipe", t->name, "max_rcpt_to", &u) <
		        0 ||
		    u == 0)
			u = 1;
		return u > QUEUE_BATCH_MAX ? QUEUE_BATCH_MAX : (size_t)u;
	case QUEUE_T_LMTPD:
	case QUEUE_T_RELAY:
	case QUEUE_T_HOST:
	case QUEUE_T_MX:
		return QUEUE_BATCH_MAX;
	default:
		return 1;
	}
}

int
queue_target_dest_key(const struct queue_target *t, uint64_t *key)
{
	uint64_t h = 14695981039346656037ULL;
	const unsigned char *p;
	int fold = t->k == QUEUE_T_HOST || t->k == QUEUE_T_MX;

	if (t->k == QUEUE_T_REJECT || t->k == QUEUE_T_ERROR ||
	    t->k == QUEUE_T_BAD)
		return 0;
	h = (h ^ (unsigned char)t->k) * 1099511628211ULL;
	if (t->k == QUEUE_T_LMTPD) {
		*key = h; /* one destination for every local name */
		return 1;
	}
	for (p = (const unsigned char *)t->name; *p; p++) {
		unsigned char ch = *p;

		if (fold && ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		h = (h ^ ch) * 1099511628211ULL;
	}
	*key = h;
	return 1;
}
