#include <stdint.h>
#include <string.h>

#include "mime/mime_codec.h"

static const char hexdig[] = "0123456789ABCDEF";
static const char b64alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Appends unless out is NULL (the sizing pass); always counts. */
static int
emit(struct buf *out, size_t *n, const char *p, size_t k)
{
	*n += k;
	if (out == NULL)
		return 0;
	return buf_append(out, p, k);
}

static int
is_crlf(const char *in, size_t len, size_t i)
{
	return i + 1 < len && in[i] == '\r' && in[i + 1] == '\n';
}

/*
 * One pass serves both the encoder and the sizing function, so the size
 * used to choose an encoding is exactly what the encoder writes.
 */
static int
qp_run(const char *in, size_t len, struct buf *out, size_t *n)
{
	size_t i = 0, col = 0, tl, room;
	unsigned char c;
	char tok[3];
	int last, lit;

	*n = 0;
	while (i < len) {
		if (is_crlf(in, len, i)) {
			/* RFC 2045 6.7 (4): a line break is a hard CRLF */
			if (emit(out, n, "\r\n", 2) < 0)
				return -1;
			col = 0;
			i += 2;
			continue;
		}
		c = (unsigned char)in[i];
		/* Last octet before a hard break or the end of the data. */
		last = i + 1 == len || is_crlf(in, len, i + 1);
		for (;;) {
			/*
			 * RFC 2045 6.7 (2) literal representation; (3) white
			 * space is literal only when something follows it on
			 * the line, since transports may strip it at the end.
			 */
			if (c == ' ' || c == '\t')
				lit = !last;
			else
				lit = c >= 33 && c <= 126 && c != '=';
			if (c == '-' && col == 0)
				lit = 0;	/* never start a line with "--" */
			if (lit) {
				tok[0] = (char)c;
				tl = 1;
			} else {
				tok[0] = '=';
				tok[1] = hexdig[c >> 4];
				tok[2] = hexdig[c & 15];
				tl = 3;
			}
			/*
			 * RFC 2045 6.7 (5): at most 76 characters per encoded
			 * line; a token that is not the line's last must also
			 * leave room for the "=" of a soft break.
			 */
			room = last ? MIME_CODEC_LINE : MIME_CODEC_LINE - 1;
			if (col == 0 || col + tl <= room)
				break;
			if (emit(out, n, "=\r\n", 3) < 0)
				return -1;
			col = 0;	/* recompute: the column decides "-" */
		}
		if (emit(out, n, tok, tl) < 0)
			return -1;
		col += tl;
		i++;
	}
	return 0;
}

int
mime_codec_qp_encode(const char *in, size_t len, struct buf *out)
{
	size_t n;

	return qp_run(in, len, out, &n);
}

size_t
mime_codec_qp_size(const char *in, size_t len)
{
	size_t n;

	qp_run(in, len, NULL, &n);
	return n;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')	/* RFC 2045 6.7 (1): accept lowercase */
		return c - 'a' + 10;
	return -1;
}

int
mime_codec_qp_decode(const char *in, size_t len, struct buf *out)
{
	size_t i = 0, j, e, k;
	int soft, hi, lo;
	const char *cr;

	while (i < len) {
		/* one encoded line: [i, j), CRLF at j unless j == len */
		j = i;
		for (;;) {
			cr = memchr(in + j, '\r', len - j);
			if (cr == NULL) {
				j = len;
				break;
			}
			j = (size_t)(cr - in);
			if (is_crlf(in, len, j))
				break;
			j++;
		}
		/* RFC 2045 6.7 (3): trailing white space was added in transit */
		e = j;
		while (e > i && (in[e - 1] == ' ' || in[e - 1] == '\t'))
			e--;
		soft = e > i && in[e - 1] == '=';
		if (soft)
			e--;
		for (k = i; k < e; k++) {
			if (in[k] == '=' && k + 2 < e &&
			    (hi = hexval((unsigned char)in[k + 1])) >= 0 &&
			    (lo = hexval((unsigned char)in[k + 2])) >= 0) {
				if (buf_append_byte(out, (char)(hi << 4 | lo)) < 0)
					return -1;
				k += 2;
				continue;
			}
			/* a malformed "=" is kept literally (RFC 2045 6.7 note) */
			if (buf_append_byte(out, in[k]) < 0)
				return -1;
		}
		if (j == len)
			break;
		if (!soft && buf_append(out, "\r\n", 2) < 0)
			return -1;
		i = j + 2;
	}
	return 0;
}

size_t
mime_codec_base64_size(size_t len)
{
	size_t chars = (len + 2) / 3 * 4;

	return chars + (chars + MIME_CODEC_LINE - 1) / MIME_CODEC_LINE * 2;
}

int
mime_codec_base64_encode(const char *in, size_t len, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t i, col = 0;
	uint32_t v;
	char q[4];

	if (buf_reserve(out, mime_codec_base64_size(len)) < 0)
		return -1;
	for (i = 0; i < len; i += 3) {
		v = (uint32_t)u[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)u[i + 1] << 8;
		if (i + 2 < len)
			v |= u[i + 2];
		q[0] = b64alpha[v >> 18 & 63];
		q[1] = b64alpha[v >> 12 & 63];
		q[2] = i + 1 < len ? b64alpha[v >> 6 & 63] : '=';
		q[3] = i + 2 < len ? b64alpha[v & 63] : '=';
		if (buf_append(out, q, 4) < 0)
			return -1;
		col += 4;
		/* RFC 2045 6.8: lines of no more than 76 characters */
		if (col == MIME_CODEC_LINE || i + 3 >= len) {
			if (buf_append(out, "\r\n", 2) < 0)
				return -1;
			col = 0;
		}
	}
	return 0;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
mime_codec_base64_decode(const char *in, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	size_t i;
	int nbits = 0, d;

	for (i = 0; i < len; i++) {
		/* RFC 2045 6.8: "=" ends the data ... */
		if (in[i] == '=')
			break;
		/* ... and characters outside the alphabet are ignored */
		if ((d = b64val((unsigned char)in[i])) < 0)
			continue;
		acc = (acc << 6 | (uint32_t)d) & 0xffffff;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			if (buf_append_byte(out, (char)(acc >> nbits & 0xff)) < 0)
				return -1;
		}
	}
	/* leftover bits (< 8) are padding; a lone sextet is dropped */
	return 0;
}
