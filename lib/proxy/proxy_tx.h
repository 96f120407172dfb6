/*
 * proxy_tx: full and ultra pipelining for one smtpd session -- which
 * transactions are proxied and what the target said (postmaster-smtpd(8)
 * FULL PIPELINING, postmaster.cf(5) pipelining).
 *
 * A transaction is proxied while each accepted RCPT routes to exactly
 * one target, the same proxy_dest for all. At the first such RCPT the
 * connection is opened (or, ultra, an open one is reused), EHLO/LHLO was
 * said there, and MAIL is replayed; then each RCPT goes on and the
 * client gets the target's reply (with our enhanced status code where it
 * gave none).
 *
 * The transaction leaves the proxy, and spools as without it, when:
 *   - a RCPT routes elsewhere, to several targets (an alias list), or to
 *     something that cannot be proxied (proxy_dest.h), or repeats one;
 *   - the target cannot be reached, greets with other than 220, refuses
 *     EHLO/LHLO, or is lost (timeout, closed, 421) before the data;
 *   - the message needs what the target lacks: BODY=8BITMIME without
 *     8BITMIME, SMTPUTF8 without SMTPUTF8, any BODY=BINARYMIME.
 * The recipients the target already accepted stay accepted (the client
 * had 250 for them): the target's transaction is reset (RSET) and the
 * whole message goes to the queue. Recipients it refused stay refused.
 * A MAIL the target refuses refuses every RCPT for that target with its
 * reply, also when it closes the connection before their replies.
 *
 * Full: the connection is closed (QUIT) when the transaction ends -- a
 * delivered one at the session's next MAIL or at its end, so that the
 * QUIT's round trip does not delay the client's 250.
 * Ultra: no wait the protocol does not ask for -- MAIL and the first
 * RCPT go in one write when the target offers PIPELINING, the message
 * streams to the target as it arrives (DATA or BDAT from the client;
 * the target's DATA is sent at the client's), and the connection is
 * kept (RSET) for the session's next transaction, so a second message
 * to the same target costs no connect, greeting or EHLO. A streamed
 * message that then needs the RFC 1428 upgrade, or that smtpd refuses
 * at its end (bare LF, size, hops), is cut off by closing the target
 * connection before the final dot: nothing is delivered there.
 */
#ifndef PM_PROXY_TX_H
#define PM_PROXY_TX_H

#include <stddef.h>

#include "base/buf.h"
#include "client/client_reply.h"
#include "proxy/proxy_conn.h"
#include "proxy/proxy_dest.h"
#include "route/route_resolve.h"
#include "smtp/smtp_addr.h"

enum proxy_mode { PROXY_MODE_SPOOL, PROXY_MODE_FULL, PROXY_MODE_ULTRA };

/* proxy_tx_rcpt(): smtpd answers itself, or the target's reply is in
 * reply and the recipient is accepted or refused. */
enum { PROXY_RCPT_NONE, PROXY_RCPT_ACCEPTED, PROXY_RCPT_REFUSED };

struct proxy_tx {
	enum proxy_mode mode;
	struct proxy_dest_cfg dc;
	struct proxy_conn conn;
	int st; /* see proxy_tx.c */
	struct proxy_dest dest;
	char sender[SMTP_PATH_MAX + 1];
	struct smtp_params par;
	size_t nrcpt; /* RCPTs the target accepted */
	struct client_reply mail_reply;
	char why[CLIENT_REPLY_MAX + 64]; /* why it left the proxy */
	/* ultra, RFC 2920: commands held for one write (proxy_tx_later) */
	struct buf batch;
	int batch_mail;          /* it begins with MAIL */
	size_t nq, capq, nq_out; /* RCPTs in it, room, outcomes handed out */
	struct client_reply *q;  /* their replies; code 0: none (lost) */
	int data_sent;           /* DATA went with them: its reply follows */
	struct client_reply data_reply;
	int hdr_only; /* streaming, nothing but our Received: held yet */
};

/*
 * Ultra, an instance with one target (proxy_dest_sole): connect to it
 * now, at the start of the session (proxy_early.h), and move that on
 * with proxy_tx_step() whenever smtpd is about to write to its client.
 */
void proxy_tx_early(struct proxy_tx *px, const struct route_query *q);
void proxy_tx_step(struct proxy_tx *px);

/* "spool", "full" or "ultra" into *mode: 0, or -1. */
int proxy_mode_parse(const char *s, enum proxy_mode *mode);

/* px must be zero-filled when mode is spool (smtpd's is static): that
 * mode writes a few fields only, so the rest costs a session no memory.
 * lmtpd: the postmaster-lmtpd to start, NULL for the one beside us. */
void proxy_tx_init(struct proxy_tx *px, enum proxy_mode mode,
    const struct proxy_dest_cfg *dc, const char *helo, const char *cdb,
    const char *lmtpd, unsigned timeout_ms);
/* A MAIL was accepted. */
void proxy_tx_mail(struct proxy_tx *px, const char *sender,
    const struct smtp_params *par);
/* A RCPT smtpd has accepted by its own rules, routed to res. */
int proxy_tx_rcpt(struct proxy_tx *px, const struct route_result *res,
    struct buf *reply);
/* The RCPT is a repeat, or was refused or accepted by smtpd without the
 * proxy: the transaction leaves the proxy (see above) unless it had
 * nothing proxied yet and the recipient was refused. */
void proxy_tx_leave(struct proxy_tx *px, const char *why);
/* 1 while the transaction is proxied with at least one recipient. */
int proxy_tx_active(const struct proxy_tx *px);
/* 1 when the target speaks LMTP (one reply per recipient). */
int proxy_tx_lmtp(const struct proxy_tx *px);

/*
 * Ultra, a client's pipelined RCPTs (smtp_session.h rcpt_done): when
 * the target offers PIPELINING and the RCPT would be proxied (as
 * proxy_tx_rcpt decides; the connection is opened here if need be),
 * proxy_tx_later() holds it back -- behind MAIL for the first -- and
 * returns 1; else 0 and the caller answers with proxy_tx_rcpt after
 * proxy_tx_flush(). proxy_tx_flush() sends what is held in one write
 * (with data: DATA too, the client's DATA or BDAT follows) and reads
 * every reply; proxy_tx_later_reply() then gives each held RCPT's
 * outcome in order, as proxy_tx_rcpt would have: the target's reply,
 * MAIL's refusal for each, or PROXY_RCPT_NONE (nothing in reply) for
 * those the lost target never answered.
 */
int proxy_tx_later(struct proxy_tx *px, const struct route_result *res);
void proxy_tx_flush(struct proxy_tx *px, int data);
int proxy_tx_later_reply(struct proxy_tx *px, struct buf *reply);

/*
 * Ultra, at DATA: the target's DATA, and our Received: field (hdr[0 ..
 * len), as written to the spool file) sent on; the rest streams with
 * proxy_tx_data_write() as it arrives. 0 (streaming, or not ultra), 1
 * the target refused DATA (its reply in reply, the transaction left the
 * proxy), -1 lost (left the proxy).
 */
int proxy_tx_data_begin(struct proxy_tx *px, const char *hdr, size_t len,
    struct buf *reply);
/* Ultra: message octets as the client sends them (unstuffed), held
 * (but for whole 64 KiB) until proxy_tx_data_push() writes them: once
 * per read from the client, so a message that came in one read goes on
 * in one write, its final dot included. */
void proxy_tx_data_write(struct proxy_tx *px, const char *p, size_t n);
void proxy_tx_data_push(struct proxy_tx *px);

/*
 * The end of data: the message at fd[off .. off+len) (all of it, or in
 * ultra what did not stream yet), the final dot. r[] gets one reply per proxied
 * recipient (an SMTP target's one reply repeated). 0, or -1 when the
 * target was lost: r[i].code is 0 for those it said nothing about.
 */
int proxy_tx_data(struct proxy_tx *px, int fd, uint64_t off, uint64_t len,
    struct client_reply *r);
/* The message will not be sent (e.g. it needs the RFC 1428 upgrade):
 * the target's transaction is reset. */
void proxy_tx_cancel(struct proxy_tx *px, const char *why);
/* The transaction is over (answered, RSET, HELO, end of session). */
void proxy_tx_reset(struct proxy_tx *px);
/* End of the session. */
void proxy_tx_free(struct proxy_tx *px);

/* Where the target is, for logs: host[ip]:port, a socket, lmtpd. */
const char *proxy_tx_relay(const struct proxy_tx *px);

#endif
