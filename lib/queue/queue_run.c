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
#include "queue/queue_bounce.h"
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
		queue_bounce_all(&j);
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
