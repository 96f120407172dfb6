#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"
#include "queue/queue_bounce.h"
#include "queue/queue_dsn.h"
#include "route/route_db.h"
#include "spool/spool_write.h"

static int
is_postmaster(const struct spool_str *s)
{
	return str_casecmp(s->p, "postmaster") == 0;
}

/* A new, zeroed entry at the end of dv[0..*n); NULL: out of memory. */
static struct spool_dlv *
dlv_add(struct spool_dlv **dv, size_t *n, size_t *cap)
{
	struct spool_dlv *v = array_grow(*dv, cap, *n + 1, sizeof *v);

	if (v == NULL)
		return NULL;
	*dv = v;
	v = &(*dv)[(*n)++];
	memset(v, 0, sizeof *v);
	return v;
}

/*
 * Routes addr as a trusted local caller (local names allowed) through
 * the tables of [smtpd "instance"], the one that took the message being
 * bounced, then [route]; without such an instance (postmaster-inject, a
 * bounce) [route] alone. An unrouted domain goes by MX.
 */
static int
route_local(struct cf_db *db, const char *instance, const char *addr,
    struct spool_dlv **dv, size_t *n, size_t *cap, size_t rcpt,
    char (*store)[1100], size_t *nstore)
{
	struct route_ops ops;
	struct route_instance inst;
	struct route_result res;
	const char *at = strrchr(addr, '@');
	size_t i;
	int rc = -1;

	route_db_ops(&ops, db);
	if ((instance == NULL || route_db_instance(db, instance, &inst) < 0) &&
	    route_db_instance(db, NULL, &inst) < 0)
		return -1;
	inst.q.local_names_ok = 1;
	route_result_init(&res, NULL);
	switch (route_resolve(&ops, &inst.q, addr, strlen(addr), &res)) {
	case ROUTE_OK:
		break;
	case ROUTE_NO_ROUTE:
		if (at && at[1]) {
			res.n = 0;
			if (*nstore >= 64)
				goto out;
			snprintf(store[*nstore], sizeof store[0], "mx:%s",
			    at + 1);
			goto add_one;
		}
		goto out;
	default:
		goto out;
	}
	for (i = 0; i < res.n; i++) {
		struct spool_dlv *v;

		if (res.t[i].kind == ROUTE_REJECT)
			continue;
		if (*nstore + 1 >= 64 ||
		    route_target_format(&res.t[i], store[*nstore],
		        sizeof store[0]) < 0)
			continue;
		if ((v = dlv_add(dv, n, cap)) == NULL)
			goto out;
		snprintf(store[*nstore + 1], sizeof store[0], "%s",
		    res.t[i].rcpt[0] ? res.t[i].rcpt : addr);
		v->rcpt = rcpt;
		v->orig = spool_str_c(addr);
		v->target = spool_str_c(store[*nstore]);
		v->addr = spool_str_c(store[*nstore + 1]);
		*nstore += 2;
	}
	rc = *n ? 0 : -1;
	goto out;
add_one : {
	struct spool_dlv *v;

	if ((v = dlv_add(dv, n, cap)) == NULL)
		goto out;
	v->rcpt = rcpt;
	v->orig = spool_str_c(addr);
	v->addr = spool_str_c(addr);
	v->target = spool_str_c(store[*nstore]);
	*nstore += 1;
	rc = 0;
}
out:
	route_result_free(&res);
	return rc;
}

/* The bounce's recipients, routed, into dv[0..*ndv) (strings in
 * store). */
static void
dsn_route(const struct queue_job *j, const char *const *to, size_t nto,
    struct spool_dlv **dv, size_t *ndv, char (*store)[1100])
{
	size_t i, capdv = 0, nstore = 0, rcpt = 0;

	for (i = 0; i < nto; i++)
		if (route_local(j->c->db, j->m.env.instance.p, to[i], dv, ndv,
		        &capdv, rcpt, store, &nstore) == 0)
			rcpt++;
}

/* The original's header section, for text/rfc822-headers; NULL: out of
 * memory. */
static char *
dsn_orig(const struct queue_job *j, size_t *olen)
{
	size_t len = (size_t)(j->m.file_size - j->m.body_off);
	ssize_t got;
	char *orig;

	if (len > QUEUE_DSN_HDR_MAX)
		len = QUEUE_DSN_HDR_MAX;
	if ((orig = malloc(len + 1)) == NULL)
		return NULL;
	got = pread(j->m.fd, orig, len, j->m.body_off);
	*olen = got > 0 ? (size_t)got : 0;
	return orig;
}

/* The per-recipient fields of the report for entries e[0..n). */
static void
dsn_rcpts(const struct queue_job *j, const size_t *e, size_t n,
    struct queue_dsn_rcpt *r, char (*status)[16])
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct spool_dlv *dl = &j->m.env.dlv[e[i]];
		const struct spool_dstate *ds = &j->st.d[e[i]];

		queue_dsn_status(ds->reply, 1, status[i]);
		r[i].final = dl->addr.p;
		r[i].orig = dl->orig.p;
		r[i].status = status[i];
		r[i].diag = ds->reply;
		/* Remote-MTA names SMTP peers only, not programs or lmtpd. */
		r[i].remote = strncmp(ds->reply, "smtp;", 5) == 0 &&
		        strcmp(ds->relay, "none") != 0 &&
		        strcmp(ds->relay, "lmtpd") != 0 &&
		        strncmp(ds->relay, "reject:", 7) != 0 ?
		    ds->relay :
		    "";
		r[i].last = j->now;
	}
}

/* The envelope of a bounce: from the null sender, as the queue. */
static void
dsn_envelope(const struct queue_cfg *c, const struct buf *body,
    struct spool_dlv *dv, size_t ndv, struct spool_env *benv)
{
	size_t i, hl = queue_dsn_header_len(body->p, body->len, body->len);
	int eight = 0, utf8 = 0;

	for (i = 0; i < body->len; i++)
		if ((unsigned char)body->p[i] >= 0x80) {
			eight = 1;
			/* RFC 6531 3.4: a UTF-8 header (the sender's
			 * address in To:) needs SMTPUTF8 on the way */
			if (i < hl)
				utf8 = 1;
		}
	memset(benv, 0, sizeof *benv);
	benv->helo = spool_str_c(c->hostname);
	benv->client = spool_str_c("local");
	benv->proto = spool_str_c("local");
	benv->instance = spool_str_c("queue");
	benv->auth = spool_str_c("");
	benv->sender = spool_str_c("");
	benv->body = eight ? SPOOL_BODY_8BITMIME : SPOOL_BODY_7BIT;
	benv->smtputf8 = utf8;
	benv->dlv = dv;
	benv->ndlv = ndv;
}

/* Builds the DSN in tx and commits it; 0, or -1 (tx aborted). */
static int
dsn_commit(const struct queue_job *j, struct spool_tx *tx,
    const struct queue_dsn_rcpt *r, size_t n, const char *to, const char *note,
    const char *orig, size_t olen, struct spool_dlv *dv, size_t ndv)
{
	const struct queue_cfg *c = j->c;
	const struct spool_env *env = &j->m.env;
	struct spool_env_limits lim = SPOOL_ENV_LIMITS_DEFAULT;
	char boundary[400], msgid[400], toh[600];
	struct spool_env benv;
	struct queue_dsn d;
	struct buf body = BUF_INIT(0);
	int e;

	snprintf(boundary, sizeof boundary, "%s/%s", tx->id, c->hostname);
	snprintf(msgid, sizeof msgid, "%s.dsn@%s", tx->id, c->hostname);
	if (strchr(to, '@'))
		snprintf(toh, sizeof toh, "<%s>", to);
	else
		snprintf(toh, sizeof toh, "%s@%s", to, c->hostname);
	memset(&d, 0, sizeof d);
	d.reporting_mta = c->hostname;
	d.queue_id = env->id;
	d.arrival = env->arrival;
	d.now = j->now;
	d.sender = env->sender.p;
	d.to = toh;
	d.msgid = msgid;
	d.boundary = boundary;
	d.note = note;
	d.r = r;
	d.n = n;
	d.orig = orig;
	d.origlen = olen;
	d.smtputf8 = env->smtputf8;
	if (queue_dsn_build(&body, &d) < 0)
		goto fail;
	dsn_envelope(c, &body, dv, ndv, &benv);
	if (spool_write_envelope(tx, &benv, &lim) != SPOOL_WR_OK ||
	    spool_write_body(tx, body.p, body.len) != SPOOL_WR_OK)
		goto fail;
	buf_free(&body);
	return spool_write_commit(tx) == SPOOL_WR_OK ? 0 : -1;
fail:
	e = errno; /* for the caller's log line */
	spool_write_abort(tx);
	buf_free(&body);
	errno = e;
	return -1;
}

/*
 * Commits one DSN for entries e[0..n) to the given recipients. Returns 0
 * when it is in the queue (or nobody could be routed: dropped, logged).
 */
static int
send_dsn(struct queue_job *j, const size_t *e, size_t n, const char *const *to,
    size_t nto, const char *note)
{
	const struct spool_env *env = &j->m.env;
	struct queue_dsn_rcpt *r = NULL;
	struct spool_dlv *dv = NULL;
	char(*store)[1100] = NULL;
	char(*status)[16] = NULL;
	struct spool_tx tx;
	char *orig = NULL;
	size_t ndv = 0, olen = 0;
	int rc = -1;

	if ((store = calloc(64, sizeof *store)) == NULL ||
	    (r = calloc(n, sizeof *r)) == NULL ||
	    (status = calloc(n, sizeof *status)) == NULL)
		goto out;
	dsn_route(j, to, nto, &dv, &ndv, store);
	if (ndv == 0) {
		log_warn("%s: bounce has no routable recipient; dropped",
		    env->id);
		rc = 0;
		goto out;
	}
	if ((orig = dsn_orig(j, &olen)) == NULL)
		goto out;
	dsn_rcpts(j, e, n, r, status);
	if (spool_write_open(&tx, j->c->sp, NULL) != SPOOL_WR_OK ||
	    dsn_commit(j, &tx, r, n, to[0], note, orig, olen, dv, ndv) < 0) {
		log_err("%s: cannot queue the bounce: %s", env->id,
		    strerror(errno));
		goto out;
	}
	log_info("%s: sender non-delivery notification: %s", env->id, tx.id);
	rc = 0;
out:
	free(orig);
	free(dv);
	free(store);
	free(status);
	free(r);
	return rc;
}

/*
 * The list rule: an RCPT fails only when every delivery it expanded to
 * failed; then the sender (per bounce-to) hears about each failed target.
 * When some of its deliveries succeeded, the failed ones are reported to
 * postmaster only. A failure of a null-sender message goes to postmaster
 * only; a failure of a message to postmaster from the null sender (our
 * own bounce to postmaster, or anyone's) is logged and dropped: nothing
 * loops.
 */
void
queue_bounce_all(struct queue_job *j)
{
	const struct spool_env *env = &j->m.env;
	struct spool_state *st = &j->st;
	size_t *whole = NULL, *part = NULL, nwhole = 0, npart = 0, i, k;
	const char *to[2];
	size_t nto = 0;
	int null = env->sender.len == 0, ok = 1;

	if ((whole = calloc(env->ndlv, sizeof *whole)) == NULL ||
	    (part = calloc(env->ndlv, sizeof *part)) == NULL)
		goto out;
	for (i = 0; i < env->ndlv;) {
		size_t end = i, nf = 0, np = 0, ns = 0;

		while (
		    end < env->ndlv && env->dlv[end].rcpt == env->dlv[i].rcpt)
			end++;
		for (k = i; k < end; k++) {
			nf += st->d[k].status == SPOOL_ST_FAILED;
			np += st->d[k].status == SPOOL_ST_PENDING;
			ns += st->d[k].status == SPOOL_ST_SENT;
		}
		if (nf && !np) {
			for (k = i; k < end; k++) {
				if (st->d[k].status != SPOOL_ST_FAILED)
					continue;
				if (null && is_postmaster(&env->dlv[k].orig)) {
					log_warn(
					    "%s: bounce to postmaster failed; "
					    "dropped",
					    env->id);
					st->d[k].status = SPOOL_ST_BOUNCED;
					j->dirty = 1;
				} else if (ns) {
					part[npart++] = k;
				} else {
					whole[nwhole++] = k;
				}
			}
		}
		i = end;
	}
	if (nwhole) {
		if (!null && (j->c->bounce_to & QUEUE_BOUNCE_SENDER))
			to[nto++] = env->sender.p;
		if (null || (j->c->bounce_to & QUEUE_BOUNCE_POSTMASTER))
			to[nto++] = "postmaster";
		if (send_dsn(j, whole, nwhole, to, nto, NULL) == 0)
			for (i = 0; i < nwhole; i++)
				st->d[whole[i]].status = SPOOL_ST_BOUNCED;
		else
			ok = 0;
		j->dirty = 1;
	}
	if (npart) {
		to[0] = "postmaster";
		if (send_dsn(j, part, npart, to, 1,
		        "Note: each recipient below "
		        "was delivered through another target of its list; only "
		        "these targets failed.") == 0)
			for (i = 0; i < npart; i++)
				st->d[part[i]].status = SPOOL_ST_BOUNCED;
		else
			ok = 0;
		j->dirty = 1;
	}
	(void)ok;
out:
	free(whole);
	free(part);
}
