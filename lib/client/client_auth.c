#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client_auth.h"

void
client_auth_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

int
client_auth_password_read(const char *path, char *out, size_t cap)
{
	char tmp[CLIENT_AUTH_SECRET_MAX + 2];
	struct stat st;
	size_t len = 0, l;
	ssize_t got;
	int fd, err;

	/* O_NONBLOCK: a FIFO or a device there must not hang the worker;
	 * only a regular file is read. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) <
	    0)
		return -1;
	err = fstat(fd, &st) < 0 ? errno : !S_ISREG(st.st_mode) ? ENOTSUP : 0;
	if (err != 0) {
		(void)close(fd);
		errno = err;
		return -1;
	}
	/* The first line is all we need; a longer one is refused. */
	while (len < sizeof tmp) {
		got = read(fd, tmp + len, sizeof tmp - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
		if (memchr(tmp, '\n', len) != NULL)
			break;
	}
	err = errno;
	(void)close(fd);
	if (got < 0) {
		client_auth_wipe(tmp, sizeof tmp);
		errno = err;
		return -1;
	}
	for (l = 0; l < len && tmp[l] != '\n'; l++)
		;
	if (l > 0 && tmp[l - 1] == '\r')
		l--;
	err = l == 0 || memchr(tmp, '\0', l) != NULL    ? EINVAL :
	    l >= cap || (l == len && len == sizeof tmp) ? EFBIG :
	                                                  0;
	if (err == 0) {
		memcpy(out, tmp, l);
		out[l] = '\0';
	}
	client_auth_wipe(tmp, sizeof tmp);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64 of in[0..n) then CRLF, appended at out[*at]. -1 if no room. */
static int
put_b64(const unsigned char *in, size_t n, char *out, size_t cap, size_t *at)
{
	size_t i, o = *at;

	if (cap < o || (cap - o) / 4 < (n + 2) / 3 + 1)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = b64[in[i] >> 2];
		out[o++] = b64[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = b64[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		out[o++] = b64[in[i + 2] & 63];
	}
	if (i < n) {
		out[o++] = b64[in[i] >> 2];
		if (i + 1 < n) {
			out[o++] = b64[(in[i] & 3) << 4 | in[i + 1] >> 4];
			out[o++] = b64[(in[i + 1] & 15) << 2];
		} else {
			out[o++] = b64[(in[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	out[o++] = '\r';
	out[o++] = '\n';
	out[o] = '\0';
	*at = o;
	return 0;
}

int
client_auth_plain_line(const char *user, const char *pass, char *out,
    size_t cap)
{
	unsigned char msg[2 * CLIENT_AUTH_SECRET_MAX + 2];
	size_t ul = strlen(user), pl = strlen(pass), at;
	int r;

	if (ul >= CLIENT_AUTH_SECRET_MAX || pl >= CLIENT_AUTH_SECRET_MAX ||
	    cap < 12) {
		errno = EFBIG;
		return -1;
	}
	/* RFC 4616 2: [authzid] NUL authcid NUL passwd; no authzid. */
	msg[0] = '\0';
	memcpy(msg + 1, user, ul);
	msg[1 + ul] = '\0';
	memcpy(msg + 2 + ul, pass, pl);
	memcpy(out, "AUTH PLAIN ", 11);
	at = 11;
	r = put_b64(msg, 2 + ul + pl, out, cap, &at);
	client_auth_wipe(msg, sizeof msg);
	if (r < 0) {
		client_auth_wipe(out, cap);
		errno = EFBIG;
		return -1;
	}
	return (int)at;
}

int
client_auth_b64_line(const char *s, char *out, size_t cap)
{
	size_t at = 0;

	if (put_b64((const unsigned char *)s, strlen(s), out, cap, &at) < 0) {
		errno = EFBIG;
		return -1;
	}
	return (int)at;
}
