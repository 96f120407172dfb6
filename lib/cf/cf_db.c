#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "cf/cf_db.h"
#include "cf/cf_schema.h"
#include "cf/cf_value.h"

int
cf_db_open_fd(struct cf_db *db, int fd, const char **why)
{
	const char *v;

	db->fd = fd;
	if (cdb_init(&db->cdb, fd) < 0) {
		*why = "not a CDB file (or truncated)";
		return -1;
	}
	if (cdb_find(&db->cdb, "\0version", 8) <= 0) {
		*why = "no format version: not compiled by postmaster-cfcompile";
		goto fail;
	}
	v = cdb_getdata(&db->cdb);
	if (v == NULL || cdb_datalen(&db->cdb) != sizeof CF_DB_VERSION - 1 ||
	    memcmp(v, CF_DB_VERSION, sizeof CF_DB_VERSION - 1) != 0) {
		*why = "format version is not " CF_DB_VERSION
		    ": recompile with this postmaster-cfcompile";
		goto fail;
	}
	return 0;
fail:
	cdb_free(&db->cdb);
	return -1;
}

int
cf_db_open(struct cf_db *db, const char *path, const char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (cf_db_open_fd(db, fd, why) < 0) {
		close(fd);
		return -1;
	}
	return 0;
}

void
cf_db_close(struct cf_db *db)
{
	cdb_free(&db->cdb);
	close(db->fd);
	db->fd = -1;
}

static int
make_key(char *out, size_t cap, char tag, const char *a, const char *b,
    const char *c, size_t clen)
{
	size_t n = 0, la = strlen(a), lb = b ? strlen(b) : 0;

	if (1 + la + 1 + lb + 1 + clen > cap)
		return -1;
	out[n++] = tag;
	memcpy(out + n, a, la);
	n += la;
	if (b) {
		out[n++] = '\0';
		memcpy(out + n, b, lb);
		n += lb;
	}
	if (c) {
		out[n++] = '\0';
		memcpy(out + n, c, clen);
		n += clen;
	}
	return (int)n;
}

int
cf_db_decode_words(const char *p, size_t n, struct cf_words *out)
{
	size_t i = 0;

	while (i < n) {
		const char *nul;

		if (out->n == CF_MAX_WORDS || (p[i] != 'a' && p[i] != 'q'))
			return -1;
		nul = memchr(p + i + 1, '\0', n - i - 1);
		if (nul == NULL)
			return -1;
		out->quoted[out->n] = p[i] == 'q';
		out->w[out->n] = p + i + 1;
		out->len[out->n] = (size_t)(nul - (p + i + 1));
		out->n++;
		i = (size_t)(nul - p) + 1;
	}
	return 0;
}

int
cf_db_has_section(struct cf_db *db, const char *kind, const char *name)
{
	struct cdb_find f;
	char k[512];
	int kl = make_key(k, sizeof k, 'L', kind, NULL, NULL, 0), r;
	size_t nl = strlen(name);

	if (kl < 0 || cdb_findinit(&f, &db->cdb, k, (unsigned)kl) < 0)
		return -1;
	while ((r = cdb_findnext(&f)) > 0) {
		if (cdb_datalen(&db->cdb) == nl &&
		    memcmp(cdb_getdata(&db->cdb), name, nl) == 0)
			return 1;
	}
	return r;
}

int
cf_db_each_section(struct cf_db *db, const char *kind,
    int (*fn)(void *arg, const char *name), void *arg)
{
	struct cdb_find f;
	char k[512], name[1024];
	int kl = make_key(k, sizeof k, 'L', kind, NULL, NULL, 0), r;

	if (kl < 0 || cdb_findinit(&f, &db->cdb, k, (unsigned)kl) < 0)
		return -1;
	while ((r = cdb_findnext(&f)) > 0) {
		unsigned len = cdb_datalen(&db->cdb);

		if (len >= sizeof name)
			continue;
		memcpy(name, cdb_getdata(&db->cdb), len);
		name[len] = '\0';
		if (fn(arg, name) < 0)
			return -1;
	}
	return r;
}

int
cf_db_target_kind(struct cf_db *db, const char *name, char *out, size_t cap)
{
	char k[512];
	int kl = make_key(k, sizeof k, 'T', name, NULL, NULL, 0), r;
	unsigned len;

	if (kl < 0)
		return 0;
	r = cdb_find(&db->cdb, k, (unsigned)kl);
	if (r <= 0)
		return r;
	len = cdb_datalen(&db->cdb);
	if (len >= cap)
		return -1;
	memcpy(out, cdb_getdata(&db->cdb), len);
	out[len] = '\0';
	return 1;
}

int
cf_db_words(struct cf_db *db, const char *kind, const char *name,
    const char *key, struct cf_words *out)
{
	struct cdb_find f;
	char k[1024];
	int kl = make_key(k, sizeof k, 'K', kind, name, key, strlen(key));
	int r, found = 0;
	const struct cf_key_def *kd;

	out->n = 0;
	if (kl < 0 || cdb_findinit(&f, &db->cdb, k, (unsigned)kl) < 0)
		return -1;
	while ((r = cdb_findnext(&f)) > 0) {
		if (cf_db_decode_words(cdb_getdata(&db->cdb),
		    cdb_datalen(&db->cdb), out) < 0)
			return -1;
		found = 1;
	}
	if (r < 0)
		return -1;
	if (found)
		return 1;
	kd = cf_schema_key(cf_schema_kind(kind), key);
	if (kd && kd->def && kd->def[0]) {
		out->w[0] = kd->def;
		out->len[0] = strlen(kd->def);
		out->quoted[0] = 0;
		out->n = 1;
	}
	return 0;
}

int
cf_db_str(struct cf_db *db, const char *kind, const char *name,
    const char *key, char *out, size_t cap)
{
	struct cf_words w;
	int r = cf_db_words(db, kind, name, key, &w);

	if (r < 0)
		return -1;
	if (w.n == 0) {
		if (cap)
			out[0] = '\0';
		return r;
	}
	if (w.len[0] >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, w.w[0], w.len[0]);
	out[w.len[0]] = '\0';
	return r;
}

int
cf_db_uint(struct cf_db *db, const char *kind, const char *name,
    const char *key, uint64_t *out)
{
	const struct cf_key_def *kd = cf_schema_key(cf_schema_kind(kind), key);
	char v[64];
	const char *why;
	int r = cf_db_str(db, kind, name, key, v, sizeof v);

	if (r < 0 || kd == NULL || v[0] == '\0')
		return -1;
	switch (kd->type) {
	case CF_T_SIZE:
		return cf_value_size(v, out, &why) < 0 ? -1 : r;
	case CF_T_DURATION:
		return cf_value_duration(v, out, &why) < 0 ? -1 : r;
	default:
		return cf_value_uint(v, 0, UINT64_MAX, out, &why) < 0 ? -1 : r;
	}
}

int
cf_db_bool(struct cf_db *db, const char *kind, const char *name,
    const char *key, int *out)
{
	char v[16];
	const char *why;
	int r = cf_db_str(db, kind, name, key, v, sizeof v);

	if (r < 0 || cf_value_bool(v, out, &why) < 0)
		return -1;
	return r;
}

int
cf_db_route(struct cf_db *db, const char *table, const char *key,
    size_t keylen, uint32_t *order, struct cf_words *rhs)
{
	char k[1024];
	int kl, r;
	const unsigned char *v;
	unsigned len;

	kl = make_key(k, sizeof k, 'R', table, "", NULL, 0);
	if (kl < 0 || (size_t)kl + keylen > sizeof k)
		return 0;
	memcpy(k + kl, key, keylen);
	kl += (int)keylen;
	r = cdb_find(&db->cdb, k, (unsigned)kl);
	if (r <= 0)
		return r;
	len = cdb_datalen(&db->cdb);
	v = cdb_getdata(&db->cdb);
	if (v == NULL || len < 4)
		return -1;
	*order = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
	    (uint32_t)v[2] << 8 | v[3];
	rhs->n = 0;
	if (cf_db_decode_words((const char *)v + 4, len - 4, rhs) < 0)
		return -1;
	return 1;
}

int
cf_db_routes_domain(struct cf_db *db, const char *table, const char *domain,
    size_t len)
{
	char k[1024];
	int kl = make_key(k, sizeof k, 'D', table, "", NULL, 0);

	if (kl < 0 || (size_t)kl + len > sizeof k)
		return 0;
	memcpy(k + kl, domain, len);
	return cdb_find(&db->cdb, k, (unsigned)(kl + (int)len));
}

unsigned
cf_db_table_forms(struct cf_db *db, const char *table)
{
	char k[512];
	int kl = make_key(k, sizeof k, 'F', table, NULL, NULL, 0);
	const unsigned char *v;

	if (kl < 0 || cdb_find(&db->cdb, k, (unsigned)kl) <= 0 ||
	    cdb_datalen(&db->cdb) != 1 ||
	    (v = cdb_getdata(&db->cdb)) == NULL)
		return CF_DB_LHS_ALL;
	return *v;
}

int
cf_db_table_sole(struct cf_db *db, const char *table, char *out, size_t cap)
{
	char k[512];
	int kl = make_key(k, sizeof k, 'S', table, NULL, NULL, 0);
	unsigned len;

	if (kl < 0 || cdb_find(&db->cdb, k, (unsigned)kl) <= 0 ||
	    (len = cdb_datalen(&db->cdb)) >= cap)
		return 0;
	memcpy(out, cdb_getdata(&db->cdb), len);
	out[len] = '\0';
	return 1;
}

/* The value of key k as a NUL-terminated string: 1, 0 absent, -1. */
static int
find_str(struct cf_db *db, const char *k, int kl, char *out, size_t cap)
{
	unsigned len;
	int r;

	if (kl < 0)
		return -1;
	if ((r = cdb_find(&db->cdb, k, (unsigned)kl)) <= 0)
		return r;
	if ((len = cdb_datalen(&db->cdb)) >= cap)
		return -1;
	memcpy(out, cdb_getdata(&db->cdb), len);
	out[len] = '\0';
	return 1;
}

int
cf_db_passwd(struct cf_db *db, const char *auth, const char *user,
    size_t ulen, char *out, size_t cap)
{
	char k[1024];

	return find_str(db, k, make_key(k, sizeof k, 'P', auth, NULL, user, ulen),
	    out, cap);
}

int
cf_db_passwd_dummy(struct cf_db *db, const char *auth, char *out, size_t cap)
{
	char k[1024];

	return find_str(db, k, make_key(k, sizeof k, 'Q', auth, NULL, NULL, 0),
	    out, cap);
}
