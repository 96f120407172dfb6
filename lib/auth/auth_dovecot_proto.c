#define _DEFAULT_SOURCE /* explicit_bzero */
#include <stdio.h>
#include <string.h>

#include "auth/auth_dovecot_proto.h"

/* The field of line[0..len) that starts at *off, up to TAB or the end. */
static int
next_field(const char *line, size_t len, size_t *off, const char **f,
    size_t *flen)
{
	const char *tab;

	if (*off > len)
		return 0;
	*f = line + *off;
	tab = memchr(*f, '\t', len - *off);
	*flen = tab ? (size_t)(tab - *f) : len - *off;
	*off += *flen + 1;
	return 1;
}

static int
field_is(const char *f, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(f, s, n) == 0;
}

int
auth_dovecot_handshake(struct auth_dovecot_hs *hs, const char *line,
    size_t len)
{
	const char *f;
	size_t off = 0, n;

	if (!next_field(line, len, &off, &f, &n))
		return AUTH_DOVECOT_PROTO;
	if (field_is(f, n, "VERSION")) {
		/* the major version must match; minor ones add commands */
		if (!next_field(line, len, &off, &f, &n) ||
		    !field_is(f, n, "1"))
			return AUTH_DOVECOT_PROTO;
		hs->version = 1;
		return AUTH_DOVECOT_MORE;
	}
	if (!hs->version)
		return AUTH_DOVECOT_PROTO;
	if (field_is(f, n, "MECH")) {
		if (next_field(line, len, &off, &f, &n) &&
		    field_is(f, n, "PLAIN"))
			hs->plain = 1;
		return AUTH_DOVECOT_MORE;
	}
	if (field_is(f, n, "DONE"))
		return hs->plain ? AUTH_DOVECOT_OK : AUTH_DOVECOT_PROTO;
	/* SPID, CUID, COOKIE and whatever later versions add */
	return AUTH_DOVECOT_MORE;
}

int
auth_dovecot_hello(struct buf *b, long pid)
{
	return buf_printf(b, "VERSION\t1\t2\nCPID\t%ld\n", pid);
}

/* A value we put on the line: tab-escaped as Dovecot's str_tabescape. */
static int
put_escaped(struct buf *b, const char *s)
{
	int r = 0;

	for (; *s && r == 0; s++) {
		switch (*s) {
		case '\001':
			r = buf_append_str(b, "\0011");
			break;
		case '\t':
			r = buf_append_str(b, "\001t");
			break;
		case '\r':
			r = buf_append_str(b, "\001r");
			break;
		case '\n':
			r = buf_append_str(b, "\001n");
			break;
		default:
			r = buf_append_byte(b, *s);
			break;
		}
	}
	return r;
}

int
auth_dovecot_request(struct buf *b, unsigned id, const char *user, size_t ulen,
    const char *pass, size_t plen, const char *rip, const char *lip,
    int secured)
{
	unsigned char msg[AUTH_SASL_MSG_MAX];
	char b64[AUTH_SASL_B64_MAX + 1];
	long n;
	int r = 0;

	if (ulen > AUTH_SASL_FIELD_MAX || plen > AUTH_SASL_FIELD_MAX)
		return -1;
	/* RFC 4616: empty authzid NUL authcid NUL passwd */
	msg[0] = 0;
	memcpy(msg + 1, user, ulen);
	msg[1 + ulen] = 0;
	memcpy(msg + 2 + ulen, pass, plen);
	n = auth_b64_encode(msg, 2 + ulen + plen, b64, sizeof b64);
	explicit_bzero(msg, sizeof msg);
	if (n < 0)
		return -1;
	/* nologin: we only ask; the mail session is ours, not Dovecot's */
	r |= buf_printf(b, "AUTH\t%u\tPLAIN\tservice=smtp\tnologin", id);
	if (rip && *rip) {
		r |= buf_append_str(b, "\trip=");
		r |= put_escaped(b, rip);
	}
	if (lip && *lip) {
		r |= buf_append_str(b, "\tlip=");
		r |= put_escaped(b, lip);
	}
	if (secured)
		r |= buf_append_str(b, "\tsecured");
	r |= buf_printf(b, "\tresp=%s\n", b64);
	explicit_bzero(b64, sizeof b64);
	return r ? -1 : 0;
}

/* Unescapes a user= value into out; -1 when it is not a usable name. */
static int
unescape_user(const char *f, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f[i];

		if (c == 1) {
			if (++i == n)
				return -1;
			switch (f[i]) {
			case '1':
				c = 1;
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'n':
				c = '\n';
				break;
			default:
				return -1;
			}
		}
		/* the checks a client's name gets (auth_sasl.h) */
		if (c < 0x20 || c == 0x7f || o + 1 >= cap ||
		    o >= AUTH_SASL_FIELD_MAX)
			return -1;
		out[o++] = (char)c;
	}
	if (o == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

int
auth_dovecot_result(const char *line, size_t len, unsigned id, char *user,
    size_t cap)
{
	const char *f;
	size_t off = 0, n;
	char want[16];
	int ok, temp = 0;

	if (cap > 0)
		user[0] = '\0';
	if (!next_field(line, len, &off, &f, &n))
		return AUTH_DOVECOT_PROTO;
	if (field_is(f, n, "OK"))
		ok = 1;
	else if (field_is(f, n, "FAIL"))
		ok = 0;
	else
		return AUTH_DOVECOT_PROTO; /* CONT cannot follow a whole PLAIN */
	snprintf(want, sizeof want, "%u", id);
	if (!next_field(line, len, &off, &f, &n) || !field_is(f, n, want))
		return AUTH_DOVECOT_PROTO;
	while (next_field(line, len, &off, &f, &n)) {
		if (field_is(f, n, "temp"))
			temp = 1;
		else if (ok && n > 5 && memcmp(f, "user=", 5) == 0 &&
		    unescape_user(f + 5, n - 5, user, cap) < 0 && cap > 0)
			user[0] = '\0';
	}
	if (ok)
		return AUTH_DOVECOT_OK;
	return temp ? AUTH_DOVECOT_TEMP : AUTH_DOVECOT_FAIL;
}
