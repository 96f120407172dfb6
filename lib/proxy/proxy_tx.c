#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_early.h"
#include "proxy/proxy_reply.h"
#include "proxy/proxy_tx.h"

/* Where a transaction stands. */
enum {
	PXS_IDLE,    /* MAIL seen, no recipient routed yet */
	PXS_ON,      /* MAIL accepted by the target: proxying */
	PXS_REFUSED, /* the target refused MAIL */
	PXS_OFF      /* left the proxy: spooled as without it */
};

int
proxy_mode_parse(const char *s, enum proxy_mode *mode)
{
	if (strcmp(s, "spool") == 0 || *s == '\0')
		*mode = PROXY_MODE_SPOOL;
	else if (strcmp(s, "full") == 0)
		*mode = PROXY_MODE_FULL;
	else if (strcmp(s, "ultra") == 0)
		*mode = PROXY_MODE_ULTRA;
	else
		return -1;
	return 0;
}

void
proxy_tx_init(struct proxy_tx *px, enum proxy_mode mode,
    const struct proxy_dest_cfg *dc, const char *helo, const char *cdb,
    const char *lmtpd, unsigned timeout_ms)
{
	if (mode == PROXY_MODE_SPOOL) {
		/* zero-filled already (proxy_tx.h): only what proxy_tx_free
		 * reads, so a spooling session pays no memory for the rest */
		px->mode = mode;
		px->st = PXS_OFF;
		px->conn.c.fd = -1;
		px->conn.pid = -1;
		return;
	}
	memset(px, 0, sizeof *px);
	px->mode = mode;
	px->dc = *dc;
	px->st = PXS_OFF;
	proxy_conn_init(&px->conn, helo, cdb, lmtpd, timeout_ms);
}

void
proxy_tx_early(struct proxy_tx *px, const struct route_query *q)
{
	struct proxy_dest d;

	if (px->mode == PROXY_MODE_ULTRA && proxy_dest_sole(&px->dc, q, &d))
		(void)proxy_early_start(&px->conn, &d);
}

void
proxy_tx_step(struct proxy_tx *px)
{
	if (px->conn.early)
		proxy_early_step(&px->conn);
}

void
proxy_tx_mail(struct proxy_tx *px, const char *sender,
    const struct smtp_params *par)
{
	proxy_tx_reset(px);
	/* full: the previous transaction's connection is closed now, not
	 * before its reply reached the client */
	if (px->mode == PROXY_MODE_FULL && px->conn.open)
		proxy_conn_close(&px->conn, 1);
	if (px->mode == PROXY_MODE_SPOOL)
		return;
	snprintf(px->sender, sizeof px->sender, "%s", sender);
	px->par = *par;
	px->nrcpt = 0;
	px->why[0] = '\0';
	px->st = PXS_IDLE;
}

/* Ends the target's side of the transaction: RSET, or QUIT in full mode
 * (the connection is not kept). */
static void
end_target_tx(struct proxy_tx *px)
{
	if (!px->conn.open)
		return;
	/* inside DATA there is no RSET: a connection closed before the
	 * final dot ends the transaction with nothing delivered (RFC 5321
	 * 4.1.1.4) */
	if (px->conn.streaming)
		proxy_conn_close(&px->conn, 0);
	else if (px->mode == PROXY_MODE_ULTRA)
		(void)proxy_conn_rset(&px->conn);
	else
		proxy_conn_close(&px->conn, 1);
}

void
proxy_tx_leave(struct proxy_tx *px, const char *why)
{
	if (px->st == PXS_OFF)
		return;
	if (px->st == PXS_ON || px->st == PXS_REFUSED)
		end_target_tx(px);
	if (px->why[0] == '\0')
		snprintf(px->why, sizeof px->why, "%s", why);
	px->st = PXS_OFF;
}

void
proxy_tx_cancel(struct proxy_tx *px, const char *why)
{
	proxy_tx_leave(px, why);
}

int
proxy_tx_active(const struct proxy_tx *px)
{
	return px->st == PXS_ON && px->nrcpt > 0;
}

int
proxy_tx_lmtp(const struct proxy_tx *px)
{
	return px->dest.proto == CLIENT_LMTP;
}

/* Has the target what this message needs (RFC 6152, 3030, 6531)? */
static const char *
lacks(const struct proxy_tx *px)
{
	unsigned ext = proxy_conn_ext(&px->conn);

	if (px->par.body == SMTP_BODY_BINARYMIME)
		return "BODY=BINARYMIME is not proxied";
	if (px->par.body == SMTP_BODY_8BITMIME && !(ext & CLIENT_EXT_8BITMIME))
		return "the target lacks 8BITMIME";
	if (px->par.smtputf8 && !(ext & CLIENT_EXT_SMTPUTF8))
		return "the target lacks SMTPUTF8";
	return NULL;
}

static void
lost(struct proxy_tx *px, const char *when)
{
	char why[sizeof px->why];

	snprintf(why, sizeof why, "target lost %s: %.500s", when,
	    px->conn.c.err);
	proxy_tx_leave(px, why);
}

/* Connects if need be and checks what the message needs: 0, -1 off. */
static int
open_for(struct proxy_tx *px, const struct proxy_dest *d)
{
	const char *no;

	px->dest = *d;
	if (proxy_conn_open(&px->conn, d) < 0) {
		lost(px, "at connect");
		return -1;
	}
	if ((no = lacks(px)) != NULL) {
		proxy_tx_leave(px, no);
		/* a kept connection stays for the next transaction */
		if (px->mode != PROXY_MODE_ULTRA)
			proxy_conn_close(&px->conn, 1);
		return -1;
	}
	return 0;
}

/* The target refused MAIL with a whole reply (421 is its closing, so
 * lost): that answers every RCPT of the transaction, whatever the
 * connection does next (RFC 5321 3.3: no RCPT without MAIL). */
static int
refused_mail(const struct proxy_tx *px)
{
	int c = px->mail_reply.code;

	return px->mail_reply.done && c != 421 &&
	    (c / 100 == 4 || c / 100 == 5);
}

/* Connects if need be and replays MAIL. 0 on, 1 refused, -1 off. */
static int
start(struct proxy_tx *px, const struct proxy_dest *d, const char *addr,
    struct client_reply *r, int *have_r)
{
	if (open_for(px, d) < 0)
		return -1;
	/* ultra: MAIL and the first RCPT in one write where allowed */
	*have_r = px->mode == PROXY_MODE_ULTRA &&
	    (proxy_conn_ext(&px->conn) & CLIENT_EXT_PIPELINING);
	/* not the last transaction's (refused_mail reads it) */
	client_reply_reset(&px->mail_reply);
	if (proxy_conn_mail(&px->conn, px->sender, &px->par,
	        *have_r ? addr : NULL, &px->mail_reply, r) < 0 &&
	    !refused_mail(px)) {
		lost(px, "after MAIL");
		return -1;
	}
	if (px->mail_reply.code / 100 != 2) {
		px->st = PXS_REFUSED;
		return 1;
	}
	px->st = PXS_ON;
	return 0;
}

/* The target of res and the address it is given there (local names
 * get the local domain for lmtpd): NULL, with why, if not proxied. */
static const char *
target_of(const struct proxy_tx *px, const struct route_result *res,
    struct proxy_dest *d, char *local, size_t cap, const char **why)
{
	const char *addr;

	if (res->n != 1) {
		*why = "a recipient with several targets";
		return NULL;
	}
	if (!proxy_dest_of(&px->dc, &res->t[0], d)) {
		*why = "a recipient whose target is not proxied";
		return NULL;
	}
	if (px->st != PXS_IDLE && strcmp(d->key, px->dest.key) != 0) {
		*why = "recipients for two targets";
		return NULL;
	}
	addr = res->t[0].rcpt;
	if (d->lmtpd && strchr(addr, '@') == NULL) {
		snprintf(local, cap, "%.300s@%.255s", addr,
		    px->dc.local_domain ? px->dc.local_domain : "localhost");
		addr = local;
	}
	return addr;
}

int
proxy_tx_rcpt(struct proxy_tx *px, const struct route_result *res,
    struct buf *reply)
{
	struct proxy_dest d;
	struct client_reply r;
	char local[600];
	const char *addr, *why = "";
	int have_r = 0;

	if (px->st == PXS_OFF)
		return PROXY_RCPT_NONE;
	if ((addr = target_of(px, res, &d, local, sizeof local, &why)) ==
	    NULL) {
		proxy_tx_leave(px, why);
		return PROXY_RCPT_NONE;
	}
	if (px->st == PXS_IDLE && start(px, &d, addr, &r, &have_r) < 0)
		return PROXY_RCPT_NONE;
	if (px->st == PXS_REFUSED) {
		proxy_reply_format(reply, &px->mail_reply, "2.1.0");
		return PROXY_RCPT_REFUSED;
	}
	if (!have_r && proxy_conn_rcpt(&px->conn, addr, &r) < 0) {
		lost(px, "after RCPT");
		return PROXY_RCPT_NONE;
	}
	proxy_reply_format(reply, &r, "2.1.5");
	if (r.code / 100 != 2)
		return PROXY_RCPT_REFUSED;
	px->nrcpt++;
	return PROXY_RCPT_ACCEPTED;
}

/*
 * A DATA that went with the last group, but whose data never began (the
 * group's RCPTs all refused, or the client's DATA a syntax error): a
 * target that refused it is ready for more RCPTs; one in DATA has no
 * RSET there, so the connection ends (RFC 5321 4.1.1.4) and the
 * transaction leaves the proxy. Either way no later group waits for a
 * DATA reply that was read already. (A group is only ever flushed after
 * proxy_tx_later built it, so this is the one place to look.)
 */
static void
drop_stale_data(struct proxy_tx *px)
{
	if (!px->data_sent)
		return;
	px->data_sent = 0;
	if (px->conn.streaming)
		proxy_tx_leave(px, "the client's data did not follow DATA");
}

int
proxy_tx_later(struct proxy_tx *px, const struct route_result *res)
{
	struct proxy_dest d;
	struct client_reply *q;
	char local[600];
	const char *addr, *why;

	drop_stale_data(px);
	if (px->mode != PROXY_MODE_ULTRA ||
	    (px->st != PXS_IDLE && px->st != PXS_ON) ||
	    (addr = target_of(px, res, &d, local, sizeof local, &why)) == NULL)
		return 0;
	if (px->st == PXS_IDLE) {
		if (open_for(px, &d) < 0 ||
		    !(proxy_conn_ext(&px->conn) & CLIENT_EXT_PIPELINING))
			return 0;
		if (proxy_conn_mail_line(&px->batch, px->sender, &px->par) < 0)
			return 0;
		px->batch_mail = 1;
		px->st = PXS_ON;
	} else if (!(proxy_conn_ext(&px->conn) & CLIENT_EXT_PIPELINING) ||
	    (px->nq > 0 && px->batch.len == 0)) {
		/* sent already: their outcomes go first */
		return 0;
	}
	if (px->nq == px->capq) {
		size_t cap = px->capq ? px->capq * 2 : 8;

		if ((q = realloc(px->q, cap * sizeof *q)) == NULL)
			goto oom;
		px->q = q;
		px->capq = cap;
	}
	if (buf_printf(&px->batch, "RCPT TO:<%s>\r\n", addr) < 0)
		goto oom;
	client_reply_reset(&px->q[px->nq++]);
	return 1;
oom:
	if (px->nq == 0) {
		/* nothing held but MAIL: nothing sent either */
		buf_reset(&px->batch);
		px->batch_mail = 0;
		px->st = PXS_IDLE;
	}
	return 0;
}

void
proxy_tx_flush(struct proxy_tx *px, int data)
{
	size_t i = 0;

	if (px->nq == 0 || px->batch.len == 0)
		return;
	/* RFC 2920 3.1: DATA may end the group; its reply comes last */
	if (data && buf_append_str(&px->batch, "DATA\r\n") == 0)
		px->data_sent = 1;
	if (proxy_conn_send(&px->conn, px->batch.p, px->batch.len,
	        px->batch_mail ? "MAIL" : "RCPT") < 0) {
		lost(px, px->batch_mail ? "after MAIL" : "after RCPT");
		goto out;
	}
	if (px->batch_mail) {
		if (proxy_conn_read(&px->conn, &px->mail_reply, "MAIL") < 0) {
			lost(px, "after MAIL");
			goto out;
		}
		if (px->mail_reply.code / 100 != 2)
			px->st = PXS_REFUSED;
	}
	for (i = 0; i < px->nq; i++) {
		if (proxy_conn_read(&px->conn, &px->q[i], "RCPT") < 0) {
			if (px->st == PXS_REFUSED) {
				/* MAIL's refusal answers them all */
				for (; i < px->nq; i++)
					px->q[i] = px->mail_reply;
				px->data_sent = 0;
				goto out;
			}
			client_reply_reset(&px->q[i]);
			lost(px, "after RCPT");
			goto out;
		}
		if (px->st == PXS_REFUSED)
			px->q[i] = px->mail_reply;
		else if (px->q[i].code / 100 == 2)
			px->nrcpt++;
	}
	if (px->data_sent &&
	    proxy_conn_data_reply(&px->conn, &px->data_reply) < 0)
		lost(px, "after DATA");
out:
	for (; i < px->nq; i++)
		px->q[i].code = 0;
	buf_reset(&px->batch);
	px->batch_mail = 0;
}

int
proxy_tx_later_reply(struct proxy_tx *px, struct buf *reply)
{
	const struct client_reply *r;

	if (px->nq_out >= px->nq)
		return PROXY_RCPT_NONE;
	r = &px->q[px->nq_out++];
	if (px->nq_out == px->nq)
		px->nq = px->nq_out = 0;
	if (r->code == 0)
		return PROXY_RCPT_NONE;
	proxy_reply_format(reply, r, "2.1.5");
	return r->code / 100 == 2 ? PROXY_RCPT_ACCEPTED : PROXY_RCPT_REFUSED;
}

int
proxy_tx_data_begin(struct proxy_tx *px, const char *hdr, size_t len,
    struct buf *reply)
{
	struct client_reply r;

	if (!proxy_tx_active(px) || px->mode != PROXY_MODE_ULTRA)
		return 0;
	if (px->data_sent) {
		/* it went with the RCPTs: its reply is in */
		r = px->data_reply;
		px->data_sent = 0;
	} else if (proxy_conn_data_begin(&px->conn, &r) < 0) {
		lost(px, "after DATA");
		return -1;
	}
	if (r.code != 354) {
		/* one reply to DATA, LMTP too (RFC 2033 4.2) */
		proxy_reply_format(reply, &r, "2.0.0");
		proxy_tx_leave(px, "the target refused DATA");
		return 1;
	}
	/* our Received: field; it goes with the first octets of the
	 * message (proxy_tx_data_push) */
	px->hdr_only = 1;
	if (proxy_conn_data_write(&px->conn, hdr, len, 0) < 0) {
		lost(px, "in the data");
		return -1;
	}
	return 0;
}

void
proxy_tx_data_write(struct proxy_tx *px, const char *p, size_t n)
{
	if (px->st != PXS_ON || !px->conn.streaming)
		return;
	px->hdr_only = 0;
	if (proxy_conn_data_write(&px->conn, p, n, 0) < 0)
		lost(px, "in the data");
}

void
proxy_tx_data_push(struct proxy_tx *px)
{
	/* our Received: alone waits for the client's first octets */
	if (px->st != PXS_ON || !px->conn.streaming || px->hdr_only)
		return;
	if (proxy_conn_data_write(&px->conn, NULL, 0, 1) < 0)
		lost(px, "in the data");
}

int
proxy_tx_data(struct proxy_tx *px, int fd, uint64_t off, uint64_t len,
    struct client_reply *r)
{
	size_t i, got = 0, n = proxy_tx_lmtp(px) ? px->nrcpt : 1;
	struct client_reply d;
	int rc = 0;

	for (i = 0; i < px->nrcpt; i++)
		client_reply_reset(&r[i]);
	if (!px->conn.streaming) {
		rc = proxy_conn_data_begin(&px->conn, &d);
		if (rc == 0 && d.code != 354) {
			/* the target's word on the message, as at the end */
			for (i = 0; i < px->nrcpt; i++)
				r[i] = d;
			px->st = PXS_OFF;
			return 0;
		}
		if (rc == 0)
			rc = proxy_conn_data_file(&px->conn, fd, off, len);
	}
	if (rc == 0)
		rc = proxy_conn_data_end(&px->conn, r, n, &got);
	if (rc < 0)
		lost(px, "in the data");
	if (!proxy_tx_lmtp(px) && got == 1)
		for (i = 1; i < px->nrcpt; i++)
			r[i] = r[0];
	for (i = got; i < n; i++)
		r[i].code = 0;
	/* after the final replies the target's transaction is over (RFC
	 * 5321 4.1.1.4): nothing to reset */
	if (rc == 0)
		px->st = PXS_OFF;
	return rc;
}

void
proxy_tx_reset(struct proxy_tx *px)
{
	if (px->st == PXS_ON || px->st == PXS_REFUSED)
		end_target_tx(px);
	px->st = PXS_OFF;
	px->nrcpt = 0;
	/* held, never sent: the target knows nothing of them */
	buf_reset(&px->batch);
	px->batch_mail = px->data_sent = 0;
	px->nq = px->nq_out = 0;
}

void
proxy_tx_free(struct proxy_tx *px)
{
	proxy_conn_close(&px->conn, 1);
	buf_free(&px->batch);
	free(px->q);
	px->q = NULL;
	px->capq = 0;
}

const char *
proxy_tx_relay(const struct proxy_tx *px)
{
	return px->conn.c.relay[0] ? px->conn.c.relay : px->dest.key;
}
