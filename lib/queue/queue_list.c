#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/io.h"
#include "base/log.h"
#include "queue/queue_list.h"
#include "spool/spool_env.h"
#include "spool/spool_queue.h"
#include "spool/spool_state.h"

/* Long enough for any address; the escape marks a cut. */
#define LIST_FIELD_MAX 300

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

static void
put_escaped(struct buf *out, const char *p, size_t n)
{
	log_escape(out, p, n, LIST_FIELD_MAX);
}

static void
list_delivery(struct buf *out, const struct spool_dlv *d,
    const struct spool_dstate *s)
{
	char when[40];

	buf_append_str(out, "    <");
	put_escaped(out, d->addr.p, d->addr.len);
	buf_append_str(out, ">");
	if (d->orig.len &&
	    (d->orig.len != d->addr.len ||
	        memcmp(d->orig.p, d->addr.p, d->addr.len) != 0)) {
		buf_append_str(out, " orig_to=<");
		put_escaped(out, d->orig.p, d->orig.len);
		buf_append_str(out, ">");
	}
	buf_append_str(out, " target=");
	put_escaped(out, d->target.p, d->target.len);
	buf_printf(out, " status=%s attempts=%u", spool_status_name(s->status),
	    s->attempts);
	if (s->status == SPOOL_ST_PENDING) {
		fmt_time(s->next, when, sizeof when);
		buf_printf(out, " next=%s", when);
	}
	buf_append_str(out, "\n");
	if (s->reply && s->reply[0]) {
		buf_append_str(out, "        (");
		put_escaped(out, s->reply, strlen(s->reply));
		buf_append_str(out, ")\n");
	}
}

void
queue_list_message(const struct spool_dir *sp, const char *id, struct buf *out)
{
	struct spool_env_limits lim = SPOOL_ENV_LIMITS_DEFAULT;
	struct spool_msg m;
	struct spool_state st;
	char when[40];
	size_t i;
	int err = 0;

	if (spool_queue_open(sp, id, &lim, &m, &err) < 0) {
		if (errno != ENOENT)
			buf_printf(out, "%s  (unreadable: %s)\n", id,
			    err ? spool_env_strerror(err) : strerror(errno));
		return;
	}
	if (spool_queue_state_load(sp, &m, &st, &err) < 0) {
		buf_printf(out, "%s  (state unreadable: %s)\n", id,
		    err ? spool_env_strerror(err) : strerror(errno));
		spool_queue_close(&m);
		return;
	}
	fmt_time(m.env.arrival, when, sizeof when);
	buf_printf(out, "%s %10lld %s  <", id,
	    (long long)(m.file_size - m.body_off), when);
	put_escaped(out, m.env.sender.p, m.env.sender.len);
	buf_append_str(out, ">\n");
	for (i = 0; i < m.env.ndlv; i++)
		list_delivery(out, &m.env.dlv[i], &st.d[i]);
	spool_state_free(&st);
	spool_queue_close(&m);
}

int
queue_list(const struct spool_dir *sp, int fd)
{
	struct spool_ids s;
	struct buf out = BUF_INIT(0);
	size_t i;
	int rc = QUEUE_LIST_OK, saved;

	if (spool_queue_ids(sp, &s) < 0)
		return QUEUE_LIST_E_SCAN;
	for (i = 0; i <= s.n && rc == QUEUE_LIST_OK; i++) {
		if (i < s.n)
			queue_list_message(sp, s.v[i], &out);
		else if (s.n == 0)
			buf_append_str(&out, "Mail queue is empty\n");
		else
			buf_printf(&out, "-- %zu message%s in the queue\n",
			    s.n, s.n == 1 ? "" : "s");
		if (out.len && io_write_all(fd, out.p, out.len) < 0)
			rc = QUEUE_LIST_E_WRITE;
		buf_reset(&out);
	}
	saved = errno;
	spool_queue_ids_free(&s);
	buf_free(&out);
	errno = saved;
	return rc;
}
