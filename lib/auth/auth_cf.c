#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_cf.h"
#include "auth/auth_pwfile.h"
#include "base/array.h"
#include "base/buf.h"
#include "cf/cf_load.h"

struct collect {
	struct auth_cf *a;
	const char *auth;
};

static char *
dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static int
add_account(void *arg, const char *user, size_t ulen, const char *hash,
    size_t hlen)
{
	struct collect *c = arg;
	struct auth_cf *a = c->a;
	struct cf_db_pw *pw, *v;

	if ((pw = array_grow(a->pw, &a->cap, a->n + 1, sizeof *pw)) == NULL)
		return -1;
	a->pw = pw;
	v = &a->pw[a->n];
	memset(v, 0, sizeof *v);
	v->auth = dup_n(c->auth, strlen(c->auth));
	v->user = dup_n(user, ulen);
	v->hash = dup_n(hash, hlen);
	v->ulen = ulen;
	v->hlen = hlen;
	a->n++;
	if (v->auth == NULL || v->user == NULL || v->hash == NULL)
		return -1;
	return 0;
}

static const struct cf_assign *
find_key(const struct cf_section *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->na; i++)
		if (strcmp(s->a[i].key, key) == 0 && s->a[i].nw > 0)
			return &s->a[i];
	return NULL;
}

static unsigned
load_file(struct cf *cf, const struct cf_section *s,
    const struct cf_assign *pf, struct cf_diag *d, struct auth_cf *a)
{
	struct buf text = BUF_INIT(0);
	struct collect c = { a, s->name };
	const char *path = pf->w[0].s;
	struct cf_pos pos = pf->pos;
	unsigned errs;

	a->any_passwd_file = 1;
	if (cf_load_read(path, &text, AUTH_CF_FILE_MAX) < 0) {
		cf_diag_error(d, pos, "passwd-file \"%s\": %s", path,
		    strerror(errno));
		buf_free(&text);
		return 1;
	}
	errs = auth_pwfile_parse(cf_file_name(cf, path), text.p ? text.p : "",
	    text.len, d, add_account, &c);
	buf_free(&text);
	return errs;
}

/* AUTH is offered only under TLS: without it the key does nothing. */
static void
warn_auth_without_tls(const struct cf_section *s, struct cf_diag *d)
{
	const struct cf_assign *au = find_key(s, "auth");
	const struct cf_assign *tls = find_key(s, "tls");

	if (au != NULL && (tls == NULL || strcmp(tls->w[0].s, "off") == 0))
		cf_diag_warn(d, au->pos,
		    "[smtpd \"%s\"] has no tls: AUTH is "
		    "offered only under TLS, so never here",
		    s->name);
}

unsigned
auth_cf_load(struct cf *cf, struct cf_diag *d, struct auth_cf *a)
{
	unsigned errs = 0;
	size_t i;

	memset(a, 0, sizeof *a);
	for (i = 0; i < cf->ns; i++) {
		const struct cf_section *s = &cf->s[i];
		const struct cf_assign *pf, *dc;

		if (strcmp(s->kind, "smtpd") == 0)
			warn_auth_without_tls(s, d);
		if (strcmp(s->kind, "auth") != 0)
			continue;
		pf = find_key(s, "passwd-file");
		dc = find_key(s, "dovecot");
		if ((pf == NULL) == (dc == NULL)) {
			cf_diag_error(d, s->pos,
			    "[auth \"%s\"] needs exactly "
			    "one of passwd-file and dovecot",
			    s->name);
			errs++;
			continue;
		}
		if (pf != NULL)
			errs += load_file(cf, s, pf, d, a);
	}
	return errs;
}

void
auth_cf_free(struct auth_cf *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		free((char *)a->pw[i].auth);
		free((char *)a->pw[i].user);
		free((char *)a->pw[i].hash);
	}
	free(a->pw);
	memset(a, 0, sizeof *a);
}
