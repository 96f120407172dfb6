/*
 * auth_crypt: checks a password against a crypt(3) hash with libxcrypt's
 * crypt_rn (thread-safe, no static buffer, linked statically into smtpd).
 * The comparison takes the same time wherever the strings differ.
 *
 * auth_crypt_dummy() burns the time of one verification against like (the
 * passwd-file's first account's hash, so the same scheme and cost), or a
 * fixed yescrypt hash of Debian's default cost without one, for a user
 * who does not exist: without it, "no such user" would answer sooner (or
 * later) than "wrong password" and tell a prober which names are
 * accounts. Its outcome is ignored: the caller fails the check.
 */
#ifndef PM_AUTH_CRYPT_H
#define PM_AUTH_CRYPT_H

/* 1 the password matches, 0 it does not, -1 the hash is unusable. */
int auth_crypt_verify(const char *pass, const char *hash);
void auth_crypt_dummy(const char *pass, const char *like);

#ifdef PM_TEST_KNOBS
/* Test knob: fn sees each hash a password is checked against. */
void auth_crypt_watch(void (*fn)(const char *hash));
#endif

#endif
