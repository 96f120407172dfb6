#define _DEFAULT_SOURCE /* explicit_bzero */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_crypt.h"
#include "auth/auth_pwfile.h"

/* yescrypt, Debian's default cost (j9T), of 24 random octets since lost */
static const char dummy_hash[] = "$y$j9T$stwGV3oPxHtuxBOLUeWOW/$"
                                 "SBpG1keNnuN9hqq8NTvyL5/MlJRLufmR2RBCwrMQaL7";

#ifdef PM_TEST_KNOBS
static void (*watch)(const char *hash);

void
auth_crypt_watch(void (*fn)(const char *hash))
{
	watch = fn;
}
#endif

int
auth_crypt_verify(const char *pass, const char *hash)
{
	struct crypt_data *cd;
	const char *out;
	size_t n = strlen(hash), i;
	unsigned char diff = 0;
	int r = -1;

	/* about 32 KiB: too big for a small stack, zeroed as crypt_rn
	 * wants on first use */
	if ((cd = calloc(1, sizeof *cd)) == NULL)
		return -1;
#ifdef PM_TEST_KNOBS
	if (watch != NULL)
		watch(hash);
#endif
	out = crypt_rn(pass, hash, cd, (int)sizeof *cd);
	/* libxcrypt fails with a '*'-string or NULL, never a match */
	if (out != NULL && out[0] != '*') {
		if (strlen(out) != n)
			diff = 1;
		for (i = 0; i < n && out[i] != '\0'; i++)
			diff |= (unsigned char)(out[i] ^ hash[i]);
		r = diff == 0;
	}
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return r;
}

void
auth_crypt_dummy(const char *pass, const char *like)
{
	if (like == NULL || !auth_pwfile_hash_ok(like, strlen(like)))
		like = dummy_hash;
	(void)auth_crypt_verify(pass, like);
}
