/*
 * auth_dovecot_proto: any lines from a (hostile or broken) auth server.
 * The handshake ends or asks for more; an answer yields a user name only
 * within the limits and without control characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_dovecot_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_dovecot_hs hs = { 0, 0 };
	const char *p = (const char *)data, *nl;
	char user[AUTH_SASL_FIELD_MAX + 1];
	size_t n = size, len, i;
	int r = AUTH_DOVECOT_MORE;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		len = nl ? (size_t)(nl - p) : n;
		if (r == AUTH_DOVECOT_MORE) {
			r = auth_dovecot_handshake(&hs, p, len);
		} else {
			int a =
			    auth_dovecot_result(p, len, 1, user, sizeof user);

			if (a < AUTH_DOVECOT_PROTO || a > AUTH_DOVECOT_OK)
				abort();
			if (a != AUTH_DOVECOT_OK && user[0] != '\0')
				abort();
			len = strlen(user);
			for (i = 0; i < len; i++)
				if ((unsigned char)user[i] < 0x20)
					abort();
			len = nl ? (size_t)(nl - p) : n;
		}
		if (nl == NULL)
			break;
		n -= len + 1;
		p += len + 1;
	}
	return 0;
}
