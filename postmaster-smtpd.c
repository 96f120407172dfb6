/*
 * postmaster-smtpd NAME: one ESMTP/LMTP session on an accepted connection
 * (fd 0/1 inetd style, or LISTEN_FDS fd 3), for [smtpd "NAME"] of the
 * compiled configuration. Routes each RCPT, spools each message durably
 * and answers 250 only after the spool commit. See postmaster-smtpd(8).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth_smtpd.h"
#include "base/array.h"
#include "base/buf.h"
#include "base/date.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/priv.h"
#include "base/str.h"
#include "base/strset.h"
#include "cf/cf_db.h"
#include "cf/cf_logger.h"
#include "client/client_wire.h"
#include "deliver/deliver_account.h"
#include "net/net_drive.h"
#include "net/net_peer.h"
#include "net/net_proxy_read.h"
#include "proxy/proxy_outcome.h"
#include "proxy/proxy_reply.h"
#include "proxy/proxy_tx.h"
#include "route/route_db.h"
#include "route/route_reject.h"
#include "smtp/smtp_proto.h"
#include "smtp/smtp_reply.h"
#include "smtp/smtp_session.h"
#include "smtpd/smtpd_tls.h"
#include "spool/spool_dir.h"
#include "spool/spool_env.h"
#include "spool/spool_write.h"
#include "spf/spf_gate.h"

struct rcpt_dlv {
	char orig[SMTP_PATH_MAX + 1];
	char addr[ROUTE_ADDR_MAX + 1];
	char target[1100];
	size_t rcpt;
	/* set by a proxied end of data whose copy is committed */
	enum spool_status status;
	int drop;
	char reply[CLIENT_REPLY_MAX];
};

/* A RCPT whose reply waits for the target's (on_rcpt_done). */
struct rcpt_later {
	char addr[SMTP_PATH_MAX + 1];
	struct route_target t;
	int outcome;	/* PROXY_RCPT_*, or -1 out of memory */
	char reply[CLIENT_REPLY_MAX + 64];
};

struct smtpd {
	const char *name;
	char hostname[256];
	char client[64]; /* an IPv6 address in text, or "local" */
	char via[128];	 /* " port P via PROXY-ADDRESS (PROXY vN)" or "" */
	struct cf_db db;
	struct route_ops ops;
	struct route_instance inst;
	struct spool_dir spool;
	struct smtp_session *s;
	struct auth_smtpd auth;	/* AUTH: lib/auth/auth_smtpd.h */
	uint64_t max_hops;
	/* The local mailer delivers to passwd accounts (lmtpd, ~/Maildir):
	 * RCPT checks them as lmtpd will (lib/deliver/deliver_account). */
	int local_accounts;
	uint64_t first_uid;
	/* the transaction */
	char sender[SMTP_PATH_MAX + 1];
	struct smtp_params mailpar;
	struct rcpt_dlv *dlv;
	size_t ndlv, capdlv, nrcpt;
	struct strset rcpts;	/* accepted RCPTs, lower-cased */
	char first_rcpt[SMTP_PATH_MAX + 1];
	struct spool_tx tx;
	uint64_t hdr_off, body_off;	/* our Received:, the client's data */
	struct buf rcvd;	/* our Received: (and SPF) fields */
	int hdr_wire;	/* what begin_tx prepended is canonical text */
	struct proxy_tx px;		/* [smtpd] pipelining = full|ultra */
	/* ultra: RCPTs held for one write to the target (rcpt_done) */
	struct rcpt_later *later;
	size_t nlater, caplater, later_out;
	int later_sent;
	int tx_open, tx_failed;
	unsigned long messages;
	struct smtpd_tls tls;
	struct spf_gate spf;	/* [smtpd] spf, lib/spf/spf_gate.h */
};

static void
tx_reset(struct smtpd *d)
{
	if (d->tx_open)
		spool_write_abort(&d->tx);
	d->tx_open = d->tx_failed = 0;
	d->ndlv = d->nrcpt = 0;
	d->nlater = d->later_out = 0;
	d->later_sent = 0;
	proxy_tx_reset(&d->px);
	d->sender[0] = d->first_rcpt[0] = '\0';
	spf_gate_reset(&d->spf);
	strset_free(&d->rcpts);
	strset_init(&d->rcpts);
}

/*
 * A mailbox is one mailbox whatever the case of its address (the routes
 * match without case too): a RCPT that repeats an accepted one is
 * answered 250 again and delivered once. 1 if `to` was accepted before
 * in this transaction; only accepted ones are remembered.
 */
static int
rcpt_seen(const struct smtpd *d, const struct smtp_path *to)
{
	char key[SMTP_PATH_MAX + 1];

	memcpy(key, to->addr, to->addrlen);
	str_lower(key, to->addrlen);
	return strset_has(&d->rcpts, key, to->addrlen);
}

/* Remembers an accepted recipient: 0, or -1 out of memory. */
static int
rcpt_remember(struct smtpd *d, const struct smtp_path *to)
{
	char key[SMTP_PATH_MAX + 1];

	memcpy(key, to->addr, to->addrlen);
	str_lower(key, to->addrlen);
	return strset_put(&d->rcpts, key, to->addrlen, 0, NULL) < 0 ? -1 : 0;
}

static int
on_mail(void *ctx, const struct smtp_path *from, const struct smtp_params *par,
    struct buf *r)
{
	struct smtpd *d = ctx;

	if (smtpd_tls_refuse_mail(&d->tls, r))
		return 1;
	if (auth_smtpd_mail(&d->auth, from->addr, from->addrlen, r) != 0)
		return 1;
	tx_reset(d);
	snprintf(d->sender, sizeof d->sender, "%s", from->addr);
	d->mailpar = *par;
	proxy_tx_mail(&d->px, d->sender, par);
	return 0;
}

static int
add_dlv(struct smtpd *d, const char *orig, const struct route_target *t)
{
	struct rcpt_dlv *v;

	v = array_grow(d->dlv, &d->capdlv, d->ndlv + 1, sizeof *v);
	if (v == NULL)
		return -1;
	d->dlv = v;
	v = &d->dlv[d->ndlv];
	snprintf(v->orig, sizeof v->orig, "%s", orig);
	snprintf(v->addr, sizeof v->addr, "%s", t->rcpt);
	if (route_target_format(t, v->target, sizeof v->target) < 0)
		return -1;
	v->rcpt = d->nrcpt;
	v->status = SPOOL_ST_PENDING;
	v->drop = 0;
	v->reply[0] = '\0';
	d->ndlv++;
	return 0;
}

/* A [reject] target answers with its own code and text (RFC 7504 521). */
static void
reject_reply(struct smtpd *d, const char *name, const char *addr,
    struct buf *r)
{
	struct route_reject rj;

	if (route_reject_reply(&d->db, name, addr, &rj) < 0)
		smtp_reply_text(r, "451 4.3.0 <%s>: temporary routing failure",
		    addr);
	else
		smtp_reply_text(r, "%u %s %s", rj.code, rj.status, rj.text);
}

/*
 * Is a local target a mailbox the local mailer will take? In ~/Maildir
 * mode lmtpd refuses unknown users, root and system accounts: answering
 * 250 here would bounce later to a sender that may be forged
 * (backscatter), so RCPT refuses them first. 1 yes, 0 no, -1 lookup
 * failed (temporary).
 */
static int
local_target_ok(const struct smtpd *d, const struct route_target *t)
{
	struct passwd pwbuf, *pw;
	char sbuf[4096];
	const char *at = strchr(t->value, '@');
	size_t len = at ? (size_t)(at - t->value) : strlen(t->value);

	if (t->kind != ROUTE_LOCAL || !d->local_accounts)
		return 1;
	switch (deliver_account_find_in("/etc/passwd", t->value, len,
	    d->first_uid, &pwbuf, sbuf, sizeof sbuf, &pw)) {
	case DELIVER_ACCOUNT_OK:
		return 1;
	case DELIVER_ACCOUNT_ERROR:
		return -1;
	default:
		return 0;
	}
}

static int
is_postmaster(const struct smtp_path *to)
{
	return to->postmaster || (to->locallen == 10 &&
	    str_ncasecmp(to->addr, "postmaster", 10) == 0);
}

/* DESIGN.md routing: an authenticated client relays to any domain's MX. */
static int
relay_authenticated(struct smtpd *d, const struct smtp_path *to,
    struct buf *r)
{
	struct route_target t;

	memset(&t, 0, sizeof t);
	t.kind = ROUTE_MX;
	snprintf(t.rcpt, sizeof t.rcpt, "%s", to->addr);
	snprintf(t.value, sizeof t.value, "%.*s", (int)to->domainlen,
	    to->domain);
	if (add_dlv(d, to->addr, &t) < 0 || rcpt_remember(d, to) < 0) {
		smtp_reply_text(r, "451 4.3.0 <%s>: out of memory", to->addr);
		return 1;
	}
	/* an MX target is the queue's: the transaction leaves the proxy
	 * (proxy_tx.h), the recipients it accepted go to the queue too */
	proxy_tx_leave(&d->px, "an authenticated client's relay recipient");
	return 0;
}

/* Accepted without the proxy's word, or with it (later_flush). */
static int
accept_rcpt(struct smtpd *d, const char *addr, const struct route_target *t)
{
	char key[SMTP_PATH_MAX + 1];
	size_t len = strlen(addr), before = d->ndlv;

	memcpy(key, addr, len);
	str_lower(key, len);
	if (add_dlv(d, addr, t) < 0 ||
	    strset_put(&d->rcpts, key, len, 0, NULL) < 0) {
		d->ndlv = before;
		return -1;
	}
	if (d->nrcpt == 0)
		snprintf(d->first_rcpt, sizeof d->first_rcpt, "%s", addr);
	d->nrcpt++;
	return 0;
}

/*
 * The held RCPTs go to the target in one write (with DATA when the
 * client's DATA or BDAT follows) and each one the target accepted, or
 * never answered (lost: smtpd accepts it as without the proxy), is
 * taken as on_rcpt would have taken it, in order.
 */
static void
later_flush(struct smtpd *d, enum smtp_verb next)
{
	struct buf rep = BUF_INIT(0);
	size_t i;

	if (d->nlater == 0 || d->later_sent)
		return;
	d->later_sent = 1;
	proxy_tx_flush(&d->px, next == SMTP_V_DATA || next == SMTP_V_BDAT);
	for (i = 0; i < d->nlater; i++) {
		struct rcpt_later *x = &d->later[i];

		buf_reset(&rep);
		x->outcome = proxy_tx_later_reply(&d->px, &rep);
		snprintf(x->reply, sizeof x->reply, "%.*s", (int)rep.len,
		    rep.p ? rep.p : "");
		if (x->outcome != PROXY_RCPT_REFUSED &&
		    accept_rcpt(d, x->addr, &x->t) < 0)
			x->outcome = -1;
	}
	buf_free(&rep);
}

/* smtp_session.h: the reply of the next held RCPT, in order. */
static int
on_rcpt_done(void *ctx, enum smtp_verb next, struct buf *r)
{
	struct smtpd *d = ctx;
	struct rcpt_later *x;

	later_flush(d, next);
	if (d->later_out >= d->nlater) {
		smtp_reply_text(r, "451 4.3.0 Error: local error in processing");
		return 1;
	}
	x = &d->later[d->later_out++];
	if (d->later_out == d->nlater) {
		d->nlater = d->later_out = 0;
		d->later_sent = 0;
	}
	if (x->outcome == -1) {
		smtp_reply_text(r, "451 4.3.0 <%s>: out of memory", x->addr);
		return 1;
	}
	/* no reply: the target was lost first, smtpd's own 250 */
	buf_append_str(r, x->reply);
	return x->outcome == PROXY_RCPT_REFUSED;
}

/* Holds this RCPT for the target (proxy_tx_later): 1, or 0. */
static int
later_hold(struct smtpd *d, const struct smtp_path *to,
    const struct route_result *res)
{
	struct rcpt_later *x;

	if (d->later_sent || res->n != 1)
		return 0;
	x = array_grow(d->later, &d->caplater, d->nlater + 1, sizeof *x);
	if (x == NULL)
		return 0;
	d->later = x;
	if (!proxy_tx_later(&d->px, res))
		return 0;
	x = &d->later[d->nlater++];
	snprintf(x->addr, sizeof x->addr, "%s", to->addr);
	x->t = res->t[0];
	x->outcome = PROXY_RCPT_NONE;
	x->reply[0] = '\0';
	return 1;
}

/* Is `to` held (case-insensitive, as rcpt_seen)? */
static int
later_has(const struct smtpd *d, const struct smtp_path *to)
{
	size_t i;

	for (i = 0; i < d->nlater; i++)
		if (strlen(d->later[i].addr) == to->addrlen &&
		    str_ncasecmp(d->later[i].addr, to->addr, to->addrlen) == 0)
			return 1;
	return 0;
}

static int
on_rcpt(void *ctx, const struct smtp_path *to, const struct smtp_params *par,
    struct buf *r)
{
	struct smtpd *d = ctx;
	struct route_result res;
	const char *addr = to->postmaster && to->domainlen == 0 ? "postmaster" :
	    to->addr;
	size_t i, nreal = 0, nunknown = 0, before = d->ndlv;
	int refused = 1, ok, dup = 0;

	(void)par;
	route_result_init(&res, NULL);
	if (later_has(d, to))
		later_flush(d, SMTP_V_UNKNOWN);
	if (rcpt_seen(d, to)) {
		/* accepted before in this transaction: one delivery, by the
		 * first, and no second routing or passwd lookup */
		dup = 1;
		refused = 0;
		later_flush(d, SMTP_V_UNKNOWN);
		proxy_tx_leave(&d->px, "a repeated recipient");
		goto out;
	}
	switch (route_resolve(&d->ops, &d->inst.q, addr, strlen(addr), &res)) {
	case ROUTE_OK:
		/*
		 * RFC 5321 4.5.1: postmaster is always accepted. Otherwise an
		 * address whose every target is refused, by [reject] or as
		 * no mailbox of the local mailer, is refused here; in a list
		 * with a deliverable target the others bounce later, as
		 * from an alias list (Postfix checks the address, not its
		 * expansion).
		 */
		for (i = 0; i < res.n; i++) {
			if (res.t[i].kind == ROUTE_REJECT)
				continue;
			ok = is_postmaster(to) ? 1 : local_target_ok(d, &res.t[i]);
			if (ok < 0) {
				smtp_reply_text(r, "451 4.3.0 <%s>: temporary "
				    "user lookup failure", to->addr);
				goto out;
			}
			if (ok)
				nreal++;
			else
				nunknown++;
		}
		if (nreal == 0 && nunknown > 0) {
			smtp_reply_text(r, "550 5.1.1 <%s>: Recipient address "
			    "rejected: User unknown in local recipient table",
			    to->addr);
			break;
		}
		if (nreal == 0) {
			reject_reply(d, res.t[0].value, to->addr, r);
			break;
		}
		if (spf_gate_rcpt(&d->spf, smtp_session_authenticated(d->s),
		    d->client, smtp_session_helo(d->s), d->sender, r))
			break;
		/* ultra: held to go on with the client's next RCPTs */
		if (later_hold(d, to, &res)) {
			route_result_free(&res);
			return SMTP_SESSION_RCPT_LATER;
		}
		/* what is held goes first, in order */
		later_flush(d, SMTP_V_UNKNOWN);
		/* full pipelining: the target answers (proxy_tx.h) */
		if (proxy_tx_rcpt(&d->px, &res, r) == PROXY_RCPT_REFUSED)
			break;
		for (i = 0; i < res.n; i++)
			if (res.t[i].kind != ROUTE_REJECT &&
			    add_dlv(d, to->addr, &res.t[i]) < 0) {
				d->ndlv = before;
				smtp_reply_text(r, "451 4.3.0 <%s>: out of memory", to->addr);
				goto out;
			}
		if (rcpt_remember(d, to) < 0) {
			d->ndlv = before;
			smtp_reply_text(r, "451 4.3.0 <%s>: out of memory",
			    to->addr);
			goto out;
		}
		refused = 0;
		break;
	case ROUTE_NO_ROUTE:
		if (route_is_our_domain(&d->ops, &d->inst.q, to->domain,
		    to->domainlen))
			smtp_reply_text(r, "550 5.1.1 <%s>: Recipient address rejected: "
			    "User unknown", to->addr);
		else if (smtp_session_authenticated(d->s)) {
			later_flush(d, SMTP_V_UNKNOWN);
			refused = relay_authenticated(d, to, r);
		}
		else
			smtp_reply_text(r, "554 5.7.1 <%s>: Relay access denied", to->addr);
		break;
	case ROUTE_LOCAL_DENIED:
		smtp_reply_text(r, "550 5.1.1 <%s>: Recipient address rejected: "
		    "User unknown", to->addr);
		break;
	case ROUTE_LOOP:
	case ROUTE_TOO_MANY:
		smtp_reply_text(r, "554 5.4.6 <%s>: %s", to->addr, res.why);
		break;
	case ROUTE_BAD_ADDRESS:
		smtp_reply_text(r, "501 5.1.3 <%s>: bad recipient address", to->addr);
		break;
	case ROUTE_ERROR:
		smtp_reply_text(r, "451 4.3.0 <%s>: temporary routing failure", to->addr);
		break;
	}
out:
	if (!refused && !dup) {
		if (d->nrcpt == 0)
			snprintf(d->first_rcpt, sizeof d->first_rcpt, "%s",
			    to->addr);
		d->nrcpt++;
	}
	route_result_free(&res);
	return refused;
}

static const char *
protocol(struct smtpd *d)
{
	struct smtp_proto p = { smtp_session_lmtp(d->s),
		smtp_session_count(d->s, SMTP_V_EHLO) > 0,
		d->mailpar.smtputf8, smtpd_tls_active(&d->tls),
		smtp_session_authenticated(d->s) };

	return smtp_proto_word(&p);
}

/*
 * Opens a spool transaction and writes the envelope and our Received field
 * (RFC 5321 4.4; "for" only with one recipient), plus extra header text.
 * Sets *body_off to where the client's data will start in the file.
 */
static int
begin_tx(struct smtpd *d, struct spool_tx *tx, enum spool_body body,
    const char *extra, uint64_t *body_off)
{
	struct spool_env env;
	struct spool_dlv *dv;
	struct spool_env_limits lim = SPOOL_ENV_LIMITS_DEFAULT;
	char date[DATE_RFC5322_SIZE];
	/* the transaction's own is kept: ultra sends it on from there */
	struct buf other = BUF_INIT(0), *hp = tx == &d->tx ? &d->rcvd : &other;
	size_t i, k;
	int e;

	/* proxied: no tmp/ID unless the copy must be kept (or is big) */
	if ((tx == &d->tx && proxy_tx_active(&d->px) ?
	    spool_write_open_lazy(tx, &d->spool, NULL) :
	    spool_write_open(tx, &d->spool, NULL)) != 0)
		return -1;
	if ((dv = calloc(d->ndlv, sizeof *dv)) == NULL)
		goto fail;
	for (i = k = 0; i < d->ndlv; i++) {
		if (d->dlv[i].drop)
			continue;
		dv[k].rcpt = d->dlv[i].rcpt;
		dv[k].orig = spool_str_c(d->dlv[i].orig);
		dv[k].addr = spool_str_c(d->dlv[i].addr);
		dv[k].target = spool_str_c(d->dlv[i].target);
		dv[k].status = d->dlv[i].status;
		dv[k].reply = spool_str_c(d->dlv[i].reply);
		k++;
	}
	memset(&env, 0, sizeof env);
	env.helo = spool_str_c(smtp_session_helo(d->s));
	env.client = spool_str_c(d->client);
	env.proto = spool_str_c(protocol(d));
	env.instance = spool_str_c(d->name);
	env.auth = spool_str_c(d->auth.login);
	env.sender = spool_str_c(d->sender);
	env.body = body;
	env.smtputf8 = d->mailpar.smtputf8;
	env.size = d->mailpar.has_size ? d->mailpar.size : 0;
	env.dlv = dv;
	env.ndlv = k;
	e = spool_write_envelope(tx, &env, &lim);
	free(dv);
	if (e != 0)
		goto fail;
	d->hdr_off = tx->size;
	date_rfc5322_utc(time(NULL), date);
	/* RFC 7208 9.1, RFC 8601 5: SPF results above our Received */
	buf_reset(hp);
	buf_printf(hp, "%sReceived: from %s ([%s])",
	    spf_gate_headers(&d->spf), smtp_session_helo(d->s), d->client);
	smtpd_tls_received(&d->tls, hp);
	if (d->auth.login[0] != '\0') {
		char who[AUTH_SASL_FIELD_MAX + 1];

		auth_smtpd_comment_name(d->auth.login, who, sizeof who);
		buf_printf(hp, "\r\n\t(authenticated as %s)", who);
	}
	buf_printf(hp, "\r\n\tby %s (Postmaster) with %s id %s",
	    d->hostname, protocol(d), tx->id);
	if (d->nrcpt == 1)
		buf_printf(hp, "\r\n\tfor <%s>", d->first_rcpt);
	buf_printf(hp, "; %s\r\n%s", date, extra);
	d->hdr_wire = client_wire_canonical(hp->p, hp->len);
	e = spool_write_body(tx, hp->p, hp->len);
	buf_free(&other);
	if (e != 0)
		goto fail;
	*body_off = tx->size;
	return 0;
fail:
	e = errno;
	spool_write_abort(tx);
	errno = e;
	return -1;
}

static enum spool_body
body_type(const struct smtp_params *p)
{
	return p->body == SMTP_BODY_BINARYMIME ? SPOOL_BODY_BINARYMIME :
	    p->body == SMTP_BODY_8BITMIME ? SPOOL_BODY_8BITMIME :
	    SPOOL_BODY_7BIT;
}

static int
on_data_begin(void *ctx, struct buf *r)
{
	struct smtpd *d = ctx;

	if (spool_dir_space(&d->spool, d->mailpar.has_size ? d->mailpar.size : 0,
	    SPOOL_RESERVE_BYTES, SPOOL_RESERVE_INODES) < 0) {
		smtp_reply_text(r, "452 4.3.1 Insufficient system storage");
		return 1;
	}
	if (begin_tx(d, &d->tx, body_type(&d->mailpar), "", &d->body_off) < 0) {
		smtp_reply_text(r, "%s", spool_err_full(errno) ?
		    "452 4.3.1 Insufficient system storage" :
		    "451 4.3.0 Temporary spool failure");
		log_err("spool write failed: %s", strerror(errno));
		proxy_tx_leave(&d->px, "spool failure at DATA");
		return 1;
	}
	d->tx_open = 1;
	/* ultra: the message streams to the target as it arrives */
	if (proxy_tx_active(&d->px) && d->px.mode == PROXY_MODE_ULTRA &&
	    proxy_tx_data_begin(&d->px, d->rcvd.p, d->rcvd.len, r) == 1) {
		/* the session keeps MAIL and the RCPTs (RFC 5321 4.1.1.4):
		 * only the message's copy goes; the proxy has left */
		spool_write_abort(&d->tx);
		d->tx_open = 0;
		return 1;
	}
	return 0;
}

/*
 * RFC 1428: 8-bit text without MIME labelling, sent without BODY=8BITMIME,
 * is turned into a MIME message declaring charset=unknown-8bit, so that a
 * later hop can downgrade it correctly. Known only at the end, so the
 * message is copied into a new spool file with the fields in front (rare).
 */
static int
upgrade_8bit(struct smtpd *d)
{
	struct spool_tx t2;
	uint64_t off;

	if (begin_tx(d, &t2, SPOOL_BODY_8BITMIME,
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=unknown-8bit\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n", &off) < 0)
		return -1;
	if (spool_write_copy(&t2, &d->tx, d->body_off) != 0) {
		int e = errno;

		spool_write_abort(&t2);
		errno = e;
		return -1;
	}
	spool_write_abort(&d->tx);
	d->tx = t2;
	d->body_off = off;
	return 0;
}

static int
on_data_write(void *ctx, const char *p, size_t n)
{
	struct smtpd *d = ctx;

	if (!d->tx_open || d->tx_failed)
		return 1;
	if (spf_gate_data(&d->spf, &p, &n) < 0) {
		d->tx_failed = 1;
		return 1;
	}
	if (spool_write_body(&d->tx, p, n) != 0) {
		d->tx_failed = spool_err_full(errno) ? 2 : 1;
		return 1;
	}
	proxy_tx_data_write(&d->px, p, n);
	return 0;
}

/* RFC 1428: 8-bit text without MIME labelling (see upgrade_8bit). */
static int
needs_upgrade(const struct smtpd *d, const struct smtp_msg_info *info)
{
	return info->eightbit && !info->mime_version && !info->content_type &&
	    (d->mailpar.body == SMTP_BODY_NONE ||
	    d->mailpar.body == SMTP_BODY_7BIT);
}

/*
 * A proxied message has ended and is in the (uncommitted) spool file:
 * it goes to the target from there, and the target's replies decide
 * (lib/proxy/proxy_outcome.h). The copy is committed only when some
 * recipient still needs the queue, rewritten with each delivery's start:
 * sent, bounced with the target's reply (error: target), or left out.
 */
static int
proxy_data_end(struct smtpd *d, const struct smtp_msg_info *info,
    struct buf *r)
{
	struct client_reply *rep;
	struct spool_tx t2;
	struct buf esc = BUF_INIT(0);
	int *code, lmtp = info->lmtp, rc = 0;
	size_t i, n = d->ndlv, first = 0;
	uint64_t off;
	enum proxy_verdict v;
	const char *word;

	rep = calloc(n, sizeof *rep);
	code = calloc(n, sizeof *code);
	/* full sends the message from the file; ultra streamed it */
	if (rep == NULL || code == NULL || (!d->px.conn.streaming &&
	    spool_write_flush(&d->tx) != 0)) {
		free(rep);
		free(code);
		proxy_tx_cancel(&d->px, "out of memory or spool failure");
		d->tx_open = 0;
		tx_reset(d);
		smtp_reply_text(r, "451 4.3.0 Temporary spool failure");
		for (i = 1; lmtp && i < info->nrcpt; i++)
			smtp_reply_text(r, "451 4.3.0 Temporary spool failure");
		return 1;
	}
	proxy_tx_data(&d->px, d->tx.fd, d->hdr_off, d->tx.size - d->hdr_off,
	    rep);
	for (i = 0; i < n; i++)
		code[i] = rep[i].code;
	while (first + 1 < n && code[first] / 100 == 2)
		first++;
	v = proxy_outcome(code, n, lmtp);
	if (v == PROXY_V_QUEUE) {
		for (i = 0; i < n; i++) {
			struct rcpt_dlv *x = &d->dlv[i];

			switch (proxy_outcome_status(code[i], lmtp)) {
			case PROXY_DLV_SENT:
				x->status = SPOOL_ST_SENT;
				snprintf(x->reply, sizeof x->reply, "%s",
				    rep[i].text);
				break;
			case PROXY_DLV_BOUNCE:
				snprintf(x->target, sizeof x->target,
				    "error:%s", rep[i].text);
				break;
			case PROXY_DLV_DROP:
				x->drop = 1;
				break;
			case PROXY_DLV_PENDING:
				break;
			}
		}
		if (begin_tx(d, &t2, body_type(&d->mailpar), "", &off) < 0 ||
		    spool_write_copy(&t2, &d->tx, d->body_off) != 0 ||
		    spool_write_commit(&t2) != 0) {
			log_err("spool commit failed: %s", strerror(errno));
			spool_write_abort(&t2);
			rc = 1;
		}
	}
	word = v == PROXY_V_QUEUE ? (rc ? "failed" : "queued") :
	    v == PROXY_V_REFUSED ? "refused" : "delivered";
	if (code[first] != 0)
		log_escape(&esc, rep[first].text, strlen(rep[first].text), 300);
	log_info("%s: proxied from=<%s> size=%llu nrcpt=%zu relay=%s "
	    "status=%s%s%s (%s)%s%s", d->tx.id, d->sender,
	    (unsigned long long)info->size, n, proxy_tx_relay(&d->px), word,
	    v == PROXY_V_QUEUE && !rc ? " queued_as=" : "",
	    v == PROXY_V_QUEUE && !rc ? t2.id : "",
	    esc.p ? esc.p : "no reply", d->px.why[0] ? "; " : "", d->px.why);
	buf_free(&esc);
	for (i = 0; i < (lmtp ? n : 1); i++) {
		if (lmtp && code[i] != 0)
			proxy_reply_format(r, &rep[i], "2.0.0");
		else if (rc)
			smtp_reply_text(r, "451 4.3.0 Temporary spool failure");
		else if (v == PROXY_V_QUEUE)
			smtp_reply_text(r, "250 2.0.0 Ok: queued as %s", t2.id);
		else
			proxy_reply_format(r, &rep[first], "2.0.0");
	}
	if (v == PROXY_V_QUEUE && !rc)
		d->messages++;
	else if (v != PROXY_V_QUEUE && v != PROXY_V_REFUSED)
		d->messages++;
	free(rep);
	free(code);
	tx_reset(d);
	return rc || v == PROXY_V_REFUSED;
}

static int
on_data_end(void *ctx, const struct smtp_msg_info *info, struct buf *r)
{
	struct smtpd *d = ctx;
	char line[256], spflog[32];
	unsigned i, n = info->lmtp ? info->nrcpt : 1;
	int e;

	if (info->received + 1 > d->max_hops) {
		snprintf(line, sizeof line, "554 5.4.6 Too many hops");
		tx_reset(d);
		goto answer;
	}
	/* what the SPF filter held back ends the body, proxied or not */
	if (!d->tx_failed) {
		const char *rest;
		size_t nrest;

		if (spf_gate_data_end(&d->spf, &rest, &nrest) != 0 ||
		    (nrest > 0 && spool_write_body(&d->tx, rest, nrest) != 0))
			d->tx_failed = 1;
		else if (nrest > 0)
			proxy_tx_data_write(&d->px, rest, nrest);
	}
	if (proxy_tx_active(&d->px)) {
		/* each proxied RCPT is one delivery, in order (proxy_tx.h) */
		if (!d->tx_failed && !needs_upgrade(d, info) &&
		    d->px.nrcpt == d->ndlv && d->ndlv == info->nrcpt)
			return proxy_data_end(d, info, r);
		proxy_tx_cancel(&d->px, d->tx_failed ? "spool write failed" :
		    needs_upgrade(d, info) ?
		    "the message needs the RFC 1428 upgrade" :
		    "recipients out of step with the target");
	}
	e = d->tx_failed ? -1 : 0;
	if (e == 0 && needs_upgrade(d, info))
		e = upgrade_8bit(d);
	/* the queue's client then sends it without reading it twice */
	if (e == 0 && info->wire_canonical && d->hdr_wire)
		e = spool_write_mark_wire(&d->tx);
	if (e == 0)
		e = spool_write_commit(&d->tx);
	if (e != 0) {
		int full = d->tx_failed == 2 || spool_err_full(errno);

		snprintf(line, sizeof line, "%s", full ?
		    "452 4.3.1 Insufficient system storage" :
		    "451 4.3.0 Temporary spool failure");
		log_err("spool commit failed: %s", strerror(errno));
		d->tx_open = 0;
		tx_reset(d);
		goto answer;
	}
	d->tx_open = 0;
	d->messages++;
	if (d->px.why[0] != '\0')
		log_info("%s: not proxied: %s", d->tx.id, d->px.why);
	log_info("%s: queued from=<%s> size=%llu nrcpt=%zu body=%s proto=%s "
	    "client=%s helo=<%s>%s%s%s%s", d->tx.id, d->sender,
	    (unsigned long long)info->size, d->nrcpt,
	    info->eightbit && d->mailpar.body <= SMTP_BODY_7BIT ? "8BITMIME" :
	    spool_env_body_name(body_type(&d->mailpar)), protocol(d), d->client,
	    smtp_session_helo(d->s), d->auth.login[0] ? " auth=<" : "",
	    d->auth.login, d->auth.login[0] ? ">" : "",
	    spf_gate_logfield(&d->spf, spflog, sizeof spflog));
	snprintf(line, sizeof line, "250 2.0.0 Ok: queued as %s", d->tx.id);
	tx_reset(d);
answer:
	for (i = 0; i < n; i++)
		smtp_reply_text(r, "%s", line);
	return line[0] != '2';
}

static void
on_abort(void *ctx)
{
	tx_reset(ctx);
}

static int
on_auth(void *ctx, const char *arg, size_t len, struct buf *r)
{
	struct smtpd *d = ctx;

	return auth_smtpd_start(&d->auth, arg, len, smtp_session_tls(d->s), r);
}

static int
on_auth_resp(void *ctx, const char *line, size_t len, struct buf *r)
{
	struct smtpd *d = ctx;

	return auth_smtpd_resp(&d->auth, line, len, smtp_session_tls(d->s), r);
}

static int
our_domain(void *arg, const char *dom, size_t len)
{
	struct smtpd *d = arg;

	return route_is_our_domain(&d->ops, &d->inst.q, dom, len);
}

static void
drop_privileges(struct smtpd *d, int out)
{
	char user[128], group[128];

	if (geteuid() != 0)
		return;
	cf_db_str(&d->db, "core", "", "user-id", user, sizeof user);
	cf_db_str(&d->db, "core", "", "group-id", group, sizeof group);
	if (priv_drop(user, group) < 0) {
		int e = errno;

		net_early_fail(out, d->hostname, "misconfigured");
		if (e == ENOENT)
			die(EX_NOUSER, "[core] user-id '%s' or group-id '%s' "
			    "does not exist", user, group);
		errno = e;
		die_sys(EX_OSERR, "unable to drop privileges to %s", user);
	}
}

/* One log line per refusal: every final 4xx/5xx reply line we send. */
static void
log_refusals(struct smtpd *d, const char *p, size_t len)
{
	const char *end = p + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n >= 4 && (p[0] == '4' || p[0] == '5') && p[3] == ' ') {
			struct buf esc = BUF_INIT(0);

			log_escape(&esc, p, n && p[n - 1] == '\r' ? n - 1 : n, 300);
			log_info("reject: client=%s helo=<%s> from=<%s>: %s",
			    d->client, smtp_session_helo(d->s), d->sender,
			    esc.p ? esc.p : "");
			buf_free(&esc);
		}
		p = nl ? nl + 1 : end;
	}
}

static void
on_output(void *arg, const char *p, size_t n)
{
	struct smtpd *d = arg;

	log_refusals(d, p, n);
	/* ultra: the early target connection moves on between the client's
	 * round trips, never waiting (lib/proxy/proxy_early.h) */
	proxy_tx_step(&d->px);
}

/* ultra: what the client's last read gave the message goes on now */
static void
on_fed(void *arg)
{
	proxy_tx_data_push(&((struct smtpd *)arg)->px);
}

static int
on_starttls(void *ctx, struct buf *r)
{
	return smtpd_tls_starttls(&((struct smtpd *)ctx)->tls, r);
}

static int
on_tls_handshake(void *arg)
{
	return smtpd_tls_handshake(&((struct smtpd *)arg)->tls);
}

static void
on_pregreet(void *arg)
{
	struct smtpd *d = arg;

	log_info("pregreet: client=%s spoke before the greeting", d->client);
}

/* A client that pipelines and never reads its replies is cut off at the
 * write deadline; there is no way left to tell it (the 421 cannot go). */
static void
log_write_timeout(struct smtpd *d, int end, uint64_t idle, uint64_t deadline)
{
	if (end == NET_DRIVE_WRITE_IDLE || end == NET_DRIVE_WRITE_DEADLINE)
		log_info("timeout: client=%s did not read its replies within "
		    "the %s (%llu s); connection closed", d->client,
		    end == NET_DRIVE_WRITE_IDLE ? "idle-timeout" :
		    "session-timeout", (unsigned long long)(end ==
		    NET_DRIVE_WRITE_IDLE ? idle : deadline));
}

/* Postfix-style: `disconnect from IP ehlo=1 mail=1 rcpt=2 data=1 quit=1`. */
static void
log_disconnect(struct smtpd *d)
{
	struct buf b = BUF_INIT(0);
	unsigned v, n, total = 0;

	for (v = SMTP_V_UNKNOWN; v < SMTP_V_COUNT; v++) {
		char name[16];
		size_t i;

		if ((n = smtp_session_count(d->s, (enum smtp_verb)v)) == 0)
			continue;
		snprintf(name, sizeof name, "%s",
		    v == SMTP_V_UNKNOWN ? "unknown" : smtp_cmd_name((enum smtp_verb)v));
		for (i = 0; name[i]; i++)
			name[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
			    name[i] + 32 : name[i]);
		buf_printf(&b, " %s=%u", name, n);
		total += n;
	}
	log_info("disconnect from %s%s commands=%u errors=%u messages=%lu",
	    d->client, b.p ? b.p : "", total, smtp_session_errors(d->s),
	    d->messages);
	buf_free(&b);
}

/*
 * [smtpd] proxy-protocol: a load balancer's PROXY header comes before any
 * byte of the client's (haproxy doc/proxy-protocol.txt). Its source is the
 * client from here on: logs, Received, the envelope. A connection without
 * a valid header is closed without a greeting, as the spec asks (section
 * 2: never guess whether the header is there, or any client could claim
 * any address); LOCAL (health checks) and UNKNOWN keep the real peer.
 */
static void
read_proxy_header(struct smtpd *d, int in, uint64_t secs)
{
	struct net_proxy_hdr h;
	char src[64];
	int r = net_proxy_read(in, secs, &h);

	if (r != NET_PROXY_OK) {
		log_warn("proxy: closing the connection from %s to %s without "
		    "a greeting: bad PROXY header: %s (%zu octets read)",
		    d->client, d->name, net_proxy_strerror(r), h.len);
		exit(0);
	}
	if (net_proxy_source(&h, src, sizeof src) < 0) {
		snprintf(d->via, sizeof d->via, " (PROXY v%d %s)", h.version,
		    h.local ? "LOCAL" : "without an address");
		return;
	}
	snprintf(d->via, sizeof d->via, " port %u via %s (PROXY v%d)",
	    (unsigned)h.src_port, d->client, h.version);
	snprintf(d->client, sizeof d->client, "%s", src);
}

/*
 * Whether RCPT checks local names against the accounts: smtpd is linked
 * statically (one exec per connection) and reads /etc/passwd itself;
 * where users live in another name service only lmtpd can tell, after
 * the 250.
 */
static int
local_accounts(struct smtpd *d)
{
	char mailer[256], maildir[4096];

	if (cf_db_str(&d->db, "core", "", "local-mailer", mailer,
	    sizeof mailer) < 0 || cf_db_str(&d->db, "lmtpd", "", "maildir",
	    maildir, sizeof maildir) < 0 || cf_db_uint(&d->db, "core", "",
	    "first-valid-uid", &d->first_uid) < 0)
		return -1;
	/* An empty maildir is the default one (lmtpd reads it so). */
	d->local_accounts = (mailer[0] == '\0' ||
	    strcmp(mailer, "lmtpd") == 0) &&
	    (maildir[0] == '~' || maildir[0] == '\0') &&
	    deliver_account_files_only("/etc/nsswitch.conf");
	return 0;
}

/*
 * The session's limits from [smtpd "NAME"] and [core]; every key has its
 * default in the schema (lib/cf/cf_schema.c). -1 when one is unreadable.
 */
static int
session_limits(struct smtpd *d, struct smtp_session_cfg *cfg, uint64_t *idle,
    uint64_t *deadline)
{
	uint64_t size, rcpt, errors, line, hops;
	int accept;

	/* [smtpd] max-message-size has no default: [core]'s applies. */
	if (cf_db_uint(&d->db, "smtpd", d->name, "max-message-size",
	    &size) < 1 && cf_db_uint(&d->db, "core", "", "max-message-size",
	    &size) < 0)
		return -1;
	if (cf_db_bool(&d->db, "smtpd", d->name, "accept-mail", &accept) < 0 ||
	    cf_db_uint(&d->db, "smtpd", d->name, "max-recipients", &rcpt) < 0 ||
	    cf_db_uint(&d->db, "smtpd", d->name, "max-errors", &errors) < 0 ||
	    cf_db_uint(&d->db, "smtpd", d->name, "max-line-length", &line) < 0 ||
	    cf_db_uint(&d->db, "core", "", "max-hops", &hops) < 0 ||
	    cf_db_uint(&d->db, "smtpd", d->name, "idle-timeout", idle) < 0 ||
	    cf_db_uint(&d->db, "smtpd", d->name, "session-timeout",
	    deadline) < 0)
		return -1;
	memset(cfg, 0, sizeof *cfg);
	/* RCPT TO:<joe>: routed as a local name (DESIGN.md) */
	cfg->local_names = d->inst.q.local_names_ok;
	cfg->accept_mail = accept;
	cfg->size_max = size;
	cfg->max_rcpt = (unsigned)rcpt;
	cfg->max_errors = (unsigned)errors;
	cfg->line_max = (size_t)line;
	cfg->max_received = (unsigned)hops;
	d->max_hops = hops;
	/* The spool's garbage collection counts on this bound (spool_dir.h). */
	if (*deadline > SPOOL_SMTPD_DEADLINE)
		*deadline = SPOOL_SMTPD_DEADLINE;
	return 0;
}

/*
 * [smtpd] pipelining = full|ultra (lib/proxy/proxy_tx.h). The local
 * mailer is proxied only to a virtual-mailbox postmaster-lmtpd, started
 * from smtpd's own directory as the queue starts it from its own.
 */
static void
proxy_setup(struct smtpd *d, const char *cdb)
{
	static char mailer[256], host[256];
	struct proxy_dest_cfg dc;
	enum proxy_mode mode = PROXY_MODE_SPOOL;
	char word[16] = "", kind[16], maildir[4096] = "";
	uint64_t secs = 100, port = 25;

	cf_db_str(&d->db, "smtpd", d->name, "pipelining", word, sizeof word);
	if (proxy_mode_parse(word, &mode) < 0)
		mode = PROXY_MODE_SPOOL;
	memset(&dc, 0, sizeof dc);
	if (mode == PROXY_MODE_SPOOL) {
		proxy_tx_init(&d->px, mode, &dc, d->hostname, cdb, "", 1);
		return;
	}
	cf_db_uint(&d->db, "smtpd", d->name, "proxy-timeout", &secs);
	cf_db_uint(&d->db, "core", "", "smtp-port", &port);
	mailer[0] = '\0';
	cf_db_str(&d->db, "core", "", "local-mailer", mailer, sizeof mailer);
	cf_db_str(&d->db, "lmtpd", "", "maildir", maildir, sizeof maildir);
	memset(&dc, 0, sizeof dc);
	dc.db = &d->db;
	dc.smtp_port = (unsigned)port;
	if (cf_db_str(&d->db, "core", "", "hostname", host, sizeof host) < 0 ||
	    host[0] == '\0')
		gethostname(host, sizeof host - 1);
	dc.local_domain = host;
	dc.lmtpd_ok = (mailer[0] == '\0' || strcmp(mailer, "lmtpd") == 0) &&
	    maildir[0] != '\0' && maildir[0] != '~';
	if (d->ops.target_kind(d->ops.ctx, mailer, kind, sizeof kind) == 1 &&
	    strcmp(kind, "relay") == 0)
		dc.local_relay = mailer;
	proxy_tx_init(&d->px, mode, &dc, d->hostname, cdb, NULL,
	    secs > UINT32_MAX / 1000 ? UINT32_MAX : (unsigned)(secs * 1000));
}

int
main(int argc, char **argv)
{
	const char *cdb = PM_DEFAULT_CDB, *why;
	/* static: zero-filled, and a page of it costs memory only once
	 * something is written there (an instance without TLS, SPF or the
	 * proxy leaves their parts alone) */
	static struct smtpd d;
	struct smtp_session_cfg cfg;
	struct smtp_session_ops ops = { on_mail, on_rcpt, on_data_begin,
		on_data_write, on_data_end, on_abort, on_starttls, on_auth,
		on_auth_resp, on_rcpt_done };
	char spooldir[1024], why_tls[512];
	uint64_t idle, deadline;
	int in = 0, out = 1, opt, b;

	log_init(argv[0]);
	{
		char pid[24];

		snprintf(pid, sizeof pid, "%ld", (long)getpid());
		log_set_id(pid);
	}
	while ((opt = getopt(argc, argv, "C:h")) != -1) {
		if (opt == 'C') {
			cdb = optarg;
		} else {
			fprintf(stderr, "usage: postmaster-smtpd [-C CDB] NAME\n");
			return opt == 'h' ? 0 : EX_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: postmaster-smtpd [-C CDB] NAME\n");
		return EX_USAGE;
	}
	d.name = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	if (net_listen_fds() == 1)
		in = out = 3;
	net_peer_address(in, d.client, sizeof d.client);
	gethostname(d.hostname, sizeof d.hostname - 1);

	if (cf_db_open(&d.db, cdb, &why) < 0) {
		net_early_fail(out, d.hostname, "configuration unavailable");
		die(EX_TEMPFAIL, "unable to open %s: %s", cdb, why);
	}
	if (route_db_instance(&d.db, d.name, &d.inst) < 0) {
		net_early_fail(out, d.hostname, "no such instance");
		die(EX_CONFIG, "no [smtpd \"%s\"] in %s", d.name, cdb);
	}
	route_db_ops(&d.ops, &d.db);
	if (local_accounts(&d) < 0 || session_limits(&d, &cfg, &idle,
	    &deadline) < 0) {
		net_early_fail(out, d.hostname, "configuration unavailable");
		die(EX_TEMPFAIL, "unable to read the configuration in %s", cdb);
	}
	if (auth_smtpd_open(&d.auth, &d.db, d.name, cdb, &why) < 0) {
		net_early_fail(out, d.hostname, "misconfigured");
		die(EX_CONFIG, "[smtpd \"%s\"] auth: %s", d.name, why);
	}
	if (cf_logger_setup(&d.db, "smtpd", d.name) < 0)
		log_warn("unable to open the configured log file: %s",
		    strerror(errno));
	snprintf(d.hostname, sizeof d.hostname, "%s", d.inst.name);
	cf_db_str(&d.db, "core", "", "spool-directory", spooldir, sizeof spooldir);
	if (spf_gate_setup(&d.spf, &d.db, d.name, d.hostname) < 0)
		die(EX_TEMPFAIL, "out of memory");
	drop_privileges(&d, out);
	if (spool_dir_open(&d.spool, spooldir, SPOOL_DIR_CREATE) < 0) {
		net_early_fail(out, d.hostname, "spool unavailable");
		die_sys(EX_TEMPFAIL, "unable to open spool %s", spooldir);
	}

	cfg.hostname = d.hostname;
	cfg.auth_mechs = auth_smtpd_mechs(&d.auth);

	if (smtpd_tls_setup(&d.tls, &d.db, cdb, d.name, d.client, in, out,
	    clock_ms_from_s(idle), why_tls, sizeof why_tls) < 0) {
		net_early_fail(out, d.hostname, "TLS unavailable");
		die(EX_SOFTWARE, "%s", why_tls);
	}
	proxy_setup(&d, cdb);
	if (cf_db_bool(&d.db, "smtpd", d.name, "proxy-protocol", &b) >= 0 && b)
		read_proxy_header(&d, in, idle < deadline ? idle : deadline);
	cfg.starttls = smtpd_tls_offered(&d.tls);
	d.auth.client = d.client;
	d.auth.our_domain = our_domain;
	d.auth.arg = &d;
	d.auth.deadline_ms = clock_now_ms() +
	    (int64_t)clock_ms_from_s(deadline);
	if ((d.s = smtp_session_new(&cfg, &ops, &d)) == NULL)
		die(EX_TEMPFAIL, "out of memory");
	log_info("connect from %s%s to %s", d.client, d.via, d.name);
	proxy_tx_early(&d.px, &d.inst.q);
	if (d.tls.mode == SMTPD_TLS_IMPLICIT) {
		/* RFC 8314 3.3: TLS from the first octet */
		if (smtpd_tls_implicit(&d.tls) < 0) {
			smtpd_tls_finish(&d.tls);
			return 0;
		}
		smtp_session_tls_done(d.s);
	}
	{
		struct net_drive drive = { .in = in, .out = out,
			.idle_ms = clock_ms_from_s(idle),
			.deadline_ms = clock_ms_from_s(deadline),
			.on_output = on_output, .on_fed = on_fed,
			.on_pregreet = on_pregreet,
			.on_starttls = on_tls_handshake, .arg = &d };

		log_write_timeout(&d, net_drive_run(d.s, &drive), idle,
		    deadline);
	}
	log_disconnect(&d);
	smtpd_tls_finish(&d.tls);
	tx_reset(&d);
	spf_gate_free(&d.spf);
	proxy_tx_free(&d.px);
	smtp_session_free(d.s);
	auth_smtpd_close(&d.auth);
	free(d.dlv);
	free(d.later);
	buf_free(&d.rcvd);
	return 0;
}
