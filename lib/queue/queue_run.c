#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "queue/queue_attempt.h"
#include "queue/queue_bounce.h"
#include "queue/queue_job.h"
#include "queue/queue_priv.h"
#include "queue/queue_run.h"
#include "queue/queue_target.h"

/*
 * The group that starts at delivery i: the due deliveries not yet done
 * with the same target, up to its batch size, in idx[]; their number.
 */
static size_t
group_of(const struct queue_job *j, const unsigned char *done, size_t i,
    const struct queue_target *t, size_t *idx)
{
	const struct spool_env *env = &j->m.env;
	size_t k, n = 0, max = queue_target_batch_max(j->c, t);
	struct queue_target tk;

	idx[n++] = i;
	for (k = i + 1; k < env->ndlv && n < max; k++) {
		if (done[k] || !queue_job_due_now(j, k))
			continue;
		queue_target_of(j->c, &env->dlv[k], &tk);
		if (queue_target_same(t, &tk))
			idx[n++] = k;
	}
	return n;
}

/* Runs the groups of one pass: network = 0 local ones, 1 remote ones. */
static int
run_groups(struct queue_job *j, int network, unsigned char *done)
{
	const struct spool_env *env = &j->m.env;
	size_t *idx = NULL, i, k, n;
	struct queue_result *o = NULL;
	struct queue_target d;
	int rc = 0;

	if ((idx = calloc(env->ndlv, sizeof *idx)) == NULL ||
	    (o = calloc(env->ndlv < QUEUE_BATCH_MAX ? env->ndlv :
	                                              QUEUE_BATCH_MAX,
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
		n = group_of(j, done, i, &d, idx);
		queue_attempt(j, &d, idx, n, o);
		for (k = 0; k < n; k++) {
			done[idx[k]] = 1;
			/* Abandoned at shutdown: not an attempt, stays due. */
			if (o[k].o == QUEUE_ABANDONED)
				continue;
			queue_job_record(j, idx[k], &o[k]);
		}
		/* Each attempt is on disk before the next one starts (or,
		 * all sent, the finish will be: see queue_job_all_sent). */
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
		if (spool_queue_finish_ex(c->sp, id,
		        j.has_state ? 0 : SPOOL_FINISH_NO_STATE) < 0) {
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
