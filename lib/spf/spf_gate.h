/*
 * spf_gate: SPF in postmaster-smtpd — which transactions are checked,
 * when, and what the session does with the result. The hooks in
 * postmaster-smtpd.c call it; the evaluation itself runs in
 * postmaster-spf (spf_child.h).
 *
 * When: at the first RCPT of a transaction that routing accepts, so a
 * refused or relay-denied recipient costs no DNS; the verdict holds for
 * the rest of the transaction (a later RCPT gets the same refusal without
 * a second lookup). The identity is MAIL FROM's, or postmaster@HELO for
 * the null reverse-path (RFC 7208 2.3, 2.4).
 *
 * Not checked: instances with spf = off (nothing is read or started
 * beyond the key itself), instances with local-rcpt-to = yes (local
 * submission), clients in spf-exempt, and transactions of an
 * authenticated session (AUTH, RFC 4954: someone vouches for them).
 *
 * What: spf_report.h (replies, header fields); the log field; and for a
 * checked transaction, incoming Received-SPF and our-own
 * Authentication-Results fields are renamed (spf_untrust.h). An
 * unchecked one (exempt, authenticated) keeps them: a content filter
 * re-injecting mail returns our own fields.
 */
#ifndef PM_SPF_GATE_H
#define PM_SPF_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "cf/cf_db.h"
#include "spf/spf_child.h"
#include "spf/spf_report.h"
#include "spf/spf_untrust.h"

#define SPF_GATE_EXEMPT_MAX 64
#define SPF_GATE_NET_MAX 64

struct spf_gate {
	enum spf_mode mode;
	int permerror_reject;
	char exempt[SPF_GATE_EXEMPT_MAX][SPF_GATE_NET_MAX];
	size_t nexempt;
	char program[4096];
	char dns_server[128];
	char receiver[256];
	char socket[108]; /* [core] spf-socket (sun_path's size) */
	struct spf_child_cfg cfg;
	struct spf_child child;
	/* the transaction */
	int done; /* 0 not yet, 1 checked, 2 not checked */
	int code; /* refusal code, 0: accepted */
	char reply[512];
	struct spf_verdict v;
	struct buf hdr; /* our header fields */
	struct spf_untrust filter;
	struct buf out; /* filtered message octets */
};

/* Reads the instance's keys. 0, or -1 (no memory). g must be zero-filled
 * (smtpd's is static): with spf = off only a few fields are written, so
 * the rest of g costs a session no memory. */
int spf_gate_setup(struct spf_gate *g, struct cf_db *db, const char *name,
    const char *receiver);
/* A new transaction (MAIL, RSET, end of message). */
void spf_gate_reset(struct spf_gate *g);
/* The session ends: the child goes. */
void spf_gate_free(struct spf_gate *g);

/*
 * A recipient routing accepted: checks the transaction once (see above),
 * unless the session is authenticated. 1 refused, with the reply appended
 * to r; 0 go on.
 */
int spf_gate_rcpt(struct spf_gate *g, int authenticated, const char *client,
    const char *helo, const char *sender, struct buf *r);

/* Header fields to put on top of the message ("" when none). */
const char *spf_gate_headers(const struct spf_gate *g);
/* " spf=RESULT" for the transaction's log line, or "". */
const char *spf_gate_logfield(const struct spf_gate *g, char *out, size_t cap);

/*
 * The message's octets as they arrive: *p, *n replaced by what to write
 * (renamed fields); spf_gate_data_end() gives what is still held. 0, or
 * -1 (no memory).
 */
int spf_gate_data(struct spf_gate *g, const char **p, size_t *n);
int spf_gate_data_end(struct spf_gate *g, const char **p, size_t *n);

#endif
