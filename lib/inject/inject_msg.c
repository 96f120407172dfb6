#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "inject/inject_msg.h"

/* A header field as found: offsets into the normalised header buffer. */
struct field {
	size_t off, len;	/* whole field, folded lines joined by CRLF */
	size_t namelen;
};

struct hdr {
	struct buf text;	/* the header lines, CRLF, as read */
	struct field *f;
	size_t n, cap;
};

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
name_is(const char *p, size_t n, const char *want)
{
	size_t i;

	if (n != strlen(want))
		return 0;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)p[i]) != want[i])
			return 0;
	return 1;
}

static void
set_why(struct inject_msg_info *info, size_t line, const char *why)
{
	info->err_line = line;
	snprintf(info->why, sizeof info->why, "%s", why);
}

void
inject_rcpts_free(struct inject_rcpts *rc)
{
	free(rc->a);
	rc->a = NULL;
	rc->n = rc->cap = 0;
}

static int
rcpt_add(struct inject_rcpts *rc, const char *addr)
{
	void *p;
	size_t i;

	/* The same address twice is one delivery (as sendmail does). */
	for (i = 0; i < rc->n; i++)
		if (strcmp(rc->a[i], addr) == 0)
			return INJECT_MSG_OK;
	if (rc->n >= INJECT_MSG_MAX_RCPT)
		return INJECT_MSG_E_TOOMANY;
	p = array_grow(rc->a, &rc->cap, rc->n + 1, sizeof *rc->a);
	if (p == NULL)
		return INJECT_MSG_E_NOMEM;
	rc->a = p;
	snprintf(rc->a[rc->n++], sizeof rc->a[0], "%s", addr);
	return INJECT_MSG_OK;
}

static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

int
inject_addr_check(const char *p, size_t n, char out[SMTP_PATH_MAX + 1])
{
	char tmp[SMTP_PATH_MAX + 3];
	struct smtp_path path;
	size_t i, used;

	out[0] = '\0';
	if (n == 0 || n > SMTP_PATH_MAX)
		return -1;
	if (memchr(p, '@', n) == NULL) {
		/* A local name: plain atoms only, it names a user or alias. */
		if (n > SMTP_LOCAL_MAX || p[0] == '.' || p[n - 1] == '.')
			return -1;
		for (i = 0; i < n; i++)
			if (!is_atext((unsigned char)p[i]))
				return -1;
		memcpy(out, p, n);
		out[n] = '\0';
		return 0;
	}
	tmp[0] = '<';
	memcpy(tmp + 1, p, n);
	tmp[n + 1] = '>';
	if (smtp_addr_parse_path(tmp, n + 2, SMTP_PATH_FORWARD | SMTP_PATH_UTF8,
	    &path, &used) != SMTP_ADDR_OK || used != n + 2)
		return -1;
	memcpy(out, path.addr, path.addrlen + 1);
	return 0;
}

/* A diagnostic quoting header text stays on one line. */
static void
why_oneline(char *why)
{
	for (; *why; why++)
		if (*why == '\r' || *why == '\n' || *why == '\t')
			*why = ' ';
}

/*
 * One element of an address list, comments removed: either the contents
 * of its <angle-addr> or the whole text (an addr-spec), trimmed.
 */
static int
element(const char *p, size_t n, struct inject_rcpts *rc, char *why,
    size_t whysize)
{
	char text[1024], addr[SMTP_PATH_MAX + 1];
	size_t i, k = 0, depth = 0, a0 = 0, a1 = 0;
	int quoted = 0, angle = 0, has_angle = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (quoted) {
			if (c == '\\' && i + 1 < n) {
				if (k + 2 < sizeof text) {
					text[k++] = (char)c;
					text[k++] = p[++i];
				}
				continue;
			}
			if (c == '"')
				quoted = 0;
		} else if (depth) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		} else if (c == '(') {
			depth = 1;
			continue;
		} else if (c == '"') {
			quoted = 1;
		} else if (c == '<') {
			angle = has_angle = 1;
			a0 = k;
			continue;
		} else if (c == '>' && angle) {
			angle = 0;
			a1 = k;
			continue;
		}
		if (k + 1 < sizeof text)
			text[k++] = (char)c;
	}
	text[k] = '\0';
	if (quoted || depth || angle)
		goto bad;
	if (has_angle) {
		memmove(text, text + a0, a1 - a0);
		k = a1 - a0;
		text[k] = '\0';
		/* An obsolete source route "@a,@b:" is dropped (RFC 5322 4.4). */
		if (text[0] == '@') {
			char *colon = strchr(text, ':');

			if (colon == NULL)
				goto bad;
			k -= (size_t)(colon + 1 - text);
			memmove(text, colon + 1, k + 1);
		}
	}
	/*
	 * Trim; folding white space around the dots and the @ of an
	 * addr-spec is obsolete (RFC 5322 4.4). White space inside a quoted
	 * string is part of the local part, and white space between two
	 * words ("joe smith") is no address at all.
	 */
	{
		size_t o = 0;
		int q = 0, gap = 0;

		for (i = 0; i < k; i++) {
			char c = text[i];

			if (!q && (c == ' ' || c == '\t' || c == '\r' ||
			    c == '\n')) {
				gap = 1;
				continue;
			}
			if (gap && o > 0 && text[o - 1] != '.' &&
			    text[o - 1] != '@' && c != '.' && c != '@')
				goto bad;
			gap = 0;
			if (q && c == '\\' && i + 1 < k) {
				text[o++] = c;
				text[o++] = text[++i];
				continue;
			}
			if (c == '"')
				q = !q;
			text[o++] = c;
		}
		text[o] = '\0';
		k = o;
	}
	if (k == 0) {
		if (has_angle)
			goto bad;
		return INJECT_MSG_OK;	/* ",," or an empty group member */
	}
	if (inject_addr_check(text, k, addr) < 0)
		goto bad;
	return rcpt_add(rc, addr);
bad:
	snprintf(why, whysize, "bad address '%.*s'", (int)(n > 100 ? 100 : n),
	    p);
	why_oneline(why);
	return INJECT_MSG_E_ADDRESS;
}

int
inject_addr_list(const char *p, size_t n, struct inject_rcpts *rc,
    char *why, size_t whysize)
{
	size_t i, start = 0, depth = 0;
	int quoted = 0, angle = 0, r;

	for (i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)p[i] : ',';

		if (i < n && quoted) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = 0;
			continue;
		}
		if (i < n && depth) {
			if (c == '\\')
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if (c == '"')
			quoted = 1;
		else if (c == '(')
			depth = 1;
		else if (c == '<')
			angle = 1;
		else if (c == '>')
			angle = 0;
		else if (c == ':' && !angle) {
			/* "group:" — what came before is the group's name */
			start = i + 1;
		} else if ((c == ',' || c == ';') && !angle) {
			if ((r = element(p + start, i - start, rc, why,
			    whysize)) != INJECT_MSG_OK)
				return r;
			start = i + 1;
		}
	}
	if (quoted || depth || angle) {
		snprintf(why, whysize, "unbalanced quote, comment or <> in "
		    "'%.*s'", (int)(n > 100 ? 100 : n), p);
		why_oneline(why);
		return INJECT_MSG_E_ADDRESS;
	}
	return INJECT_MSG_OK;
}

static int
field_add(struct hdr *h, size_t off, size_t namelen)
{
	void *p = array_grow(h->f, &h->cap, h->n + 1, sizeof *h->f);

	if (p == NULL)
		return -1;
	h->f = p;
	h->f[h->n].off = off;
	h->f[h->n].len = 0;
	h->f[h->n].namelen = namelen;
	h->n++;
	return 0;
}

/* Length of the field name if line is "name:" (obs WSP before ':'), or 0. */
static size_t
field_name(const char *l, size_t n)
{
	size_t i, name;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c == ':' || c <= ' ' || c >= 0x7f)
			break;
	}
	name = i;
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (name == 0 || i >= n || l[i] != ':')
		return 0;
	return name;
}

static int
put(struct buf *out, size_t max, const void *p, size_t n)
{
	if (max && out->len + n > max)
		return INJECT_MSG_E_TOOBIG;
	return buf_append(out, p, n) < 0 ? INJECT_MSG_E_NOMEM : INJECT_MSG_OK;
}

static int
put_field(struct buf *out, size_t max, const char *name, const char *value)
{
	int r;

	if ((r = put(out, max, name, strlen(name))) != 0 ||
	    (r = put(out, max, ": ", 2)) != 0 ||
	    (r = put(out, max, value, strlen(value))) != 0)
		return r;
	return put(out, max, "\r\n", 2);
}

/* One input line: where it ends, and where the next begins. */
struct line {
	const char *p;
	size_t len;
	size_t lineno;
};

/* A line ends at LF, CRLF, or a lone CR. Returns 0 at the end of input. */
static int
next_line(const char *in, size_t n, size_t *pos, struct line *l)
{
	size_t len = 0, next;

	if (*pos >= n)
		return 0;
	l->p = in + *pos;
	while (*pos + len < n && l->p[len] != '\n' && l->p[len] != '\r')
		len++;
	next = *pos + len;
	if (next < n && in[next] == '\r' && next + 1 < n &&
	    in[next + 1] == '\n')
		next += 2;
	else if (next < n)
		next++;
	*pos = next;
	l->len = len;
	l->lineno++;
	return 1;
}

static int
put_line(struct buf *out, size_t max, const struct line *l)
{
	int r;

	if ((r = put(out, max, l->p, l->len)) != 0)
		return r;
	return put(out, max, "\r\n", 2);
}

static int
header_error(struct inject_msg_info *info, const struct line *l,
    const char *why)
{
	set_why(info, l->lineno, why);
	return INJECT_MSG_E_HEADER;
}

/*
 * A line of the header section into h. Sets *inhdr to 0 when the first
 * line is no field: then the message has no header and it goes to out.
 */
static int
header_line(struct hdr *h, const struct line *l, int *inhdr,
    const struct inject_msg_opts *o, struct buf *out,
    struct inject_msg_info *info)
{
	size_t nl;

	if (memchr(l->p, '\0', l->len) != NULL)
		return header_error(info, l, "NUL character in the header");
	if (l->len > INJECT_MSG_LINE_MAX)
		return header_error(info, l,
		    "header line longer than 998 characters");
	if (l->p[0] == ' ' || l->p[0] == '\t') {
		if (h->n == 0)
			return header_error(info, l,
			    "the header starts with a continuation line");
	} else if ((nl = field_name(l->p, l->len)) == 0) {
		if (h->n > 0)
			return header_error(info, l,
			    "not a header field (no 'name:'), and no empty "
			    "line before the body");
		/* No header section at all: all is body. */
		*inhdr = 0;
		return put_line(out, o->max_size, l);
	} else if (field_add(h, h->text.len, nl) < 0) {
		return INJECT_MSG_E_NOMEM;
	}
	if (o->max_size && h->text.len + l->len + 2 > o->max_size)
		return INJECT_MSG_E_TOOBIG;
	if (buf_append(&h->text, l->p, l->len) < 0 ||
	    buf_append(&h->text, "\r\n", 2) < 0)
		return INJECT_MSG_E_NOMEM;
	h->f[h->n - 1].len = h->text.len - h->f[h->n - 1].off;
	return INJECT_MSG_OK;
}

/*
 * Reads the input: the header section into h, the body (CRLF) to out as
 * it comes.
 */
static int
read_input(const char *in, size_t n, const struct inject_msg_opts *o,
    struct hdr *h, struct buf *out, struct inject_msg_info *info)
{
	struct line l;
	size_t pos = 0, i;
	int inhdr = 1, r;

	memset(&l, 0, sizeof l);
	while (next_line(in, n, &pos, &l)) {
		for (i = 0; i < l.len && !info->eightbit; i++)
			if ((unsigned char)l.p[i] >= 0x80)
				info->eightbit = 1;
		if (!(o->flags & INJECT_MSG_DOT_OK) && l.len == 1 &&
		    l.p[0] == '.')
			break;
		if (!inhdr) {
			/* The maildrop pickup refuses it (doc/THREATS.md). */
			if (memchr(l.p, '\0', l.len) != NULL) {
				set_why(info, l.lineno,
				    "NUL character in the body");
				return INJECT_MSG_E_BODY;
			}
			if ((r = put_line(out, o->max_size, &l)) != 0)
				return r;
			continue;
		}
		if (l.lineno == 1 && l.len >= 5 && memcmp(l.p, "From ", 5) == 0)
			continue;	/* mbox separator */
		if (l.len == 0) {
			inhdr = 0;
			continue;
		}
		if ((r = header_line(h, &l, &inhdr, o, out, info)) != 0)
			return r;
	}
	return INJECT_MSG_OK;
}

/*
 * The header section as it goes out: Bcc: and Resent-Bcc: dropped (and,
 * with EXTRACT, the addresses of To:, Cc:, Bcc: collected), the missing
 * From:, Date:, Message-ID: added, and the empty line.
 */
static int
build_header(const struct hdr *h, const struct inject_msg_opts *o,
    struct inject_rcpts *rc, struct inject_msg_info *info, struct buf *head)
{
	int have_from = 0, have_date = 0, have_msgid = 0, r;
	size_t i;

	for (i = 0; i < h->n; i++) {
		const struct field *f = &h->f[i];
		const char *fp = h->text.p + f->off, *v;

		if (!name_is(fp, f->namelen, "bcc") &&
		    !name_is(fp, f->namelen, "resent-bcc") &&
		    (r = put(head, 0, fp, f->len)) != 0)
			return r;
		if (name_is(fp, f->namelen, "from"))
			have_from = 1;
		else if (name_is(fp, f->namelen, "date"))
			have_date = 1;
		else if (name_is(fp, f->namelen, "message-id"))
			have_msgid = 1;
		if ((o->flags & INJECT_MSG_EXTRACT) &&
		    (name_is(fp, f->namelen, "to") ||
		    name_is(fp, f->namelen, "cc") ||
		    name_is(fp, f->namelen, "bcc"))) {
			v = (const char *)memchr(fp, ':', f->len) + 1;
			/* The value without the field's final CRLF. */
			r = inject_addr_list(v, f->len - 2 - (size_t)(v - fp),
			    rc, info->why, sizeof info->why);
			if (r != INJECT_MSG_OK)
				return r;
		}
	}
	r = 0;
	if (!have_from && o->from)
		r = put_field(head, 0, "From", o->from);
	if (r == 0 && !have_date && o->date)
		r = put_field(head, 0, "Date", o->date);
	if (r == 0 && !have_msgid && o->msgid)
		r = put_field(head, 0, "Message-ID", o->msgid);
	if (r == 0)
		r = put(head, 0, "\r\n", 2);
	return r;
}

int
inject_msg_build(const char *in, size_t n, const struct inject_msg_opts *o,
    struct buf *out, struct inject_rcpts *rc, struct inject_msg_info *info)
{
	struct hdr h;
	struct buf head = BUF_INIT(0);
	size_t start = out->len, bodylen;
	int r;

	memset(info, 0, sizeof *info);
	memset(&h, 0, sizeof h);
	buf_init(&h.text, 0);
	if ((r = read_input(in, n, o, &h, out, info)) != 0 ||
	    (r = build_header(&h, o, rc, info, &head)) != 0)
		goto fail;
	/*
	 * The body went to out as it came; now the header goes in front: out
	 * is [start .. body], build [header][blank line][body].
	 */
	bodylen = out->len - start;
	if (o->max_size && head.len + bodylen > o->max_size)
		r = INJECT_MSG_E_TOOBIG;
	else if (buf_reserve(out, head.len) < 0)
		r = INJECT_MSG_E_NOMEM;
	if (r != 0)
		goto fail;
	memmove(out->p + start + head.len, out->p + start, bodylen);
	memcpy(out->p + start, head.p, head.len);
	out->len += head.len;
	out->p[out->len] = '\0';
	goto out;
fail:
	if (info->why[0] == '\0')
		snprintf(info->why, sizeof info->why, "%s",
		    inject_msg_strerror(r));
	out->len = start;
	if (out->p)
		out->p[start] = '\0';
out:
	buf_free(&head);
	buf_free(&h.text);
	free(h.f);
	return r;
}

const char *
inject_msg_strerror(int err)
{
	switch (err) {
	case INJECT_MSG_OK:
		return "ok";
	case INJECT_MSG_E_NOMEM:
		return "out of memory";
	case INJECT_MSG_E_TOOBIG:
		return "message too large";
	case INJECT_MSG_E_HEADER:
		return "malformed header section";
	case INJECT_MSG_E_ADDRESS:
		return "bad address";
	case INJECT_MSG_E_TOOMANY:
		return "too many recipients";
	case INJECT_MSG_E_BODY:
		return "malformed body";
	}
	return "unknown error";
}
