/*
 * auth_crypt: checks a password against a crypt(3) hash with libxcrypt's
 * crypt_rn (thread-safe, no static buffer, linked statically into smtpd).
 * The comparison takes the same time wherever the strings differ.
 *
 * auth_crypt_dummy() burns the time of one yescrypt verification, for a
 * user who does not exist: without it, "no such user" would answer faster
 * than "wrong password" and tell a prober which names are accounts.
 */
#ifndef PM_AUTH_CRYPT_H
#define PM_AUTH_CRYPT_H

/* 1 the password matches, 0 it does not, -1 the hash is unusable. */
int auth_crypt_verify(const char *pass, const char *hash);
void auth_crypt_dummy(const char *pass);

#endif
