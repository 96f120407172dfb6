/*
 * client_auth: the password file (first line, limits) and the SASL
 * responses of AUTH PLAIN (RFC 4616) and LOGIN; client_tls_memo: the
 * servers whose TLS failed under tls = may.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client_auth.h"
#include "client/client_tls.h"
#include "client/client_tls_memo.h"
#include "tap.h"

static char dir[] = "/tmp/pm-client-auth.XXXXXX";

/* Writes content to a file and reads it back as a password. */
static int
pw(const char *content, size_t n, char *out, size_t cap, int *err)
{
	char path[256];
	int fd, r;

	snprintf(path, sizeof path, "%s/pw", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, content, n) != (ssize_t)n)
		return -2;
	close(fd);
	errno = 0;
	r = client_auth_password_read(path, out, cap);
	*err = errno;
	unlink(path);
	return r;
}

int
main(void)
{
	char out[CLIENT_AUTH_LINE_MAX], big[600];
	struct client_tls_memo *m;
	int err, n;

	if (mkdtemp(dir) == NULL)
		return 1;
	is_int(pw("s3cret\n", 7, out, 64, &err), 0, "a line");
	is_str(out, "s3cret", "its text, without LF");
	is_int(pw("s3cret\r\nsecond line\n", 20, out, 64, &err), 0,
	    "CRLF and a second line");
	is_str(out, "s3cret", "the first line only");
	is_int(pw("no newline", 10, out, 64, &err), 0, "no line end");
	is_str(out, "no newline", "the whole file");
	is_int(pw(" spaces kept \n", 14, out, 64, &err), 0, "blanks");
	is_str(out, " spaces kept ", "are part of the password");
	is_int(pw("\nx\n", 3, out, 64, &err), -1, "an empty first line");
	is_int(err, EINVAL, "is EINVAL");
	is_int(pw("", 0, out, 64, &err), -1, "an empty file");
	is_int(err, EINVAL, "is EINVAL");
	is_int(pw("a\0b\n", 4, out, 64, &err), -1, "a NUL in the line");
	is_int(err, EINVAL, "is EINVAL");
	is_int(pw("0123456789\n", 11, out, 8, &err), -1, "longer than cap");
	is_int(err, EFBIG, "is EFBIG");
	memset(big, 'x', sizeof big);
	is_int(pw(big, sizeof big, out, sizeof out, &err), -1,
	    "a first line over CLIENT_AUTH_SECRET_MAX");
	is_int(err, EFBIG, "is EFBIG");
	{
		char path[300];

		snprintf(path, sizeof path, "%s/none", dir);
		is_int(client_auth_password_read(path, out, 64), -1,
		    "a missing file");
		is_int(errno, ENOENT, "is ENOENT");
		/* a FIFO with no writer would block a plain open(2) for
		 * ever: the alarm fails the test instead of hanging it */
		snprintf(path, sizeof path, "%s/fifo", dir);
		ok(mkfifo(path, 0600) == 0, "a FIFO made");
		alarm(20);
		is_int(client_auth_password_read(path, out, 64), -1,
		    "a FIFO: -1 at once");
		is_int(errno, ENOTSUP, "is ENOTSUP");
		alarm(0);
		unlink(path);
		is_int(client_auth_password_read(dir, out, 64), -1,
		    "a directory");
		is_int(errno, ENOTSUP, "is ENOTSUP");
	}

	/* RFC 4616 4's example: authcid tim, password tanstaaftanstaaf */
	n = client_auth_plain_line("tim", "tanstaaftanstaaf", out, sizeof out);
	is_str(out, "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n",
	    "AUTH PLAIN with the RFC 4616 example");
	is_int(n, (long long)strlen(out), "its length");
	n = client_auth_plain_line("a", "b", out, sizeof out);
	is_str(out, "AUTH PLAIN AGEAYg==\r\n", "two pad characters");
	n = client_auth_plain_line("ab", "b", out, sizeof out);
	is_str(out, "AUTH PLAIN AGFiAGI=\r\n", "one pad character");
	is_int(client_auth_plain_line("tim", "tanstaaftanstaaf", out, 20), -1,
	    "no room: -1");
	is_str(out, "", "and nothing of the secret is left in out");
	memset(big, 'x', sizeof big);
	big[CLIENT_AUTH_SECRET_MAX] = '\0';
	is_int(client_auth_plain_line("u", big, out, sizeof out), -1,
	    "a password over the limit: -1");
	big[CLIENT_AUTH_SECRET_MAX - 1] = '\0';
	ok(client_auth_plain_line(big, big, out, sizeof out) > 0,
	    "the longest user and password fit CLIENT_AUTH_LINE_MAX");
	n = client_auth_b64_line("Username:", out, sizeof out);
	is_str(out, "VXNlcm5hbWU6\r\n", "a LOGIN step");
	is_int(client_auth_b64_line("Username:", out, 10), -1, "no room");

	is_int(client_tls_level_of("verify"), CLIENT_TLS_VERIFY, "verify");
	is_int(client_tls_level_of("none"), CLIENT_TLS_NONE, "none");
	is_int(client_tls_level_of("MAY"), -1, "levels are lower case");
	is_int(client_tls_level_of(""), -1,
	    "empty: -1 (the caller's default)");
	is_str(client_tls_level_name(CLIENT_TLS_ENCRYPT), "encrypt", "name");

	if ((m = calloc(1, sizeof *m)) == NULL)
		return 1;
	ok(!client_tls_memo_has(m, "mx[192.0.2.1]:25", 1000), "empty memo");
	client_tls_memo_note(m, "mx[192.0.2.1]:25", 1000);
	ok(client_tls_memo_has(m, "mx[192.0.2.1]:25", 1000), "noted");
	ok(!client_tls_memo_has(m, "mx[192.0.2.2]:25", 1000),
	    "another address is not");
	ok(client_tls_memo_has(m, "mx[192.0.2.1]:25",
	       1000 + CLIENT_TLS_MEMO_MS - 1),
	    "remembered until the end");
	ok(!client_tls_memo_has(m, "mx[192.0.2.1]:25",
	       1000 + CLIENT_TLS_MEMO_MS),
	    "forgotten after CLIENT_TLS_MEMO_MS");
	{
		char k[64];
		int i, all = 1;

		/* One more than fits: the oldest goes, the rest stay. */
		for (i = 0; i <= CLIENT_TLS_MEMO_MAX; i++) {
			snprintf(k, sizeof k, "h%d[192.0.2.9]:25", i);
			client_tls_memo_note(m, k, 5000 + i);
		}
		ok(!client_tls_memo_has(m, "h0[192.0.2.9]:25", 6000),
		    "a full memo drops the oldest");
		for (i = 1; i <= CLIENT_TLS_MEMO_MAX; i++) {
			snprintf(k, sizeof k, "h%d[192.0.2.9]:25", i);
			all &= client_tls_memo_has(m, k, 6000);
		}
		ok(all, "and keeps the others");
		client_tls_memo_note(m, "h5[192.0.2.9]:25", 9000);
		ok(client_tls_memo_has(m, "h5[192.0.2.9]:25",
		       9000 + CLIENT_TLS_MEMO_MS - 1),
		    "noting again extends the same entry");
	}
	free(m);
	rmdir(dir);
	return done_testing();
}
