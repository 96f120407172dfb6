#define _DEFAULT_SOURCE /* explicit_bzero */
#include <string.h>

#include "auth/auth_sasl.h"

/* draft-murchison-sasl-login: "Username:" and "Password:" in base64 */
static const char login_user[] = "VXNlcm5hbWU6";
static const char login_pass[] = "UGFzc3dvcmQ6";

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
auth_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
	size_t i, o = 0, pad = 0;

	if (n % 4 != 0)
		return -1;
	if (n > 0 && in[n - 1] == '=')
		pad = n > 1 && in[n - 2] == '=' ? 2 : 1;
	if (n / 4 * 3 - pad > cap)
		return -1;
	for (i = 0; i < n; i += 4) {
		int v[4], k, last = i + 4 == n;
		unsigned long w = 0;

		for (k = 0; k < 4; k++) {
			if (last && k >= 4 - (int)pad) {
				v[k] = 0;
				continue;
			}
			if ((v[k] = b64_value(
			         (unsigned char)in[i + (size_t)k])) < 0)
				return -1;
		}
		w = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
		    (unsigned long)v[2] << 6 | (unsigned long)v[3];
		/* RFC 4648 3.5: the bits padding leaves unused must be 0,
		 * so each octet string has one encoding */
		if (last && pad == 2 && (w & 0xffff) != 0)
			return -1;
		if (last && pad == 1 && (w & 0xff) != 0)
			return -1;
		out[o++] = (unsigned char)(w >> 16);
		if (!last || pad < 2)
			out[o++] = (unsigned char)(w >> 8);
		if (!last || pad < 1)
			out[o++] = (unsigned char)w;
	}
	return (long)o;
}

long
auth_b64_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	if (cap == 0 || (n + 2) / 3 > (cap - 1) / 4)
		return -1;
	for (i = 0; i < n; i += 3) {
		unsigned long w = (unsigned long)in[i] << 16;

		if (i + 1 < n)
			w |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < n)
			w |= in[i + 2];
		out[o++] = abc[w >> 18 & 63];
		out[o++] = abc[w >> 12 & 63];
		out[o++] = i + 1 < n ? abc[w >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? abc[w & 63] : '=';
	}
	out[o] = '\0';
	return (long)o;
}

/* A user name we can log, put into Received: and send to Dovecot. */
static int
user_ok(const unsigned char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > AUTH_SASL_FIELD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

static int
pass_ok(const unsigned char *p, size_t n)
{
	return n > 0 && n <= AUTH_SASL_FIELD_MAX && memchr(p, 0, n) == NULL;
}

/*
 * A client response: "*" cancels (RFC 4954 4), "=" is an empty initial
 * response, anything else is base64. Returns the decoded length or an
 * AUTH_SASL_E_* error.
 */
static long
response(const char *p, size_t n, int initial, unsigned char *out)
{
	long r;

	if (n == 1 && p[0] == '*')
		return AUTH_SASL_E_CANCEL;
	if (initial && n == 1 && p[0] == '=')
		return 0;
	if (initial && n == 0)
		return AUTH_SASL_E_SYNTAX;
	if (n > AUTH_SASL_B64_MAX)
		return AUTH_SASL_E_TOOLONG;
	r = auth_b64_decode(p, n, out, AUTH_SASL_MSG_MAX);
	return r < 0 ? AUTH_SASL_E_BASE64 : r;
}

/* RFC 4616 2: [authzid] NUL authcid NUL passwd */
static int
plain_message(struct auth_sasl *a, const unsigned char *m, size_t n)
{
	const unsigned char *z1, *z2;
	size_t zlen, ulen, plen;

	if ((z1 = memchr(m, 0, n)) == NULL)
		return AUTH_SASL_E_MESSAGE;
	zlen = (size_t)(z1 - m);
	if ((z2 = memchr(z1 + 1, 0, n - zlen - 1)) == NULL)
		return AUTH_SASL_E_MESSAGE;
	ulen = (size_t)(z2 - z1 - 1);
	plen = n - zlen - ulen - 2;
	if (!user_ok(z1 + 1, ulen) || !pass_ok(z2 + 1, plen))
		return AUTH_SASL_E_MESSAGE;
	/* RFC 4616 2: acting as another identity is for the server to
	 * allow; this one allows nobody to */
	if (zlen != 0 && (zlen != ulen || memcmp(m, z1 + 1, ulen) != 0))
		return AUTH_SASL_E_MESSAGE;
	memcpy(a->user, z1 + 1, ulen);
	a->user[ulen] = '\0';
	a->userlen = ulen;
	memcpy(a->pass, z2 + 1, plen);
	a->pass[plen] = '\0';
	a->passlen = plen;
	return AUTH_SASL_DONE;
}

/* One decoded response of the current step. */
static int
consume(struct auth_sasl *a, const unsigned char *m, size_t n)
{
	if (a->mech == AUTH_MECH_PLAIN)
		return plain_message(a, m, n);
	if (a->step == 1) {
		if (!user_ok(m, n))
			return AUTH_SASL_E_MESSAGE;
		memcpy(a->user, m, n);
		a->user[n] = '\0';
		a->userlen = n;
		a->step = 2;
		a->challenge = login_pass;
		return AUTH_SASL_MORE;
	}
	if (!pass_ok(m, n))
		return AUTH_SASL_E_MESSAGE;
	memcpy(a->pass, m, n);
	a->pass[n] = '\0';
	a->passlen = n;
	return AUTH_SASL_DONE;
}

static int
finish(struct auth_sasl *a, int r)
{
	if (r != AUTH_SASL_MORE) {
		a->step = 0;
		a->challenge = NULL;
		if (r != AUTH_SASL_DONE)
			auth_sasl_clear(a);
	}
	return r;
}

static int
mech_is(const char *p, size_t n, const char *name)
{
	size_t i;

	if (n != strlen(name))
		return 0;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (c != name[i])
			return 0;
	}
	return 1;
}

int
auth_sasl_start(struct auth_sasl *a, const char *arg, size_t len)
{
	unsigned char m[AUTH_SASL_MSG_MAX];
	const char *sp = memchr(arg, ' ', len);
	size_t mlen = sp ? (size_t)(sp - arg) : len;
	long n;
	int r;

	memset(a, 0, sizeof *a);
	if (mlen == 0)
		return finish(a, AUTH_SASL_E_SYNTAX);
	if (mech_is(arg, mlen, "PLAIN"))
		a->mech = AUTH_MECH_PLAIN;
	else if (mech_is(arg, mlen, "LOGIN"))
		a->mech = AUTH_MECH_LOGIN;
	else
		return finish(a, AUTH_SASL_E_MECH);
	a->step = 1;
	if (sp == NULL) {
		/* RFC 4954 4: no initial response, an empty challenge */
		a->challenge = a->mech == AUTH_MECH_PLAIN ? "" : login_user;
		return AUTH_SASL_MORE;
	}
	n = response(sp + 1, len - mlen - 1, 1, m);
	if (n < 0)
		return finish(a, (int)n);
	r = consume(a, m, (size_t)n);
	explicit_bzero(m, sizeof m);
	return finish(a, r);
}

int
auth_sasl_step(struct auth_sasl *a, const char *line, size_t len)
{
	unsigned char m[AUTH_SASL_MSG_MAX];
	long n;
	int r;

	if (a->step == 0)
		return finish(a, AUTH_SASL_E_SYNTAX);
	n = response(line, len, 0, m);
	if (n < 0)
		return finish(a, (int)n);
	r = consume(a, m, (size_t)n);
	explicit_bzero(m, sizeof m);
	return finish(a, r);
}

void
auth_sasl_clear(struct auth_sasl *a)
{
	explicit_bzero(a->pass, sizeof a->pass);
	a->passlen = 0;
}

const char *
auth_sasl_mech_name(enum auth_mech m)
{
	return m == AUTH_MECH_PLAIN ? "PLAIN" :
	    m == AUTH_MECH_LOGIN    ? "LOGIN" :
	                              "none";
}

const char *
auth_sasl_reply(int err)
{
	switch (err) {
	case AUTH_SASL_E_SYNTAX:
		return "501 5.5.4 Syntax: AUTH mechanism [initial-response]";
	case AUTH_SASL_E_MECH:
		return "504 5.5.4 Unrecognized authentication type";
	case AUTH_SASL_E_CANCEL:
		return "501 5.0.0 Authentication cancelled";
	case AUTH_SASL_E_BASE64:
		return "501 5.5.2 Cannot decode response";
	case AUTH_SASL_E_TOOLONG:
		return "500 5.5.6 Authentication Exchange line is too long";
	default:
		return "535 5.7.8 Authentication credentials invalid";
	}
}
