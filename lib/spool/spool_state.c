#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "spool/spool_state.h"

#define MAGIC "POSTMASTER-STATE"

static char *
dup_clean(const char *p, size_t n)
{
	char *s;
	size_t i;

	if (n > SPOOL_STATE_TEXT_MAX)
		n = SPOOL_STATE_TEXT_MAX;
	s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		s[i] = (p[i] == '\r' || p[i] == '\n' || p[i] == '\0') ?
		    ' ' : p[i];
	s[n] = '\0';
	return s;
}

static int
alloc_state(struct spool_state *st, size_t n)
{
	size_t i;

	st->n = 0;
	st->d = calloc(n ? n : 1, sizeof *st->d);
	if (st->d == NULL)
		return SPOOL_ENV_E_NOMEM;
	st->n = n;
	for (i = 0; i < n; i++) {
		st->d[i].relay = dup_clean("", 0);
		st->d[i].reply = dup_clean("", 0);
		if (st->d[i].relay == NULL || st->d[i].reply == NULL)
			return SPOOL_ENV_E_NOMEM;
	}
	return SPOOL_ENV_OK;
}

int
spool_state_from_env(struct spool_state *st, const struct spool_env *env)
{
	const struct spool_dlv *d;
	size_t i;
	int e;

	if ((e = alloc_state(st, env->ndlv)) != SPOOL_ENV_OK)
		return e;
	for (i = 0; i < env->ndlv; i++) {
		d = &env->dlv[i];
		if (d->status != SPOOL_ST_SENT)
			continue;
		/* Delivered by the proxy during the SMTP session. */
		if (spool_state_note(st, i, SPOOL_ST_SENT, 0, d->target.p,
		    d->target.len, d->reply.p, d->reply.len) < 0)
			return SPOOL_ENV_E_NOMEM;
	}
	return SPOOL_ENV_OK;
}

int
spool_state_note(struct spool_state *st, size_t i, enum spool_status s,
    int64_t next, const char *relay, size_t rlen, const char *reply,
    size_t plen)
{
	struct spool_dstate *d;
	char *r, *p;

	if (i >= st->n || (unsigned)s > SPOOL_ST_BOUNCED) {
		errno = EINVAL;
		return -1;
	}
	r = dup_clean(relay ? relay : "", relay ? rlen : 0);
	p = dup_clean(reply ? reply : "", reply ? plen : 0);
	if (r == NULL || p == NULL) {
		free(r);
		free(p);
		errno = ENOMEM;
		return -1;
	}
	d = &st->d[i];
	free(d->relay);
	free(d->reply);
	d->relay = r;
	d->reply = p;
	d->status = s;
	d->next = next;
	if (d->attempts < UINT32_MAX)
		d->attempts++;
	return 0;
}

int
spool_state_done(const struct spool_state *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->d[i].status == SPOOL_ST_PENDING ||
		    st->d[i].status == SPOOL_ST_FAILED)
			return 0;
	return 1;
}

static int
clean_text(const char *s)
{
	size_t n = strlen(s);

	return n <= SPOOL_STATE_TEXT_MAX && !memchr(s, '\r', n) &&
	    !memchr(s, '\n', n);
}

int
spool_state_encode(struct buf *out, const struct spool_state *st)
{
	const struct spool_dstate *d;
	size_t start = out->len, i;
	int e = SPOOL_ENV_OK;

	if (buf_printf(out, MAGIC " %d\n", SPOOL_STATE_VERSION) < 0)
		goto sys;
	for (i = 0; i < st->n; i++) {
		d = &st->d[i];
		if ((unsigned)d->status > SPOOL_ST_BOUNCED) {
			e = SPOOL_ENV_E_STATUS;
			goto out;
		}
		if (d->next < 0) {
			e = SPOOL_ENV_E_NUMBER;
			goto out;
		}
		if (!clean_text(d->relay) || !clean_text(d->reply)) {
			e = SPOOL_ENV_E_CHAR;
			goto out;
		}
		if (buf_printf(out, "dlv %zu %s %" PRIu32 " %" PRId64 "\n"
		    "relay %s\nreply %s\n", i, spool_status_name(d->status),
		    d->attempts, d->next, d->relay, d->reply) < 0)
			goto sys;
	}
	if (buf_append_str(out, "end\n") < 0)
		goto sys;
	return SPOOL_ENV_OK;
sys:
	e = errno == ERANGE ? SPOOL_ENV_E_TOOBIG : SPOOL_ENV_E_NOMEM;
out:
	out->len = start;
	if (out->p)
		out->p[start] = '\0';
	return e;
}

/* ---- decoder ---- */

struct cur {
	const char *p;
	size_t n, pos;
	const char *line;
	size_t len;
};

static int
next_line(struct cur *c)
{
	const char *nl;

	nl = memchr(c->p + c->pos, '\n', c->n - c->pos);
	if (nl == NULL)
		return SPOOL_ENV_E_TRUNC;
	c->line = c->p + c->pos;
	c->len = (size_t)(nl - c->line);
	c->pos += c->len + 1;
	if (memchr(c->line, '\r', c->len) || memchr(c->line, '\0', c->len))
		return SPOOL_ENV_E_CHAR;
	return SPOOL_ENV_OK;
}

/* Splits off one space-terminated token; canonical decimal only. */
static int
take_num(const char **s, const char *end, uint64_t *out, int last)
{
	const char *p = *s;
	uint64_t n = 0;
	size_t k = 0;

	while (p < end && *p != ' ') {
		if (*p < '0' || *p > '9' ||
		    __builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(*p - '0'), &n))
			return SPOOL_ENV_E_NUMBER;
		p++;
		k++;
	}
	if (k == 0 || k > 20 || (k > 1 && **s == '0'))
		return SPOOL_ENV_E_NUMBER;
	if (last ? p != end : (p == end || p + 1 == end))
		return SPOOL_ENV_E_RECORD;
	*s = last ? p : p + 1;
	*out = n;
	return SPOOL_ENV_OK;
}

static int
take_text(struct cur *c, const char *key, char **out)
{
	size_t kl = strlen(key);
	int e;

	if ((e = next_line(c)) != SPOOL_ENV_OK)
		return e;
	if (c->len < kl + 1 || memcmp(c->line, key, kl) != 0 ||
	    c->line[kl] != ' ')
		return SPOOL_ENV_E_RECORD;
	if (c->len - kl - 1 > SPOOL_STATE_TEXT_MAX)
		return SPOOL_ENV_E_LONG;
	free(*out);
	*out = dup_clean(c->line + kl + 1, c->len - kl - 1);
	return *out ? SPOOL_ENV_OK : SPOOL_ENV_E_NOMEM;
}

static int
decode_dlv(struct cur *c, struct spool_dstate *d, size_t i)
{
	const char *s, *end;
	uint64_t v;
	int e, k;

	if ((e = next_line(c)) != SPOOL_ENV_OK)
		return e;
	s = c->line;
	end = c->line + c->len;
	if (c->len < 4 || memcmp(s, "dlv ", 4) != 0)
		return SPOOL_ENV_E_RECORD;
	s += 4;
	if ((e = take_num(&s, end, &v, 0)) != SPOOL_ENV_OK)
		return e;
	if (v != i)
		return SPOOL_ENV_E_RECORD;
	for (k = SPOOL_ST_PENDING; k <= SPOOL_ST_BOUNCED; k++) {
		const char *nm = spool_status_name((enum spool_status)k);
		size_t nl = strlen(nm);

		if ((size_t)(end - s) > nl && memcmp(s, nm, nl) == 0 &&
		    s[nl] == ' ')
			break;
	}
	if (k > SPOOL_ST_BOUNCED)
		return SPOOL_ENV_E_STATUS;
	d->status = (enum spool_status)k;
	s += strlen(spool_status_name(d->status)) + 1;
	if ((e = take_num(&s, end, &v, 0)) != SPOOL_ENV_OK)
		return e;
	if (v > UINT32_MAX)
		return SPOOL_ENV_E_NUMBER;
	d->attempts = (uint32_t)v;
	if ((e = take_num(&s, end, &v, 1)) != SPOOL_ENV_OK)
		return e;
	if (v > INT64_MAX)
		return SPOOL_ENV_E_NUMBER;
	d->next = (int64_t)v;
	if ((e = take_text(c, "relay", &d->relay)) != SPOOL_ENV_OK)
		return e;
	return take_text(c, "reply", &d->reply);
}

int
spool_state_decode(struct spool_state *st, const void *p, size_t n,
    size_t ndlv)
{
	struct cur c = { p, n, 0, NULL, 0 };
	size_t i;
	int e;

	if ((e = alloc_state(st, ndlv)) != SPOOL_ENV_OK)
		return e;
	if ((e = next_line(&c)) != SPOOL_ENV_OK)
		return e;
	if (c.len != sizeof MAGIC + 1 || memcmp(c.line, MAGIC " ", sizeof MAGIC))
		return SPOOL_ENV_E_MAGIC;
	if (c.line[sizeof MAGIC] != '0' + SPOOL_STATE_VERSION)
		return SPOOL_ENV_E_VERSION;
	for (i = 0; i < ndlv; i++)
		if ((e = decode_dlv(&c, &st->d[i], i)) != SPOOL_ENV_OK)
			return e;
	if ((e = next_line(&c)) != SPOOL_ENV_OK)
		return e;
	/* Exactly the envelope's deliveries, and nothing after "end". */
	if (c.len != 3 || memcmp(c.line, "end", 3) != 0 || c.pos != c.n)
		return SPOOL_ENV_E_RECORD;
	return SPOOL_ENV_OK;
}

void
spool_state_free(struct spool_state *st)
{
	size_t i;

	if (st->d == NULL)
		return;
	for (i = 0; i < st->n; i++) {
		free(st->d[i].relay);
		free(st->d[i].reply);
	}
	free(st->d);
	st->d = NULL;
	st->n = 0;
}
