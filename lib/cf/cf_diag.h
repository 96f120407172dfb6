/*
 * cf_diag: collects configuration diagnostics as `FILE:LINE:COL: message`
 * lines, errors and warnings, so a run reports every problem at once (up to
 * CF_DIAG_MAX_ERRORS) instead of stopping at the first.
 */
#ifndef PM_CF_DIAG_H
#define PM_CF_DIAG_H

#include "base/buf.h"

#define CF_DIAG_MAX_ERRORS 50

struct cf_pos {
	const char *file; /* owned by the struct cf that made it */
	unsigned line;
	unsigned col;
};

struct cf_diag {
	struct buf out;
	unsigned nerr;
	unsigned nwarn;
};

void cf_diag_init(struct cf_diag *d);
void cf_diag_free(struct cf_diag *d);
void cf_diag_error(struct cf_diag *d, struct cf_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cf_diag_warn(struct cf_diag *d, struct cf_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Levenshtein distance, capped: for did-you-mean suggestions. */
unsigned cf_diag_distance(const char *a, const char *b);
/* The closest of cands (NULL-terminated) to s, or NULL if none is close. */
const char *cf_diag_suggest(const char *s, const char *const *cands);

#endif
