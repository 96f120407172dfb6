/*
 * auth_sasl: the server side of SMTP AUTH's SASL exchange (RFC 4954) for
 * the PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login) mechanisms,
 * plus the base64 codec (RFC 4648 4) it runs on. Pure: bytes in, a
 * challenge or a user name and password out; no I/O, no verification.
 *
 * auth_sasl_start() takes the AUTH argument ("MECH" or "MECH RESPONSE",
 * RFC 4954 4); auth_sasl_step() each response line the client sends after
 * a 334 challenge. Both return AUTH_SASL_MORE (send "334 " + a->challenge
 * and feed the next line to auth_sasl_step), AUTH_SASL_DONE (a->user and
 * a->pass hold the credentials, NUL-terminated, for the caller to verify
 * and then wipe with auth_sasl_clear), or a negative AUTH_SASL_E_* error
 * that ends the exchange. auth_sasl_reply() gives each error's reply.
 *
 * Limits: a decoded response is at most AUTH_SASL_MSG_MAX octets (RFC 4616
 * 2 allows 255 per field); its base64 form is checked before decoding. A
 * user name is 1..AUTH_SASL_FIELD_MAX octets without control characters
 * (it is logged, written into Received: and passed to Dovecot); a
 * password is 1..AUTH_SASL_FIELD_MAX octets without NUL. PLAIN's
 * authorization identity must be empty or equal the user name: nobody
 * may act as someone else here.
 */
#ifndef PM_AUTH_SASL_H
#define PM_AUTH_SASL_H

#include <stddef.h>

#define AUTH_SASL_FIELD_MAX 255
#define AUTH_SASL_MSG_MAX (3 * AUTH_SASL_FIELD_MAX + 2)
/* base64 of AUTH_SASL_MSG_MAX octets */
#define AUTH_SASL_B64_MAX (((AUTH_SASL_MSG_MAX + 2) / 3) * 4)

enum auth_mech { AUTH_MECH_NONE = 0, AUTH_MECH_PLAIN, AUTH_MECH_LOGIN };

enum {
	AUTH_SASL_DONE = 0,
	AUTH_SASL_MORE = 1,
	AUTH_SASL_E_SYNTAX = -1,  /* 501 5.5.4 AUTH mechanism [response] */
	AUTH_SASL_E_MECH = -2,    /* 504 5.5.4 unknown mechanism */
	AUTH_SASL_E_CANCEL = -3,  /* 501 5.0.0 the client sent "*" */
	AUTH_SASL_E_BASE64 = -4,  /* 501 5.5.2 not base64 */
	AUTH_SASL_E_TOOLONG = -5, /* 500 5.5.6 response over the limit */
	AUTH_SASL_E_MESSAGE = -6  /* 535 5.7.8 malformed credentials */
};

struct auth_sasl {
	enum auth_mech mech;
	int step;              /* 0 no exchange; LOGIN: 1 user, 2 password */
	const char *challenge; /* base64 text after "334 " */
	char user[AUTH_SASL_FIELD_MAX + 1];
	char pass[AUTH_SASL_FIELD_MAX + 1];
	size_t userlen, passlen;
};

int auth_sasl_start(struct auth_sasl *a, const char *arg, size_t len);
int auth_sasl_step(struct auth_sasl *a, const char *line, size_t len);
/* Wipes the credentials (explicit_bzero): call when done with them. */
void auth_sasl_clear(struct auth_sasl *a);
const char *auth_sasl_mech_name(enum auth_mech m);

/* "501 5.0.0 ..." for an AUTH_SASL_E_* error (without CRLF). */
const char *auth_sasl_reply(int err);

/*
 * Strict RFC 4648 base64: length a multiple of 4, '=' padding only at the
 * end, unused bits zero. Decodes into out (cap octets); returns the
 * length, or -1 when the input is not base64 or does not fit.
 */
long auth_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap);
/* Encodes n octets into out (NUL-terminated); -1 if cap is too small. */
long auth_b64_encode(const unsigned char *in, size_t n, char *out, size_t cap);

#endif
