#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
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
queue_admin_list(const struct queue_cfg *c, const char *id, struct buf *out)
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
		if (d->orig.len &&
		    (d->orig.len != d->addr.len ||
		        memcmp(d->orig.p, d->addr.p, d->addr.len) != 0)) {
			buf_append_str(out, " orig_to=<");
			log_escape(out, d->orig.p, d->orig.len, 300);
			buf_append_str(out, ">");
		}
		fmt_time(s->next, when, sizeof when);
		buf_printf(out, " target=");
		log_escape(out, d->target.p, d->target.len, 300);
		buf_printf(out, " status=%s attempts=%u",
		    spool_status_name(s->status), s->attempts);
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
