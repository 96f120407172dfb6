#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "queue/queue_admin.h"
#include "queue/queue_dispatch.h"
#include "queue/queue_due.h"
#include "queue/queue_worker.h"
#include "spool/spool_queue.h"

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

int
queue_dispatch_init(struct queue_dispatch *d, struct queue_cfg *cfg,
    const struct spool_dir *sp, int once, void (*child)(void *, int),
    void *arg)
{
	memset(d, 0, sizeof *d);
	d->cfg = cfg;
	d->sp = sp;
	d->once = once;
	/* --once tries every message anyway: no window. */
	if (queue_table_init(&d->t, once ? 0 : cfg->window, cfg->concurrency,
	        cfg->max_per_dest) < 0)
		return -1;
	if (queue_pool_init(&d->pool, cfg->concurrency, cfg->worker_max_use,
	        child, arg) < 0) {
		queue_table_free(&d->t);
		return -1;
	}
	return 0;
}

void
queue_dispatch_free(struct queue_dispatch *d)
{
	queue_pool_free(&d->pool);
	queue_table_free(&d->t);
}

struct scan_ctx {
	struct queue_dispatch *d;
	struct queue_table_scan s;
};

static int
scan_one(const char *id, void *arg)
{
	struct scan_ctx *s = arg;
	struct queue_table *t = &s->d->t;
	uint64_t dk[QUEUE_DEST_MAX];
	struct queue_msg *m;
	size_t n = 0;
	int gone;

	if (queue_table_scan_seen(t, id))
		return 0;
	if ((m = queue_table_new(t, id)) == NULL)
		return -1;
	if (queue_table_scan_wants_due(t, &s->s) &&
	    queue_due_dests(s->d->cfg, id, &m->due, &gone, dk, QUEUE_DEST_MAX,
	        &n) == 0) {
		if (gone)
			return 0;
		queue_table_set_dests(t, m, dk, n);
	}
	queue_table_scan_add(t, &s->s);
	return 0;
}

void
queue_dispatch_scan(struct queue_dispatch *d, int fresh)
{
	struct scan_ctx s;

	s.d = d;
	queue_table_scan_begin(&d->t, &s.s, fresh);
	if (spool_queue_scan(d->sp, scan_one, &s) < 0)
		log_err("cannot scan the queue: %s", strerror(errno));
	queue_table_scan_end(&d->t);
}

void
queue_dispatch_nudged(const char *id, void *arg)
{
	struct queue_dispatch *d = arg;

	/* Unless the table has it or it is already gone; the periodic
	 * rescan finds one that finds no memory. */
	if (queue_table_find(&d->t, id) ||
	    faccessat(d->sp->queue, id, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	queue_table_nudge(&d->t, id);
}

void
queue_dispatch_merge(struct queue_dispatch *d)
{
	queue_table_merge(&d->t);
}

/* Destinations read on first need (a nudge or a scan of arrivals does
 * not open files); a message that cannot be read has none. */
static int
read_dests(void *arg, struct queue_msg *m)
{
	struct queue_dispatch *d = arg;
	uint64_t dk[QUEUE_DEST_MAX];
	size_t n = 0;
	int64_t due;
	int gone;

	if (queue_due_dests(d->cfg, m->id, &due, &gone, dk, QUEUE_DEST_MAX,
	        &n) < 0 ||
	    gone)
		return -1;
	queue_table_set_dests(&d->t, m, dk, n);
	return 0;
}

static int
start(void *arg, struct queue_msg *m)
{
	struct queue_dispatch *d = arg;
	uint64_t key = queue_msg_key(m);
	struct queue_pool_worker *w;
	int all_busy;

	w = queue_pool_pick(&d->pool, key, m->privileged, now_s(), &all_busy);
	if (w == NULL)
		return all_busy ? -1 : -2;
	if (queue_pool_send(w, m->id, key) < 0)
		return -1;
	queue_table_start(&d->t, m, w->pid);
	return 0;
}

void
queue_dispatch_pass(struct queue_dispatch *d, int64_t now,
    struct queue_table_pass *out)
{
	queue_table_pass(&d->t, now, d->once, d->pool.max, read_dests, start,
	    d, out);
}

/* A worker is done with id (or died holding it): what is left of it? */
static void
finished(struct queue_dispatch *d, const char *id)
{
	struct queue_msg *m = queue_table_find_held(&d->t, id, 1);
	uint64_t dk[QUEUE_DEST_MAX];
	size_t nk = 0;
	int gone, rc;

	if (m == NULL)
		return;
	queue_table_finish(&d->t, m);
	if (m->flush) {
		queue_admin_flush(d->cfg, m->id);
		m->flush = 0;
	}
	rc = queue_due_dests(d->cfg, m->id, &m->due, &gone, dk, QUEUE_DEST_MAX,
	    &nk);
	queue_table_settle(&d->t, m, gone, rc == 0 ? dk : NULL, nk, now_s());
}

void
queue_dispatch_input(struct queue_dispatch *d, struct queue_pool_worker *w)
{
	char id[SPOOL_ID_SIZE], st;
	struct queue_msg *m;

	/* -1: it is gone; reaping it settles its message. */
	if (queue_pool_input(&d->pool, w, id, &st, now_s()) <= 0)
		return;
	if ((m = queue_table_find_held(&d->t, id, 1)) != NULL)
		m->privileged = 0; /* attempted: may go anywhere again */
	finished(d, id);
	if (st == QUEUE_WORKER_NEEDS_ROOT)
		queue_table_needs_root(&d->t, id, now_s());
	queue_table_prune(&d->t);
}

void
queue_dispatch_exited(struct queue_dispatch *d, pid_t pid, int status)
{
	char id[SPOOL_ID_SIZE];

	if (queue_pool_exited(&d->pool, pid, status, id))
		finished(d, id);
}

void
queue_dispatch_reap(struct queue_dispatch *d)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		size_t i;

		/* Its last reply may still wait in the socket. */
		for (i = 0; i < d->pool.nw; i++)
			if (d->pool.w[i].pid == pid && d->pool.w[i].fd >= 0 &&
			    d->pool.w[i].id[0])
				queue_dispatch_input(d, &d->pool.w[i]);
		queue_dispatch_exited(d, pid, st);
	}
	queue_table_prune(&d->t);
}

static int
flush_rest(const char *id, void *arg)
{
	struct queue_dispatch *d = arg;

	if (queue_table_find(&d->t, id) == NULL)
		queue_admin_flush(d->cfg, id);
	return 0;
}

void
queue_dispatch_flush(struct queue_dispatch *d)
{
	struct queue_table *t = &d->t;
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->m[i].pid) {
			t->m[i].flush = 1;
			continue;
		}
		queue_admin_flush(d->cfg, t->m[i].id);
		t->m[i].due = 0;
	}
	/* Those outside the window are flushed on disk and paged in. */
	if (t->overflow) {
		spool_queue_scan(d->sp, flush_rest, d);
		t->rest_due = 0;
	}
	log_info("flush: %zu messages due now", t->n + t->nrest);
}
