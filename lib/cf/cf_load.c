#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cf/cf_load.h"
#include "cf/cf_schema.h"

int
cf_load_read(const char *path, struct buf *b, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	buf_reset(b);
	for (;;) {
		if (buf_reserve(b, 65536) < 0)
			goto fail;
		n = read(fd, b->p + b->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		b->len += (size_t)n;
		if (b->len > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	b->p[b->len] = '\0';
	close(fd);
	return 0;
fail:
	{
		int e = errno;

		close(fd);
		errno = e;
	}
	return -1;
}

static int
resolve_path(char *out, size_t cap, const char *base, const char *path)
{
	const char *slash;
	int n;

	if (path[0] == '/' || (slash = strrchr(base, '/')) == NULL)
		n = snprintf(out, cap, "%s", path);
	else
		n = snprintf(out, cap, "%.*s/%s", (int)(slash - base), base, path);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

unsigned
cf_load_includes(struct cf *cf, struct cf_diag *d)
{
	struct buf text = BUF_INIT(0);
	unsigned errs = 0;
	size_t si, ai;

	for (si = 0; si < cf->ns; si++) {
		if (strcmp(cf->s[si].kind, "route") != 0)
			continue;
		for (ai = 0; ai < cf->s[si].na; ai++) {
			struct cf_assign *a = &cf->s[si].a[ai];
			struct cf_pos pos = a->pos;
			unsigned depth = a->depth;
			char path[4096];
			size_t added = 0, k;

			if (strcmp(a->key, "file") != 0)
				continue;
			if (a->nw != 1) {
				cf_diag_error(d, pos, "file takes one path");
				errs++;
				continue;
			}
			if (a->w[0].col)
				pos.col = a->w[0].col;
			if (depth >= CF_MAX_INCLUDE_DEPTH) {
				cf_diag_error(d, pos,
				    "route files nested more than %d deep "
				    "(an include loop?)", CF_MAX_INCLUDE_DEPTH);
				errs++;
				continue;
			}
			if (resolve_path(path, sizeof path, a->pos.file,
			    a->w[0].s) < 0) {
				cf_diag_error(d, pos, "route file path too long");
				errs++;
				continue;
			}
			if (cf_load_read(path, &text, CF_MAX_TEXT) < 0) {
				cf_diag_error(d, pos, "cannot read route file '%s': %s",
				    path, strerror(errno));
				errs++;
				continue;
			}
			errs += cf_parse_routes(cf, si, ai + 1, path, text.p,
			    text.len, d, &added);
			for (k = 0; k < added; k++)
				cf->s[si].a[ai + 1 + k].depth = depth + 1;
		}
	}
	buf_free(&text);
	return errs;
}

unsigned
cf_load_file(struct cf *cf, const char *path, struct cf_diag *d)
{
	struct buf text = BUF_INIT(0);
	unsigned errs;
	struct cf_pos pos = { path, 0, 0 };

	if (cf_load_read(path, &text, CF_MAX_TEXT) < 0) {
		cf_diag_error(d, pos, "cannot read: %s", strerror(errno));
		buf_free(&text);
		return 1;
	}
	errs = cf_parse_text(cf, path, text.p ? text.p : "", text.len, d);
	buf_free(&text);
	return errs + cf_load_includes(cf, d);
}

static char *
dup_range(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Splits `NAME-KEY` (quotes already gone) by the longest known key. */
static int
split_name_key(const struct cf_kind_def *kd, const char *rest, size_t len,
    size_t *namelen, const char **key)
{
	const struct cf_key_def *k;
	size_t best = 0;

	*key = NULL;
	for (k = kd->keys; k && k->key; k++) {
		size_t kl = strlen(k->key);

		if (kl == len && memcmp(rest, k->key, kl) == 0 && kl > best) {
			*namelen = 0;
			*key = k->key;
			best = kl;
		} else if (kl + 1 < len && rest[len - kl - 1] == '-' &&
		    memcmp(rest + len - kl, k->key, kl) == 0 && kl > best) {
			*namelen = len - kl - 1;
			*key = k->key;
			best = kl;
		}
	}
	return *key ? 0 : -1;
}

static const char *
suggest_key(const struct cf_kind_def *kd, const char *rest, size_t len)
{
	char tail[128];
	size_t i;
	const char *best = NULL;

	/* Try each dash-separated suffix as the key the user meant. */
	for (i = 0; i < len; i++) {
		if (i && rest[i - 1] != '-')
			continue;
		if (len - i >= sizeof tail)
			continue;
		memcpy(tail, rest + i, len - i);
		tail[len - i] = '\0';
		best = cf_diag_suggest(tail, cf_schema_key_names(kd));
		if (best)
			break;
	}
	return best;
}

static void
apply_flag(struct cf *cf, const char *kind, const char *name,
    const char *key, const char *val, struct cf_pos pos, struct cf_diag *d)
{
	struct cf_section *s = cf_section_find(cf, kind, name);
	struct cf_assign *a;
	struct cf_word *w = NULL;
	size_t nw = 0, i, at;
	int is_route = strcmp(kind, "route") == 0;
	const struct cf_key_def *kd =
	    cf_schema_key(cf_schema_kind(kind), key);

	if (cf_parse_words(val, strlen(val), &w, &nw) < 0) {
		cf_diag_error(d, pos, "bad value for %s: '%s'", key, val);
		return;
	}
	if (s == NULL && (s = cf_section_add(cf, kind, name, pos)) == NULL) {
		cf_words_free(w, nw);
		return;
	}
	/* Flags win: drop what the file said for this key (a multi-valued
	 * key set by earlier flags keeps accumulating). */
	for (i = s->na; i-- > 0;) {
		int same = is_route ? strcmp(s->a[i].key, key) == 0 :
		    strcmp(s->a[i].key, key) == 0;

		if (!same)
			continue;
		if (kd && (kd->flags & CF_MULTI) &&
		    s->a[i].origin == CF_ORIGIN_FLAG)
			continue;
		cf_assign_clear(&s->a[i]);
		memmove(&s->a[i], &s->a[i + 1], (s->na - i - 1) * sizeof *s->a);
		s->na--;
	}
	/* A route from a flag goes first so it wins the first-match rule. */
	at = is_route ? 0 : s->na;
	if ((a = cf_assign_insert(s, at)) == NULL ||
	    (a->key = strdup(key)) == NULL) {
		cf_words_free(w, nw);
		return;
	}
	a->w = w;
	a->nw = nw;
	a->pos = pos;
	a->origin = CF_ORIGIN_FLAG;
	for (i = 0; i < nw; i++)
		a->w[i].col = 0;
}

int
cf_load_flag(struct cf *cf, const char *arg, unsigned argn, struct cf_diag *d)
{
	const struct cf_kind_def *k, *kd = NULL;
	struct cf_pos pos = { cf_file_name(cf, "command line"), argn, 1 };
	const char *p, *eq, *key = NULL;
	char *name = NULL, *keyd = NULL;
	size_t kl = 0, namelen = 0;

	if (strncmp(arg, "--", 2) != 0)
		return 0;
	p = arg + 2;
	for (k = cf_schema_kinds(); k->kind; k++) {
		size_t l = strlen(k->kind);

		if (strncmp(p, k->kind, l) == 0 && (p[l] == '=' || p[l] == '-') &&
		    l > kl) {
			kd = k;
			kl = l;
		}
	}
	if (kd == NULL)
		return 0;
	p += kl;
	eq = strchr(p, '=');
	if (eq == NULL) {
		cf_diag_error(d, pos, "%s: missing '=VALUE'", arg);
		return 1;
	}
	if (*p == '=') { /* --KIND="NAME": declare a section */
		const char *n = p + 1;
		size_t nl = strlen(n);

		if (nl >= 2 && n[0] == '"' && n[nl - 1] == '"') {
			n++;
			nl -= 2;
		}
		if ((name = dup_range(n, nl)) == NULL)
			return 1;
		if (kd->naming == CF_UNNAMED)
			cf_diag_error(d, pos, "%s: [%s] takes no name", arg, kd->kind);
		else if (cf_section_find(cf, kd->kind, name) == NULL)
			cf_section_add(cf, kd->kind, name, pos);
		free(name);
		return 1;
	}
	p++; /* the '-' after the kind */
	if (*p == '"') {
		const char *close = strchr(p + 1, '"');

		if (close == NULL || close > eq || close[1] != '-') {
			cf_diag_error(d, pos, "%s: expected --%s-\"NAME\"-KEY=VALUE",
			    arg, kd->kind);
			return 1;
		}
		name = dup_range(p + 1, (size_t)(close - p - 1));
		keyd = dup_range(close + 2, (size_t)(eq - close - 2));
		key = keyd;
	} else if (kd->keys == NULL) {
		/* Routes: unquoted means the unnamed [route]. */
		name = dup_range("", 0);
		keyd = dup_range(p, (size_t)(eq - p));
		key = keyd;
	} else if (split_name_key(kd, p, (size_t)(eq - p), &namelen, &key) == 0) {
		name = dup_range(p, namelen);
	} else {
		const char *sug = suggest_key(kd, p, (size_t)(eq - p));

		if (sug)
			cf_diag_error(d, pos,
			    "%.*s: unknown key for [%s] (did you mean '%s'?)",
			    (int)(eq - arg), arg, kd->kind, sug);
		else
			cf_diag_error(d, pos, "%.*s: unknown key for [%s]",
			    (int)(eq - arg), arg, kd->kind);
		return 1;
	}
	if (name == NULL || key == NULL || *key == '\0') {
		cf_diag_error(d, pos, "%s: missing key", arg);
	} else if (kd->keys && cf_schema_key(kd, key) == NULL) {
		const char *sug = cf_diag_suggest(key, cf_schema_key_names(kd));

		if (sug)
			cf_diag_error(d, pos,
			    "%.*s: unknown key '%s' for [%s] (did you mean '%s'?)",
			    (int)(eq - arg), arg, key, kd->kind, sug);
		else
			cf_diag_error(d, pos, "%.*s: unknown key '%s' for [%s]",
			    (int)(eq - arg), arg, key, kd->kind);
	} else {
		apply_flag(cf, kd->kind, name, key, eq + 1, pos, d);
	}
	free(name);
	free(keyd);
	return 1;
}
