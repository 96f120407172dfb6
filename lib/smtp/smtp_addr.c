#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/utf8.h"
#include "smtp/smtp_addr.h"

struct cur {
	const unsigned char *p;
	size_t n;
	size_t i;
	int utf8;	/* saw a (well-formed) non-ASCII sequence */
	int bad8;	/* saw malformed UTF-8 */
	int hidden;	/* saw a hidden code point (utf8.h) */
};

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* RFC 5322 3.2.3 atext */
static int
is_atext(int c)
{
	return is_alpha(c) || is_digit(c) || (c != 0 &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/*
 * Length of the UTF-8 sequence at p[0..n) if it is well-formed (RFC 3629
 * 4) and no hidden code point (C1 controls, bidi overrides, see utf8.h:
 * never part of a mailbox name, and they would reach logs, Received and
 * Return-Path); else 0.
 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	uint32_t cp = 0;
	size_t len = utf8_seq_len(p, n, &cp);

	return len > 0 && !utf8_hidden(cp) ? len : 0;
}

/* Why take_utf8() stopped. */
static int
utf8_error(const struct cur *c)
{
	return c->hidden ? SMTP_ADDR_E_HIDDEN : c->bad8 ? SMTP_ADDR_E_BADUTF8 :
	    SMTP_ADDR_E_SYNTAX;
}

/* Steps over one UTF8-non-ascii character at the cursor, if there is one. */
static size_t
take_utf8(struct cur *c)
{
	size_t l;

	if (c->i >= c->n || c->p[c->i] < 0x80)
		return 0;
	l = utf8_len(c->p + c->i, c->n - c->i);
	if (l == 0) {
		uint32_t cp;

		if (utf8_seq_len(c->p + c->i, c->n - c->i, &cp) > 0)
			c->hidden = 1;
		else
			c->bad8 = 1;
		return 0;
	}
	c->utf8 = 1;
	c->i += l;
	return l;
}

static int
peek(const struct cur *c)
{
	return c->i < c->n ? c->p[c->i] : -1;
}

static int
is_ldh(int ch)
{
	return is_alpha(ch) || is_digit(ch) || ch == '-';
}

/*
 * RFC 5321 4.1.2 Domain; RFC 6531 3.3 lets a sub-domain be a U-label.
 * Copies the lower-cased domain to out (if not NULL, SMTP_DOMAIN_MAX + 1).
 */
static int
parse_domain(struct cur *c, char *out, size_t *outlen)
{
	size_t start = c->i, label, k;
	int ch, last;

	for (;;) {
		label = c->i;
		last = 0;
		for (;;) {
			ch = peek(c);
			if (ch >= 0x80) {
				if (take_utf8(c) == 0)
					return utf8_error(c);
				last = 'a';
				continue;
			}
			if (ch < 0 || !is_ldh(ch))
				break;
			/* Let-dig [Ldh-str]: no hyphen first */
			if (ch == '-' && c->i == label)
				return SMTP_ADDR_E_SYNTAX;
			last = ch;
			c->i++;
		}
		if (c->i == label || last == '-')
			return SMTP_ADDR_E_SYNTAX;
		/* RFC 1035 2.3.4 */
		if (c->i - label > 63)
			return SMTP_ADDR_E_TOOLONG;
		if (c->i - start > SMTP_DOMAIN_MAX)
			return SMTP_ADDR_E_TOOLONG;
		if (peek(c) != '.')
			break;
		c->i++;
	}
	if (out != NULL) {
		for (k = start; k < c->i; k++)
			out[k - start] = (char)to_lower(c->p[k]);
		out[c->i - start] = '\0';
		*outlen = c->i - start;
	}
	return SMTP_ADDR_OK;
}

/* RFC 5321 4.1.3 Snum "." Snum "." Snum "." Snum, each 0..255 */
static int
ipv4_ok(const char *p, size_t n)
{
	size_t i = 0;
	int part, digits, val;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || p[i] != '.')
				return 0;
			i++;
		}
		for (digits = 0, val = 0; i < n && is_digit(p[i]) &&
		    digits < 3; digits++, i++)
			val = val * 10 + (p[i] - '0');
		if (digits == 0 || val > 255)
			return 0;
	}
	return i == n;
}

int
smtp_addr_literal_check(const char *p, size_t n)
{
	char tmp[64];
	struct in6_addr a6;
	size_t i;

	if (n < 3 || p[0] != '[' || p[n - 1] != ']')
		return SMTP_ADDR_E_SYNTAX;
	p++;
	n -= 2;
	if (ipv4_ok(p, n))
		return SMTP_ADDR_OK;
	if (n < 5 || to_lower(p[0]) != 'i' || to_lower(p[1]) != 'p' ||
	    to_lower(p[2]) != 'v' || p[3] != '6' || p[4] != ':')
		return SMTP_ADDR_E_SYNTAX;
	p += 5;
	n -= 5;
	if (n == 0 || n >= sizeof tmp)
		return SMTP_ADDR_E_SYNTAX;
	for (i = 0; i < n; i++) {
		/* inet_pton would stop at a NUL; only hex, ':' and '.' */
		if (!is_digit(p[i]) && !strchr("abcdefABCDEF:.", p[i]))
			return SMTP_ADDR_E_SYNTAX;
		if (p[i] == '\0')
			return SMTP_ADDR_E_SYNTAX;
		tmp[i] = p[i];
	}
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, &a6) == 1 ? SMTP_ADDR_OK :
	    SMTP_ADDR_E_SYNTAX;
}

static int
parse_literal(struct cur *c, char *out, size_t *outlen)
{
	size_t start = c->i, k, len;

	while (c->i < c->n && c->p[c->i] != ']') {
		if (c->p[c->i] < 33 || c->p[c->i] > 126)
			return SMTP_ADDR_E_SYNTAX;
		c->i++;
	}
	if (c->i >= c->n)
		return SMTP_ADDR_E_SYNTAX;
	c->i++;
	len = c->i - start;
	if (len > SMTP_DOMAIN_MAX)
		return SMTP_ADDR_E_TOOLONG;
	if (smtp_addr_literal_check((const char *)c->p + start, len) != 0)
		return SMTP_ADDR_E_SYNTAX;
	for (k = 0; k < len; k++)
		out[k] = (char)to_lower(c->p[start + k]);
	if (len > 6 && out[1] == 'i')
		memcpy(out + 1, "IPv6", 4);
	out[len] = '\0';
	*outlen = len;
	return SMTP_ADDR_OK;
}

/* Is s[0..n) a Dot-string (RFC 5321 4.1.2), so needs no quoting? */
static int
is_dot_string(const unsigned char *s, size_t n)
{
	size_t i, l;
	int prev_dot = 1;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i += l) {
		l = 1;
		if (s[i] >= 0x80) {
			l = utf8_len(s + i, n - i);
			if (l == 0)
				return 0;
			prev_dot = 0;
		} else if (s[i] == '.') {
			if (prev_dot)
				return 0;
			prev_dot = 1;
		} else if (is_atext(s[i]))
			prev_dot = 0;
		else
			return 0;
	}
	return !prev_dot;
}

/*
 * Local-part into out (unescaped content, never longer than the form as
 * sent, so more than SMTP_LOCAL_MAX octets is always "too long").
 */
static int
parse_local(struct cur *c, unsigned char *out, size_t *outlen)
{
	size_t start = c->i, o = 0, l;
	int ch;

	if (peek(c) == '"') {
		c->i++;
		for (;;) {
			if (c->i - start > SMTP_LOCAL_MAX)
				return SMTP_ADDR_E_TOOLONG;
			ch = peek(c);
			if (ch < 0)
				return SMTP_ADDR_E_SYNTAX;
			if (ch == '"') {
				c->i++;
				break;
			}
			if (ch == '\\') {
				/* quoted-pairSMTP = %d92 %d32-126 */
				c->i++;
				ch = peek(c);
				if (ch < 32 || ch > 126)
					return SMTP_ADDR_E_SYNTAX;
				if (o >= SMTP_LOCAL_MAX)
					return SMTP_ADDR_E_TOOLONG;
				out[o++] = (unsigned char)ch;
				c->i++;
				continue;
			}
			if (ch >= 0x80) {
				l = take_utf8(c);
				if (l == 0)
					return utf8_error(c);
				if (o + l > SMTP_LOCAL_MAX)
					return SMTP_ADDR_E_TOOLONG;
				memcpy(out + o, c->p + c->i - l, l);
				o += l;
				continue;
			}
			/* qtextSMTP = %d32-33 / %d35-91 / %d93-126 */
			if (ch < 32 || ch > 126)
				return SMTP_ADDR_E_SYNTAX;
			if (o >= SMTP_LOCAL_MAX)
				return SMTP_ADDR_E_TOOLONG;
			out[o++] = (unsigned char)ch;
			c->i++;
		}
	} else {
		for (;;) {
			if (c->i - start > SMTP_LOCAL_MAX)
				return SMTP_ADDR_E_TOOLONG;
			ch = peek(c);
			if (ch >= 0x80) {
				l = take_utf8(c);
				if (l == 0)
					return utf8_error(c);
				if (o + l > SMTP_LOCAL_MAX)
					return SMTP_ADDR_E_TOOLONG;
				memcpy(out + o, c->p + c->i - l, l);
				o += l;
				continue;
			}
			if (ch < 0 || (ch != '.' && !is_atext(ch)))
				break;
			if (o >= SMTP_LOCAL_MAX)
				return SMTP_ADDR_E_TOOLONG;
			out[o++] = (unsigned char)ch;
			c->i++;
		}
		if (!is_dot_string(out, o))
			return SMTP_ADDR_E_SYNTAX;
	}
	if (c->i - start > SMTP_LOCAL_MAX)
		return SMTP_ADDR_E_TOOLONG;
	*outlen = o;
	return SMTP_ADDR_OK;
}

static int
eq_ci(const unsigned char *p, size_t n, const char *lit)
{
	size_t i;

	if (strlen(lit) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (to_lower(p[i]) != lit[i])
			return 0;
	return 1;
}

/* Writes the canonical local part; returns its length. */
static size_t
put_local(char *dst, const unsigned char *s, size_t n)
{
	size_t i, o = 0;

	if (is_dot_string(s, n)) {
		memcpy(dst, s, n);
		return n;
	}
	dst[o++] = '"';
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			dst[o++] = '\\';
		dst[o++] = (char)s[i];
	}
	dst[o++] = '"';
	return o;
}

int
smtp_addr_parse_path(const char *p, size_t n, int flags,
    struct smtp_path *path, size_t *used)
{
	struct cur c = { (const unsigned char *)p, n, 0, 0, 0, 0 };
	unsigned char local[SMTP_LOCAL_MAX + 1];
	size_t locallen, ll;
	int r;

	memset(path, 0, sizeof *path);
	*used = 0;
	if (peek(&c) != '<')
		return SMTP_ADDR_E_SYNTAX;
	c.i++;
	if (peek(&c) == '>') {
		if (!(flags & SMTP_PATH_REVERSE))
			return SMTP_ADDR_E_SYNTAX;
		path->null = 1;
		*used = 2;
		return SMTP_ADDR_OK;
	}
	/* A-d-l ":" (RFC 5321 4.1.2), dropped as appendix C allows */
	if (peek(&c) == '@') {
		for (;;) {
			c.i++;
			if ((r = parse_domain(&c, NULL, NULL)) != 0)
				return r;
			if (c.i > SMTP_PATH_MAX)
				return SMTP_ADDR_E_TOOLONG;
			if (peek(&c) == ':') {
				c.i++;
				break;
			}
			if (peek(&c) != ',')
				return SMTP_ADDR_E_SYNTAX;
			c.i++;
			if (peek(&c) != '@')
				return SMTP_ADDR_E_SYNTAX;
		}
	}
	if ((r = parse_local(&c, local, &locallen)) != 0)
		return r;
	if (peek(&c) == '>' && (flags & SMTP_PATH_FORWARD) &&
	    eq_ci(local, locallen, "postmaster") && c.i == 11) {
		/* RFC 5321 4.1.1.3: "<Postmaster>" without domain */
		memcpy(path->addr, "postmaster", 10);
		path->addrlen = path->locallen = 10;
		path->postmaster = 1;
		*used = c.i + 1;
		return SMTP_ADDR_OK;
	}
	if (peek(&c) == '>' && (flags & SMTP_PATH_FORWARD) &&
	    (flags & SMTP_PATH_LOCAL) && p[1] != '"' && p[1] != '@') {
		/* a local name (DESIGN.md routing), on local-rcpt-to only;
		 * unquoted, so a Dot-string, and no source route */
		c.i++;
		if (c.i > SMTP_PATH_MAX)
			return SMTP_ADDR_E_TOOLONG;
		memcpy(path->addr, local, locallen);
		path->addr[locallen] = '\0';
		path->addrlen = path->locallen = locallen;
		path->local = 1;
		path->utf8 = c.utf8;
		if (c.utf8 && !(flags & SMTP_PATH_UTF8))
			return SMTP_ADDR_E_NEEDUTF8;
		*used = c.i;
		return SMTP_ADDR_OK;
	}
	if (peek(&c) != '@')
		return SMTP_ADDR_E_SYNTAX;
	c.i++;
	if (peek(&c) == '[')
		r = parse_literal(&c, path->domain, &path->domainlen);
	else
		r = parse_domain(&c, path->domain, &path->domainlen);
	if (r != 0)
		return r;
	if (peek(&c) != '>')
		return utf8_error(&c);
	c.i++;
	/* RFC 5321 4.5.3.1.3: with its punctuation */
	if (c.i > SMTP_PATH_MAX)
		return SMTP_ADDR_E_TOOLONG;
	ll = put_local(path->addr, local, locallen);
	path->locallen = ll;
	path->addr[ll] = '@';
	memcpy(path->addr + ll + 1, path->domain, path->domainlen);
	path->addrlen = ll + 1 + path->domainlen;
	path->addr[path->addrlen] = '\0';
	path->utf8 = c.utf8;
	if (c.utf8 && !(flags & SMTP_PATH_UTF8))
		return SMTP_ADDR_E_NEEDUTF8;
	*used = c.i;
	return SMTP_ADDR_OK;
}

static int
kw_is(const char *p, size_t n, const char *lit)
{
	return eq_ci((const unsigned char *)p, n, lit);
}

/*
 * esmtp-param = esmtp-keyword ["=" esmtp-value] (RFC 5321 4.1.2), one or
 * more SP between them (Postfix also tolerates several).
 */
static int
parse_params(const char *p, size_t n, unsigned ext, int is_mail,
    struct smtp_params *par)
{
	size_t i = 0, k, kl, v, vl, d;
	int seen_size = 0, seen_body = 0, seen_utf8 = 0;
	uint64_t size;

	while (i < n) {
		if (p[i] != ' ')
			return SMTP_ADDR_E_PARAM;
		while (i < n && p[i] == ' ')
			i++;
		if (i == n)
			break;
		k = i;
		if (!is_alpha((unsigned char)p[i]) &&
		    !is_digit((unsigned char)p[i]))
			return SMTP_ADDR_E_PARAM;
		while (i < n && (is_alpha((unsigned char)p[i]) ||
		    is_digit((unsigned char)p[i]) || p[i] == '-'))
			i++;
		kl = i - k;
		v = i;
		vl = 0;
		if (i < n && p[i] == '=') {
			v = ++i;
			/* esmtp-value = 1*(%d33-60 / %d62-126) */
			while (i < n && (unsigned char)p[i] >= 33 &&
			    (unsigned char)p[i] <= 126 && p[i] != '=')
				i++;
			vl = i - v;
			if (vl == 0)
				return SMTP_ADDR_E_PARAM;
		}
		if (i < n && p[i] != ' ')
			return SMTP_ADDR_E_PARAM;
		if (is_mail && (ext & SMTP_EXT_SIZE) &&
		    kw_is(p + k, kl, "size")) {
			if (seen_size++)
				return SMTP_ADDR_E_PARAM_DUP;
			/* RFC 1870: size-value ::= 1*20DIGIT */
			if (vl == 0 || vl > 20)
				return SMTP_ADDR_E_PARAM;
			size = 0;
			for (d = v; d < v + vl; d++) {
				if (!is_digit((unsigned char)p[d]))
					return SMTP_ADDR_E_PARAM;
				if (__builtin_mul_overflow(size, 10, &size) ||
				    __builtin_add_overflow(size,
				    (uint64_t)(p[d] - '0'), &size))
					size = UINT64_MAX;
			}
			par->has_size = 1;
			par->size = size;
		} else if (is_mail && (ext & (SMTP_EXT_8BITMIME |
		    SMTP_EXT_BINARYMIME)) && kw_is(p + k, kl, "body")) {
			if (seen_body++)
				return SMTP_ADDR_E_PARAM_DUP;
			if (kw_is(p + v, vl, "7bit"))
				par->body = SMTP_BODY_7BIT;
			else if ((ext & SMTP_EXT_8BITMIME) &&
			    kw_is(p + v, vl, "8bitmime"))
				par->body = SMTP_BODY_8BITMIME;
			else if ((ext & SMTP_EXT_BINARYMIME) &&
			    kw_is(p + v, vl, "binarymime"))
				par->body = SMTP_BODY_BINARYMIME;
			else
				return SMTP_ADDR_E_PARAM;
		} else if (is_mail && (ext & SMTP_EXT_SMTPUTF8) &&
		    kw_is(p + k, kl, "smtputf8")) {
			if (seen_utf8++)
				return SMTP_ADDR_E_PARAM_DUP;
			/* RFC 6531 3.4: the parameter takes no value */
			if (vl != 0)
				return SMTP_ADDR_E_PARAM;
			par->smtputf8 = 1;
		} else
			return SMTP_ADDR_E_PARAM_UNKNOWN;
	}
	return SMTP_ADDR_OK;
}

int
smtp_addr_parse_mail(const char *arg, size_t len, unsigned ext,
    struct smtp_path *path, struct smtp_params *par)
{
	size_t used;
	int r;

	memset(par, 0, sizeof *par);
	/* The path may be UTF-8 only if SMTPUTF8 follows it: look first. */
	r = smtp_addr_parse_path(arg, len, SMTP_PATH_REVERSE | SMTP_PATH_UTF8,
	    path, &used);
	if (r != 0)
		return r;
	if ((r = parse_params(arg + used, len - used, ext, 1, par)) != 0)
		return r;
	if (path->utf8 && !par->smtputf8)
		return SMTP_ADDR_E_NEEDUTF8;
	return SMTP_ADDR_OK;
}

int
smtp_addr_parse_rcpt(const char *arg, size_t len, unsigned ext,
    int flags, struct smtp_path *path, struct smtp_params *par)
{
	size_t used;
	int r;

	memset(par, 0, sizeof *par);
	r = smtp_addr_parse_path(arg, len, SMTP_PATH_FORWARD |
	    (flags & (SMTP_PATH_UTF8 | SMTP_PATH_LOCAL)), path, &used);
	if (r != 0)
		return r;
	return parse_params(arg + used, len - used, ext, 0, par);
}
