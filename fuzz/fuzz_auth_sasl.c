/*
 * auth_sasl: any AUTH argument and response lines. Never a crash; DONE
 * only with credentials inside the limits; base64 decode/encode agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_done(const struct auth_sasl *a)
{
	size_t i;

	if (a->userlen == 0 || a->userlen > AUTH_SASL_FIELD_MAX ||
	    a->passlen == 0 || a->passlen > AUTH_SASL_FIELD_MAX ||
	    strlen(a->user) != a->userlen || strlen(a->pass) != a->passlen)
		abort();
	for (i = 0; i < a->userlen; i++)
		if ((unsigned char)a->user[i] < 0x20 || a->user[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_sasl a;
	unsigned char raw[AUTH_SASL_MSG_MAX];
	char enc[AUTH_SASL_B64_MAX + 8];
	const char *p = (const char *)data, *nl;
	size_t n = size, len;
	long r;
	int s;

	/* the whole input as base64: a decode re-encodes to itself */
	r = auth_b64_decode(p, n, raw, sizeof raw);
	if (r >= 0 &&
	    (auth_b64_encode(raw, (size_t)r, enc, sizeof enc) != (long)n ||
	        memcmp(enc, p, n) != 0))
		abort();
	/* lines: the first is the AUTH argument, then responses */
	nl = memchr(p, '\n', n);
	len = nl ? (size_t)(nl - p) : n;
	s = auth_sasl_start(&a, p, len);
	while (s == AUTH_SASL_MORE && nl != NULL) {
		if (a.challenge == NULL)
			abort();
		n -= len + 1;
		p += len + 1;
		nl = memchr(p, '\n', n);
		len = nl ? (size_t)(nl - p) : n;
		s = auth_sasl_step(&a, p, len);
	}
	if (s == AUTH_SASL_DONE)
		check_done(&a);
	if (s < 0 && auth_sasl_reply(s) == NULL)
		abort();
	auth_sasl_clear(&a);
	return 0;
}
