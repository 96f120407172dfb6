#include <string.h>

#include "auth/auth_pwfile.h"
#include "auth/auth_sasl.h"
#include "base/strset.h"

/* crypt(3)'s alphabet (./0-9A-Za-z) */
static int
is_crypt64(char c)
{
	return c == '.' || c == '/' || (c >= '0' && c <= '9') ||
	    (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static size_t
span64(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && is_crypt64(p[i]))
		i++;
	return i;
}

/* $y$PARAMS$SALT$HASH (libxcrypt crypt-yescrypt.c; HASH is 43 chars) */
static int
yescrypt_ok(const char *p, size_t n)
{
	size_t a = span64(p, n), b, c;

	if (a == 0 || a == n || p[a] != '$')
		return 0;
	p += a + 1;
	n -= a + 1;
	b = span64(p, n);
	if (b == 0 || b == n || p[b] != '$')
		return 0;
	p += b + 1;
	n -= b + 1;
	c = span64(p, n);
	return c == 43 && c == n;
}

/* $6$[rounds=N$]SALT$HASH: salt 1..16, hash 86 (sha512-crypt spec) */
static int
sha512_ok(const char *p, size_t n)
{
	size_t s, i;

	if (n > 7 && memcmp(p, "rounds=", 7) == 0) {
		for (i = 7; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == 7 || i > 16 || i == n || p[i] != '$')
			return 0;
		p += i + 1;
		n -= i + 1;
	}
	s = span64(p, n);
	if (s == 0 || s > 16 || s == n || p[s] != '$')
		return 0;
	return n - s - 1 == 86 && span64(p + s + 1, n - s - 1) == 86;
}

/* $2b$CC$ + 22 salt + 31 hash characters */
static int
bcrypt_ok(const char *p, size_t n)
{
	return n == 3 + 53 && p[0] >= '0' && p[0] <= '3' && p[1] >= '0' &&
	    p[1] <= '9' && p[2] == '$' && span64(p + 3, 53) == 53;
}

int
auth_pwfile_hash_ok(const char *h, size_t n)
{
	if (n > AUTH_PWFILE_HASH_MAX)
		return 0;
	if (n > 3 && memcmp(h, "$y$", 3) == 0)
		return yescrypt_ok(h + 3, n - 3);
	if (n > 3 && memcmp(h, "$6$", 3) == 0)
		return sha512_ok(h + 3, n - 3);
	if (n > 4 && h[0] == '$' && h[1] == '2' &&
	    (h[2] == 'b' || h[2] == 'y' || h[2] == 'a') && h[3] == '$')
		return bcrypt_ok(h + 4, n - 4);
	return 0;
}

/* Column (1-based) of the first bad octet of a user name, or 0. */
static unsigned
user_bad_col(const char *u, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= 0x20 || c == 0x7f)
			return (unsigned)i + 1;
	}
	return 0;
}

struct line_ctx {
	const char *file;
	struct cf_diag *d;
	struct strset seen;
	unsigned errs;
};

static void
line_err(struct line_ctx *c, unsigned line, unsigned col, const char *msg,
    const char *user, size_t ulen)
{
	struct cf_pos pos = { c->file, line, col };

	if (user != NULL)
		cf_diag_error(c->d, pos, msg, (int)ulen, user);
	else
		cf_diag_error(c->d, pos, "%s", msg);
	c->errs++;
}

static void
one_line(struct line_ctx *c, unsigned line, const char *p, size_t n,
    auth_pwfile_fn fn, void *arg)
{
	const char *colon, *hash, *end;
	size_t ulen, hlen, lead = 0, old;
	unsigned bad;
	int r;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	while (lead < n && (p[lead] == ' ' || p[lead] == '\t'))
		lead++;
	if (lead == n || p[lead] == '#')
		return;
	if ((colon = memchr(p, ':', n)) == NULL) {
		line_err(c, line, 1, "expected user:hash", NULL, 0);
		return;
	}
	ulen = (size_t)(colon - p);
	if (ulen == 0 || ulen > AUTH_SASL_FIELD_MAX) {
		line_err(c, line, 1,
		    ulen ? "user name longer than 255 octets" :
		           "empty user name",
		    NULL, 0);
		return;
	}
	if ((bad = user_bad_col(p, ulen)) != 0) {
		line_err(c, line, bad,
		    "blank or control character in the user "
		    "name",
		    NULL, 0);
		return;
	}
	hash = colon + 1;
	end = memchr(hash, ':', n - ulen - 1);
	hlen = end ? (size_t)(end - hash) : n - ulen - 1;
	if (!auth_pwfile_hash_ok(hash, hlen)) {
		line_err(c, line, (unsigned)ulen + 2,
		    "'%.*s': not a yescrypt "
		    "($y$), sha512-crypt ($6$) or bcrypt ($2b$) crypt(3) hash",
		    p, ulen);
		return;
	}
	r = strset_put(&c->seen, p, ulen, line, &old);
	if (r == 0) {
		struct cf_pos pos = { c->file, line, 1 };

		cf_diag_error(c->d, pos,
		    "user '%.*s' is already defined at "
		    "line %zu",
		    (int)ulen, p, old);
		c->errs++;
		return;
	}
	if (r < 0 || fn(arg, p, ulen, hash, hlen) < 0)
		line_err(c, line, 1, "out of memory", NULL, 0);
}

unsigned
auth_pwfile_parse(const char *file, const char *text, size_t len,
    struct cf_diag *d, auth_pwfile_fn fn, void *arg)
{
	struct line_ctx c = { file, d, { NULL, 0, 0 }, 0 };
	size_t off = 0;
	unsigned line = 0;

	strset_init(&c.seen);
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;

		line++;
		if (memchr(text + off, '\0', n) != NULL)
			line_err(&c, line, 1, "NUL character in the line",
			    NULL, 0);
		else
			one_line(&c, line, text + off, n, fn, arg);
		off += n + (nl != NULL);
	}
	strset_free(&c.seen);
	return c.errs;
}
