#include <errno.h>

#include "queue/queue_admin.h"
#include "queue/queue_job.h"

int
queue_admin_flush(const struct queue_cfg *c, const char *id)
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
