#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/buf.h"
#include "queue/queue_argv.h"

enum var { V_NONE, V_FROM, V_TO, V_LOCAL, V_DOMAIN, V_ID };

static const struct {
	const char *name;
	enum var v;
} vars_known[] = {
	{ "MAIL_FROM", V_FROM }, { "RCPT_TO", V_TO },
	{ "RCPT_LOCAL", V_LOCAL }, { "RCPT_DOMAIN", V_DOMAIN },
	{ "QUEUE_ID", V_ID }, { NULL, V_NONE }
};

void
queue_argv_init(struct queue_argv *a)
{
	a->v = NULL;
	a->n = a->cap = 0;
}

void
queue_argv_free(struct queue_argv *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	queue_argv_init(a);
}

int
queue_argv_push(struct queue_argv *a, const char *p, size_t n)
{
	char *s, **v;

	if (a->n >= QUEUE_ARGV_MAX)
		return QUEUE_ARGV_E_TOOMANY;
	/* this argument and the terminating NULL */
	v = array_grow(a->v, &a->cap, a->n + 2, sizeof *v);
	if (v == NULL)
		return QUEUE_ARGV_E_NOMEM;
	a->v = v;
	if ((s = malloc(n + 1)) == NULL)
		return QUEUE_ARGV_E_NOMEM;
	memcpy(s, p, n);
	s[n] = '\0';
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
	return QUEUE_ARGV_OK;
}

int
queue_argv_split(struct queue_argv *out, const char *cmd)
{
	struct buf w = BUF_INIT(0);
	const char *p = cmd;
	int e = QUEUE_ARGV_OK, inword;

	if (*p == '|')
		p++;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		buf_reset(&w);
		inword = 1;
		while (inword && *p) {
			if (*p == ' ' || *p == '\t') {
				inword = 0;
			} else if (*p == '\'') {
				const char *q = strchr(p + 1, '\'');

				if (q == NULL) {
					e = QUEUE_ARGV_E_QUOTE;
					goto out;
				}
				if (buf_append(&w, p + 1, (size_t)(q - p - 1)) < 0)
					goto nomem;
				p = q + 1;
			} else if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					if (buf_append_byte(&w, *p) < 0)
						goto nomem;
				}
				if (*p != '"') {
					e = QUEUE_ARGV_E_QUOTE;
					goto out;
				}
				p++;
			} else {
				if (buf_append_byte(&w, *p++) < 0)
					goto nomem;
			}
		}
		if ((e = queue_argv_push(out, w.p ? w.p : "", w.len)) != 0)
			goto out;
	}
	if (out->n == 0)
		e = QUEUE_ARGV_E_EMPTY;
	goto out;
nomem:
	e = QUEUE_ARGV_E_NOMEM;
out:
	buf_free(&w);
	return e;
}

/* Finds the variable at p ("${...}"); *len is its length in the word. */
static enum var
var_at(const char *p, size_t *len)
{
	const char *end;
	size_t i, n;

	if (p[0] != '$' || p[1] != '{')
		return V_NONE;
	if ((end = strchr(p + 2, '}')) == NULL)
		return (enum var)-1;
	n = (size_t)(end - (p + 2));
	for (i = 0; vars_known[i].name; i++)
		if (strlen(vars_known[i].name) == n &&
		    memcmp(vars_known[i].name, p + 2, n) == 0) {
			*len = n + 3;
			return vars_known[i].v;
		}
	return (enum var)-1;
}

/* Does the word use a per-recipient variable? <0: a bad variable. */
static int
word_per_rcpt(const char *w)
{
	size_t len;
	int per = 0;

	for (; *w; w++) {
		enum var v = var_at(w, &len);

		if ((int)v == -1)
			return QUEUE_ARGV_E_VAR;
		if (v == V_TO || v == V_LOCAL || v == V_DOMAIN)
			per = 1;
	}
	return per;
}

static int
expand_word(struct queue_argv *out, const char *w,
    const struct queue_vars *vars, const char *rcpt, size_t ri, size_t *bad)
{
	struct buf b = BUF_INIT(0);
	const char *at = rcpt ? strrchr(rcpt, '@') : NULL;
	int e;

	while (*w) {
		size_t len = 0, vlen;
		enum var v = var_at(w, &len);
		const char *val = NULL;
		size_t who = ri;

		switch ((int)v) {
		case V_NONE:
			if (buf_append_byte(&b, *w++) < 0)
				goto nomem;
			continue;
		case V_FROM:
			val = vars->sender[0] ? vars->sender : "MAILER-DAEMON";
			who = QUEUE_ARGV_SENDER;
			vlen = strlen(val);
			break;
		case V_TO:
			val = rcpt;
			vlen = strlen(val);
			break;
		case V_LOCAL:
			val = rcpt;
			vlen = at ? (size_t)(at - rcpt) : strlen(rcpt);
			break;
		case V_DOMAIN:
			val = at ? at + 1 : "";
			vlen = strlen(val);
			break;
		case V_ID:
			val = vars->queue_id;
			vlen = strlen(val);
			break;
		default:
			buf_free(&b);
			return QUEUE_ARGV_E_VAR;
		}
		/* The dash guard: a value that would begin an argument. */
		if (b.len == 0 && vlen > 0 && val[0] == '-') {
			if (bad)
				*bad = who;
			buf_free(&b);
			return QUEUE_ARGV_E_DASH;
		}
		if (buf_append(&b, val, vlen) < 0)
			goto nomem;
		w += len;
	}
	e = queue_argv_push(out, b.p ? b.p : "", b.len);
	buf_free(&b);
	return e;
nomem:
	buf_free(&b);
	return QUEUE_ARGV_E_NOMEM;
}

int
queue_argv_expand(struct queue_argv *out, char *const *w, size_t nw,
    const struct queue_vars *vars, size_t *bad)
{
	size_t i, r;
	int per, e;

	for (i = 0; i < nw; i++) {
		if ((per = word_per_rcpt(w[i])) < 0)
			return per;
		if (!per) {
			if ((e = expand_word(out, w[i], vars, NULL, 0, bad)) != 0)
				return e;
			continue;
		}
		for (r = 0; r < vars->nrcpt; r++)
			if ((e = expand_word(out, w[i], vars, vars->rcpt[r], r,
			    bad)) != 0)
				return e;
	}
	return out->n ? QUEUE_ARGV_OK : QUEUE_ARGV_E_EMPTY;
}

const char *
queue_argv_strerror(int err)
{
	switch (err) {
	case QUEUE_ARGV_OK:
		return "ok";
	case QUEUE_ARGV_E_NOMEM:
		return "out of memory";
	case QUEUE_ARGV_E_VAR:
		return "unknown or unterminated ${...} variable";
	case QUEUE_ARGV_E_DASH:
		return "an address starting with '-' would become an option";
	case QUEUE_ARGV_E_TOOMANY:
		return "too many arguments";
	case QUEUE_ARGV_E_QUOTE:
		return "unterminated quote";
	case QUEUE_ARGV_E_EMPTY:
		return "no program to run";
	}
	return "unknown error";
}
