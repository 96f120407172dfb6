/*
 * The conversion rules, entity by entity (RFC 2045, RFC 2046):
 *
 * - The header ends at the first empty line. A line that cannot be a header
 *   field (no "name:", or holding NUL, a bare CR or a bare LF) also ends it
 *   and starts the body, the way most MIME readers recover; the output
 *   then gets the empty line the input lacked. Header lines with 8-bit
 *   octets (RFC 6532) or over 998 octets make us refuse: we do not rewrite
 *   headers, and the only field we may change is C-T-E.
 * - multipart/(any) with a usable boundary and an identity encoding:
 *   preamble, delimiter lines and epilogue are copied, each part is
 *   converted. The preamble and epilogue carry no content (RFC 2046
 *   5.1.1), so octets that cannot go over 7-bit SMTP are replaced by "?"
 *   there. A missing close-delimiter is supplied; the last part then runs
 *   to the end.
 * - message/rfc822 with an identity encoding: the body is converted as a
 *   message; the part stays message/rfc822 (RFC 2046 5.2.1 forbids other
 *   encodings).
 * - Leaves: a 7-bit clean body is copied (8bit/binary labels become 7bit);
 *   otherwise text/(any) without bare CR/LF becomes quoted-printable
 *   unless base64 is clearly shorter, everything else base64. A
 *   quoted-printable or base64 body that is not 7-bit clean (broken
 *   sender) is decoded and re-encoded the same way. Unknown encodings
 *   over 8-bit data are refused: we could not say what the bytes mean.
 * - A top-level (or message/rfc822) entity without MIME-Version whose body
 *   needs conversion gets MIME-Version: 1.0 and, lacking a Content-Type,
 *   "text/plain; charset=unknown-8bit" (RFC 1428).
 *
 * Our encoders never start a line with "-", so converted bodies cannot
 * produce a line that an enclosing multipart would take for a delimiter.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "mime/mime_codec.h"
#include "mime/mime_downgrade.h"

/* RFC 2046 5.1.1 says 70; some senders exceed it, so allow more. */
#define BOUNDARY_MAX 200
#define ENTITY_SLACK 128	/* output octets allowed per entity */
#define QP_GRACE 64		/* QP may exceed base64 by this much */

enum cte { CTE_7BIT, CTE_8BIT, CTE_BINARY, CTE_QP, CTE_BASE64, CTE_OTHER };
enum ctkind { CT_TEXT, CT_MULTIPART, CT_RFC822, CT_OTHER };

/* scan() flags: why a span is not 7-bit clean */
#define F_8BIT 1
#define F_NUL 2
#define F_BARE 4
#define F_LONG 8

struct dg {
	struct buf *out;
	size_t start;		/* out->len on entry */
	size_t limit;		/* output octets allowed so far */
	size_t callermax;	/* out->max on entry, restored on return */
	unsigned long nent;
	const char *why;
};

struct entity {
	const char *hdr;
	size_t hdrlen;
	const char *body;
	size_t bodylen;
	int blank;		/* an empty line separated header and body */
	int has_mv;
	int has_ct;
	int has_cte;
	enum cte cte;
	enum ctkind kind;
	int digest;		/* multipart/digest: parts default to rfc822 */
	char boundary[2 + BOUNDARY_MAX];	/* "--" boundary */
	size_t blen;		/* 0: none usable */
};

struct field {
	const char *p;		/* whole field, continuation lines included */
	size_t len;
	size_t namelen;
	const char *val;	/* after the colon, up to the final CRLF */
	size_t vallen;
	int crlf;		/* the field ends with CRLF */
};

struct delim {
	size_t ds;		/* start, including the CRLF before it */
	size_t s;		/* the "--" */
	size_t de;		/* after its CRLF */
	int close;
	int crlf;
};

static int
is_crlf(const char *p, size_t len, size_t i)
{
	return i + 1 < len && p[i] == '\r' && p[i + 1] == '\n';
}

/* Index of the next CRLF at or after from, or len. */
static size_t
line_end(const char *p, size_t len, size_t from)
{
	const char *cr;
	size_t k;

	while (from < len && (cr = memchr(p + from, '\r', len - from))) {
		k = (size_t)(cr - p);
		if (is_crlf(p, len, k))
			return k;
		from = k + 1;
	}
	return len;
}

static size_t
sat_add(size_t a, size_t b)
{
	size_t r;

	return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

/* What keeps a span from going over 7-bit SMTP (RFC 5322 2.1.1, RFC 6152) */
static int
scan(const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i, col = 0;
	int f = 0;

	for (i = 0; i < len; i++) {
		if (u[i] == '\r' && i + 1 < len && u[i + 1] == '\n') {
			i++;
			col = 0;
			continue;
		}
		if (u[i] >= 0x80)
			f |= F_8BIT;
		else if (u[i] == 0)
			f |= F_NUL;
		else if (u[i] == '\r' || u[i] == '\n')
			f |= F_BARE;
		if (++col > MIME_DOWNGRADE_MAX_LINE)
			f |= F_LONG;
	}
	return f;
}

int
mime_needs_downgrade(const char *in, size_t inlen)
{
	return scan(in, inlen) != 0;
}

static int
fail(struct dg *dg, const char *why)
{
	if (dg->why == NULL)
		dg->why = why;
	return -1;
}

static int
put(struct dg *dg, const char *p, size_t n)
{
	if (buf_append(dg->out, p, n) < 0)
		return fail(dg, errno == ERANGE ? "converted message too large" :
		    "out of memory converting message");
	return 0;
}

static int
put_str(struct dg *dg, const char *s)
{
	return put(dg, s, strlen(s));
}

/* Counts an entity and widens the output cap by its allowance. */
static int
enter(struct dg *dg)
{
	size_t m;

	if (++dg->nent > MIME_DOWNGRADE_MAX_PARTS)
		return fail(dg, "too many MIME parts");
	dg->limit = sat_add(dg->limit, ENTITY_SLACK);
	m = sat_add(dg->start, dg->limit);
	if (dg->callermax != 0 && dg->callermax < m)
		m = dg->callermax;
	dg->out->max = m == SIZE_MAX ? 0 : m;
	return 0;
}

/* RFC 5322 2.2 field name (ftext), then obs-syntax WSP (4.5.3), ":" */
static int
is_field_line(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (unsigned char)p[i] >= 33 && (unsigned char)p[i] <= 126 &&
	    p[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < n && p[i] == ':';
}

static void
split_entity(const char *p, size_t len, struct entity *e)
{
	size_t pos = 0, le;

	e->hdr = p;
	e->blank = 0;
	for (;;) {
		if (pos == len)
			break;
		if (is_crlf(p, len, pos)) {
			e->hdrlen = pos;
			e->body = p + pos + 2;
			e->bodylen = len - pos - 2;
			e->blank = 1;
			return;
		}
		le = line_end(p, len, pos);
		if (memchr(p + pos, '\0', le - pos) ||
		    memchr(p + pos, '\r', le - pos) ||
		    memchr(p + pos, '\n', le - pos))
			break;
		if (p[pos] == ' ' || p[pos] == '\t') {
			if (pos == 0)
				break;	/* a continuation of nothing */
		} else if (!is_field_line(p + pos, le - pos))
			break;
		pos = le == len ? len : le + 2;
	}
	e->hdrlen = pos;
	e->body = p + pos;
	e->bodylen = len - pos;
}

/* Next field of a header that split_entity accepted. */
static int
field_next(const char *h, size_t hlen, size_t *pos, struct field *f)
{
	size_t s = *pos, le, next, c;

	if (s >= hlen)
		return 0;
	f->p = h + s;
	c = s;
	while (h[c] != ':')
		c++;
	f->namelen = c - s;
	while (f->namelen > 0 && (h[s + f->namelen - 1] == ' ' ||
	    h[s + f->namelen - 1] == '\t'))
		f->namelen--;
	le = line_end(h, hlen, s);
	next = le == hlen ? hlen : le + 2;
	while (next < hlen && (h[next] == ' ' || h[next] == '\t')) {
		le = line_end(h, hlen, next);
		next = le == hlen ? hlen : le + 2;
	}
	f->val = h + c + 1;
	f->vallen = le - c - 1;
	f->len = next - s;
	f->crlf = le < hlen;
	*pos = next;
	return 1;
}

static int
is_name(const struct field *f, const char *name)
{
	return f->namelen == strlen(name) &&
	    strncasecmp(f->p, name, f->namelen) == 0;
}

static int
span_is(const char *p, size_t n, const char *s)
{
	return n == strlen(s) && strncasecmp(p, s, n) == 0;
}

/* A tiny RFC 2045 5.1 lexer over one (possibly folded) field value. */
struct lex {
	const char *p;
	const char *e;
};

/* CFWS: white space, folding and RFC 822 comments (nested, quoted-pair). */
static void
lex_cfws(struct lex *l)
{
	int depth;
	char c;

	while (l->p < l->e) {
		c = *l->p;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			l->p++;
			continue;
		}
		if (c != '(')
			return;
		depth = 0;
		while (l->p < l->e) {
			c = *l->p++;
			if (c == '\\' && l->p < l->e)
				l->p++;
			else if (c == '(')
				depth++;
			else if (c == ')' && --depth == 0)
				break;
		}
	}
}

static size_t
lex_token(struct lex *l, const char **s)
{
	unsigned char c;

	*s = l->p;
	while (l->p < l->e) {
		c = (unsigned char)*l->p;
		/* RFC 2045 5.1 token: no SPACE, CTLs or tspecials */
		if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c))
			break;
		l->p++;
	}
	return (size_t)(l->p - *s);
}

/* A parameter value, token or quoted-string, unquoted into v (size vmax). */
static int
lex_value(struct lex *l, char *v, size_t vmax, size_t *vlen)
{
	const char *s;
	size_t n = 0, k;

	if (l->p < l->e && *l->p == '"') {
		l->p++;
		while (l->p < l->e && *l->p != '"') {
			if (*l->p == '\\' && l->p + 1 < l->e)
				l->p++;
			else if (*l->p == '\r' || *l->p == '\n') {
				l->p++;	/* RFC 5322 3.2.4: unfold */
				continue;
			}
			if (n < vmax)
				v[n] = *l->p;
			n++;
			l->p++;
		}
		if (l->p == l->e)
			return -1;
		l->p++;
	} else {
		k = lex_token(l, &s);
		if (k == 0)
			return -1;
		if (k <= vmax)
			memcpy(v, s, k);
		n = k;
	}
	*vlen = n;
	return 0;
}

static void
parse_content_type(const char *val, size_t n, struct entity *e)
{
	struct lex l = { val, val + n };
	const char *t, *st, *a;
	size_t tl, sl, al, vl;
	char v[BOUNDARY_MAX];

	lex_cfws(&l);
	tl = lex_token(&l, &t);
	lex_cfws(&l);
	if (tl == 0 || l.p == l.e || *l.p != '/')
		goto invalid;
	l.p++;
	lex_cfws(&l);
	sl = lex_token(&l, &st);
	if (sl == 0)
		goto invalid;
	if (span_is(t, tl, "text"))
		e->kind = CT_TEXT;
	else if (span_is(t, tl, "multipart")) {
		e->kind = CT_MULTIPART;
		e->digest = span_is(st, sl, "digest");
	} else if (span_is(t, tl, "message") && span_is(st, sl, "rfc822"))
		e->kind = CT_RFC822;
	else
		e->kind = CT_OTHER;
	for (;;) {
		lex_cfws(&l);
		if (l.p == l.e || *l.p != ';')
			return;
		l.p++;
		lex_cfws(&l);
		al = lex_token(&l, &a);
		lex_cfws(&l);
		if (al == 0 || l.p == l.e || *l.p != '=')
			return;
		l.p++;
		lex_cfws(&l);
		if (lex_value(&l, v, sizeof v, &vl) < 0)
			return;
		if (span_is(a, al, "boundary") && e->blen == 0 && vl > 0 &&
		    vl <= BOUNDARY_MAX) {
			memcpy(e->boundary, "--", 2);
			memcpy(e->boundary + 2, v, vl);
			e->blen = 2 + vl;
		}
	}
invalid:
	/* RFC 2045 5.2: an unreadable Content-Type means text/plain */
	e->kind = CT_TEXT;
	e->digest = 0;
}

static enum cte
parse_cte(const char *val, size_t n)
{
	struct lex l = { val, val + n };
	const char *t;
	size_t tl;

	lex_cfws(&l);
	tl = lex_token(&l, &t);
	/* RFC 2045 6.1: the value is case-insensitive */
	if (span_is(t, tl, "7bit"))
		return CTE_7BIT;
	if (span_is(t, tl, "8bit"))
		return CTE_8BIT;
	if (span_is(t, tl, "binary"))
		return CTE_BINARY;
	if (span_is(t, tl, "quoted-printable"))
		return CTE_QP;
	if (span_is(t, tl, "base64"))
		return CTE_BASE64;
	return CTE_OTHER;
}

static void
parse_entity(const char *p, size_t len, int indigest, struct entity *e)
{
	struct field f;
	size_t pos = 0;

	memset(e, 0, sizeof *e);
	split_entity(p, len, e);
	/* RFC 2045 5.2, RFC 2046 5.1.5: the defaults */
	e->kind = indigest ? CT_RFC822 : CT_TEXT;
	e->cte = CTE_7BIT;
	while (field_next(e->hdr, e->hdrlen, &pos, &f)) {
		if (is_name(&f, "Content-Type") && !e->has_ct) {
			e->has_ct = 1;
			parse_content_type(f.val, f.vallen, e);
		} else if (is_name(&f, "Content-Transfer-Encoding") &&
		    !e->has_cte) {
			e->has_cte = 1;
			e->cte = parse_cte(f.val, f.vallen);
		} else if (is_name(&f, "MIME-Version"))
			e->has_mv = 1;
	}
}

static const char *
check_header(const char *h, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if (is_crlf(h, n, i)) {
			i++;
			col = 0;
			continue;
		}
		if ((unsigned char)h[i] >= 0x80)
			return "8-bit octets in a header field (RFC 6532) "
			       "cannot be downgraded";
		if (++col > MIME_DOWNGRADE_MAX_LINE)
			return "header line longer than 998 octets";
	}
	return NULL;
}

/* The output ends at a line start (or nothing was written yet). */
static int
at_line_start(const struct dg *dg)
{
	const struct buf *o = dg->out;

	return o->len == dg->start ||
	    (o->len >= 2 && o->p[o->len - 2] == '\r' && o->p[o->len - 1] == '\n');
}

/*
 * The header, byte for byte, except that with cte != NULL the first
 * Content-Transfer-Encoding field gets that value (later duplicates, which
 * RFC 2045 does not allow, are dropped so none contradicts it) or one is
 * added at the end, after MIME-Version / Content-Type when asked for.
 */
static int
emit_header(struct dg *dg, const struct entity *e, const char *cte,
    int add_mv, int add_ct)
{
	struct field f;
	size_t pos = 0;
	int done = 0;

	if (cte == NULL && !add_mv && !add_ct)
		return put(dg, e->hdr, e->hdrlen);
	while (field_next(e->hdr, e->hdrlen, &pos, &f)) {
		if (cte != NULL && is_name(&f, "Content-Transfer-Encoding")) {
			if (done)
				continue;
			done = 1;
			if (put_str(dg, "Content-Transfer-Encoding: ") < 0 ||
			    put_str(dg, cte) < 0 ||
			    (f.crlf && put(dg, "\r\n", 2) < 0))
				return -1;
			continue;
		}
		if (put(dg, f.p, f.len) < 0)
			return -1;
	}
	if (!add_mv && !add_ct && (done || cte == NULL))
		return 0;
	if (!at_line_start(dg) && put(dg, "\r\n", 2) < 0)
		return -1;
	if (add_mv && put_str(dg, "MIME-Version: 1.0\r\n") < 0)
		return -1;
	if (add_ct &&
	    put_str(dg, "Content-Type: text/plain; charset=unknown-8bit\r\n") < 0)
		return -1;
	if (cte != NULL && !done &&
	    (put_str(dg, "Content-Transfer-Encoding: ") < 0 ||
	    put_str(dg, cte) < 0 || put(dg, "\r\n", 2) < 0))
		return -1;
	return 0;
}

/*
 * The empty line after the header. A body that began at a line which
 * could not be a header field gets one too: without it, a later reader
 * (or a second pass, after "?" replaced the octet that made the line
 * invalid) could take the body's first lines for header fields.
 */
static int
put_sep(struct dg *dg, const struct entity *e)
{
	if (!e->blank && e->bodylen == 0)
		return 0;
	return put(dg, "\r\n", 2);
}

static int
codec_fail(struct dg *dg)
{
	return fail(dg, errno == ERANGE ? "converted message too large" :
	    "out of memory converting message");
}

/* A fresh encoding for a leaf whose body cannot go as it is. */
static int
encode_leaf(struct dg *dg, const struct entity *e, int flags, int add_mv)
{
	int qp, r;

	/*
	 * RFC 2045 6.7 QP keeps text readable, but it must round-trip the
	 * line ends exactly: bare CR/LF (BINARYMIME) go base64. Mostly 8-bit
	 * text (e.g. UTF-8 Cyrillic) would triple in QP, so it goes base64
	 * unless the difference fits in the entity's slack (short texts stay
	 * readable); that keeps every entity within 1.37 x + ENTITY_SLACK.
	 */
	qp = e->kind == CT_TEXT && !(flags & F_BARE) &&
	    mime_codec_qp_size(e->body, e->bodylen) <=
	    mime_codec_base64_size(e->bodylen) + QP_GRACE;
	if (emit_header(dg, e, qp ? "quoted-printable" : "base64", add_mv,
	    add_mv && !e->has_ct) < 0 || put_sep(dg, e) < 0)
		return -1;
	r = qp ? mime_codec_qp_encode(e->body, e->bodylen, dg->out) :
	    mime_codec_base64_encode(e->body, e->bodylen, dg->out);
	return r < 0 ? codec_fail(dg) : 0;
}

/* A QP or base64 body that is not 7-bit clean: decode, encode again. */
static int
reencode_leaf(struct dg *dg, const struct entity *e, int add_mv)
{
	struct buf tmp = BUF_INIT(0);
	int r = -1;

	if ((e->cte == CTE_QP ?
	    mime_codec_qp_decode(e->body, e->bodylen, &tmp) :
	    mime_codec_base64_decode(e->body, e->bodylen, &tmp)) < 0) {
		codec_fail(dg);
		goto out;
	}
	if (emit_header(dg, e, NULL, add_mv, add_mv && !e->has_ct) < 0 ||
	    put_sep(dg, e) < 0)
		goto out;
	if ((e->cte == CTE_QP ?
	    mime_codec_qp_encode(tmp.p, tmp.len, dg->out) :
	    mime_codec_base64_encode(tmp.p, tmp.len, dg->out)) < 0) {
		codec_fail(dg);
		goto out;
	}
	r = 0;
out:
	buf_free(&tmp);
	return r;
}

/*
 * Preamble and epilogue: copied when clean; otherwise what 7-bit SMTP
 * cannot carry becomes "?" and long lines are broken with CRLF SP, which
 * cannot start a delimiter line.
 */
static int
put_sanitized(struct dg *dg, const char *p, size_t n)
{
	size_t i, col = 0;
	unsigned char c;

	if (scan(p, n) == 0)
		return put(dg, p, n);
	for (i = 0; i < n; i++) {
		if (is_crlf(p, n, i)) {
			if (put(dg, "\r\n", 2) < 0)
				return -1;
			i++;
			col = 0;
			continue;
		}
		c = (unsigned char)p[i];
		if (c >= 0x80 || c == 0 || c == '\r' || c == '\n')
			c = '?';
		if (col == MIME_DOWNGRADE_MAX_LINE) {
			if (put(dg, "\r\n ", 3) < 0)
				return -1;
			col = 1;
		}
		if (put(dg, (const char *)&c, 1) < 0)
			return -1;
		col++;
	}
	return 0;
}

/*
 * RFC 2046 5.1.1: a delimiter is CRLF "--" boundary, a close-delimiter
 * adds "--"; both may be followed by transport padding (LWSP) and end with
 * CRLF. A line that merely starts with the boundary is content.
 */
static int
delim_at(const char *b, size_t n, size_t s, const struct entity *e,
    struct delim *d)
{
	size_t t;

	if (n - s < e->blen || memcmp(b + s, e->boundary, e->blen) != 0)
		return 0;
	t = s + e->blen;
	d->close = 0;
	if (t + 1 < n && b[t] == '-' && b[t + 1] == '-') {
		d->close = 1;
		t += 2;
	}
	while (t < n && (b[t] == ' ' || b[t] == '\t'))
		t++;
	if (t == n) {
		d->de = n;
		d->crlf = 0;
	} else if (is_crlf(b, n, t)) {
		d->de = t + 2;
		d->crlf = 1;
	} else
		return 0;
	d->s = s;
	return 1;
}

static int
find_delim(const char *b, size_t n, size_t from, const struct entity *e,
    struct delim *d)
{
	size_t k;

	/*
	 * A delimiter may open the body; one right after another delimiter
	 * (no CRLF between) is taken as one too, an empty part, as most
	 * readers do: else the CRLF we supply after an empty header would
	 * turn it into one on the next reading.
	 */
	if (delim_at(b, n, from, e, d)) {
		d->ds = from;
		return 1;
	}
	k = from;
	while ((k = line_end(b, n, k)) < n) {
		if (delim_at(b, n, k + 2, e, d)) {
			d->ds = k;
			return 1;
		}
		k += 2;
	}
	return 0;
}

/* The delimiter line as it was, unless padding made it too long. */
static int
put_delim(struct dg *dg, const char *b, const struct delim *d,
    const struct entity *e)
{
	size_t linelen = d->de - d->s - (d->crlf ? 2 : 0);

	if (linelen <= MIME_DOWNGRADE_MAX_LINE)
		return put(dg, b + d->ds, d->de - d->ds);
	if ((d->ds != d->s && put(dg, "\r\n", 2) < 0) ||
	    put(dg, e->boundary, e->blen) < 0 ||
	    (d->close && put(dg, "--", 2) < 0) ||
	    (d->crlf && put(dg, "\r\n", 2) < 0))
		return -1;
	return 0;
}

static int convert(struct dg *, const char *, size_t, int, int, int);

static int
convert_multipart(struct dg *dg, const struct entity *e, int depth)
{
	const char *b = e->body;
	size_t n = e->bodylen, start;
	struct delim d, nd;

	if (!find_delim(b, n, 0, e, &d))
		return put_sanitized(dg, b, n);	/* all preamble */
	if (put_sanitized(dg, b, d.ds) < 0)
		return -1;
	for (;;) {
		if (put_delim(dg, b, &d, e) < 0)
			return -1;
		if (d.close)
			return put_sanitized(dg, b + d.de, n - d.de);
		start = d.de;
		if (!find_delim(b, n, start, e, &nd)) {
			/* a delimiter that ended the body needs its CRLF */
			if (!d.crlf && put(dg, "\r\n", 2) < 0)
				return -1;
			if (convert(dg, b + start, n - start, depth + 1, 0,
			    e->digest) < 0)
				return -1;
			/* truncated: supply the close-delimiter */
			if (put(dg, "\r\n", 2) < 0 ||
			    put(dg, e->boundary, e->blen) < 0 ||
			    put(dg, "--\r\n", 4) < 0)
				return -1;
			return 0;
		}
		if (convert(dg, b + start, nd.ds - start, depth + 1, 0,
		    e->digest) < 0)
			return -1;
		d = nd;
	}
}

/*
 * One entity: header and body. `message` is set for a whole message (the
 * top level, or a message/rfc822 body), where MIME-Version may be missing.
 */
static int
convert(struct dg *dg, const char *p, size_t len, int depth, int message,
    int indigest)
{
	struct entity e;
	const char *why, *relabel;
	int flags, add_mv;

	if (depth > MIME_DOWNGRADE_MAX_DEPTH)
		return fail(dg, "MIME nesting too deep");
	if (enter(dg) < 0)
		return -1;
	parse_entity(p, len, indigest, &e);
	if ((why = check_header(e.hdr, e.hdrlen)) != NULL)
		return fail(dg, why);
	flags = scan(e.body, e.bodylen);
	/* RFC 2045 4: our C-T-E means nothing without MIME-Version */
	add_mv = message && !e.has_mv && flags != 0;
	/* RFC 2045 6.4, RFC 2046 5.2.1: composites must be identity-encoded,
	 * and once their parts are 7-bit the honest label is 7bit */
	relabel = e.cte == CTE_8BIT || e.cte == CTE_BINARY ? "7bit" : NULL;

	if (e.kind == CT_MULTIPART && e.blen > 0 && e.cte <= CTE_BINARY) {
		if (emit_header(dg, &e, relabel, add_mv, 0) < 0 ||
		    put_sep(dg, &e) < 0)
			return -1;
		return convert_multipart(dg, &e, depth);
	}
	if (e.kind == CT_RFC822 && e.cte <= CTE_BINARY) {
		if (emit_header(dg, &e, relabel, add_mv, 0) < 0 ||
		    put_sep(dg, &e) < 0)
			return -1;
		return convert(dg, e.body, e.bodylen, depth + 1, 1, 0);
	}
	if (flags == 0) {
		/* clean already; only an 8bit/binary label needs changing */
		if (emit_header(dg, &e, relabel, 0, 0) < 0 ||
		    put_sep(dg, &e) < 0)
			return -1;
		return put(dg, e.body, e.bodylen);
	}
	switch (e.cte) {
	case CTE_7BIT:
	case CTE_8BIT:
	case CTE_BINARY:
		return encode_leaf(dg, &e, flags, add_mv);
	case CTE_QP:
	case CTE_BASE64:
		return reencode_leaf(dg, &e, add_mv);
	default:
		return fail(dg, "8-bit data under an unknown "
				"Content-Transfer-Encoding");
	}
}

int
mime_downgrade(const char *in, size_t inlen, struct buf *out,
    const char **why)
{
	struct dg dg;
	int r;

	dg.out = out;
	dg.start = out->len;
	dg.callermax = out->max;
	dg.nent = 0;
	dg.why = NULL;
	/* base64 is 4/3 plus CRLF every 76: 1.37 x; QP only when smaller */
	dg.limit = sat_add(sat_add(inlen, inlen / 2), 65536);
	r = convert(&dg, inlen ? in : "", inlen, 0, 1, 0);
	out->max = dg.callermax;
	if (r < 0) {
		*why = dg.why ? dg.why : "cannot convert message";
		return -1;
	}
	return 0;
}
