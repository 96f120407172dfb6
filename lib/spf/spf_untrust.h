/*
 * spf_untrust: renames SPF and authentication results that arrive from
 * outside, as a verifier must (RFC 8601 5: "MUST ... remove or rename"
 * any Authentication-Results field that claims its authserv-id; RFC 7208
 * 9.1 results from before this hop cannot be verified here). Pure,
 * streaming: the message's octets go in as they arrive, in any chunks,
 * and come out appended to a buffer, identical except that a renamed
 * field's name gains the prefix SPF_UNTRUST_PREFIX:
 *
 *   - every Received-SPF field of the header section;
 *   - every Authentication-Results field whose authserv-id (the first
 *     token or quoted-string of its value, after comments and folding)
 *     equals ours, compared without case; one whose authserv-id cannot
 *     be found within SPF_UNTRUST_HOLD octets is renamed too.
 *
 * The body (after the first empty line) is never changed. Renaming keeps
 * the text for whoever investigates, and no filter reads it as ours.
 *
 * Limits: at most SPF_UNTRUST_HOLD octets of a field's start are held
 * back while its name and authserv-id are read; spf_untrust_finish()
 * releases what is held when the message ends inside a header line.
 */
#ifndef PM_SPF_UNTRUST_H
#define PM_SPF_UNTRUST_H

#include <stddef.h>

#include "base/buf.h"

#define SPF_UNTRUST_PREFIX "X-Untrusted-"
#define SPF_UNTRUST_HOLD 1024

struct spf_untrust {
	int state;
	const char *authserv; /* ours; must outlive the struct */
	char hold[SPF_UNTRUST_HOLD];
	size_t nhold;
	char tok[256]; /* the authserv-id read so far */
	size_t ntok;
	int depth, inq, esc, intok;
	unsigned renamed; /* fields renamed so far */
};

void spf_untrust_init(struct spf_untrust *u, const char *authserv);
/* Appends p[0..n), filtered, to out: 0, or -1 (buf) with errno. */
int spf_untrust_feed(struct spf_untrust *u, const char *p, size_t n,
    struct buf *out);
/* 1 once the header section has ended: the rest passes unchanged. */
int spf_untrust_in_body(const struct spf_untrust *u);
/* The message ended: appends what is held. */
int spf_untrust_finish(struct spf_untrust *u, struct buf *out);

#endif
