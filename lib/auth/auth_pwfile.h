/*
 * auth_pwfile: the text of an [auth] passwd-file, parsed; pure.
 *
 * One account per line, `user:hash`, as in /etc/shadow and Dovecot's
 * passwd-file: the hash is a crypt(3) string of a scheme libxcrypt
 * verifies and that is still fit for passwords -- yescrypt ($y$),
 * sha512-crypt ($6$) or bcrypt ($2b$, $2y$, $2a$). Fields after a second
 * colon (Dovecot's uid:gid:...) are ignored. Blank lines and lines whose
 * first non-blank is '#' are comments; CRLF is taken as LF.
 *
 * A user name is 1..AUTH_SASL_FIELD_MAX octets, no blanks, no control
 * characters (it reaches logs and Received: fields). Each problem is a
 * `FILE:LINE:COL: message` error in d, like any other configuration error;
 * the parse goes on so every bad line is reported at once. fn is called
 * for each good, first-seen account; a later line for the same user is an
 * error. Returns the number of errors added.
 */
#ifndef PM_AUTH_PWFILE_H
#define PM_AUTH_PWFILE_H

#include <stddef.h>

#include "cf/cf_diag.h"

#define AUTH_PWFILE_HASH_MAX 512

/* fn returns 0, or -1 (out of memory) to stop with an error. */
typedef int (*auth_pwfile_fn)(void *arg, const char *user, size_t ulen,
    const char *hash, size_t hlen);

unsigned auth_pwfile_parse(const char *file, const char *text, size_t len,
    struct cf_diag *d, auth_pwfile_fn fn, void *arg);

/* 1 when h[0..n) has the shape of a supported crypt(3) hash, else 0. */
int auth_pwfile_hash_ok(const char *h, size_t n);

#endif
