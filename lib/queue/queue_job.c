#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "queue/queue_dsn.h"
#include "queue/queue_job.h"
#include "queue/queue_retry.h"

void
queue_result_set_all(struct queue_result *o, size_t n, enum queue_outcome oc,
    const char *relay, const char *diag)
{
	size_t i;

	for (i = 0; i < n; i++) {
		o[i].o = oc;
		snprintf(o[i].relay, sizeof o[i].relay, "%s", relay);
		snprintf(o[i].diag, sizeof o[i].diag, "%s", diag);
	}
}

static void
log_attempt(struct queue_job *j, size_t i, const struct queue_result *o,
    const char *status)
{
	const struct spool_dlv *d = &j->m.env.dlv[i];
	struct buf to = BUF_INIT(0), orig = BUF_INIT(0), text = BUF_INIT(0);
	const char *diag = strchr(o->diag, ';');
	char dsn[16], use[32] = "";

	diag = diag ? diag + 1 : o->diag;
	while (*diag == ' ')
		diag++;
	queue_dsn_status(o->diag, o->o == QUEUE_PERM, dsn);
	if (o->o == QUEUE_OK && dsn[0] != '2')
		snprintf(dsn, sizeof dsn, "2.0.0");
	log_escape(&to, d->addr.p, d->addr.len, 200);
	log_escape(&orig, d->orig.p, d->orig.len, 200);
	log_escape(&text, diag, strlen(diag), 300);
	if (o->conn_use > 1)
		snprintf(use, sizeof use, " conn_use=%u", o->conn_use);
	log_info("%s to=<%s> orig_to=<%s> relay=%s%s delay=%llds attempts=%u "
	         "dsn=%s status=%s (%s)",
	    j->m.env.id, to.p ? to.p : "", orig.p ? orig.p : "",
	    o->relay[0] ? o->relay : "none", use,
	    (long long)(j->now - j->m.env.arrival), j->st.d[i].attempts, dsn,
	    status, text.p ? text.p : "");
	buf_free(&to);
	buf_free(&orig);
	buf_free(&text);
}

void
queue_job_record(struct queue_job *j, size_t i, const struct queue_result *o)
{
	const struct queue_cfg *c = j->c;
	enum spool_status s = SPOOL_ST_PENDING;
	int64_t next = 0;
	const char *word = "deferred";
	char diag[QUEUE_DIAG_MAX + 64];

	snprintf(diag, sizeof diag, "%s", o->diag);
	if (o->o == QUEUE_OK) {
		s = SPOOL_ST_SENT;
		word = "sent";
	} else if (o->o == QUEUE_PERM) {
		s = SPOOL_ST_FAILED;
		word = "bounced";
	} else if (queue_retry_expired(j->m.env.arrival, j->now,
	               c->lifetime)) {
		s = SPOOL_ST_FAILED;
		word = "bounced";
		snprintf(diag, sizeof diag, "%s (delivery time expired)",
		    o->diag);
	} else {
		next = j->now +
		    queue_retry_delay(j->st.d[i].attempts + 1, c->retry_first,
		        c->retry_cap);
	}
	if (spool_state_note(&j->st, i, s, next, o->relay, strlen(o->relay),
	        diag, strlen(diag)) < 0) {
		log_err("%s: cannot record the attempt: %s", j->m.env.id,
		    strerror(errno));
		return;
	}
	j->dirty = 1;
	{
		struct queue_result shown = *o;

		snprintf(shown.diag, sizeof shown.diag, "%.990s", diag);
		log_attempt(j, i, &shown, word);
	}
}

int
queue_job_save(struct queue_job *j)
{
	if (!j->dirty)
		return 0;
	if (spool_queue_state_save(j->c->sp, j->m.env.id, &j->st) < 0) {
		log_err("%s: cannot save the delivery state: %s", j->m.env.id,
		    strerror(errno));
		return -1;
	}
	j->dirty = 0;
	j->has_state = 1;
	return 0;
}

/*
 * Every delivery sent: the message is finished and spool_queue_finish()
 * is its record, so no state file is written for it. A crash before the
 * finish sends them again, the window of doc/INTERNALS.md "The duplicate
 * window SMTP leaves". Anything failed, pending or bounced is saved as
 * before: a bounce is never queued twice for want of a save.
 */
int
queue_job_all_sent(const struct queue_job *j)
{
	size_t i;

	for (i = 0; i < j->st.n; i++)
		if (j->st.d[i].status != SPOOL_ST_SENT)
			return 0;
	return 1;
}

int
queue_job_open(struct queue_job *j, const struct queue_cfg *c, const char *id)
{
	struct spool_env_limits lim = SPOOL_ENV_LIMITS_DEFAULT;
	int env_err = 0;

	memset(j, 0, sizeof *j);
	j->c = c;
	j->m.fd = -1;
	if (spool_queue_open(c->sp, id, &lim, &j->m, &env_err) < 0) {
		if (errno == EBADMSG)
			log_err("%s: unreadable spool file: %s (left alone; "
			        "postmaster-queue --delete removes it)",
			    id, spool_env_strerror(env_err));
		return -1;
	}
	if (spool_queue_state_load_ex(c->sp, &j->m, &j->st, &env_err,
	        &j->has_state) < 0) {
		log_err("%s: unreadable state file: %s", id,
		    env_err ? spool_env_strerror(env_err) : strerror(errno));
		spool_queue_close(&j->m);
		return -1;
	}
	return 0;
}

void
queue_job_close(struct queue_job *j)
{
	spool_state_free(&j->st);
	spool_queue_close(&j->m);
}

int
queue_job_due_now(const struct queue_job *j, size_t i)
{
	const struct spool_dstate *d = &j->st.d[i];

	return d->status == SPOOL_ST_PENDING &&
	    (j->c->flush || d->next <= j->now);
}

int
queue_job_any_failed(const struct queue_job *j)
{
	size_t i;

	for (i = 0; i < j->m.env.ndlv; i++)
		if (j->st.d[i].status == SPOOL_ST_FAILED)
			return 1;
	return 0;
}
