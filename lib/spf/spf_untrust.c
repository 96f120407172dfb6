#include <string.h>

#include "base/str.h"
#include "spf/spf_untrust.h"

enum {
	ST_LINE = 0, /* at the start of a header line */
	ST_BLANK_CR, /* a CR at the start of a line */
	ST_NAME,     /* reading a field name */
	ST_PEEK,     /* reading Authentication-Results up to its authserv-id */
	ST_PEEK_LF,  /* ... after a LF: folded or ended? */
	ST_PASS,     /* the rest of a line passes */
	ST_BODY
};

#define NAME_MAX_HELD 80

void
spf_untrust_init(struct spf_untrust *u, const char *authserv)
{
	memset(u, 0, sizeof *u);
	u->authserv = authserv;
}

int
spf_untrust_in_body(const struct spf_untrust *u)
{
	return u->state == ST_BODY;
}

/* Lets the held octets go, renamed or not. */
static int
release(struct spf_untrust *u, int rename, struct buf *out)
{
	int e = 0;

	if (rename) {
		e = buf_append_str(out, SPF_UNTRUST_PREFIX);
		u->renamed++;
	}
	if (e == 0)
		e = buf_append(out, u->hold, u->nhold);
	u->nhold = 0;
	return e;
}

static int
name_is(const struct spf_untrust *u, const char *name)
{
	size_t n = u->nhold - 1; /* without the colon */

	while (n > 0 && (u->hold[n - 1] == ' ' || u->hold[n - 1] == '\t'))
		n--; /* RFC 5322 4.5.8 obs-optional: WSP before ':' */
	return n == strlen(name) && str_ncasecmp(u->hold, name, n) == 0;
}

static int
claims_ours(const struct spf_untrust *u)
{
	size_t n = strlen(u->authserv);

	return u->ntok == n && str_ncasecmp(u->tok, u->authserv, n) == 0;
}

static void
tok_add(struct spf_untrust *u, char c)
{
	if (u->ntok < sizeof u->tok)
		u->tok[u->ntok] = c;
	u->ntok++; /* past the buffer: longer than ours, never equal */
}

/* One octet of the Authentication-Results value: -1 undecided, else the
 * decision (1 rename). */
static int
peek(struct spf_untrust *u, char c)
{
	if (u->esc) {
		u->esc = 0;
		if (u->inq)
			tok_add(u, c);
		return -1;
	}
	if (u->inq) {
		if (c == '\\')
			u->esc = 1;
		else if (c == '"')
			return claims_ours(u);
		else if (c == '\n')
			u->state = ST_PEEK_LF;
		else if (c != '\r')
			tok_add(u, c);
		return -1;
	}
	if (u->depth > 0) {
		if (c == '\\')
			u->esc = 1;
		else if (c == '(')
			u->depth++;
		else if (c == ')')
			u->depth--;
		else if (c == '\n')
			u->state = ST_PEEK_LF;
		return -1;
	}
	if (u->intok) {
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		    c == ';' || c == '(' || c == '"')
			return claims_ours(u);
		tok_add(u, c);
		return -1;
	}
	switch (c) {
	case ' ':
	case '\t':
	case '\r':
		return -1;
	case '\n':
		u->state = ST_PEEK_LF;
		return -1;
	case '(':
		u->depth = 1;
		return -1;
	case '"':
		u->inq = 1;
		return -1;
	case ';':
		return 1; /* no authserv-id: not to be trusted */
	default:
		u->intok = 1;
		tok_add(u, c);
		return -1;
	}
}

/* One octet; 0 consumed, 1 to be seen again in the new state, -1 error. */
static int
step(struct spf_untrust *u, char c, struct buf *out)
{
	int d;

	switch (u->state) {
	case ST_LINE:
		if (c == '\r' || c == '\n') {
			u->state = c == '\n' ? ST_BODY : ST_BLANK_CR;
			return buf_append_byte(out, c);
		}
		if (c == ' ' || c == '\t') {
			u->state = ST_PASS; /* a folded line of the field */
			return buf_append_byte(out, c);
		}
		u->hold[0] = c;
		u->nhold = 1;
		u->state = ST_NAME;
		return 0;
	case ST_BLANK_CR:
		u->state = c == '\n' ? ST_BODY : ST_PASS;
		return buf_append_byte(out, c);
	case ST_NAME:
		u->hold[u->nhold++] = c;
		if (c == ':') {
			if (name_is(u, "Received-SPF")) {
				u->state = ST_PASS;
				return release(u, 1, out);
			}
			if (name_is(u, "Authentication-Results")) {
				u->ntok = 0;
				u->depth = u->inq = u->esc = u->intok = 0;
				u->state = ST_PEEK;
				return 0;
			}
		} else if (c == '\n') {
			u->state = ST_LINE; /* not a field: let it be */
			return release(u, 0, out);
		} else if (u->nhold < NAME_MAX_HELD) {
			return 0;
		}
		u->state = ST_PASS;
		return release(u, 0, out);
	case ST_PEEK_LF:
		if (c == ' ' || c == '\t') {
			u->hold[u->nhold++] = c;
			u->state = ST_PEEK;
			return 0;
		}
		/* the field ended before its authserv-id */
		u->state = ST_LINE;
		return release(u, 1, out) < 0 ? -1 : 1;
	case ST_PEEK:
		u->hold[u->nhold++] = c;
		d = peek(u, c);
		if (d < 0 && u->nhold < sizeof u->hold)
			return 0;
		if (d < 0)
			d = 1; /* too long to tell: not to be trusted */
		u->state = c == '\n' ? ST_LINE : ST_PASS;
		return release(u, d, out);
	case ST_PASS:
		if (c == '\n')
			u->state = ST_LINE;
		return buf_append_byte(out, c);
	default:
		return buf_append_byte(out, c);
	}
}

int
spf_untrust_feed(struct spf_untrust *u, const char *p, size_t n,
    struct buf *out)
{
	size_t i = 0;
	int r;

	if (u->state == ST_BODY)
		return buf_append(out, p, n);
	while (i < n) {
		if (u->state == ST_BODY)
			return buf_append(out, p + i, n - i);
		if ((r = step(u, p[i], out)) < 0)
			return -1;
		if (r == 0)
			i++;
	}
	return 0;
}

int
spf_untrust_finish(struct spf_untrust *u, struct buf *out)
{
	int rename = u->state == ST_PEEK || u->state == ST_PEEK_LF;

	if (u->nhold == 0)
		return 0;
	u->state = ST_PASS;
	return release(u, rename, out);
}
