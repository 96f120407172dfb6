/*
 * client_auth: what the SMTP client needs for AUTH (RFC 4954) to a relay:
 * the password, read from its file at each attempt (so a changed file
 * takes effect without a restart), and the SASL responses of PLAIN
 * (RFC 4616) and LOGIN, base64 on one line (RFC 4954 4).
 *
 * Secrets live only in the caller's buffers; client_auth_wipe() clears
 * them in a way the compiler keeps. Nothing here logs.
 */
#ifndef PM_CLIENT_AUTH_H
#define PM_CLIENT_AUTH_H

#include <stddef.h>

#define CLIENT_AUTH_SECRET_MAX 256 /* user name or password */
/* base64 of "\0user\0password" and "AUTH PLAIN " before it */
#define CLIENT_AUTH_LINE_MAX \
	(16 + (2 * CLIENT_AUTH_SECRET_MAX + 2) * 4 / 3 + 8)

/*
 * The first line of path without its line end into out[0..cap). 0, or -1
 * with errno: the file's own errors, ENOTSUP for anything but a regular
 * file (a FIFO would block), EINVAL for an empty first line or a NUL in
 * it, EFBIG for a line that does not fit.
 */
int client_auth_password_read(const char *path, char *out, size_t cap);

/*
 * "AUTH PLAIN <base64 of \0user\0pass>\r\n" (RFC 4616 2, the initial
 * response of RFC 4954 4) into out[0..cap); with user NULL, the base64
 * of pass alone plus CRLF (a LOGIN step). Returns the length, or -1
 * (EFBIG) when it does not fit.
 */
int client_auth_plain_line(const char *user, const char *pass, char *out,
    size_t cap);
int client_auth_b64_line(const char *s, char *out, size_t cap);

void client_auth_wipe(void *p, size_t n);

#endif
