#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "spool/spool_env.h"

#define MAGIC "POSTMASTER-SPOOL"

static const char *const body_names[] = { "7BIT", "8BITMIME", "BINARYMIME" };

struct spool_str
spool_str_c(const char *s)
{
	struct spool_str r;

	r.p = s ? s : "";
	r.len = s ? strlen(s) : 0;
	return r;
}

const char *
spool_env_body_name(enum spool_body b)
{
	if ((unsigned)b > SPOOL_BODY_BINARYMIME)
		return "?";
	return body_names[b];
}

const char *
spool_status_name(enum spool_status s)
{
	switch (s) {
	case SPOOL_ST_PENDING:
		return "pending";
	case SPOOL_ST_SENT:
		return "sent";
	case SPOOL_ST_FAILED:
		return "failed";
	case SPOOL_ST_BOUNCED:
		return "bounced";
	}
	return "?";
}

const char *
spool_env_strerror(int err)
{
	switch (err) {
	case SPOOL_ENV_OK:
		return "ok";
	case SPOOL_ENV_E_NOMEM:
		return "out of memory";
	case SPOOL_ENV_E_TOOBIG:
		return "envelope too large";
	case SPOOL_ENV_E_TRUNC:
		return "envelope truncated";
	case SPOOL_ENV_E_MAGIC:
		return "not a spool file";
	case SPOOL_ENV_E_VERSION:
		return "unknown spool format version";
	case SPOOL_ENV_E_RECORD:
		return "unexpected record";
	case SPOOL_ENV_E_CHAR:
		return "CR, LF or NUL in a field";
	case SPOOL_ENV_E_LONG:
		return "field too long";
	case SPOOL_ENV_E_EMPTY:
		return "required field empty";
	case SPOOL_ENV_E_ID:
		return "malformed queue id";
	case SPOOL_ENV_E_NUMBER:
		return "malformed number";
	case SPOOL_ENV_E_BODY:
		return "unknown body type";
	case SPOOL_ENV_E_FLAG:
		return "flag is not 0 or 1";
	case SPOOL_ENV_E_NODLV:
		return "no deliveries";
	case SPOOL_ENV_E_TOOMANY:
		return "too many deliveries";
	case SPOOL_ENV_E_GROUP:
		return "deliveries not grouped by recipient";
	case SPOOL_ENV_E_STATUS:
		return "bad initial delivery status";
	}
	return "unknown error";
}

/* ---- encoder ---- */

/* The one check that keeps envelope data from forging records. */
static int
check_value(struct spool_str v, const struct spool_env_limits *lim,
    int required)
{
	if (v.len > 0 && v.p == NULL)
		return SPOOL_ENV_E_EMPTY;
	if (v.len > lim->max_field)
		return SPOOL_ENV_E_LONG;
	if (v.len > 0 && (memchr(v.p, '\n', v.len) || memchr(v.p, '\r', v.len) ||
	    memchr(v.p, '\0', v.len)))
		return SPOOL_ENV_E_CHAR;
	if (required && v.len == 0)
		return SPOOL_ENV_E_EMPTY;
	return SPOOL_ENV_OK;
}

static int
put(struct buf *out, const char *key, struct spool_str v,
    const struct spool_env_limits *lim, int required)
{
	int e;

	if ((e = check_value(v, lim, required)) != SPOOL_ENV_OK)
		return e;
	if (buf_append_str(out, key) < 0 || buf_append_byte(out, ' ') < 0 ||
	    buf_append(out, v.p, v.len) < 0 || buf_append_byte(out, '\n') < 0)
		return errno == ERANGE ? SPOOL_ENV_E_TOOBIG : SPOOL_ENV_E_NOMEM;
	return SPOOL_ENV_OK;
}

static int
put_num(struct buf *out, const char *key, uint64_t n)
{
	if (buf_printf(out, "%s %" PRIu64 "\n", key, n) < 0)
		return errno == ERANGE ? SPOOL_ENV_E_TOOBIG : SPOOL_ENV_E_NOMEM;
	return SPOOL_ENV_OK;
}

static int
encode(struct buf *out, const struct spool_env *env,
    const struct spool_env_limits *lim)
{
	const struct spool_dlv *d;
	size_t i;
	int e;

	if (!spool_id_valid(env->id, strnlen(env->id, SPOOL_ID_SIZE)))
		return SPOOL_ENV_E_ID;
	if (env->arrival < 0)
		return SPOOL_ENV_E_NUMBER;
	if ((unsigned)env->body > SPOOL_BODY_BINARYMIME)
		return SPOOL_ENV_E_BODY;
	if (env->smtputf8 != 0 && env->smtputf8 != 1)
		return SPOOL_ENV_E_FLAG;
	if (env->ndlv == 0 || env->dlv == NULL)
		return SPOOL_ENV_E_NODLV;
	if (env->ndlv > lim->max_dlv)
		return SPOOL_ENV_E_TOOMANY;

	if (buf_printf(out, MAGIC " %d\n", SPOOL_ENV_VERSION) < 0)
		return errno == ERANGE ? SPOOL_ENV_E_TOOBIG : SPOOL_ENV_E_NOMEM;
	if ((e = put(out, "id", spool_str_c(env->id), lim, 1)) ||
	    (e = put_num(out, "arrival", (uint64_t)env->arrival)) ||
	    (e = put(out, "helo", env->helo, lim, 0)) ||
	    (e = put(out, "client", env->client, lim, 0)) ||
	    (e = put(out, "proto", env->proto, lim, 1)) ||
	    (e = put(out, "instance", env->instance, lim, 0)) ||
	    (e = put(out, "auth", env->auth, lim, 0)) ||
	    (e = put(out, "sender", env->sender, lim, 0)) ||
	    (e = put(out, "body", spool_str_c(body_names[env->body]), lim, 1)) ||
	    (e = put_num(out, "smtputf8", (uint64_t)env->smtputf8)) ||
	    (e = put_num(out, "size", env->size)) ||
	    (e = put_num(out, "wire", (uint64_t)(env->wire != 0))))
		return e;

	for (i = 0; i < env->ndlv; i++) {
		d = &env->dlv[i];
		/* Adjacent and numbered in order, so the runner can group. */
		if (i == 0 ? d->rcpt != 0 :
		    d->rcpt != env->dlv[i - 1].rcpt &&
		    d->rcpt != env->dlv[i - 1].rcpt + 1)
			return SPOOL_ENV_E_GROUP;
		if (i == 0 || d->rcpt != env->dlv[i - 1].rcpt) {
			if ((e = put(out, "rcpt", d->orig, lim, 1)))
				return e;
		} else {
			const struct spool_dlv *p = &env->dlv[i - 1];

			/* One orig per group: the file stores it once. */
			if (d->orig.len != p->orig.len || (d->orig.len &&
			    memcmp(d->orig.p, p->orig.p, d->orig.len)))
				return SPOOL_ENV_E_GROUP;
		}
		if ((e = put(out, "deliver", d->addr, lim, 1)) ||
		    (e = put(out, "target", d->target, lim, 1)))
			return e;
		if (d->status == SPOOL_ST_SENT) {
			if ((e = put(out, "proxied", d->reply, lim, 0)))
				return e;
		} else if (d->status != SPOOL_ST_PENDING)
			return SPOOL_ENV_E_STATUS;
	}
	if (buf_append_str(out, "end\n") < 0)
		return errno == ERANGE ? SPOOL_ENV_E_TOOBIG : SPOOL_ENV_E_NOMEM;
	return SPOOL_ENV_OK;
}

int
spool_env_encode(struct buf *out, const struct spool_env *env,
    const struct spool_env_limits *lim)
{
	size_t start = out->len;
	int e;

	e = encode(out, env, lim);
	if (e == SPOOL_ENV_OK && out->len - start > lim->max_env)
		e = SPOOL_ENV_E_TOOBIG;
	if (e != SPOOL_ENV_OK) {
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
	}
	return e;
}

/* ---- decoder ---- */

struct rd {
	char *s;	/* our copy of the input */
	size_t n;	/* bytes in the copy */
	size_t pos;
	int more;	/* input continues beyond the copy */
	const struct spool_env_limits *lim;
	/* the current line, split */
	const char *key;
	size_t keylen;
	int hasval;
	struct spool_str val;
};

/* Reads the next record into r->key / r->val. */
static int
rd_next(struct rd *r)
{
	char *line, *nl, *sp;
	size_t len;

	line = r->s + r->pos;
	nl = memchr(line, '\n', r->n - r->pos);
	if (nl == NULL)
		return r->more ? SPOOL_ENV_E_TOOBIG : SPOOL_ENV_E_TRUNC;
	len = (size_t)(nl - line);
	*nl = '\0';
	r->pos += len + 1;
	if (memchr(line, '\r', len) || memchr(line, '\0', len))
		return SPOOL_ENV_E_CHAR;
	sp = memchr(line, ' ', len);
	r->key = line;
	r->keylen = sp ? (size_t)(sp - line) : len;
	r->hasval = sp != NULL;
	r->val.p = sp ? sp + 1 : line + len;
	r->val.len = sp ? len - r->keylen - 1 : 0;
	if (r->val.len > r->lim->max_field)
		return SPOOL_ENV_E_LONG;
	return SPOOL_ENV_OK;
}

static int
is_key(const struct rd *r, const char *key)
{
	return r->hasval && r->keylen == strlen(key) &&
	    memcmp(r->key, key, r->keylen) == 0;
}

static int
expect(struct rd *r, const char *key, struct spool_str *v, int required)
{
	int e;

	if ((e = rd_next(r)) != SPOOL_ENV_OK)
		return e;
	if (!is_key(r, key))
		return SPOOL_ENV_E_RECORD;
	if (required && r->val.len == 0)
		return SPOOL_ENV_E_EMPTY;
	*v = r->val;
	return SPOOL_ENV_OK;
}

/* Canonical decimal only: the encoder's output and nothing else. */
static int
parse_u64(struct spool_str v, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (v.len == 0 || v.len > 20 || (v.len > 1 && v.p[0] == '0'))
		return SPOOL_ENV_E_NUMBER;
	for (i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return SPOOL_ENV_E_NUMBER;
		if (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(v.p[i] - '0'), &n))
			return SPOOL_ENV_E_NUMBER;
	}
	*out = n;
	return SPOOL_ENV_OK;
}

static int
expect_num(struct rd *r, const char *key, uint64_t *out)
{
	struct spool_str v;
	int e;

	if ((e = expect(r, key, &v, 1)) != SPOOL_ENV_OK)
		return e == SPOOL_ENV_E_EMPTY ? SPOOL_ENV_E_NUMBER : e;
	return parse_u64(v, out);
}

static int
add_dlv(struct spool_env *env, size_t *cap, const struct spool_env_limits *lim)
{
	struct spool_dlv *nd;
	size_t ncap;

	if (env->ndlv >= lim->max_dlv)
		return SPOOL_ENV_E_TOOMANY;
	if (env->ndlv == *cap) {
		ncap = *cap ? *cap * 2 : 8;
		if (ncap > lim->max_dlv)
			ncap = lim->max_dlv;
		nd = array_resize(env->dlv, ncap, sizeof *nd);
		if (nd == NULL)
			return SPOOL_ENV_E_NOMEM;
		env->dlv = nd;
		*cap = ncap;
	}
	memset(&env->dlv[env->ndlv], 0, sizeof env->dlv[0]);
	env->ndlv++;
	return SPOOL_ENV_OK;
}

enum { ST_RCPT, ST_DELIVER, ST_TARGET, ST_AFTER_TARGET, ST_AFTER_PROXIED };

/* have: the first record is read already. */
static int
decode_dlv(struct rd *r, struct spool_env *env, int have)
{
	struct spool_dlv *d = NULL;
	struct spool_str orig = { "", 0 };
	size_t cap = 0;
	int st = ST_RCPT, e;

	for (;; have = 0) {
		if (!have && (e = rd_next(r)) != SPOOL_ENV_OK)
			return e;
		if (!r->hasval && r->keylen == 3 && memcmp(r->key, "end", 3) == 0) {
			if (st == ST_RCPT)
				return SPOOL_ENV_E_NODLV;
			if (st != ST_AFTER_TARGET && st != ST_AFTER_PROXIED)
				return SPOOL_ENV_E_RECORD;
			return SPOOL_ENV_OK;
		}
		if (is_key(r, "rcpt") && (st == ST_RCPT ||
		    st == ST_AFTER_TARGET || st == ST_AFTER_PROXIED)) {
			if (r->val.len == 0)
				return SPOOL_ENV_E_EMPTY;
			orig = r->val;
			env->nrcpt++;
			st = ST_DELIVER;
		} else if (is_key(r, "deliver") && (st == ST_DELIVER ||
		    st == ST_AFTER_TARGET || st == ST_AFTER_PROXIED)) {
			if (r->val.len == 0)
				return SPOOL_ENV_E_EMPTY;
			if ((e = add_dlv(env, &cap, r->lim)) != SPOOL_ENV_OK)
				return e;
			d = &env->dlv[env->ndlv - 1];
			d->rcpt = env->nrcpt - 1;
			d->orig = orig;
			d->addr = r->val;
			d->status = SPOOL_ST_PENDING;
			d->reply.p = "";
			st = ST_TARGET;
		} else if (is_key(r, "target") && st == ST_TARGET) {
			if (r->val.len == 0)
				return SPOOL_ENV_E_EMPTY;
			d->target = r->val;
			st = ST_AFTER_TARGET;
		} else if (is_key(r, "proxied") && st == ST_AFTER_TARGET) {
			d->status = SPOOL_ST_SENT;
			d->reply = r->val;
			st = ST_AFTER_PROXIED;
		} else
			return SPOOL_ENV_E_RECORD;
	}
}

static int
decode(struct rd *r, struct spool_env *env)
{
	struct spool_str v;
	uint64_t n;
	int e;

	/* Say "not a spool file" as soon as the first bytes show it. */
	n = r->n < sizeof MAGIC - 1 ? r->n : sizeof MAGIC - 1;
	if (memcmp(r->s, MAGIC, n) != 0)
		return SPOOL_ENV_E_MAGIC;
	if ((e = rd_next(r)) != SPOOL_ENV_OK)
		return e;
	if (!is_key(r, MAGIC))
		return SPOOL_ENV_E_MAGIC;
	if (parse_u64(r->val, &n) != SPOOL_ENV_OK || n != SPOOL_ENV_VERSION)
		return SPOOL_ENV_E_VERSION;

	if ((e = expect(r, "id", &v, 1)) != SPOOL_ENV_OK)
		return e == SPOOL_ENV_E_EMPTY ? SPOOL_ENV_E_ID : e;
	if (!spool_id_valid(v.p, v.len))
		return SPOOL_ENV_E_ID;
	memcpy(env->id, v.p, SPOOL_ID_LEN);
	env->id[SPOOL_ID_LEN] = '\0';
	if ((e = expect_num(r, "arrival", &n)) != SPOOL_ENV_OK)
		return e;
	if (n > INT64_MAX)
		return SPOOL_ENV_E_NUMBER;
	env->arrival = (int64_t)n;
	if ((e = expect(r, "helo", &env->helo, 0)) ||
	    (e = expect(r, "client", &env->client, 0)) ||
	    (e = expect(r, "proto", &env->proto, 1)) ||
	    (e = expect(r, "instance", &env->instance, 0)) ||
	    (e = expect(r, "auth", &env->auth, 0)) ||
	    (e = expect(r, "sender", &env->sender, 0)))
		return e;
	if ((e = expect(r, "body", &v, 0)) != SPOOL_ENV_OK)
		return e;
	for (n = 0; n <= SPOOL_BODY_BINARYMIME; n++)
		if (v.len == strlen(body_names[n]) &&
		    memcmp(v.p, body_names[n], v.len) == 0)
			break;
	if (n > SPOOL_BODY_BINARYMIME)
		return SPOOL_ENV_E_BODY;
	env->body = (enum spool_body)n;
	if ((e = expect_num(r, "smtputf8", &n)) != SPOOL_ENV_OK)
		return e == SPOOL_ENV_E_NUMBER ? SPOOL_ENV_E_FLAG : e;
	if (n > 1)
		return SPOOL_ENV_E_FLAG;
	env->smtputf8 = (int)n;
	if ((e = expect_num(r, "size", &env->size)) != SPOOL_ENV_OK)
		return e;
	/* Files written before "wire" existed lack it: 0, not known. */
	if ((e = rd_next(r)) != SPOOL_ENV_OK)
		return e;
	if (!is_key(r, "wire"))
		return decode_dlv(r, env, 1);
	if (parse_u64(r->val, &n) != SPOOL_ENV_OK || n > 1)
		return SPOOL_ENV_E_FLAG;
	env->wire = (int)n;
	return decode_dlv(r, env, 0);
}

int
spool_env_decode(struct spool_env *env, const void *p, size_t n,
    const struct spool_env_limits *lim, size_t *used)
{
	struct rd r;
	size_t take;
	int e;

	memset(env, 0, sizeof *env);
	memset(&r, 0, sizeof r);
	/* Never look past max_env: the rest is body, or an attack. */
	take = n < lim->max_env ? n : lim->max_env;
	r.more = n >= lim->max_env;
	r.n = take;
	r.lim = lim;
	r.s = malloc(take + 1);
	if (r.s == NULL)
		return SPOOL_ENV_E_NOMEM;
	if (take)
		memcpy(r.s, p, take);
	r.s[take] = '\0';
	env->priv = r.s;
	e = decode(&r, env);
	if (e == SPOOL_ENV_OK && used != NULL)
		*used = r.pos;
	return e;
}

void
spool_env_free(struct spool_env *env)
{
	if (env->priv == NULL)
		return;
	free(env->priv);
	free(env->dlv);
	env->priv = NULL;
	env->dlv = NULL;
	env->ndlv = 0;
}

size_t
spool_env_wire_offset(const char *p, size_t n)
{
	const char *nl, *end = p + n;
	const char *line = p;

	/* values hold no LF, so each line is one record */
	while ((nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		if ((size_t)(nl - line) == 6 && memcmp(line, "wire ", 5) == 0)
			return (size_t)(line - p) + 5;
		line = nl + 1;
	}
	return 0;
}
