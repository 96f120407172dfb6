#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "smtp/smtp_reply.h"

/* RFC 3463 2: class "." subject "." detail, 1-3 digits each */
static int
enh_ok(int code, const char *enh)
{
	const char *p = enh;
	int part, digits;

	if (p[0] != '0' + code / 100 || (p[0] != '2' && p[0] != '4' &&
	    p[0] != '5') || p[1] != '.')
		return 0;
	p += 2;
	for (part = 0; part < 2; part++) {
		for (digits = 0; *p >= '0' && *p <= '9'; p++)
			digits++;
		if (digits < 1 || digits > 3)
			return 0;
		if (part == 0 && *p++ != '.')
			return 0;
	}
	return *p == '\0';
}

int
smtp_reply_vline(struct buf *b, int code, const char *enh, int last,
    const char *fmt, va_list ap)
{
	size_t start = b->len, i, textmax;
	int r;

	if (code < 200 || code > 599 || (enh != NULL && !enh_ok(code, enh))) {
		errno = EINVAL;
		return -1;
	}
	if (enh != NULL)
		r = buf_printf(b, "%d%c%s ", code, last ? ' ' : '-', enh);
	else
		r = buf_printf(b, "%d%c", code, last ? ' ' : '-');
	if (r < 0 || buf_vprintf(b, fmt, ap) < 0)
		goto fail;
	textmax = start + SMTP_REPLY_LINE_MAX - 2;
	if (b->len > textmax)
		b->len = textmax;
	for (i = start; i < b->len; i++) {
		unsigned char c = (unsigned char)b->p[i];

		if (c < 32 || c == 127)
			b->p[i] = '?';
	}
	if (buf_append(b, "\r\n", 2) < 0)
		goto fail;
	return 0;
fail:
	b->len = start;
	if (b->p)
		b->p[start] = '\0';
	return -1;
}

int
smtp_reply_line(struct buf *b, int code, const char *enh, int last,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = smtp_reply_vline(b, code, enh, last, fmt, ap);
	va_end(ap);
	return r;
}

int
smtp_reply(struct buf *b, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = smtp_reply_vline(b, code, enh, 1, fmt, ap);
	va_end(ap);
	return r;
}

int
smtp_reply_code(const char *p, size_t len)
{
	size_t i;

	if (len < 6 || p[len - 2] != '\r' || p[len - 1] != '\n')
		return 0;
	/* start of the last line */
	for (i = len - 2; i > 0 && p[i - 1] != '\n'; i--)
		;
	if (len - i < 5 || p[i] < '2' || p[i] > '5')
		return 0;
	return (p[i] - '0') * 100 + (p[i + 1] - '0') * 10 + (p[i + 2] - '0');
}

int
smtp_reply_text(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (r == 0)
		r = buf_append_str(b, "\r\n");
	return r;
}
