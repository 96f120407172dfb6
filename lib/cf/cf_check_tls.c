#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cf/cf_check_tls.h"

struct tls_word {
	const struct cf_assign *a;
	size_t i;
};

static struct cf_pos
pos_of(const struct tls_word *w)
{
	struct cf_pos p = w->a->pos;

	if (w->a->w[w->i].col)
		p.col = w->a->w[w->i].col;
	return p;
}

/* The n-th word (0-based) over every assignment of key, in file order. */
static int
nth_word(const struct cf_section *s, const char *key, size_t n,
    struct tls_word *out)
{
	size_t i;

	for (i = 0; i < s->na; i++) {
		if (strcmp(s->a[i].key, key) != 0)
			continue;
		if (n < s->a[i].nw) {
			out->a = &s->a[i];
			out->i = n;
			return 1;
		}
		n -= s->a[i].nw;
	}
	return 0;
}

static size_t
count_words(const struct cf_section *s, const char *key)
{
	size_t i, n = 0;

	for (i = 0; i < s->na; i++)
		if (strcmp(s->a[i].key, key) == 0)
			n += s->a[i].nw;
	return n;
}

static unsigned
check_file(const struct tls_word *w, struct cf_diag *d)
{
	const char *path = w->a->w[w->i].s;

	if (path[0] != '/' || access(path, R_OK) == 0)
		return 0; /* a relative path is the type check's error */
	cf_diag_error(d, pos_of(w), "%s: cannot read '%s': %s", w->a->key,
	    path, strerror(errno));
	return 1;
}

unsigned
cf_check_tls(const struct cf_section *s, struct cf_diag *d)
{
	size_t ncert = count_words(s, "tls-certificate");
	size_t nkey = count_words(s, "tls-key");
	size_t i, n = ncert > nkey ? ncert : nkey;
	unsigned errs = 0;
	struct tls_word w;

	for (i = 0; i < n; i++) {
		if (nth_word(s, "tls-certificate", i, &w))
			errs += check_file(&w, d);
		if (nth_word(s, "tls-key", i, &w))
			errs += check_file(&w, d);
		if (i < ncert && i < nkey)
			continue;
		errs++;
		if (i >= nkey) {
			nth_word(s, "tls-certificate", i, &w);
			cf_diag_error(d, pos_of(&w),
			    "tls-certificate '%s' has "
			    "no tls-key (they pair in order: certificate %zu "
			    "with key %zu)",
			    w.a->w[w.i].s, i + 1, i + 1);
		} else {
			nth_word(s, "tls-key", i, &w);
			cf_diag_error(d, pos_of(&w),
			    "tls-key '%s' has no "
			    "tls-certificate (they pair in order: key %zu "
			    "with certificate %zu)",
			    w.a->w[w.i].s, i + 1, i + 1);
		}
	}
	for (i = 0; i < s->na; i++) {
		const struct cf_assign *a = &s->a[i];

		if (strcmp(a->key, "tls") != 0 || a->nw != 1 ||
		    strcmp(a->w[0].s, "off") == 0 || (ncert > 0 && nkey > 0))
			continue;
		cf_diag_error(d, a->pos,
		    "tls = %s needs a tls-certificate "
		    "and tls-key pair",
		    a->w[0].s);
		errs++;
	}
	return errs;
}
