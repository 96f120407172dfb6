#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "client/client_reply.h"

void
client_reply_reset(struct client_reply *r)
{
	r->code = 0;
	r->done = 0;
	r->lines = 0;
	r->size = 0;
	r->len = 0;
	r->text[0] = '\0';
}

static void
append_safe(struct client_reply *r, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && r->len < sizeof r->text - 1; i++) {
		unsigned char c = (unsigned char)p[i];

		r->text[r->len++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	r->text[r->len] = '\0';
}

int
client_reply_feed(struct client_reply *r, const char *line, size_t len)
{
	int code;

	if (r->done)
		client_reply_reset(r);
	if (r->lines >= CLIENT_REPLY_LINES_MAX ||
	    len > CLIENT_REPLY_SIZE_MAX - 2 ||
	    r->size > CLIENT_REPLY_SIZE_MAX - 2 - len)
		return CLIENT_REPLY_E_TOOBIG;
	r->lines++;
	r->size += len + 2;
	/* RFC 5321 4.2: 3 digits, then SP, "-" or the end of the line;
	 * first digit 2..5, second 0..5 (4.2.1). */
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '5' || line[2] < '0' || line[2] > '9')
		return CLIENT_REPLY_E_SYNTAX;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return CLIENT_REPLY_E_SYNTAX;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->code == 0) {
		r->code = code;
		/* "250" alone: keep the code so the text is never empty. */
		append_safe(r, line, len > 3 ? 3 : len);
		if (len > 4) {
			append_safe(r, " ", 1);
			append_safe(r, line + 4, len - 4);
		}
	} else {
		if (code != r->code)
			return CLIENT_REPLY_E_SYNTAX;
		if (len > 4) {
			append_safe(r, " ", 1);
			append_safe(r, line + 4, len - 4);
		}
	}
	if (len == 3 || line[3] == ' ') {
		r->done = 1;
		return CLIENT_REPLY_DONE;
	}
	return CLIENT_REPLY_MORE;
}

void
client_reply_set(struct client_reply *r, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	client_reply_reset(r);
	if (code < 200 || code > 599)
		code = 451;
	r->text[0] = (char)('0' + code / 100);
	r->text[1] = (char)('0' + code / 10 % 10);
	r->text[2] = (char)('0' + code % 10);
	r->text[3] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(r->text + 4, sizeof r->text - 4, fmt, ap);
	va_end(ap);
	if (n < 0)
		r->text[4] = '\0';
	r->len = strlen(r->text);
	r->code = code;
	r->done = 1;
}

void
client_why_set(struct client_why *w, int perm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(w->text, sizeof w->text, fmt, ap) < 0)
		w->text[0] = '\0';
	va_end(ap);
	w->perm = perm;
}

/* The keyword of an EHLO line is up to the first space (RFC 5321 4.1.1.1). */
static int
keyword_is(const char *p, size_t n, const char *kw)
{
	size_t kl = strlen(kw);

	return n >= kl && (n == kl || p[kl] == ' ') &&
	    str_ncasecmp(p, kw, kl) == 0;
}

/* The SASL mechanisms we speak among "AUTH m1 m2 ..." (RFC 4954 3);
 * from 5 on: after "AUTH ". */
static unsigned
auth_mechs(const char *p, size_t n)
{
	unsigned f = 0;
	size_t i = 5, k;

	while (i < n) {
		for (k = i; k < n && p[k] != ' '; k++)
			;
		if (k - i == 5 && str_ncasecmp(p + i, "PLAIN", 5) == 0)
			f |= CLIENT_EXT_AUTH_PLAIN;
		else if (k - i == 5 && str_ncasecmp(p + i, "LOGIN", 5) == 0)
			f |= CLIENT_EXT_AUTH_LOGIN;
		i = k + 1;
	}
	return f;
}

void
client_ext_line(struct client_ext *e, const char *p, size_t n)
{
	if (keyword_is(p, n, "STARTTLS"))
		e->flags |= CLIENT_EXT_STARTTLS;
	else if (keyword_is(p, n, "AUTH"))
		e->flags |= auth_mechs(p, n);
	else if (keyword_is(p, n, "PIPELINING"))
		e->flags |= CLIENT_EXT_PIPELINING;
	else if (keyword_is(p, n, "8BITMIME"))
		e->flags |= CLIENT_EXT_8BITMIME;
	else if (keyword_is(p, n, "BINARYMIME"))
		e->flags |= CLIENT_EXT_BINARYMIME;
	else if (keyword_is(p, n, "CHUNKING"))
		e->flags |= CLIENT_EXT_CHUNKING;
	else if (keyword_is(p, n, "SMTPUTF8"))
		e->flags |= CLIENT_EXT_SMTPUTF8;
	else if (keyword_is(p, n, "ENHANCEDSTATUSCODES"))
		e->flags |= CLIENT_EXT_ENHANCED;
	else if (keyword_is(p, n, "SIZE")) {
		uint64_t v = 0;
		size_t i;

		e->flags |= CLIENT_EXT_SIZE;
		/* RFC 1870 4: an optional decimal limit; 0 or none = no
		 * fixed limit. Saturate rather than wrap. */
		for (i = 5; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
			if (v > (UINT64_MAX - 9) / 10) {
				v = UINT64_MAX;
				break;
			}
			v = v * 10 + (uint64_t)(p[i] - '0');
		}
		e->size = v;
	}
}

void
client_dot_init(struct client_dot *s)
{
	s->bol = 1;
	s->cr = 0;
}

int
client_dot_stuff(struct client_dot *s, const char *p, size_t n,
    struct buf *out)
{
	size_t i = 0, start = 0, k;
	const char *lf;

	/* Line by line (memchr): i is always where a line may start. */
	while (i < n) {
		if (s->bol && p[i] == '.') {
			/* Flush up to here, then the extra dot. */
			if (buf_append(out, p + start, i - start) < 0 ||
			    buf_append_byte(out, '.') < 0)
				return -1;
			start = i;
		}
		if ((lf = memchr(p + i, '\n', n - i)) == NULL) {
			s->bol = 0;
			s->cr = p[n - 1] == '\r';
			break;
		}
		k = (size_t)(lf - p);
		/* A line starts after CRLF only; the CR may have ended the
		 * previous call. */
		s->bol = k > i ? p[k - 1] == '\r' : s->cr;
		s->cr = 0;
		i = k + 1;
	}
	return buf_append(out, p + start, n - start);
}

int
client_dot_end(struct client_dot *s, struct buf *out)
{
	if (!s->bol && buf_append(out, "\r\n", 2) < 0)
		return -1;
	s->bol = 1;
	s->cr = 0;
	return buf_append(out, ".\r\n", 3);
}
