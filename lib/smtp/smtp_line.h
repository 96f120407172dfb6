/*
 * smtp_line: split SMTP command input into lines (RFC 5321 2.3.8, 4.1.1).
 *
 * Only CRLF ends a line. A bare LF, a bare CR or a NUL inside a line, or a
 * line longer than the caller's limit (counted with its CRLF), makes the
 * whole line bad: the reader discards input up to and including the next
 * CRLF and only then reports the error, so the error reply takes the same
 * place in the reply stream as the bad command would have (RFC 2920
 * ordering) and the next command is parsed from a clean line start.
 *
 * Buffers: the caller owns the input; a returned line points into it and
 * excludes the CRLF. A line that is not complete yet consumes nothing,
 * unless it is already bad: then its bytes are consumed (and forgotten), so
 * the caller never needs to hold more than `max` bytes of command input.
 *
 * Errors (each reported once, when the bad line's CRLF has arrived):
 *   SMTP_LINE_E_TOOLONG  longer than max   -> 500 5.5.2 Line too long
 *   SMTP_LINE_E_BARELF   LF without CR     -> 500 5.5.2 bare LF
 *   SMTP_LINE_E_BARECR   CR without LF     -> 500 5.5.2 bare CR
 *   SMTP_LINE_E_NUL      NUL octet         -> 500 5.5.2 NUL
 * When a line has several faults the first one in the line is reported.
 */
#ifndef PM_SMTP_LINE_H
#define PM_SMTP_LINE_H

#include <stddef.h>

/* Postfix's line_length_limit; RFC 5321 4.5.3.1.4 asks for at least 512. */
#define SMTP_LINE_MAX 2048

enum smtp_line_res {
	SMTP_LINE_OK = 0,		/* a line is returned */
	SMTP_LINE_MORE = 1,		/* need more input */
	SMTP_LINE_E_TOOLONG = -1,
	SMTP_LINE_E_BARELF = -2,
	SMTP_LINE_E_BARECR = -3,
	SMTP_LINE_E_NUL = -4
};

struct smtp_line_rd {
	size_t max;	/* octets per line including CRLF */
	int skip;	/* discarding the rest of a bad line */
	int cr;		/* while skipping: last octet was CR */
	int err;	/* the bad line's error, reported at its CRLF */
};

/* max == 0 selects SMTP_LINE_MAX; a max below 3 is raised to 3. */
void smtp_line_init(struct smtp_line_rd *rd, size_t max);

/*
 * Looks at in[0..n). *used is set to the number of octets consumed (always,
 * whatever the result). On SMTP_LINE_OK, line and linelen describe the line
 * without its CRLF.
 */
int smtp_line_get(struct smtp_line_rd *rd, const char *in, size_t n,
    const char **line, size_t *linelen, size_t *used);

/* Forgets a half-discarded bad line (after STARTTLS, for instance). */
void smtp_line_reset(struct smtp_line_rd *rd);

#endif
