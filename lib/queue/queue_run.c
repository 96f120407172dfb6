#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"
#include "deliver/deliver_account.h"
#include "deliver/deliver_maildir.h"
#include "queue/queue_argv.h"
#include "queue/queue_attempt.h"
#include "queue/queue_dsn.h"
#include "queue/queue_job.h"
#include "queue/queue_lmtpd.h"
#include "queue/queue_pipe.h"
#include "queue/queue_priv.h"
#include "queue/queue_run.h"
#include "queue/queue_sched.h"
#include "queue/queue_target.h"
#include "route/route_db.h"
#include "spool/spool_queue.h"
#include "spool/spool_write.h"

#include "client/client_deliver.h"


/* --- attempts ----------------------------------------------------- */

/* --- state and logs ----------------------------------------------- */

/* --- bounces ------------------------------------------------------ */

static int
is_postmaster(const struct spool_str *s)
{
	return str_casecmp(s->p, "postmaster") == 0;
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
			snprintf(store[*nstore], sizeof store[0], "mx:%s", at + 1);
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
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 8;

			if ((v = realloc(*dv, ncap * sizeof *v)) == NULL)
				goto out;
			*dv = v;
			*cap = ncap;
		}
		snprintf(store[*nstore + 1], sizeof store[0], "%s",
		    res.t[i].rcpt[0] ? res.t[i].rcpt : addr);
		v = &(*dv)[(*n)++];
		memset(v, 0, sizeof *v);
		v->rcpt = rcpt;
		v->orig = spool_str_c(addr);
		v->target = spool_str_c(store[*nstore]);
		v->addr = spool_str_c(store[*nstore + 1]);
		*nstore += 2;
	}
	rc = *n ? 0 : -1;
	goto out;
add_one:
	{
		struct spool_dlv *v;

		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 8;

			if ((v = realloc(*dv, ncap * sizeof *v)) == NULL)
				goto out;
			*dv = v;
			*cap = ncap;
		}
		v = &(*dv)[(*n)++];
		memset(v, 0, sizeof *v);
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

/*
 * Commits one DSN for entries e[0..n) to the given recipients. Returns 0
 * when it is in the queue (or nobody could be routed: dropped, logged).
 */
static int
send_dsn(struct queue_job *j, const size_t *e, size_t n, const char *const *to,
    size_t nto, const char *note)
{
	const struct queue_cfg *c = j->c;
	const struct spool_env *env = &j->m.env;
	struct queue_dsn_rcpt *r = NULL;
	struct spool_dlv *dv = NULL;
	char (*store)[1100] = NULL;
	char (*status)[16] = NULL;
	char boundary[400], msgid[400], toh[600];
	struct spool_env_limits lim = SPOOL_ENV_LIMITS_DEFAULT;
	struct spool_env benv;
	struct spool_tx tx;
	struct queue_dsn d;
	struct buf body = BUF_INIT(0);
	char *orig = NULL;
	size_t i, ndv = 0, capdv = 0, nstore = 0, rcpt = 0, olen, hl;
	ssize_t got;
	int rc = -1, tx_open = 0, eight = 0, utf8 = 0;

	if ((store = calloc(64, sizeof *store)) == NULL ||
	    (r = calloc(n, sizeof *r)) == NULL ||
	    (status = calloc(n, sizeof *status)) == NULL)
		goto out;
	for (i = 0; i < nto; i++)
		if (route_local(c->db, env->instance.p, to[i], &dv, &ndv,
		    &capdv, rcpt, store, &nstore) == 0)
			rcpt++;
	if (ndv == 0) {
		log_warn("%s: bounce has no routable recipient; dropped",
		    env->id);
		rc = 0;
		goto out;
	}
	/* The original's header section, for text/rfc822-headers. */
	olen = (size_t)(j->m.file_size - j->m.body_off);
	if (olen > QUEUE_DSN_HDR_MAX)
		olen = QUEUE_DSN_HDR_MAX;
	if ((orig = malloc(olen + 1)) == NULL)
		goto out;
	got = pread(j->m.fd, orig, olen, j->m.body_off);
	olen = got > 0 ? (size_t)got : 0;
	for (i = 0; i < n; i++) {
		const struct spool_dlv *dl = &env->dlv[e[i]];
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
		    strncmp(ds->relay, "reject:", 7) != 0 ? ds->relay : "";
		r[i].last = j->now;
	}
	if (spool_write_open(&tx, c->sp, NULL) != SPOOL_WR_OK)
		goto fail;
	tx_open = 1;
	snprintf(boundary, sizeof boundary, "%s/%s", tx.id, c->hostname);
	snprintf(msgid, sizeof msgid, "%s.dsn@%s", tx.id, c->hostname);
	if (strchr(to[0], '@'))
		snprintf(toh, sizeof toh, "<%s>", to[0]);
	else
		snprintf(toh, sizeof toh, "%s@%s", to[0], c->hostname);
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
	hl = queue_dsn_header_len(body.p, body.len, body.len);
	for (i = 0; i < body.len; i++)
		if ((unsigned char)body.p[i] >= 0x80) {
			eight = 1;
			/* RFC 6531 3.4: a UTF-8 header (the sender's
			 * address in To:) needs SMTPUTF8 on the way */
			if (i < hl)
				utf8 = 1;
		}
	memset(&benv, 0, sizeof benv);
	benv.helo = spool_str_c(c->hostname);
	benv.client = spool_str_c("local");
	benv.proto = spool_str_c("local");
	benv.instance = spool_str_c("queue");
	benv.auth = spool_str_c("");
	benv.sender = spool_str_c("");
	benv.body = eight ? SPOOL_BODY_8BITMIME : SPOOL_BODY_7BIT;
	benv.smtputf8 = utf8;
	benv.dlv = dv;
	benv.ndlv = ndv;
	if (spool_write_envelope(&tx, &benv, &lim) != SPOOL_WR_OK ||
	    spool_write_body(&tx, body.p, body.len) != SPOOL_WR_OK)
		goto fail;
	tx_open = 0;
	if (spool_write_commit(&tx) != SPOOL_WR_OK)
		goto fail;
	log_info("%s: sender non-delivery notification: %s", env->id, tx.id);
	rc = 0;
	goto out;
fail:
	log_err("%s: cannot queue the bounce: %s", env->id, strerror(errno));
	if (tx_open)
		spool_write_abort(&tx);
out:
	buf_free(&body);
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
static void
bounces(struct queue_job *j)
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

		while (end < env->ndlv && env->dlv[end].rcpt == env->dlv[i].rcpt)
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
					log_warn("%s: bounce to postmaster failed; "
					    "dropped", env->id);
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
		if (send_dsn(j, part, npart, to, 1, "Note: each recipient below "
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

/* --- the message -------------------------------------------------- */

/* Runs the groups of one pass: network = 0 local ones, 1 remote ones. */
static int
run_groups(struct queue_job *j, int network, unsigned char *done)
{
	const struct spool_env *env = &j->m.env;
	size_t *idx = NULL, i, k, n, max;
	struct queue_result *o = NULL;
	struct queue_target d, dk;
	int rc = 0;

	if ((idx = calloc(env->ndlv, sizeof *idx)) == NULL ||
	    (o = calloc(env->ndlv < QUEUE_BATCH_MAX ? env->ndlv : QUEUE_BATCH_MAX,
	    sizeof *o)) == NULL) {
		rc = -1;
		goto out;
	}
	for (i = 0; i < env->ndlv; i++) {
		if (done[i] || !queue_job_due_now(j, i))
			continue;
		queue_target_of(j->c, &env->dlv[i], &d);
		if (d.network != network)
			continue;
		if (j->c->stop && *j->c->stop)
			break;
		max = queue_target_batch_max(j->c, &d);
		n = 0;
		idx[n++] = i;
		for (k = i + 1; k < env->ndlv && n < max; k++) {
			if (done[k] || !queue_job_due_now(j, k))
				continue;
			queue_target_of(j->c, &env->dlv[k], &dk);
			if (queue_target_same(&d, &dk))
				idx[n++] = k;
		}
		queue_attempt(j, &d, idx, n, o);
		for (k = 0; k < n; k++) {
			done[idx[k]] = 1;
			/* Abandoned at shutdown: not an attempt, stays due. */
			if (o[k].o == QUEUE_ABANDONED)
				continue;
			queue_job_record(j, idx[k], &o[k]);
		}
		/* Each attempt is on disk before the next one starts (or,
		 * all sent, the finish will be: see all_sent). */
		if (!queue_job_all_sent(j) && queue_job_save(j) < 0) {
			rc = -1;
			goto out;
		}
	}
out:
	free(idx);
	free(o);
	return rc;
}

static int
wants_network(const struct queue_job *j, const unsigned char *done)
{
	struct queue_target d;
	size_t i;

	for (i = 0; i < j->m.env.ndlv; i++) {
		if (done[i] || !queue_job_due_now(j, i))
			continue;
		queue_target_of(j->c, &j->m.env.dlv[i], &d);
		if (d.network)
			return 1;
	}
	return 0;
}

int
queue_run_message(const struct queue_cfg *c, const char *id, int64_t now)
{
	struct queue_job j;
	unsigned char *done;
	int rc = -1;

	if (queue_job_open(&j, c, id) < 0)
		return -1;
	j.now = now;
	if (!queue_priv_held(c) && queue_priv_wanted(&j)) {
		queue_job_close(&j);
		return QUEUE_RUN_NEEDS_ROOT;
	}
	log_set_id(id);
	if ((done = calloc(j.m.env.ndlv ? j.m.env.ndlv : 1, 1)) == NULL)
		goto out;
	/* Programs and local delivery first, while root may still be
	 * needed to start them; then no privilege at all for the network. */
	if (run_groups(&j, 0, done) < 0)
		goto out;
	/* Only a network delivery costs the worker its root: one that
	 * keeps it can go on starting programs for later messages. */
	if (c->root && queue_priv_held(c) && wants_network(&j, done) &&
	    queue_priv_drop(c, id) < 0)
		goto out;
	if (run_groups(&j, 1, done) < 0)
		goto out;
	/* A bounce quotes the message: built without root too. */
	if (c->root && queue_priv_held(c) && queue_job_any_failed(&j) &&
	    queue_priv_drop(c, id) < 0)
		goto out;
	if (!(c->stop && *c->stop)) {
		bounces(&j);
		if (!queue_job_all_sent(&j) && queue_job_save(&j) < 0)
			goto out;
	}
	if (spool_state_done(&j.st)) {
		if (spool_queue_finish_ex(c->sp, id, j.has_state ? 0 :
		    SPOOL_FINISH_NO_STATE) < 0) {
			log_err("%s: cannot remove: %s", id, strerror(errno));
			/* Keep what was sent from being sent again. */
			(void)queue_job_save(&j);
			goto out;
		}
		log_info("%s removed", id);
	}
	rc = 0;
out:
	log_set_id(NULL);
	free(done);
	queue_job_close(&j);
	return rc;
}

int
queue_run_due(const struct queue_cfg *c, const char *id, int64_t *due,
    int *gone)
{
	return queue_run_due_dests(c, id, due, gone, NULL, 0, NULL);
}

int
queue_run_due_dests(const struct queue_cfg *c, const char *id, int64_t *due,
    int *gone, uint64_t *dk, size_t cap, size_t *ndk)
{
	struct queue_job j;
	struct queue_target dd;
	size_t i, k;

	*due = INT64_MAX;
	*gone = 0;
	if (ndk)
		*ndk = 0;
	if (queue_job_open(&j, c, id) < 0) {
		*gone = errno == ENOENT;
		return *gone ? 0 : -1;
	}
	for (i = 0; i < j.st.n; i++) {
		const struct spool_dstate *d = &j.st.d[i];

		if (d->status == SPOOL_ST_FAILED)
			*due = 0;
		else if (d->status == SPOOL_ST_PENDING &&
		    (c->flush ? 0 : d->next) < *due)
			*due = c->flush ? 0 : d->next;
		if (dk == NULL || d->status != SPOOL_ST_PENDING ||
		    *ndk >= cap || i >= j.m.env.ndlv)
			continue;
		queue_target_of(c, &j.m.env.dlv[i], &dd);
		if (!queue_target_dest_key(&dd, &dk[*ndk]))
			continue;
		for (k = 0; k < *ndk; k++)
			if (dk[k] == dk[*ndk])
				break;
		if (k == *ndk)
			(*ndk)++;
	}
	/* Nothing left to do but leave: due now, the worker removes it. */
	if (spool_state_done(&j.st))
		*due = 0;
	queue_job_close(&j);
	return 0;
}

int
queue_run_flush(const struct queue_cfg *c, const char *id)
{
	struct queue_job j;
	size_t i;
	int rc = 0;

	if (queue_job_open(&j, c, id) < 0)
		return errno == ENOENT ? 0 : -1;
	for (i = 0; i < j.st.n; i++)
		if (j.st.d[i].status == SPOOL_ST_PENDING && j.st.d[i].next) {
			j.st.d[i].next = 0;
			j.dirty = 1;
		}
	if (j.dirty)
		rc = spool_queue_state_save(c->sp, id, &j.st);
	queue_job_close(&j);
	return rc;
}

static void
fmt_time(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0) {
		snprintf(out, cap, "now");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
queue_run_list(const struct queue_cfg *c, const char *id, struct buf *out)
{
	struct queue_job j;
	char when[40];
	size_t i;

	if (queue_job_open(&j, c, id) < 0) {
		if (errno == ENOENT)
			return 0;
		buf_printf(out, "%s  (unreadable: %s)\n", id, strerror(errno));
		return -1;
	}
	fmt_time(j.m.env.arrival, when, sizeof when);
	buf_printf(out, "%s %10lld %s  <", id,
	    (long long)(j.m.file_size - j.m.body_off), when);
	log_escape(out, j.m.env.sender.p, j.m.env.sender.len, 300);
	buf_append_str(out, ">\n");
	for (i = 0; i < j.m.env.ndlv; i++) {
		const struct spool_dlv *d = &j.m.env.dlv[i];
		const struct spool_dstate *s = &j.st.d[i];

		buf_append_str(out, "    <");
		log_escape(out, d->addr.p, d->addr.len, 300);
		buf_append_str(out, ">");
		if (d->orig.len && (d->orig.len != d->addr.len ||
		    memcmp(d->orig.p, d->addr.p, d->addr.len) != 0)) {
			buf_append_str(out, " orig_to=<");
			log_escape(out, d->orig.p, d->orig.len, 300);
			buf_append_str(out, ">");
		}
		fmt_time(s->next, when, sizeof when);
		buf_printf(out, " target=");
		log_escape(out, d->target.p, d->target.len, 300);
		buf_printf(out, " status=%s attempts=%u", spool_status_name(
		    s->status), s->attempts);
		if (s->status == SPOOL_ST_PENDING)
			buf_printf(out, " next=%s", when);
		buf_append_str(out, "\n");
		if (s->reply && s->reply[0]) {
			buf_append_str(out, "        (");
			log_escape(out, s->reply, strlen(s->reply), 300);
			buf_append_str(out, ")\n");
		}
	}
	queue_job_close(&j);
	return 0;
}
