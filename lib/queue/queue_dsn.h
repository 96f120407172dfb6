/*
 * queue_dsn: RFC 3464 delivery status notifications. Pure: no I/O.
 *
 * queue_dsn_build() writes a complete message (header and body, CRLF line
 * ends, as the spool holds messages) to out:
 *
 *   multipart/report; report-type=delivery-status (RFC 6522)
 *     1. text/plain          what happened, for people
 *     2. message/delivery-status
 *          per message:   Reporting-MTA: dns; HOST, X-Postmaster-Queue-ID,
 *                         Arrival-Date
 *          per recipient: Final-Recipient: rfc822; ADDR,
 *                         Original-Recipient: rfc822; RCPT (RFC 3461 4.2;
 *                         the RCPT TO as given), Action: failed, Status,
 *                         Remote-MTA: dns; HOST (when known: the host
 *                         name of the client's "host[ip]:port" relay, ours
 *                         for a unix socket), Diagnostic-Code: TYPE; TEXT,
 *                         Last-Attempt-Date
 *     3. text/rfc822-headers the original header section (RFC 6522 3)
 *
 * About an SMTPUTF8 original (smtputf8 set), RFC 6533: part 2 is
 * message/global-delivery-status, part 3 message/global-headers, the
 * text part charset=utf-8, and an address that is not ASCII has the
 * type "utf-8;" in its raw UTF-8 form (RFC 6533 3, the utf-8-address
 * form). report-type stays delivery-status, as Postfix and Exim send.
 *
 * The header section of the original (up to the first empty line, at
 * most QUEUE_DSN_HDR_MAX bytes, cut at a line end) is attached rather than
 * the whole message: bounces stay small, and the body of a message that
 * could not be delivered is the sender's to keep. It is copied as CRLF
 * lines: a bare CR or bare LF (BINARYMIME allows them) ends a line, as
 * lib/client/client_wire.h reads them, so the DSN is canonical text. Diagnostics are cut to
 * QUEUE_DSN_DIAG_MAX bytes so no line exceeds RFC 5322's 998.
 *
 * Diagnostics are stored as RFC 3464 "type; text": "smtp; 550 5.1.1 ..."
 * for SMTP/LMTP replies, "x-unix; 5.3.0 exit 69: ..." for programs.
 * queue_dsn_status() finds the X.Y.Z status in such a text.
 */
#ifndef PM_QUEUE_DSN_H
#define PM_QUEUE_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define QUEUE_DSN_HDR_MAX (64u << 10)
#define QUEUE_DSN_DIAG_MAX 900

struct queue_dsn_rcpt {
	const char *final;	/* the address delivered to */
	const char *orig;	/* the RCPT TO it came from */
	const char *status;	/* X.Y.Z */
	const char *diag;	/* "smtp; 550 5.1.1 ..." or "" */
	const char *remote;	/* relay as the client names it, or "" */
	int64_t last;		/* last attempt, epoch seconds */
};

struct queue_dsn {
	const char *reporting_mta;	/* our host name */
	const char *queue_id;		/* the failed message */
	int64_t arrival;
	int64_t now;			/* the Date: field */
	const char *sender;		/* the failed message's sender */
	const char *to;			/* the To: field of the DSN */
	const char *msgid;		/* Message-ID without <> */
	const char *boundary;		/* must not occur in the parts */
	const char *note;		/* extra human-readable line or NULL */
	const struct queue_dsn_rcpt *r;
	size_t n;
	const char *orig;		/* the original message, CRLF */
	size_t origlen;
	int smtputf8;			/* the original was SMTPUTF8 */
};

int queue_dsn_build(struct buf *out, const struct queue_dsn *d);

/* Length of the header section of msg (through the empty line). */
size_t queue_dsn_header_len(const char *msg, size_t len, size_t max);

/*
 * Writes the X.Y.Z status found in diag (after "type; " and an optional
 * reply code) into out; else "5.0.0" if perm, "4.0.0" if not.
 */
void queue_dsn_status(const char *diag, int perm, char out[16]);

#endif
