#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp/smtp_data.h"

/* DATA states; "line start" is only ever after CRLF (RFC 5321 2.3.8) */
enum {
	ST_BOL = 0,	/* at a line start */
	ST_DOT,		/* line start, "." held */
	ST_DOTCR,	/* line start, ".\r" held */
	ST_MID,		/* inside a line */
	ST_CR,		/* inside a line, after a CR */
	ST_END
};

/* header scanner states */
enum { H_START = 0, H_NAME, H_REST };

void
smtp_data_init(struct smtp_data *d, uint64_t max, smtp_data_out_fn *out,
    void *ctx)
{
	memset(d, 0, sizeof *d);
	d->max = max;
	d->out = out;
	d->ctx = ctx;
	d->st = ST_BOL;
	d->in_header = 1;
}

static int
flush(struct smtp_data *d)
{
	size_t n = d->nstage;

	d->nstage = 0;
	if (n == 0 || d->out == NULL || d->over)
		return 0;
	return d->out(d->ctx, d->stage, n) != 0 ? -1 : 0;
}

static int
ci_eq(const char *a, size_t n, const char *lit)
{
	size_t i;

	if (strlen(lit) != n)
		return 0;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)a[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != lit[i])
			return 0;
	}
	return 1;
}

/* A field name has ended at its colon (RFC 5322 2.2). */
static void
header_field(struct smtp_data *d)
{
	size_t n = d->hlen;

	if (n > sizeof d->hname)
		return;
	/* obs-field (RFC 5322 4.5.3) allows WSP before the colon */
	while (n > 0 && (d->hname[n - 1] == ' ' || d->hname[n - 1] == '\t'))
		n--;
	if (ci_eq(d->hname, n, "received"))
		d->received++;
	else if (ci_eq(d->hname, n, "mime-version"))
		d->mime_version = 1;
	else if (ci_eq(d->hname, n, "content-type"))
		d->content_type = 1;
}

/* Header section scanner, one octet at a time. */
static void
header_octet(struct smtp_data *d, char ch)
{
	if (ch == '\n' && d->hcr) {
		/* RFC 5322 2.1: the first empty line ends the header */
		if (!d->hany)
			d->in_header = 0;
		d->hstate = H_START;
		d->hany = 0;
		d->hcr = 0;
		return;
	}
	d->hcr = ch == '\r';
	if (ch == '\r')
		return;
	d->hany = 1;
	switch (d->hstate) {
	case H_START:
		if (ch == ' ' || ch == '\t') {
			d->hstate = H_REST;	/* folded continuation */
			return;
		}
		d->hstate = H_NAME;
		d->hlen = 0;
		/* FALLTHROUGH */
	case H_NAME:
		if (ch == ':') {
			header_field(d);
			d->hstate = H_REST;
		} else if (d->hlen < sizeof d->hname)
			d->hname[d->hlen++] = ch;
		else
			d->hlen = sizeof d->hname + 1; /* no match */
		return;
	default:
		return;
	}
}

/* Every delivered octet goes through here: size, limit, 8-bit, header. */
static int
emit(struct smtp_data *d, char ch)
{
	unsigned char c = (unsigned char)ch;

	if (d->size != UINT64_MAX)
		d->size++;
	if (d->max != 0 && d->size > d->max && !d->over) {
		if (flush(d) < 0)
			return -1;
		d->over = 1;
	}
	if (c >= 0x80)
		d->eightbit = 1;
	else if (c == 0)
		d->nul = 1;
	if (ch == '\n') {
		if (d->col > SMTP_DATA_WIRE_LINE + 1)
			d->long_line = 1;
		d->col = 0;
	} else
		d->col++;
	if (d->in_header)
		header_octet(d, ch);
	if (d->over)
		return 0;
	d->stage[d->nstage++] = ch;
	if (d->nstage == sizeof d->stage)
		return flush(d);
	return 0;
}

/* Any octet >= 0x80? Eight at a time: a byte loop was most of the
 * CPU a 1 MiB message cost. */
static int
has_high_bit(const char *p, size_t n)
{
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t acc = 0, w[4];
	size_t k = 0;

	for (; k + sizeof w <= n; k += sizeof w) {
		memcpy(w, p + k, sizeof w);
		if ((w[0] | w[1] | w[2] | w[3]) & high)
			return 1;
	}
	for (; k + 8 <= n; k += 8) {
		memcpy(w, p + k, 8);
		acc |= w[0];
	}
	for (; k < n; k++)
		acc |= (unsigned char)p[k];
	return (acc & high) != 0;
}

/*
 * The body past the header, between line ends: every octet of the span is
 * delivered as is, so size, limit and the 8-bit/NUL flags are settled for
 * the whole span at once and it goes to the output without the stage copy.
 * This is where a large message spends its time.
 */
static int
emit_span(struct smtp_data *d, const char *p, size_t n)
{
	uint64_t before = d->size;
	size_t deliver = n;

	if (d->size != UINT64_MAX &&
	    __builtin_add_overflow(d->size, (uint64_t)n, &d->size))
		d->size = UINT64_MAX;
	/* As octet by octet: what fits under the limit still goes out,
	 * then nothing more (the message will be refused anyway). */
	if (d->max != 0 && d->size > d->max && !d->over)
		deliver = before < d->max ? (size_t)(d->max - before) : 0;
	if (!d->eightbit && has_high_bit(p, n))
		d->eightbit = 1;
	if (!d->nul && memchr(p, '\0', n) != NULL)
		d->nul = 1;
	if (d->over || d->out == NULL || deliver == 0) {
		if (deliver < n && flush(d) < 0)
			return -1;
		if (deliver < n)
			d->over = 1;
		return 0;
	}
	if (flush(d) < 0 || d->out(d->ctx, p, deliver) != 0)
		return -1;
	if (deliver < n)
		d->over = 1;
	return 0;
}

/* Octets before the next CR or LF. */
static size_t
span_len(const char *p, size_t n)
{
	const char *cr = memchr(p, '\r', n);
	size_t lim = cr ? (size_t)(cr - p) : n;
	const char *lf = memchr(p, '\n', lim);

	return lf ? (size_t)(lf - p) : lim;
}

/* Line lengths inside a span: its first piece continues the current
 * line, its last is the start of the next; the rest are whole lines. */
struct span_shape {
	size_t first;	/* octets before the first CRLF (or all) */
	size_t longest;	/* longest whole line after the first CRLF */
	size_t last;	/* octets after the last CRLF */
	int crlf;	/* the span holds at least one CRLF */
};

/*
 * In the body, from inside a line: octets up to the next CR or LF that
 * needs the state machine, taking whole CRLF-ended lines along while the
 * line after each does not start with "." -- so a message of short lines
 * goes out in buffer-sized pieces, not two pieces a line. Stops before a
 * bare CR or LF, a CRLF followed by "." or by the end of the input, and
 * leaves the machine inside a line (ST_MID) as a one-line span does.
 * The line lengths come along for free (sh), for SMTP_DATA_WIRE_LINE.
 */
static size_t
span_lines(const char *p, size_t n, struct span_shape *sh)
{
	size_t k = 0, len;

	memset(sh, 0, sizeof *sh);
	for (;;) {
		len = span_len(p + k, n - k);
		k += len;
		if (n - k < 3 || p[k] != '\r' || p[k + 1] != '\n' ||
		    p[k + 2] == '.')
			break;
		/* a CRLF ends this piece: a line end */
		if (!sh->crlf)
			sh->first = len;
		else if (len > sh->longest)
			sh->longest = len;
		sh->crlf = 1;
		k += 2;
	}
	if (sh->crlf)
		sh->last = len;
	else
		sh->first = len;
	return k;
}

/* The column accounting of emit() for a span taken whole. */
static void
span_columns(struct smtp_data *d, const struct span_shape *sh)
{
	if (!sh->crlf) {
		d->col += sh->first;
		return;
	}
	/* + 1: emit() counts the CR before the LF */
	if (d->col + sh->first + 1 > SMTP_DATA_WIRE_LINE + 1 ||
	    sh->longest > SMTP_DATA_WIRE_LINE)
		d->long_line = 1;
	d->col = sh->last;
}

/* Spans shorter than this go octet by octet: not worth the calls. */
#define SPAN_MIN 16

/* RFC 5321 4.5.2 transparency, 4.1.1.4 end of data */
int
smtp_data_feed(struct smtp_data *d, const char *p, size_t n, size_t *used)
{
	size_t i;
	char c;
	int r = 0;

	for (i = 0; i < n && d->st != ST_END; i++) {
		if (d->st == ST_MID && !d->in_header) {
			struct span_shape sh;
			size_t span = span_lines(p + i, n - i, &sh);

			if (span >= SPAN_MIN) {
				span_columns(d, &sh);
				if ((r = emit_span(d, p + i, span)) != 0) {
					i += span - 1;
					goto fail;
				}
				i += span - 1;
				continue;
			}
		}
		c = p[i];
		switch (d->st) {
		case ST_BOL:
			if (c == '.') {
				d->st = ST_DOT;
				continue;
			}
			break;
		case ST_DOT:
			if (c == '\r') {
				d->st = ST_DOTCR;
				continue;
			}
			/* the leading dot of a stuffed line is dropped */
			d->st = ST_MID;
			break;
		case ST_DOTCR:
			if (c == '\n') {
				d->st = ST_END;
				continue;
			}
			/* "." CR x: a bare CR; the dot was stuffing */
			d->bare_cr++;
			if ((r = emit(d, '\r')) != 0)
				goto fail;
			d->st = ST_MID;
			break;
		case ST_CR:
			if (c == '\n') {
				if ((r = emit(d, c)) != 0)
					goto fail;
				d->st = ST_BOL;
				continue;
			}
			d->bare_cr++;
			d->st = ST_MID;
			break;
		default:
			break;
		}
		/* ST_MID, or an octet another state handed on */
		if (c == '\r')
			d->st = ST_CR;
		else {
			/* a bare LF does not start a line (no LF.LF end) */
			if (c == '\n')
				d->bare_lf++;
			d->st = ST_MID;
		}
		if ((r = emit(d, c)) != 0)
			goto fail;
	}
	r = flush(d);
	goto out;
fail:
	i++;	/* the octet in hand was taken */
out:
	*used = i;
	if (r != 0) {
		d->nstage = 0;
		return SMTP_DATA_E_OUTPUT;
	}
	return d->st == ST_END ? SMTP_DATA_END : SMTP_DATA_MORE;
}

void
smtp_data_chunk(struct smtp_data *d, uint64_t n)
{
	d->chunk_left = n;
}

int
smtp_data_chunk_feed(struct smtp_data *d, const char *p, size_t n,
    size_t *used)
{
	size_t i, take = n;
	int r = 0;

	if ((uint64_t)take > d->chunk_left)
		take = (size_t)d->chunk_left;
	for (i = 0; i < take; i++) {
		if (!d->in_header) {
			size_t span = span_len(p + i, take - i);

			if (span >= SPAN_MIN) {
				if (d->hcr2)
					d->bare_cr++;
				d->hcr2 = 0;
				d->col += span;	/* no CR or LF in it */
				r = emit_span(d, p + i, span);
				i += span - 1;
				if (r != 0) {
					i++;
					break;
				}
				continue;
			}
		}
		/*
		 * RFC 3030 3: no transparency; bare CR and LF are only
		 * counted (legitimate with BODY=BINARYMIME).
		 */
		if (p[i] == '\n' && !d->hcr2)
			d->bare_lf++;
		else if (p[i] != '\n' && d->hcr2)
			d->bare_cr++;
		d->hcr2 = p[i] == '\r';
		if ((r = emit(d, p[i])) != 0) {
			i++;
			break;
		}
	}
	if (r == 0)
		r = flush(d);
	d->chunk_left -= i;
	*used = i;
	if (r != 0) {
		d->nstage = 0;
		return SMTP_DATA_E_OUTPUT;
	}
	return d->chunk_left == 0 ? SMTP_DATA_END : SMTP_DATA_MORE;
}

int
smtp_data_wire_canonical(const struct smtp_data *d)
{
	return d->bare_cr == 0 && d->bare_lf == 0 && !d->long_line &&
	    d->col == 0;
}
