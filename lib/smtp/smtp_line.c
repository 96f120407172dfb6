#include <stddef.h>

#include "smtp/smtp_line.h"

void
smtp_line_init(struct smtp_line_rd *rd, size_t max)
{
	if (max == 0)
		max = SMTP_LINE_MAX;
	if (max < 3)
		max = 3;
	rd->max = max;
	smtp_line_reset(rd);
}

void
smtp_line_reset(struct smtp_line_rd *rd)
{
	rd->skip = 0;
	rd->cr = 0;
	rd->err = 0;
}

/* Discards octets from in[i] up to the CRLF that ends the bad line. */
static int
line_skip(struct smtp_line_rd *rd, const char *in, size_t i, size_t n,
    size_t *used)
{
	int err;

	for (; i < n; i++) {
		if (rd->cr && in[i] == '\n') {
			*used = i + 1;
			err = rd->err;
			smtp_line_reset(rd);
			return err;
		}
		rd->cr = in[i] == '\r';
	}
	*used = n;
	return SMTP_LINE_MORE;
}

int
smtp_line_get(struct smtp_line_rd *rd, const char *in, size_t n,
    const char **line, size_t *linelen, size_t *used)
{
	size_t i;
	int err;

	*line = NULL;
	*linelen = 0;
	if (rd->skip)
		return line_skip(rd, in, 0, n, used);
	for (i = 0; i < n; i++) {
		switch (in[i]) {
		case '\r':
			if (i + 1 == n)
				goto more;
			if (in[i + 1] == '\n') {
				/* The length check below bounds i + 2. */
				*line = in;
				*linelen = i;
				*used = i + 2;
				return SMTP_LINE_OK;
			}
			err = SMTP_LINE_E_BARECR;
			goto bad;
		case '\n':
			err = SMTP_LINE_E_BARELF;
			goto bad;
		case '\0':
			err = SMTP_LINE_E_NUL;
			goto bad;
		default:
			break;
		}
		/* i + 1 content octets and the CRLF still to come. */
		if (i + 3 > rd->max) {
			err = SMTP_LINE_E_TOOLONG;
			goto bad;
		}
	}
more:
	*used = 0;
	return SMTP_LINE_MORE;
bad:
	rd->skip = 1;
	rd->cr = 0;
	rd->err = err;
	/* A bad CR may itself be followed by the CRLF that ends the line. */
	return line_skip(rd, in, i, n, used);
}
