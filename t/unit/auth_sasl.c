/* auth_sasl: base64 and the PLAIN/LOGIN exchange at and over each limit. */
#include <stdio.h>
#include <string.h>

#include "auth/auth_sasl.h"
#include "tap.h"

static const char *
dec(const char *in)
{
	static char out[64];
	unsigned char b[32];
	long n = auth_b64_decode(in, strlen(in), b, sizeof b);

	if (n < 0)
		return "!";
	memcpy(out, b, (size_t)n);
	out[n] = '\0';
	return out;
}

/* base64 of a PLAIN message with fields of the given lengths */
static void
plain_b64(size_t zl, size_t ul, size_t pl, char *out, size_t cap)
{
	unsigned char m[1024];
	size_t n = 0;

	memset(m + n, 'z', zl);
	n += zl;
	m[n++] = 0;
	memset(m + n, 'u', ul);
	n += ul;
	m[n++] = 0;
	memset(m + n, 'p', pl);
	n += pl;
	if (zl == ul)
		memset(m, 'u', zl);
	auth_b64_encode(m, n, out, cap);
}

int
main(void)
{
	struct auth_sasl a;
	char b64[2048], line[2100];
	unsigned char raw[4];
	char small[9];

	is_str(dec(""), "", "b64: empty");
	is_str(dec("Zg=="), "f", "b64: f");
	is_str(dec("Zm8="), "fo", "b64: fo");
	is_str(dec("Zm9v"), "foo", "b64: foo");
	is_str(dec("Zm9vYg=="), "foob", "b64: foob");
	is_str(dec("Zm9vYmFy"), "foobar", "b64: foobar");
	is_str(dec("Zm9"), "!", "b64: length not a multiple of 4");
	is_str(dec("Zm=v"), "!", "b64: '=' inside");
	is_str(dec("Zh=="), "!", "b64: non-zero padding bits");
	is_str(dec("Zm9=="), "!", "b64: too much padding");
	is_str(dec("===="), "!", "b64: padding only");
	is_str(dec("Zm 9"), "!", "b64: space");
	is_str(dec("Zm9v\r\n"), "!", "b64: CRLF");
	ok(auth_b64_decode("Zm9vYmFy", 8, raw, 4) == -1,
	    "b64: output over cap refused");
	ok(auth_b64_encode((const unsigned char *)"foobar", 6, small,
	       sizeof small) == 8 &&
	        strcmp(small, "Zm9vYmFy") == 0,
	    "b64 encode fits exactly");
	ok(auth_b64_encode((const unsigned char *)"foobarx", 7, small,
	       sizeof small) == -1,
	    "b64 encode: no room refused");

	/* RFC 4616 2: 255 octets per field */
	plain_b64(0, 255, 255, b64, sizeof b64);
	ok(auth_sasl_start(&a, line,
	       (size_t)snprintf(line, sizeof line, "PLAIN %s", b64)) ==
	            AUTH_SASL_DONE &&
	        a.userlen == 255 && a.passlen == 255,
	    "PLAIN: 255-octet user and password");
	plain_b64(255, 255, 255, b64, sizeof b64);
	ok(auth_sasl_start(&a, line,
	       (size_t)snprintf(line, sizeof line, "PLAIN %s", b64)) ==
	        AUTH_SASL_DONE,
	    "PLAIN: largest message");
	ok(strlen(b64) == AUTH_SASL_B64_MAX, "  is AUTH_SASL_B64_MAX long");
	plain_b64(0, 256, 1, b64, sizeof b64);
	is_int(auth_sasl_start(&a, line,
	           (size_t)snprintf(line, sizeof line, "PLAIN %s", b64)),
	    AUTH_SASL_E_MESSAGE, "PLAIN: 256-octet user");
	plain_b64(0, 1, 256, b64, sizeof b64);
	is_int(auth_sasl_start(&a, line,
	           (size_t)snprintf(line, sizeof line, "PLAIN %s", b64)),
	    AUTH_SASL_E_MESSAGE, "PLAIN: 256-octet password");
	memset(b64, 'A', AUTH_SASL_B64_MAX + 4);
	b64[AUTH_SASL_B64_MAX + 4] = '\0';
	is_int(auth_sasl_start(&a, line,
	           (size_t)snprintf(line, sizeof line, "PLAIN %s", b64)),
	    AUTH_SASL_E_TOOLONG, "PLAIN: response too long");
	is_str(auth_sasl_reply(AUTH_SASL_E_TOOLONG),
	    "500 5.5.6 Authentication Exchange line is too long",
	    "  500 5.5.6");

	/* user names that would reach logs and headers */
	is_int(auth_sasl_start(&a, "PLAIN AGpvCWUAcHc=", 18),
	    AUTH_SASL_E_MESSAGE, "PLAIN: TAB in the user name");
	is_int(auth_sasl_start(&a, "PLAIN AGpvDWUAcHc=", 18),
	    AUTH_SASL_E_MESSAGE, "PLAIN: CR in the user name");
	is_int(auth_sasl_start(&a, "PLAIN AABwdw==", 14), AUTH_SASL_E_MESSAGE,
	    "PLAIN: empty user");
	is_int(auth_sasl_start(&a, "PLAIN AGpvZQBwdwB4", 18),
	    AUTH_SASL_E_MESSAGE, "PLAIN: NUL in the password");
	ok(auth_sasl_start(&a, "PLAIN AGrDtnJnAHB3", 18) == AUTH_SASL_DONE &&
	        strcmp(a.user, "j\xc3\xb6rg") == 0,
	    "PLAIN: UTF-8 user");
	auth_sasl_clear(&a);
	ok(a.pass[0] == '\0' && a.passlen == 0, "clear wipes the password");
	is_int(auth_sasl_start(&a, "PLAIN  AGpvZQBwdw==", 19),
	    AUTH_SASL_E_BASE64, "PLAIN: two spaces");
	is_int(auth_sasl_start(&a, "PLAIN ", 6), AUTH_SASL_E_SYNTAX,
	    "PLAIN: space, no response");
	is_int(auth_sasl_start(&a, "PLAINX", 6), AUTH_SASL_E_MECH,
	    "PLAINX: unknown");
	is_int(auth_sasl_start(&a, "PLAIN *", 7), AUTH_SASL_E_CANCEL,
	    "PLAIN *: cancelled");
	is_int(auth_sasl_step(&a, "AGpvZQBwdw==", 12), AUTH_SASL_E_SYNTAX,
	    "step without an exchange");

	/* LOGIN */
	ok(auth_sasl_start(&a, "LOGIN", 5) == AUTH_SASL_MORE &&
	        strcmp(a.challenge, "VXNlcm5hbWU6") == 0,
	    "LOGIN: Username:");
	ok(auth_sasl_step(&a, "am9l", 4) == AUTH_SASL_MORE &&
	        strcmp(a.challenge, "UGFzc3dvcmQ6") == 0,
	    "LOGIN: Password:");
	ok(auth_sasl_step(&a, "cHc=", 4) == AUTH_SASL_DONE &&
	        strcmp(a.user, "joe") == 0 && strcmp(a.pass, "pw") == 0 &&
	        a.mech == AUTH_MECH_LOGIN,
	    "LOGIN: joe/pw");
	ok(auth_sasl_start(&a, "LOGIN", 5) == AUTH_SASL_MORE &&
	        auth_sasl_step(&a, "", 0) == AUTH_SASL_E_MESSAGE,
	    "LOGIN: empty user");
	ok(auth_sasl_start(&a, "login am9l", 10) == AUTH_SASL_MORE &&
	        auth_sasl_step(&a, "=", 1) == AUTH_SASL_E_BASE64,
	    "LOGIN: '=' is only for initial responses");
	ok(auth_sasl_start(&a, "LOGIN", 5) == AUTH_SASL_MORE &&
	        auth_sasl_step(&a, "*", 1) == AUTH_SASL_E_CANCEL &&
	        auth_sasl_step(&a, "cHc=", 4) == AUTH_SASL_E_SYNTAX,
	    "LOGIN: cancelled, then over");
	is_str(auth_sasl_mech_name(AUTH_MECH_PLAIN), "PLAIN", "name PLAIN");
	return done_testing();
}
