/*
 * spf_report: what smtpd makes of an SPF result. Pure.
 *
 * A verdict is the result with what was checked. From it come:
 *   - the reply, if the instance refuses (spf = reject): fail 550 5.7.23
 *     with the domain's explanation or a fixed text, temperror 451
 *     4.7.24, permerror 550 5.7.24 only with spf-permerror = reject
 *     (RFC 7372 3.2); every other result is accepted;
 *   - the header fields smtpd puts on top of the message:
 *     Authentication-Results (RFC 8601 2.2, 2.7.2) and Received-SPF
 *     (RFC 7208 9.1), in that order, each ending in CRLF, folded so that
 *     no line passes 998 octets;
 *   - the log field `spf=RESULT (identity)`.
 *
 * Every string of the verdict may come from the network (HELO, the
 * identity, the domain's explanation, libspf2's reason): in header
 * values it is written as a dot-atom or a quoted-string, in comments
 * with quoted-pairs, and every octet outside printable ASCII becomes '?'.
 */
#ifndef PM_SPF_REPORT_H
#define PM_SPF_REPORT_H

#include "base/buf.h"
#include "spf/spf_proto.h"

enum spf_mode { SPF_MODE_OFF = 0, SPF_MODE_TAG, SPF_MODE_REJECT };

struct spf_verdict {
	enum spf_result result;
	enum spf_kind kind;
	char ip[SPF_IP_MAX];
	char helo[SPF_HELO_MAX];
	char id[SPF_ID_MAX];       /* the identity checked */
	char reason[SPF_TEXT_MAX]; /* why, for errors and "none" */
	char expl[SPF_TEXT_MAX];   /* the domain's explanation (fail) */
};

/*
 * The refusal for a verdict, as "CODE X.Y.Z text" in out[0..cap), or ""
 * when it is accepted. Returns the reply code, or 0.
 */
int spf_report_reply(enum spf_mode mode, int permerror_reject,
    const struct spf_verdict *v, char *out, size_t cap);

/* Appends both header fields; 0, or -1 (buf full) with b unchanged. */
int spf_report_headers(struct buf *b, const char *authserv,
    const struct spf_verdict *v);

/* The domain of the identity (after its last '@'). */
const char *spf_report_domain(const struct spf_verdict *v);

#endif
