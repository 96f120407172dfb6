/*
 * inject_msg: turn what a local program pipes into sendmail(1) into a
 * message fit for the spool. Pure: bytes in, bytes and addresses out; no
 * I/O, no globals, no clock (the caller passes Date, Message-ID, From).
 *
 * Input lines end in LF, CRLF or a lone CR; the output has CRLF only.
 * Unless INJECT_MSG_DOT_OK (-i, -oi, -bs), a line holding a single "." ends
 * the input. A first line "From " (an mbox separator) is dropped.
 *
 * The header section is the lines up to the first empty line. It is
 * refused (INJECT_MSG_E_HEADER, with the line number and a reason) when a
 * line in it is neither a field ("name:" with printable ASCII name, obs
 * white space before the colon allowed, RFC 5322 3.6.8/4.5) nor a
 * continuation, when it starts with a continuation, when a line is over
 * 998 octets (RFC 5322 2.1.1) or holds a NUL. Exception, as sendmail and
 * Postfix: if the very first line is not a field, the message has no
 * header section and everything is body. A NUL in the body is refused
 * too (INJECT_MSG_E_BODY): the maildrop pickup would throw it away.
 *
 * Bcc: and Resent-Bcc: are removed (RFC 5322 3.6.3). From:, Date: and
 * Message-ID: are appended to the header section when missing, in that
 * order. With INJECT_MSG_EXTRACT (-t) the addresses of To:, Cc: and Bcc:
 * are collected into rcpts (groups, comments, display names and quoted
 * strings understood; "undisclosed-recipients:;" gives none).
 *
 * Limits: out never exceeds max_size (INJECT_MSG_E_TOOBIG); at most
 * INJECT_MSG_MAX_RCPT addresses are collected.
 */
#ifndef PM_INJECT_MSG_H
#define PM_INJECT_MSG_H

#include <stddef.h>

#include "base/buf.h"
#include "smtp/smtp_addr.h"

#define INJECT_MSG_DOT_OK	0x1	/* a lone "." is data */
#define INJECT_MSG_EXTRACT	0x2	/* -t: recipients from the header */
#define INJECT_MSG_MAX_RCPT	1000
#define INJECT_MSG_LINE_MAX	998

enum inject_msg_err {
	INJECT_MSG_OK = 0,
	INJECT_MSG_E_NOMEM = -1,
	INJECT_MSG_E_TOOBIG = -2,	/* over max_size */
	INJECT_MSG_E_HEADER = -3,	/* malformed header section */
	INJECT_MSG_E_ADDRESS = -4,	/* unparsable address in To/Cc/Bcc */
	INJECT_MSG_E_TOOMANY = -5,	/* more than INJECT_MSG_MAX_RCPT */
	INJECT_MSG_E_BODY = -6		/* NUL in the body */
};

struct inject_rcpts {
	char (*a)[SMTP_PATH_MAX + 1];
	size_t n, cap;
};

struct inject_msg_opts {
	int flags;		/* INJECT_MSG_* */
	size_t max_size;	/* 0: no limit */
	const char *from;	/* value for a missing From:, e.g. "Joe <j@h>" */
	const char *date;	/* value for a missing Date: */
	const char *msgid;	/* value for a missing Message-ID:, with <> */
};

struct inject_msg_info {
	int eightbit;		/* any octet >= 0x80 */
	size_t err_line;	/* 1-based input line of an error */
	char why[160];		/* what was wrong, for the diagnostic */
};

/*
 * Builds the message into out (appended) and, with EXTRACT, the
 * recipients into rc. Returns INJECT_MSG_OK or a negative code with
 * info->why set.
 */
int inject_msg_build(const char *in, size_t n, const struct inject_msg_opts *o,
    struct buf *out, struct inject_rcpts *rc, struct inject_msg_info *info);

/*
 * Parses an RFC 5322 address list (or a sendmail argument: "joe",
 * "a@b, c@d", "Joe <j@h>") and appends each address to rc. A local name
 * without domain is kept as is. Returns INJECT_MSG_OK, or
 * INJECT_MSG_E_ADDRESS with why naming the bad item.
 */
int inject_addr_list(const char *p, size_t n, struct inject_rcpts *rc,
    char *why, size_t whysize);

/* Checks one address ("a@b" or a local name); canonical form into out. */
int inject_addr_check(const char *p, size_t n, char out[SMTP_PATH_MAX + 1]);

void inject_rcpts_free(struct inject_rcpts *rc);
const char *inject_msg_strerror(int err);

#endif
