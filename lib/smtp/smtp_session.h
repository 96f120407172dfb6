/*
 * smtp_session: the ESMTP / LMTP server state machine, sans I/O.
 *
 * The driver (postmaster-smtpd, postmaster-lmtpd, a test, a fuzzer) owns
 * the socket. It feeds the bytes it reads to smtp_session_feed(), which
 * consumes what it can: complete command lines, DATA and BDAT content.
 * Unconsumed bytes (a partial command line) must be kept and passed again,
 * followed by the next bytes read. The session queues replies in its
 * output buffer; the driver writes them:
 *
 *   - after a feed that consumed everything it was given (or all but a
 *     partial line), unless more input can be read without waiting: that
 *     is RFC 2920 3.2 — one write per pipelined group, never one per
 *     reply; the session never needs a flush in the middle of a feed;
 *   - when a feed consumed less while output is pending: the output has
 *     reached SMTP_SESSION_OUT_HIWAT (a client that pipelines and never
 *     reads); write it, then feed the rest;
 *   - then close the connection once smtp_session_closing() is true.
 *
 * Decisions that need the world (routing, spooling, TLS) are callbacks in
 * struct smtp_session_ops, called synchronously; each may append its own
 * reply to the `reply` buffer it is given (one complete reply, with an
 * enhanced status code, see smtp_reply.h) or leave it empty for the
 * session's default. Return 0 to accept, non-zero to refuse.
 *
 * Pipelining sync points (RFC 2920 3.1, as Postfix 3.9 enforces with
 * smtpd_forbid_unauth_pipelining and sendmail 8.18 does): after HELO,
 * EHLO, LHLO, DATA and STARTTLS the client must wait for our reply. Any
 * byte it sent beyond such a command — and any byte fed before the
 * greeting was handed to the driver — is answered "554 5.5.0 Error: SMTP
 * protocol synchronization" and the session closes. The command itself is
 * not executed (a DATA followed by its content gets no 354), so a client
 * that ignores the protocol never has its message content read as
 * commands. BDAT, LAST or not, is no sync point: its chunk is counted, not
 * scanned, so commands may follow it in the same write (RFC 3030 4.2
 * pipelines "BDAT 0 LAST" with QUIT; Exim sends "BDAT n LAST" and QUIT
 * together). Commands after the end of DATA's content are fine too (RFC
 * 2920 3.1: the content may start a group). Input after STARTTLS is
 * discarded unread (CVE-2011-0411 class), and input after QUIT is ignored.
 * When the session closes (554 5.5.0, 421, 221), the transaction ends
 * (abort) only when the driver reports the reply written with
 * smtp_session_output_done() (or at smtp_session_free()), so the driver
 * can still log the reply with the transaction's sender.
 *
 * Replies (RFC 5321, RFC 3463 codes; every reply has one except the
 * greeting, HELO/EHLO/LHLO success and 354, see smtp_reply.h):
 *   greeting 220, or 521 5.3.2 and close when the instance takes no mail
 *   HELP TURN SEND SOML SAML EXPN VRFY      502 5.5.1
 *   unknown command                         500 5.5.1
 *   line too long / bare LF / bare CR / NUL 500 5.5.2 (session survives)
 *   bad arguments                           501 5.5.4
 *   bad path                                501 5.1.7 (MAIL) 501 5.1.3 (RCPT)
 *   non-ASCII address without SMTPUTF8      553 5.6.7
 *   unknown MAIL/RCPT parameter             555 5.5.4
 *   out of sequence                         503 5.5.1
 *   SIZE= over the limit                    552 5.3.4
 *   recipients over the limit               452 4.5.3
 *   DATA/BDAT without valid recipient       554 5.5.1 (LMTP 503 5.5.1,
 *                                           RFC 2033 4.2)
 *   DATA with BODY=BINARYMIME, DATA after BDAT  503 5.5.1
 *   message over the size limit             552 5.3.4 (after its end)
 *   bare CR or LF in the message            550 5.5.2 (after its end)
 *   NUL in the message (not BINARYMIME)     550 5.6.0 (after its end)
 *   too many Received: header fields        554 5.4.6 (after its end)
 *   callback's data_write failed            451 4.3.0 (after its end)
 *   too many errors (max_errors 4xx/5xx)    421 4.7.0 and close
 *   smtp_session_timeout()                  421 4.4.2 and close
 *   AUTH in the clear (RFC 4954 6)          538 5.7.11
 *   AUTH before EHLO, twice, in a transaction  503 5.5.1
 *   AUTH response line too long             500 5.5.6
 *   QUIT                                    221 2.0.0 and close
 * In LMTP mode (after LHLO) every reply that ends a message is repeated
 * once per accepted recipient (RFC 2033 4.2), and data_end must append
 * exactly nrcpt replies, in RCPT order.
 *
 * Memory: smtp_session_new() allocates the session; the output buffer
 * grows up to SMTP_SESSION_OUT_MAX. No globals; several sessions may live
 * in one process.
 */
#ifndef PM_SMTP_SESSION_H
#define PM_SMTP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "smtp/smtp_addr.h"
#include "smtp/smtp_cmd.h"

#define SMTP_SESSION_OUT_HIWAT	16384
#define SMTP_SESSION_OUT_MAX	(1024 * 1024)

struct smtp_session_cfg {
	const char *hostname;	/* greeting, EHLO, 421/221 text */
	int accept_mail;	/* 0: greet 521 and close (RFC 7504) */
	int lmtp_only;		/* lmtpd: LHLO only (RFC 2033 4.1) */
	size_t line_max;	/* 0: SMTP_LINE_MAX (2048) */
	uint64_t size_max;	/* message size limit, 0: none */
	unsigned max_rcpt;	/* 0: 100 (RFC 5321 4.5.3.1.8) */
	unsigned max_errors;	/* 0: 20 (Postfix smtpd_hard_error_limit) */
	unsigned max_received;	/* 0: 50 (Postfix hopcount_limit) */
	unsigned ext;		/* SMTP_EXT_* offered; 0: SMTP_EXT_ALL */
	int starttls;		/* offer STARTTLS (with ops->starttls) */
	const char *auth_mechs;	/* offer "AUTH mechs" (with ops->auth) */
	int local_names;	/* RCPT TO:<name> (local-rcpt-to = yes) */
};

/* What the session knows about a message at its end. */
struct smtp_msg_info {
	uint64_t size;		/* octets after unstuffing */
	enum smtp_body body;	/* BODY= of MAIL */
	int smtputf8;		/* SMTPUTF8 on MAIL */
	int eightbit;		/* any octet >= 0x80 (RFC 1428 upgrade) */
	int nul;		/* any NUL octet */
	int mime_version;	/* header has MIME-Version: */
	int content_type;	/* header has Content-Type: */
	unsigned received;	/* Received: fields in the header */
	unsigned nrcpt;		/* accepted recipients */
	int lmtp;		/* LMTP: nrcpt replies wanted */
	int bdat;		/* came by BDAT */
	int wire_canonical;	/* smtp_data_wire_canonical() */
};

struct smtp_session_ops {
	/* MAIL FROM accepted syntactically (and SIZE within the limit). */
	int (*mail)(void *ctx, const struct smtp_path *from,
	    const struct smtp_params *par, struct buf *reply);
	/* RCPT TO accepted syntactically and under max_rcpt. */
	int (*rcpt)(void *ctx, const struct smtp_path *to,
	    const struct smtp_params *par, struct buf *reply);
	/* DATA, or the first BDAT of a transaction. */
	int (*data_begin)(void *ctx, struct buf *reply);
	/* Message octets (unstuffed); non-zero makes the message fail 451. */
	int (*data_write)(void *ctx, const char *p, size_t n);
	/* End of an acceptable message: commit it (LMTP: nrcpt replies). */
	int (*data_end)(void *ctx, const struct smtp_msg_info *info,
	    struct buf *reply);
	/*
	 * The transaction begun by an accepted MAIL ends without data_end:
	 * RSET, HELO/EHLO/LHLO, a refused message, QUIT, timeout, EOF.
	 * Optional.
	 */
	void (*abort)(void *ctx);
	/* Optional seams, 502 5.5.1 when NULL. */
	int (*starttls)(void *ctx, struct buf *reply);
	/*
	 * AUTH (RFC 4954), offered and accepted only under TLS (538 5.7.11
	 * in the clear), after EHLO/LHLO, outside a transaction, once per
	 * session (503 5.5.1). Return 0 when authenticated (default 235
	 * 2.7.0), SMTP_SESSION_AUTH_MORE with a "334 ..." reply to read the
	 * next line as the client's response, which goes to auth_resp
	 * (same convention; a line error ends the exchange with 500
	 * 5.5.6), or non-zero to refuse.
	 */
	int (*auth)(void *ctx, const char *arg, size_t len,
	    struct buf *reply);
	int (*auth_resp)(void *ctx, const char *line, size_t len,
	    struct buf *reply);
	/*
	 * Optional. rcpt may return SMTP_SESSION_RCPT_LATER (writing no
	 * reply): the session goes on with the commands the client
	 * pipelined after it and asks for that RCPT's outcome with
	 * rcpt_done -- once per deferred RCPT, in order, same convention
	 * as rcpt -- before it queues any other reply and before the feed
	 * returns, so replies stay in command order (RFC 2920 3.1) and
	 * none is pending between feeds. next is the command that made
	 * the session ask (SMTP_V_DATA, SMTP_V_BDAT: the message follows;
	 * SMTP_V_UNKNOWN: the end of the input or anything else). Lets a
	 * proxy send a client's pipelined RCPTs on in one write.
	 */
	int (*rcpt_done)(void *ctx, enum smtp_verb next, struct buf *reply);
};

#define SMTP_SESSION_AUTH_MORE 334
#define SMTP_SESSION_RCPT_LATER 2920

struct smtp_session;

/* NULL with errno ENOMEM. cfg is copied; hostname must outlive s. */
struct smtp_session *smtp_session_new(const struct smtp_session_cfg *cfg,
    const struct smtp_session_ops *ops, void *ctx);
void smtp_session_free(struct smtp_session *s);

/* Returns how many of p[0..n) were consumed (see above). */
size_t smtp_session_feed(struct smtp_session *s, const char *p, size_t n);

/* Pending output; the driver writes some and reports how much. */
const char *smtp_session_output(struct smtp_session *s, size_t *len);
void smtp_session_output_done(struct smtp_session *s, size_t n);

/* Write pending output, then close. */
int smtp_session_closing(const struct smtp_session *s);

/*
 * STARTTLS was accepted: write the output, do the handshake, then call
 * smtp_session_tls_done() (which forgets HELO and the transaction, RFC
 * 3207 4.2) before feeding again.
 */
int smtp_session_tls_pending(const struct smtp_session *s);
void smtp_session_tls_done(struct smtp_session *s);

/* Idle or whole-session deadline expired: queue 421 4.4.2 and close. */
void smtp_session_timeout(struct smtp_session *s);
/* The client closed its side. */
void smtp_session_eof(struct smtp_session *s);

/* For logs and tarpitting: commands seen per verb, 4xx/5xx replies. */
unsigned smtp_session_count(const struct smtp_session *s,
    enum smtp_verb verb);
unsigned smtp_session_errors(const struct smtp_session *s);
/* 1 after LHLO */
int smtp_session_lmtp(const struct smtp_session *s);
/* 1 once TLS is active (smtp_session_tls_done), 1 after AUTH. */
int smtp_session_tls(const struct smtp_session *s);
int smtp_session_authenticated(const struct smtp_session *s);
/* The HELO/EHLO/LHLO name (for Received:), "" before any. */
const char *smtp_session_helo(const struct smtp_session *s);

#endif
