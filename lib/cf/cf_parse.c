#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "cf/cf_parse.h"

/* Where parsed assignments go: the current section, or a fixed insertion
 * point when a routes file is being included. */
struct parser {
	struct cf *cf;
	struct cf_diag *d;
	const char *file;
	unsigned line;
	const char *ls; /* start of the current line */
	int routes_only;
	long cur;       /* current section index, -1 before the first header */
	size_t ins_sec, ins_at, added;
	unsigned errs;
};

static char *
xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
cf_init(struct cf *cf)
{
	memset(cf, 0, sizeof *cf);
}

void
cf_words_free(struct cf_word *w, size_t nw)
{
	size_t i;

	for (i = 0; i < nw; i++)
		free(w[i].s);
	free(w);
}

void
cf_assign_clear(struct cf_assign *a)
{
	free(a->key);
	cf_words_free(a->w, a->nw);
	memset(a, 0, sizeof *a);
}

void
cf_free(struct cf *cf)
{
	size_t i, j;

	for (i = 0; i < cf->ns; i++) {
		for (j = 0; j < cf->s[i].na; j++)
			cf_assign_clear(&cf->s[i].a[j]);
		free(cf->s[i].a);
		free(cf->s[i].kind);
		free(cf->s[i].name);
	}
	free(cf->s);
	for (i = 0; i < cf->nfiles; i++)
		free(cf->files[i]);
	free(cf->files);
	memset(cf, 0, sizeof *cf);
}

const char *
cf_file_name(struct cf *cf, const char *name)
{
	char **nf;
	size_t i;

	for (i = 0; i < cf->nfiles; i++)
		if (strcmp(cf->files[i], name) == 0)
			return cf->files[i];
	nf = array_resize(cf->files, cf->nfiles + 1, sizeof *nf);
	if (nf == NULL)
		return NULL;
	cf->files = nf;
	if ((nf[cf->nfiles] = strdup(name)) == NULL)
		return NULL;
	return nf[cf->nfiles++];
}

struct cf_section *
cf_section_find(struct cf *cf, const char *kind, const char *name)
{
	size_t i;

	for (i = 0; i < cf->ns; i++)
		if (strcmp(cf->s[i].kind, kind) == 0 &&
		    strcmp(cf->s[i].name, name) == 0)
			return &cf->s[i];
	return NULL;
}

struct cf_section *
cf_section_add(struct cf *cf, const char *kind, const char *name,
    struct cf_pos pos)
{
	struct cf_section *s;

	if ((s = array_grow(cf->s, &cf->cap, cf->ns + 1, sizeof *s)) == NULL)
		return NULL;
	cf->s = s;
	s = &cf->s[cf->ns];
	memset(s, 0, sizeof *s);
	s->kind = strdup(kind);
	s->name = strdup(name);
	if (s->kind == NULL || s->name == NULL) {
		free(s->kind);
		free(s->name);
		return NULL;
	}
	s->pos = pos;
	cf->ns++;
	return s;
}

struct cf_assign *
cf_assign_insert(struct cf_section *sec, size_t at)
{
	struct cf_assign *a;

	a = array_grow(sec->a, &sec->cap, sec->na + 1, sizeof *a);
	if (a == NULL)
		return NULL;
	sec->a = a;
	if (at > sec->na)
		at = sec->na;
	memmove(&sec->a[at + 1], &sec->a[at], (sec->na - at) * sizeof *sec->a);
	sec->na++;
	memset(&sec->a[at], 0, sizeof sec->a[at]);
	return &sec->a[at];
}

int
cf_is_atom_char(unsigned char c, int in_value)
{
	if (c <= 0x20 || c == 0x7f)
		return 0;
	if (c == '\\' || c == '"' || c == '#' || c == '=')
		return 0;
	if (!in_value && (c == '[' || c == ']'))
		return 0;
	return 1;
}

int
cf_word_needs_quotes(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 1;
	for (i = 0; i < len; i++)
		if (!cf_is_atom_char((unsigned char)s[i], 1))
			return 1;
	return 0;
}

static struct cf_pos
pos_at(struct parser *ps, const char *p)
{
	struct cf_pos pos = { ps->file, ps->line, (unsigned)(p - ps->ls) + 1 };

	return pos;
}

static void
perr(struct parser *ps, const char *p, const char *fmt, const char *arg)
{
	ps->errs++;
	cf_diag_error(ps->d, pos_at(ps, p), fmt, arg);
}

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Reads a quoted string starting at *pp (on the quote) into out. */
static int
lex_quoted(struct parser *ps, const char **pp, const char *e, struct buf *out)
{
	const char *p = *pp + 1, *start = *pp;

	buf_reset(out);
	while (p < e && *p != '"') {
		if (*p == '\\') {
			if (p + 1 >= e) {
				perr(ps, p, "%s", "backslash at end of line");
				return -1;
			}
			p++;
		}
		if (buf_append_byte(out, *p) < 0 || out->len > CF_MAX_WORD) {
			perr(ps, start, "%s", "quoted string too long");
			return -1;
		}
		p++;
	}
	if (p >= e) {
		perr(ps, start, "%s", "unterminated quoted string");
		return -1;
	}
	*pp = p + 1;
	return 0;
}

static int
lex_atom(struct parser *ps, const char **pp, const char *e, int in_value,
    struct buf *out)
{
	const char *p = *pp;

	while (p < e && cf_is_atom_char((unsigned char)*p, in_value))
		p++;
	if (p - *pp > CF_MAX_WORD) {
		perr(ps, *pp, "%s", "word too long");
		return -1;
	}
	buf_reset(out);
	buf_append(out, *pp, (size_t)(p - *pp));
	*pp = p;
	return 0;
}

static void
explain_bad_char(struct parser *ps, const char *p)
{
	char what[48];
	unsigned char c = (unsigned char)*p;

	if (c == '=')
		perr(ps, p, "%s", "unexpected '=' (quote a value that contains it)");
	else if (c == '\\')
		perr(ps, p, "%s", "backslash outside a quoted string");
	else if (c == '[' || c == ']')
		perr(ps, p, "unexpected '%s'", c == '[' ? "[" : "]");
	else {
		snprintf(what, sizeof what, "control character 0x%02x", c);
		perr(ps, p, "%s", what);
	}
}

/* Parses `word+ [comment]` from p to e into a new word array. */
static int
lex_words(struct parser *ps, const char *p, const char *e, struct cf_word **wp,
    size_t *nwp)
{
	struct cf_word *w = NULL;
	size_t nw = 0;
	struct buf tmp = BUF_INIT(0);
	int quoted;

	for (;;) {
		const char *start;

		p = skip_ws(p, e);
		if (p >= e || *p == '#')
			break;
		start = p;
		quoted = *p == '"';
		if (quoted) {
			if (lex_quoted(ps, &p, e, &tmp) < 0)
				goto fail;
		} else {
			if (lex_atom(ps, &p, e, 1, &tmp) < 0)
				goto fail;
			if (p == start) {
				explain_bad_char(ps, p);
				goto fail;
			}
		}
		if (p < e && *p != ' ' && *p != '\t' && *p != '#') {
			if (quoted && cf_is_atom_char((unsigned char)*p, 1))
				perr(ps, p, "%s",
				    "expected a space after the quoted string");
			else
				explain_bad_char(ps, p);
			goto fail;
		}
		if (nw == CF_MAX_WORDS) {
			perr(ps, start, "%s", "too many words in one assignment");
			goto fail;
		}
		{
			struct cf_word *nwv = array_resize(w, nw + 1,
			    sizeof *w);

			if (nwv == NULL)
				goto fail;
			w = nwv;
		}
		w[nw].s = xstrndup(tmp.p ? tmp.p : "", tmp.len);
		w[nw].len = tmp.len;
		w[nw].quoted = quoted;
		w[nw].col = (unsigned)(start - ps->ls) + 1;
		if (w[nw].s == NULL)
			goto fail;
		if (memchr(w[nw].s, '\0', w[nw].len)) {
			nw++;
			perr(ps, start, "%s", "NUL byte in a value");
			goto fail;
		}
		nw++;
	}
	buf_free(&tmp);
	*wp = w;
	*nwp = nw;
	return 0;
fail:
	buf_free(&tmp);
	cf_words_free(w, nw);
	return -1;
}

static struct cf_section *
current_section(struct parser *ps, const char *p)
{
	struct cf_section *s;

	if (ps->cur >= 0)
		return &ps->cf->s[ps->cur];
	/* The seed: the file begins with an implicit [route]. */
	s = cf_section_find(ps->cf, "route", "");
	if (s == NULL) {
		s = cf_section_add(ps->cf, "route", "", pos_at(ps, p));
		if (s == NULL)
			return NULL;
		s->implicit = 1;
	}
	ps->cur = s - ps->cf->s;
	return s;
}

static int
add_assign(struct parser *ps, struct cf_section *sec, const char *key,
    size_t keylen, const char *keyp, struct cf_word *w, size_t nw)
{
	struct cf_assign *a;
	size_t at = sec->na;

	if (ps->routes_only)
		at = ps->ins_at + ps->added;
	a = cf_assign_insert(sec, at);
	if (a == NULL || (a->key = xstrndup(key, keylen)) == NULL) {
		cf_words_free(w, nw);
		return -1;
	}
	a->w = w;
	a->nw = nw;
	a->pos = pos_at(ps, keyp);
	a->origin = ps->routes_only ? CF_ORIGIN_INCLUDE : CF_ORIGIN_FILE;
	ps->added++;
	return 0;
}

static void
parse_header(struct parser *ps, const char *p, const char *e)
{
	struct buf kind = BUF_INIT(0), name = BUF_INIT(0);
	const char *open = p, *kp;
	struct cf_section *s;
	struct cf_pos pos = pos_at(ps, open);

	if (ps->routes_only) {
		perr(ps, p, "%s", "section headers are not allowed in a routes file");
		return;
	}
	p = skip_ws(p + 1, e);
	kp = p;
	lex_atom(ps, &p, e, 0, &kind);
	if (kind.len == 0) {
		perr(ps, kp, "%s", "expected a section kind after '['");
		goto out;
	}
	p = skip_ws(p, e);
	if (p < e && *p == '"') {
		if (lex_quoted(ps, &p, e, &name) < 0)
			goto out;
	} else if (p < e && cf_is_atom_char((unsigned char)*p, 0)) {
		lex_atom(ps, &p, e, 0, &name);
	}
	p = skip_ws(p, e);
	if (p >= e || *p != ']') {
		perr(ps, p, "%s", p >= e || *p == '#' ?
		    "missing ']' at the end of the section header" :
		    "unexpected text in the section header");
		goto out;
	}
	p = skip_ws(p + 1, e);
	if (p < e && *p != '#') {
		perr(ps, p, "%s", "unexpected text after the section header");
		goto out;
	}
	if (name.len && memchr(name.p, '\0', name.len)) {
		perr(ps, open, "%s", "NUL byte in a section name");
		goto out;
	}
	s = cf_section_find(ps->cf, kind.p, name.p ? name.p : "");
	if (s && s->implicit && s->na && s->a[0].origin == CF_ORIGIN_FILE &&
	    strcmp(kind.p, "route") == 0 && name.len == 0) {
		/* Writing [route] after leading routes just goes on. */
		s->implicit = 0;
	} else if (s) {
		char msg[256];

		snprintf(msg, sizeof msg,
		    "duplicate section [%s%s%s%s] (first at line %u)", kind.p,
		    name.len ? " \"" : "", name.len ? name.p : "",
		    name.len ? "\"" : "", s->pos.line);
		perr(ps, open, "%s", msg);
	} else {
		s = cf_section_add(ps->cf, kind.p, name.p ? name.p : "", pos);
	}
	if (s)
		ps->cur = s - ps->cf->s;
out:
	buf_free(&kind);
	buf_free(&name);
}

/* `kind."name".key = words`: the --dump form, accepted back as input. */
static void
parse_scoped(struct parser *ps, const char *keyp, struct buf *head,
    const char *p, const char *e)
{
	struct buf name = BUF_INIT(0), key = BUF_INIT(0);
	struct cf_section *s;
	struct cf_word *w;
	size_t nw;
	const char *kp;

	head->p[--head->len] = '\0'; /* drop the '.' */
	if (ps->routes_only) {
		perr(ps, keyp, "%s", "scoped assignments are not allowed in a routes file");
		return;
	}
	if (lex_quoted(ps, &p, e, &name) < 0)
		goto out;
	if (p >= e || *p != '.') {
		perr(ps, p, "%s", "expected '.' and a key after the section name");
		goto out;
	}
	kp = ++p;
	lex_atom(ps, &p, e, 0, &key);
	if (key.len == 0) {
		perr(ps, kp, "%s", "expected a key after '.'");
		goto out;
	}
	p = skip_ws(p, e);
	if (p < e && *p == '=')
		p++;
	if (lex_words(ps, p, e, &w, &nw) < 0)
		goto out;
	if (nw == 0) {
		perr(ps, kp, "missing value for '%s'", key.p);
		goto out;
	}
	s = cf_section_find(ps->cf, head->p, name.p ? name.p : "");
	if (s == NULL)
		s = cf_section_add(ps->cf, head->p, name.p ? name.p : "",
		    pos_at(ps, keyp));
	if (s == NULL) {
		cf_words_free(w, nw);
		goto out;
	}
	add_assign(ps, s, key.p, key.len, kp, w, nw);
out:
	buf_free(&name);
	buf_free(&key);
}

static void
parse_line(struct parser *ps, const char *p, const char *e)
{
	struct buf key = BUF_INIT(0);
	struct cf_section *sec;
	struct cf_word *w;
	size_t nw;
	const char *keyp;

	p = skip_ws(p, e);
	if (p >= e || *p == '#')
		return;
	if (*p == '[') {
		parse_header(ps, p, e);
		return;
	}
	keyp = p;
	lex_atom(ps, &p, e, 0, &key);
	if (key.len == 0) {
		if (*p == '"' || *p == '=')
			perr(ps, p, "%s", "expected a key or a section header");
		else
			explain_bad_char(ps, p);
		goto out;
	}
	if (key.p[key.len - 1] == '.' && p < e && *p == '"') {
		parse_scoped(ps, keyp, &key, p, e);
		goto out;
	}
	p = skip_ws(p, e);
	if (p < e && *p == '=')
		p++;
	if (lex_words(ps, p, e, &w, &nw) < 0)
		goto out;
	if (nw == 0) {
		perr(ps, p, "missing value for '%s'", key.p);
		goto out;
	}
	sec = ps->routes_only ? &ps->cf->s[ps->ins_sec] : current_section(ps, keyp);
	if (sec == NULL) {
		cf_words_free(w, nw);
		goto out;
	}
	add_assign(ps, sec, key.p, key.len, keyp, w, nw);
out:
	buf_free(&key);
}

static unsigned
parse_all(struct parser *ps, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	if (len > CF_MAX_TEXT) {
		ps->ls = text;
		ps->line = 1;
		perr(ps, text, "%s", "file too large");
		return ps->errs;
	}
	ps->line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *q;

		ps->line++;
		ps->ls = p;
		if (le > p && le[-1] == '\r')
			le--;
		q = memchr(p, '\r', (size_t)(le - p));
		if (q) {
			perr(ps, q, "%s", "carriage return not followed by a line feed");
		} else if ((q = memchr(p, '\0', (size_t)(le - p))) != NULL) {
			perr(ps, q, "%s", "NUL byte");
		} else {
			parse_line(ps, p, le);
		}
		p = nl ? nl + 1 : end;
	}
	return ps->errs;
}

unsigned
cf_parse_text(struct cf *cf, const char *file, const char *text, size_t len,
    struct cf_diag *d)
{
	struct parser ps;

	memset(&ps, 0, sizeof ps);
	ps.cf = cf;
	ps.d = d;
	ps.file = cf_file_name(cf, file);
	ps.cur = -1;
	return parse_all(&ps, text, len);
}

unsigned
cf_parse_routes(struct cf *cf, size_t sec, size_t at, const char *file,
    const char *text, size_t len, struct cf_diag *d, size_t *added)
{
	struct parser ps;

	memset(&ps, 0, sizeof ps);
	ps.cf = cf;
	ps.d = d;
	ps.file = cf_file_name(cf, file);
	ps.cur = (long)sec;
	ps.routes_only = 1;
	ps.ins_sec = sec;
	ps.ins_at = at;
	parse_all(&ps, text, len);
	*added = ps.added;
	return ps.errs;
}

int
cf_parse_words(const char *text, size_t len, struct cf_word **w, size_t *nw)
{
	struct parser ps;
	struct cf_diag d;
	int r;

	if (memchr(text, '\n', len) || memchr(text, '\r', len) ||
	    memchr(text, '\0', len)) {
		errno = EINVAL;
		return -1;
	}
	memset(&ps, 0, sizeof ps);
	cf_diag_init(&d);
	ps.d = &d;
	ps.ls = text;
	ps.line = 1;
	r = lex_words(&ps, text, text + len, w, nw);
	cf_diag_free(&d);
	if (r == 0 && *nw == 0) {
		cf_words_free(*w, *nw);
		*w = NULL;
		r = -1;
	}
	if (r < 0)
		errno = EINVAL;
	return r;
}
