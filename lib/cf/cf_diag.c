#include <stdarg.h>
#include <string.h>

#include "cf/cf_diag.h"

void
cf_diag_init(struct cf_diag *d)
{
	buf_init(&d->out, 0);
	d->nerr = d->nwarn = 0;
}

void
cf_diag_free(struct cf_diag *d)
{
	buf_free(&d->out);
}

static void
diag_vadd(struct cf_diag *d, struct cf_pos pos, const char *kind,
    const char *fmt, va_list ap)
{
	buf_printf(&d->out, "%s:%u:%u: %s", pos.file ? pos.file : "-", pos.line,
	    pos.col, kind);
	buf_vprintf(&d->out, fmt, ap);
	buf_append_byte(&d->out, '\n');
}

void
cf_diag_error(struct cf_diag *d, struct cf_pos pos, const char *fmt, ...)
{
	va_list ap;

	d->nerr++;
	if (d->nerr > CF_DIAG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	diag_vadd(d, pos, "", fmt, ap);
	va_end(ap);
	if (d->nerr == CF_DIAG_MAX_ERRORS)
		buf_printf(&d->out, "%s:%u:%u: too many errors, stopping\n",
		    pos.file ? pos.file : "-", pos.line, pos.col);
}

void
cf_diag_warn(struct cf_diag *d, struct cf_pos pos, const char *fmt, ...)
{
	va_list ap;

	d->nwarn++;
	va_start(ap, fmt);
	diag_vadd(d, pos, "warning: ", fmt, ap);
	va_end(ap);
}

unsigned
cf_diag_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned row[64], prev, tmp, best;

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *
cf_diag_suggest(const char *s, const char *const *cands)
{
	const char *best = NULL;
	unsigned bd = 99, dist, limit;
	size_t len = strlen(s);

	/* Short words need a tighter bound or everything "matches". */
	limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	for (; *cands; cands++) {
		/* A truncated name ("spool-dir") is as good as a typo. */
		if (len >= 4 && strncmp(*cands, s, len) == 0)
			return *cands;
		dist = cf_diag_distance(s, *cands);
		if (dist < bd) {
			bd = dist;
			best = *cands;
		}
	}
	return bd <= limit ? best : NULL;
}
