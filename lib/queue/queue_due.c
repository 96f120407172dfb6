#include <errno.h>
#include <stdint.h>

#include "queue/queue_due.h"
#include "queue/queue_job.h"
#include "queue/queue_target.h"

int
queue_due(const struct queue_cfg *c, const char *id, int64_t *due, int *gone)
{
	return queue_due_dests(c, id, due, gone, NULL, 0, NULL);
}

int
queue_due_dests(const struct queue_cfg *c, const char *id, int64_t *due,
    int *gone, uint64_t *dk, size_t cap, size_t *ndk)
{
	struct queue_job j;
	struct queue_target t;
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
		queue_target_of(c, &j.m.env.dlv[i], &t);
		if (!queue_target_dest_key(&t, &dk[*ndk]))
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
