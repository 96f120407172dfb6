/*
 * deliver_loop: find mail loops in a message's header section before it is
 * delivered. Pure: bytes in, counts out; no I/O, no allocation.
 *
 * A loop is a Delivered-To: field whose value equals the recipient being
 * delivered to, compared case-insensitively after unfolding and trimming
 * white space (an enclosing <...> is tolerated). The LMTP server refuses
 * such a recipient with 554 5.4.6; the same reply applies when hops
 * (Received: plus Delivered-To: fields, as qmail and Postfix count them)
 * exceed the configured limit, which is the caller's to compare.
 *
 * Only the header section is read: from the start up to the first empty
 * line, or the first line that is neither a field nor a continuation
 * (RFC 5322 2.2, as Postfix's cleanup ends headers), and never more than
 * maxhdr bytes (0 means no bound beyond len). Lines may end in LF or CRLF.
 * When the bound cuts the header section, a field cut in the middle is
 * ignored and `truncated` is set. Field names match case-insensitively,
 * with obsolete white space before the colon allowed (RFC 5322 4.5).
 */
#ifndef PM_DELIVER_LOOP_H
#define PM_DELIVER_LOOP_H

#include <stddef.h>

struct deliver_loop {
	int found;		/* a Delivered-To: equals the recipient */
	unsigned hops;		/* Received: + Delivered-To: fields */
	size_t hdrlen;		/* bytes of header section examined */
	int truncated;		/* maxhdr reached before the header end */
};

/*
 * Scans msg[0..len) for rcpt[0..rcptlen). Fills *res and returns 0; -1 only
 * for NULL arguments. An empty rcpt never matches.
 */
int deliver_loop_scan(const char *msg, size_t len, size_t maxhdr,
    const char *rcpt, size_t rcptlen, struct deliver_loop *res);

#endif
