/*
 * client_wire: makes a spooled message canonical text before the client
 * sends it (DATA or BDAT, SMTP or LMTP). Pure: no I/O, fed arbitrary
 * chunks, output appended to the caller's struct buf.
 *
 * Line ends: CRLF stays; a bare CR or a bare LF becomes CRLF (each is one
 * line end, so CR CR LF is two). Nothing we send then holds a bare CR or
 * LF, so no next hop can find a line end, or the end of DATA, where we see
 * none (SMTP smuggling, RFC 5321 2.3.8 and 4.1.1.4). A BINARYMIME message
 * sent with BDAT BODY=BINARYMIME (RFC 3030 3) keeps its body as it is;
 * its header section is still text and is made canonical.
 *
 * Line length: RFC 5322 2.1.1 and RFC 5321 4.5.3.1.6 allow 998 octets
 * before CRLF. A longer line is broken (as Postfix's smtp_line_length_
 * limit does):
 *   - in the header section (up to the first empty line) it is folded
 *     (RFC 5322 2.2.3): CRLF goes before the last space or tab, among the
 *     first 998 octets, that is followed by a non-blank octet and preceded
 *     by one; with none, CRLF SP goes after octet 998 (a hard fold, which
 *     adds one space to the field when it is unfolded). No folded line is
 *     blanks only (a parser may take it for the end of the header): the
 *     trailing blanks of a folded line are dropped, and a run of blanks
 *     too long for a line is cut to one (RFC 5322 3.2.2: FWS);
 *   - in the body, CRLF goes after octet 998, or up to three octets
 *     earlier so as not to split a UTF-8 sequence. No MIME re-encoding:
 *     base64 ignores the break, and text gains a line break.
 * Both are repeated until every line fits.
 *
 * Every change but dropped blanks adds octets, so count-only mode (out
 * NULL) tells the caller whether a message needs the filter at all
 * (client_wire_changed) and how long it will be.
 * A last line of text without a line end gets CRLF (a BINARYMIME body
 * passes as it is).
 */
#ifndef PM_CLIENT_WIRE_H
#define PM_CLIENT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define CLIENT_WIRE_LINE_MAX 998	/* octets before CRLF */

struct client_wire {
	int binary;		/* BINARYMIME over BDAT: body passes as is */
	int in_body;		/* the empty line after the header was seen */
	int cr;			/* the previous octet was CR (its line ended) */
	int folded;		/* the held line continues a folded header line */
	int dropped;		/* blanks were dropped (see above) */
	size_t nline;		/* octets of the current line held in line[] */
	uint64_t count;		/* octets produced so far */
	char line[CLIENT_WIRE_LINE_MAX + 1];
};

void client_wire_init(struct client_wire *w, int binary);

/* Feeds p[0..n); out NULL only counts. 0, or -1 (out of memory). */
int client_wire_feed(struct client_wire *w, const char *p, size_t n,
    struct buf *out);

/* Ends a last line of text that lacks its line end. 0 or -1. */
int client_wire_end(struct client_wire *w, struct buf *out);

/* After client_wire_end over in_len octets: 1 if the output differs
 * from the input. */
int client_wire_changed(const struct client_wire *w, uint64_t in_len);

/* 1 if p[0..n) is what text output looks like: CRLF line ends only,
 * lines of at most CLIENT_WIRE_LINE_MAX octets (the last may lack CRLF). */
int client_wire_canonical(const char *p, size_t n);

#endif
