#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "base/strset.h"
#include "cf/cf_db.h"
#include "cf/cf_schema.h"

static int
add(struct cdb_make *cm, const struct buf *k, const struct buf *v)
{
	return cdb_make_add(cm, k->p, (unsigned)k->len, v->len ? v->p : "",
	    (unsigned)v->len);
}

static int
key3(struct buf *k, char tag, const char *a, const char *b, const char *c)
{
	buf_reset(k);
	if (buf_append_byte(k, tag) < 0 || buf_append_str(k, a) < 0)
		return -1;
	if (b && (buf_append_byte(k, '\0') < 0 || buf_append_str(k, b) < 0))
		return -1;
	if (c && (buf_append_byte(k, '\0') < 0 || buf_append_str(k, c) < 0))
		return -1;
	return 0;
}

static int
encode_words(struct buf *v, const struct cf_assign *a)
{
	size_t i;

	for (i = 0; i < a->nw; i++)
		if (buf_append_byte(v, a->w[i].quoted ? 'q' : 'a') < 0 ||
		    buf_append(v, a->w[i].s, a->w[i].len) < 0 ||
		    buf_append_byte(v, '\0') < 0)
			return -1;
	return 0;
}

/* The CF_DB_LHS_* bit of a left side's form. */
static unsigned char
route_lhs_form(const char *lhs)
{
	const char *at = strchr(lhs, '@');

	if (at == NULL)
		return CF_DB_LHS_NAME;
	if (at == lhs)
		return CF_DB_LHS_DOMAIN;
	return at[1] ? CF_DB_LHS_EXACT : CF_DB_LHS_LOCAL;
}

/* The domain part of a route left side, or NULL for user@ and names. */
static const char *
lhs_domain(const char *lhs)
{
	const char *at = strchr(lhs, '@');

	return at && at[1] ? at + 1 : NULL;
}

static int
emit_routes(struct cdb_make *cm, const struct cf_section *s, struct buf *k,
    struct buf *v)
{
	struct strset seen;
	uint32_t order = 0;
	size_t i;
	int ret = -1, sole = 1;
	unsigned char flags = 0;
	const struct cf_word *only = NULL;

	strset_init(&seen);

	for (i = 0; i < s->na; i++) {
		const struct cf_assign *a = &s->a[i];
		char *lhs;
		const char *dom;
		size_t len = strlen(a->key);
		unsigned char be[4];
		int r;

		if (strcmp(a->key, "file") == 0)
			continue;
		if (a->nw != 1 || (only != NULL && (only->len != a->w[0].len ||
		    memcmp(only->s, a->w[0].s, only->len) != 0)))
			sole = 0;
		only = a->nw == 1 ? &a->w[0] : only;
		if ((lhs = strdup(a->key)) == NULL)
			goto out;
		flags |= route_lhs_form(lhs);
		str_lower(lhs, len);
		order++;
		if (key3(k, 'R', s->name, lhs, NULL) < 0)
			goto fail;
		/* First match wins: a later duplicate could never match. The
		 * set (not cdb_make_exists, a linear scan) keeps this O(n). */
		r = strset_put(&seen, k->p, k->len, 0, NULL);
		if (r < 0)
			goto fail;
		if (r == 0) {
			free(lhs);
			continue;
		}
		be[0] = (unsigned char)(order >> 24);
		be[1] = (unsigned char)(order >> 16);
		be[2] = (unsigned char)(order >> 8);
		be[3] = (unsigned char)order;
		buf_reset(v);
		if (buf_append(v, be, 4) < 0 || encode_words(v, a) < 0 ||
		    add(cm, k, v) < 0)
			goto fail;
		if ((dom = lhs_domain(lhs)) != NULL) {
			if (key3(k, 'D', s->name, dom, NULL) < 0)
				goto fail;
			buf_reset(v);
			r = strset_put(&seen, k->p, k->len, 0, NULL);
			if (r < 0 || (r == 1 && add(cm, k, v) < 0))
				goto fail;
		}
		free(lhs);
		continue;
fail:
		free(lhs);
		goto out;
	}
	/* Which left-side forms exist, so lookups skip the absent ones. */
	if (key3(k, 'F', s->name, NULL, NULL) < 0)
		goto out;
	buf_reset(v);
	if (buf_append_byte(v, (char)flags) < 0 || add(cm, k, v) < 0)
		goto out;
	/* Every line's right side is one and the same word (cf_db_table_sole). */
	if (sole && only != NULL) {
		if (key3(k, 'S', s->name, NULL, NULL) < 0)
			goto out;
		buf_reset(v);
		if (buf_append(v, only->s, only->len) < 0 || add(cm, k, v) < 0)
			goto out;
	}
	ret = 0;
out:
	strset_free(&seen);
	return ret;
}

int
cf_emit(const struct cf *cf, int fd)
{
	struct cdb_make cm;
	struct buf k = BUF_INIT(0), v = BUF_INIT(0);
	size_t i, j;
	int r = -1;

	if (cdb_make_start(&cm, fd) < 0)
		return -1;
	if (cdb_make_add(&cm, "\0version", 8, CF_DB_VERSION,
	    sizeof CF_DB_VERSION - 1) < 0)
		goto out;
	for (i = 0; i < cf->ns; i++) {
		const struct cf_section *s = &cf->s[i];
		const struct cf_kind_def *kd = cf_schema_kind(s->kind);

		if (key3(&k, 'L', s->kind, NULL, NULL) < 0)
			goto out;
		buf_reset(&v);
		if (buf_append_str(&v, s->name) < 0 || add(&cm, &k, &v) < 0)
			goto out;
		if (kd && kd->is_target) {
			if (key3(&k, 'T', s->name, NULL, NULL) < 0)
				goto out;
			buf_reset(&v);
			if (buf_append_str(&v, s->kind) < 0 || add(&cm, &k, &v) < 0)
				goto out;
		}
		if (strcmp(s->kind, "route") == 0) {
			if (emit_routes(&cm, s, &k, &v) < 0)
				goto out;
			continue;
		}
		for (j = 0; j < s->na; j++) {
			if (key3(&k, 'K', s->kind, s->name, s->a[j].key) < 0)
				goto out;
			buf_reset(&v);
			if (encode_words(&v, &s->a[j]) < 0 || add(&cm, &k, &v) < 0)
				goto out;
		}
	}
	r = cdb_make_finish(&cm);
	buf_free(&k);
	buf_free(&v);
	return r;
out:
	/* tinycdb frees its tables only in cdb_make_finish; the caller
	 * gives up on this fd and exits, so that memory goes with it. */
	buf_free(&k);
	buf_free(&v);
	return -1;
}

int
cf_emit_passwd(const struct cf_db_pw *pw, size_t n, int fd)
{
	struct cdb_make cm;
	struct buf k = BUF_INIT(0), v = BUF_INIT(0);
	struct strset auths;
	size_t i, old;
	int r = -1, fresh;

	strset_init(&auths);
	if (cdb_make_start(&cm, fd) < 0)
		return -1;
	if (cdb_make_add(&cm, "\0version", 8, CF_DB_VERSION,
	    sizeof CF_DB_VERSION - 1) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		buf_reset(&k);
		buf_reset(&v);
		if (key3(&k, 'P', pw[i].auth, NULL, NULL) < 0 ||
		    buf_append_byte(&k, '\0') < 0 ||
		    buf_append(&k, pw[i].user, pw[i].ulen) < 0 ||
		    buf_append(&v, pw[i].hash, pw[i].hlen) < 0 ||
		    add(&cm, &k, &v) < 0)
			goto out;
		/* the first account's hash: what an unknown user costs */
		fresh = strset_put(&auths, pw[i].auth, strlen(pw[i].auth), i,
		    &old);
		if (fresh < 0 ||
		    (fresh == 1 &&
		        (key3(&k, 'Q', pw[i].auth, NULL, NULL) < 0 ||
		            add(&cm, &k, &v) < 0)))
			goto out;
	}
	r = cdb_make_finish(&cm);
out:
	strset_free(&auths);
	buf_free(&k);
	buf_free(&v);
	return r;
}
