/*
 * postmaster-queue [-C CDB] [--once | --list | --flush | --delete ID]:
 * the queue runner. A single-threaded scheduler that hands each due
 * message to a worker process (lib/queue/queue_worker.c), at most [core]
 * queue-concurrency workers and at most [core] max-per-destination
 * deliveries to any one destination at a time, woken by the spool's
 * nudge FIFO. Workers live for many messages and keep their SMTP/LMTP
 * connections between them; a message goes preferably to an idle worker
 * whose last message had the same destination.
 * See postmaster-queue(8) and doc/INTERNALS.md "The queue runner".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "base/buf.h"
#include "base/log.h"
#include "cf/cf_db.h"
#include "cf/cf_logger.h"
#include "inject/inject_pickup.h"
#include "queue/queue_admin.h"
#include "queue/queue_list.h"
#include "queue/queue_dcount.h"
#include "queue/queue_due.h"
#include "queue/queue_pick.h"
#include "queue/queue_run.h"
#include "queue/queue_window.h"
#include "queue/queue_worker.h"
#include "spool/spool_dir.h"
#include "spool/spool_id.h"
#include "spool/spool_nudge.h"
#include "spool/spool_queue.h"

#define LOCK_WAIT_MS 30000	/* a killed runner's workers die first */
#define RESCAN_SECONDS 300	/* a lost nudge costs at most this */
#define TERM_WAIT_SECONDS 20	/* then in-flight workers are killed */
#define WINDOW_DEFAULT 8192	/* messages the table holds (--once: all) */
#define WINDOW_SLACK(w) ((w) / 8)	/* over it before a trim */
#define WORKER_IDLE_SECONDS 10	/* an idle worker exits after this */
#define WORKER_MAX_USE 1000	/* messages per worker, then a fresh one */

/* 56 bytes: the window holds up to WINDOW_DEFAULT of them. */
struct msg {
	char id[SPOOL_ID_SIZE];
	unsigned char tried : 1;	/* --once: attempted in this run */
	unsigned char flush : 1;	/* flush when the worker is done */
	unsigned char seen : 1;		/* present in the last scan */
	unsigned char gone : 1;		/* queue/ID removed: drop it */
	unsigned char dk_known : 1;
	unsigned char privileged : 1;	/* only for a worker that kept root */
	/* Destinations of its pending deliveries, known once dk_known:
	 * msg_dk(m)[0..ndk), counted while pid != 0 (max-per-destination);
	 * the first also picks the worker. Without the limit only the
	 * first is kept. One is held inline. */
	unsigned char ndk;
	pid_t pid;		/* the worker delivering it, or 0 */
	int64_t due;
	union {
		uint64_t *v;	/* ndk > 1 */
		uint64_t one;	/* ndk == 1 */
	} dk;
};
_Static_assert(sizeof(struct msg) <= 56, "struct msg grew: see WINDOW_DEFAULT");

/* A worker process and our end of its socketpair (queue_worker.h). */
struct worker {
	pid_t pid;
	int fd;			/* -1: retired, exits when it is done */
	char id[SPOOL_ID_SIZE];	/* the message it delivers, "" when idle */
	uint64_t key;		/* destination of its last message */
	unsigned used;		/* messages handed to it */
	unsigned gen;		/* configuration it was forked with */
	int dropped;		/* gave up root: no programs as other users */
	int64_t idle_since;
};

struct runner {
	const char *cdb_path;
	struct cf_db db;
	struct spool_dir sp;
	struct queue_cfg cfg;
	struct msg *m;
	size_t n, cap;
	size_t nsorted;		/* m[0..nsorted) is sorted; find() sees it */
	/*
	 * The table is a window of at most `window` messages (0: no bound),
	 * the earliest due; the others stay on disk only: nrest of them, the
	 * earliest due at rest_due. overflow: some are outside.
	 */
	size_t window, nrest;
	int64_t rest_due, next_page;
	int overflow;
	size_t running, max_running;	/* messages in delivery; workers */
	struct worker *w;		/* max_running slots, nw used */
	size_t nw;
	unsigned gen;			/* bumped by SIGHUP */
	unsigned worker_max_use;	/* WORKER_MAX_USE */
	size_t max_per_dest;	/* 0: no limit */
	struct queue_dcount dc;	/* running per destination, if limited */
	int once, lockfd, nudge;
	int pickfd;		/* ROOT/pickup, the public FIFO, or -1 */
	char pidfile[1024];
};

static volatile sig_atomic_t got_term, got_hup, got_chld;
static volatile sig_atomic_t worker_stop;
static int sigpipe_r = -1, sigpipe_w = -1;

static void
on_signal(int sig)
{
	int save = errno;

	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
	if (sigpipe_w >= 0 && write(sigpipe_w, "s", 1) < 0)
		errno = save;
	errno = save;
}

static void
on_worker_term(int sig)
{
	(void)sig;
	worker_stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: postmaster-queue [-C CDB] "
	    "[--once | --list | --flush | --delete ID]\n");
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* --- the message table (sorted by id = arrival order) -------------- */

static int
cmp_msg(const void *a, const void *b)
{
	return strcmp(((const struct msg *)a)->id, ((const struct msg *)b)->id);
}

static struct msg *
find(struct runner *r, const char *id)
{
	struct msg key;

	snprintf(key.id, sizeof key.id, "%s", id);
	return r->nsorted ? bsearch(&key, r->m, r->nsorted, sizeof *r->m,
	    cmp_msg) : NULL;
}

/* --- destinations ([core] max-per-destination) ------------------------ */

static const uint64_t *
msg_dk(const struct msg *m)
{
	return m->ndk > 1 ? m->dk.v : &m->dk.one;
}

static void
msg_forget(struct msg *m)
{
	if (m->ndk > 1)
		free(m->dk.v);
	m->dk.v = NULL;
	m->ndk = 0;
	m->dk_known = 0;
}

static void
msg_set_dests(struct runner *r, struct msg *m, const uint64_t *dk, size_t n)
{
	msg_forget(m);
	m->dk_known = 1;
	if (n > 1 && r->max_per_dest == 0)
		n = 1;
	if (n == 1)
		m->dk.one = dk[0];
	else if (n > 1) {
		if ((m->dk.v = malloc(n * sizeof *dk)) == NULL) {
			m->dk_known = 0;	/* none; tried again later */
			return;
		}
		memcpy(m->dk.v, dk, n * sizeof *dk);
	}
	m->ndk = (unsigned char)n;
}

/* Counts m's destinations as running (delta 1) or no longer (-1). A
 * table full of stale keys keeps only the live ones: the workers running
 * now, m not yet among them. */
static void
dt_add(struct runner *r, const struct msg *m, int delta)
{
	size_t i;

	if (delta > 0 && queue_dcount_full(&r->dc, m->ndk)) {
		queue_dcount_clear(&r->dc);
		for (i = 0; i < r->n; i++)
			if (r->m[i].pid)
				queue_dcount_add(&r->dc, msg_dk(&r->m[i]),
				    r->m[i].ndk, 1);
	}
	queue_dcount_add(&r->dc, msg_dk(m), m->ndk, delta);
}

/*
 * May m start now? Not when one of its destinations already has
 * max-per-destination workers. Its destinations are read on first need
 * (the nudge scan does not open files); a message that cannot be read
 * has none and starts (its worker logs why).
 */
static int
dest_room(struct runner *r, struct msg *m)
{
	uint64_t dk[QUEUE_DEST_MAX];
	size_t n = 0;
	int64_t due;
	int gone;

	/* Known even when nothing runs: this delivery must be counted,
	 * and the first destination picks the worker. */
	if (!m->dk_known) {
		if (queue_due_dests(&r->cfg, m->id, &due, &gone, dk,
		    QUEUE_DEST_MAX, &n) < 0 || gone)
			return 1;
		msg_set_dests(r, m, dk, n);
	}
	if (r->running == 0)
		return 1;
	return queue_dcount_room(&r->dc, msg_dk(m), m->ndk, r->max_per_dest);
}

static void trim(struct runner *, size_t, size_t);

struct scan_ctx {
	struct runner *r;
	int fresh;		/* compute due times (start) or 0 = due now */
	int page;		/* a page-in: compute them for unknown ids */
	size_t added;
	size_t from;		/* m[0..from): the table before this scan */
};

static int
scan_one(const char *id, void *arg)
{
	struct scan_ctx *s = arg;
	struct runner *r = s->r;
	struct msg *m = find(r, id);
	int gone;

	if (m) {
		m->seen = 1;
		return 0;
	}
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 256;
		struct msg *v = realloc(r->m, ncap * sizeof *v);

		if (v == NULL)
			return -1;
		r->m = v;
		r->cap = ncap;
	}
	/* Appended unsorted; scan() sorts once at the end. */
	m = &r->m[r->n];
	memset(m, 0, sizeof *m);
	snprintf(m->id, sizeof m->id, "%s", id);
	m->seen = 1;
	/* Unknown ids are new arrivals unless part of the queue is outside
	 * the window (or this scan already pushed some out). */
	if (s->fresh || s->page || r->overflow) {
		uint64_t dk[QUEUE_DEST_MAX];
		size_t n = 0;

		if (queue_due_dests(&r->cfg, id, &m->due, &gone, dk,
		    QUEUE_DEST_MAX, &n) == 0) {
			if (gone)
				return 0;
			msg_set_dests(r, m, dk, n);
		}
	}
	r->n++;
	s->added++;
	/* Memory stays bounded during the scan too. */
	if (r->window && r->n - s->from >= r->window + WINDOW_SLACK(r->window))
		trim(r, s->from, s->from + r->window);
	return 0;
}

static void
scan(struct runner *r, int fresh)
{
	struct scan_ctx s = { r, fresh, r->overflow, 0, r->n };
	size_t i, o;

	for (i = 0; i < r->n; i++)
		r->m[i].seen = 0;
	/* A full pass: what stays outside is counted again. */
	r->overflow = 0;
	r->nrest = 0;
	r->rest_due = INT64_MAX;
	/* New ids are appended after the sorted part, which is all find()
	 * searches; one readdir names each file once. */
	r->nsorted = r->n;
	if (spool_queue_scan(&r->sp, scan_one, &s) < 0)
		log_err("cannot scan the queue: %s", strerror(errno));
	/* Drop what left (unless a worker still holds it), then sort. */
	for (i = o = 0; i < r->n; i++) {
		if (r->m[i].seen || r->m[i].pid)
			r->m[o++] = r->m[i];
		else
			msg_forget(&r->m[i]);
	}
	r->n = o;
	if (r->n > 1)
		qsort(r->m, r->n, sizeof *r->m, cmp_msg);
	r->nsorted = r->n;
	/* Messages in delivery are on top of the window. */
	trim(r, 0, r->window + r->running);
	/* Give back what a larger queue once needed. */
	if (r->window && r->cap > 256 && r->cap > 2 * r->n) {
		size_t ncap = r->n * 5 / 4 > 256 ? r->n * 5 / 4 : 256;
		struct msg *v = realloc(r->m, ncap * sizeof *v);

		if (v) {
			r->m = v;
			r->cap = ncap;
		}
	}
}

/* Drops the messages whose worker found them gone; order is kept. */
static void
prune(struct runner *r)
{
	size_t i, o, sorted = r->nsorted;

	for (i = o = 0; i < r->n; i++) {
		if (r->m[i].gone && !r->m[i].pid) {
			msg_forget(&r->m[i]);
			if (i < r->nsorted)
				sorted--;
			continue;
		}
		if (o != i)
			r->m[o] = r->m[i];
		o++;
	}
	r->n = o;
	r->nsorted = sorted;
}

/*
 * Keeps the table at `keep` messages: of m[from..n) the latest due ones
 * without a worker leave it (to be read again from queue/ by a later
 * page-in); their earliest due time is remembered in rest_due.
 */
static void
trim(struct runner *r, size_t from, size_t keep)
{
	struct queue_window_ent *v;
	size_t i, nv = 0, drop;

	if (r->window == 0 || r->n <= keep)
		return;
	drop = r->n - keep;
	if ((v = malloc((r->n - from) * sizeof *v)) == NULL)
		return;
	for (i = from; i < r->n; i++)
		if (!r->m[i].pid && !r->m[i].gone) {
			v[nv].due = r->m[i].due;
			v[nv++].i = i;
		}
	drop = queue_window_leave(v, nv, drop);
	for (i = 0; i < drop; i++) {
		struct msg *m = &r->m[v[i].i];

		if (m->due < r->rest_due)
			r->rest_due = m->due;
		m->gone = 1;
		r->nrest++;
	}
	if (drop)
		r->overflow = 1;
	free(v);
	prune(r);
}

/*
 * An id from the nudge FIFO (a commit): appended, due now, unless the
 * table has it or it is already gone. merge_new() sorts it in.
 */
static void
nudge_id(const char *id, void *arg)
{
	struct runner *r = arg;
	struct msg *m;

	if (find(r, id))
		return;
	if (faccessat(r->sp.queue, id, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 256;
		struct msg *v = realloc(r->m, ncap * sizeof *v);

		if (v == NULL)
			return;	/* the periodic rescan finds it */
		r->m = v;
		r->cap = ncap;
	}
	m = &r->m[r->n++];
	memset(m, 0, sizeof *m);
	snprintf(m->id, sizeof m->id, "%s", id);
	m->seen = 1;
}

/*
 * Sorts m[nsorted..n) (the ids just nudged) into the sorted table: new
 * ids are the newest, so this is mostly a check and an append; otherwise
 * one merge from the back, O(n), never a sort of the whole table.
 */
static void
merge_new(struct runner *r)
{
	size_t k = r->n - r->nsorted, i, o;
	struct msg *t = &r->m[r->nsorted], *tmp;
	ptrdiff_t a, b, w;

	if (k == 0)
		return;
	if (k > 1)
		qsort(t, k, sizeof *t, cmp_msg);
	/* The same id twice in one drain: keep one. */
	for (i = o = 1; i < k; i++)
		if (strcmp(t[i].id, t[o - 1].id) != 0)
			t[o++] = t[i];
	k = o;
	r->n = r->nsorted + k;
	if (r->nsorted == 0 || strcmp(r->m[r->nsorted - 1].id, t[0].id) < 0) {
		r->nsorted = r->n;
		return;
	}
	if ((tmp = malloc(k * sizeof *tmp)) == NULL) {
		qsort(r->m, r->n, sizeof *r->m, cmp_msg);
		r->nsorted = r->n;
		return;
	}
	memcpy(tmp, t, k * sizeof *tmp);
	a = (ptrdiff_t)r->nsorted - 1;
	b = (ptrdiff_t)k - 1;
	w = (ptrdiff_t)r->n - 1;
	while (b >= 0) {
		if (a >= 0 && strcmp(r->m[a].id, tmp[b].id) > 0)
			r->m[w--] = r->m[a--];
		else
			r->m[w--] = tmp[b--];
	}
	free(tmp);
	r->nsorted = r->n;
}

/* --- workers ------------------------------------------------------ */

static void
retire(struct worker *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
}

/* A new worker process in the next slot, or NULL. */
static struct worker *
spawn_worker(struct runner *r)
{
	pid_t parent = getpid(), pid;
	struct worker *w;
	int sv[2];
	size_t i;

	if (r->nw >= r->max_running)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("cannot create a worker socket: %s", strerror(errno));
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		log_err("cannot fork a worker: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (pid == 0) {
		struct sigaction sa;

		/* A runner killed by SIGKILL takes its workers along; the
		 * state on disk stays consistent at every instant. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_worker_term;
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		/* A retired sibling must see end of file: only the runner
		 * may hold its other end. */
		for (i = 0; i < r->nw; i++)
			if (r->w[i].fd >= 0)
				close(r->w[i].fd);
		close(sv[0]);
		close(r->nudge);
		if (r->pickfd >= 0)
			close(r->pickfd);
		if (sigpipe_w >= 0)
			close(sigpipe_w);
		if (sigpipe_r >= 0)
			close(sigpipe_r);
		r->cfg.stop = &worker_stop;
		queue_worker_serve(&r->cfg, sv[1], r->worker_max_use);
		_exit(0);
	}
	close(sv[1]);
	w = &r->w[r->nw++];
	memset(w, 0, sizeof *w);
	w->pid = pid;
	w->fd = sv[0];
	w->gen = r->gen;
	w->idle_since = now_s();
	return w;
}

/*
 * The worker for a message whose first destination is key (queue_pick.h
 * decides). NULL with *all_busy = 0: only the worker it needs is missing
 * (one is being made room for); other messages may go on.
 */
static struct worker *
pick_worker(struct runner *r, uint64_t key, int privileged, int *all_busy)
{
	struct queue_pick p;
	struct worker *w;
	size_t i, which;
	int has_any;

	*all_busy = 0;
	queue_pick_init(&p, key, privileged);
	for (i = 0; i < r->nw; i++) {
		w = &r->w[i];
		if (w->fd >= 0 && !w->id[0] && w->gen != r->gen)
			retire(w);	/* SIGHUP: not with the old config */
		if (queue_pick_offer(&p, i, w->fd >= 0, w->id[0] != '\0',
		    w->dropped, w->key))
			break;
	}
	switch (queue_pick_decide(&p, r->nw, r->max_running, &which,
	    &has_any)) {
	case QUEUE_PICK_WORKER:
		return &r->w[which];
	case QUEUE_PICK_SPAWN:
		if ((w = spawn_worker(r)) != NULL)
			return w;
		*all_busy = !has_any;	/* fork failed: retry later */
		return has_any ? &r->w[which] : NULL;
	case QUEUE_PICK_RETIRE:
		retire(&r->w[which]);
		return NULL;
	case QUEUE_PICK_WAIT:
		return NULL;
	case QUEUE_PICK_BUSY:
	default:
		*all_busy = 1;
		return NULL;
	}
}

static int
dispatch(struct runner *r, struct msg *m)
{
	uint64_t key = m->ndk ? msg_dk(m)[0] : 0;
	int all_busy;
	struct worker *w = pick_worker(r, key, m->privileged, &all_busy);
	size_t len = strlen(m->id);

	if (w == NULL)
		return all_busy ? -1 : -2;
	if (send(w->fd, m->id, len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)len) {
		log_warn("worker %ld: cannot hand it %s: %s", (long)w->pid,
		    m->id, strerror(errno));
		retire(w);
		return -1;
	}
	snprintf(w->id, sizeof w->id, "%s", m->id);
	w->key = key;
	w->used++;
	dt_add(r, m, 1);	/* before pid is set: see dt_add */
	m->pid = w->pid;
	m->tried = 1;
	r->running++;
	return 0;
}

/* The table's entry for id; held: only one a worker holds. */
static struct msg *
find_held(struct runner *r, const char *id, int held)
{
	struct msg *m = find(r, id);
	size_t i;

	if (m && (!held || m->pid))
		return m;
	/* Ids nudged since the last merge are not sorted in yet. */
	for (i = 0; i < r->n; i++)
		if ((!held || r->m[i].pid) && strcmp(r->m[i].id, id) == 0)
			return &r->m[i];
	return NULL;
}

/* A worker is done with id (or died holding it): what is left of it? */
static void
finished(struct runner *r, const char *id)
{
	uint64_t dk[QUEUE_DEST_MAX];
	size_t nk = 0;
	struct msg *m = find_held(r, id, 1);
	int gone;

	if (m == NULL)
		return;
	m->pid = 0;
	r->running--;
	dt_add(r, m, -1);
	msg_forget(m);
	if (m->flush) {
		queue_admin_flush(&r->cfg, m->id);
		m->flush = 0;
	}
	/* What is left may go elsewhere: read it again. */
	if (queue_due_dests(&r->cfg, m->id, &m->due, &gone, dk,
	    QUEUE_DEST_MAX, &nk) == 0 && !gone)
		msg_set_dests(r, m, dk, nk);
	if (gone) {
		m->due = INT64_MAX;
		m->seen = 0;
		m->gone = 1;
	} else if (m->due <= now_s()) {
		/* Still due right after a run (a bounce could not be
		 * queued): not in a tight loop. */
		m->due = now_s() + 1;
	}
}

/* A worker's reply: the id it was given, now done, and a status. */
static void
worker_input(struct runner *r, struct worker *w)
{
	char id[SPOOL_ID_SIZE + 2], st;
	ssize_t n = recv(w->fd, id, sizeof id, MSG_DONTWAIT);
	struct msg *m;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		retire(w);	/* it is gone; reap() settles its message */
		return;
	}
	st = id[n - 1];
	id[n - 1] = '\0';
	if (w->id[0] == '\0' || strcmp(id, w->id) != 0 ||
	    (st != QUEUE_WORKER_DONE && st != QUEUE_WORKER_DONE_DROPPED &&
	    st != QUEUE_WORKER_NEEDS_ROOT)) {
		log_err("worker %ld: unexpected reply", (long)w->pid);
		retire(w);
		return;
	}
	w->id[0] = '\0';
	w->idle_since = now_s();
	w->dropped = st != QUEUE_WORKER_DONE;
	if ((m = find_held(r, id, 1)) != NULL)
		m->privileged = 0;	/* attempted: may go anywhere again */
	finished(r, id);
	if (st == QUEUE_WORKER_NEEDS_ROOT && (m = find_held(r, id, 0)) &&
	    !m->gone) {
		/* Not attempted: due again now, for a worker with root. */
		m->privileged = 1;
		m->due = now_s();
		m->tried = 0;	/* --once: it was not attempted */
	}
	prune(r);
	if (w->used >= r->worker_max_use || w->gen != r->gen)
		retire(w);
}

/* Forgets an exited worker; a message it still held is read again. */
static void
worker_exited(struct runner *r, pid_t pid, int st)
{
	struct worker w;
	size_t i;

	for (i = 0; i < r->nw && r->w[i].pid != pid; i++)
		;
	if (i == r->nw)
		return;
	w = r->w[i];
	r->w[i] = r->w[--r->nw];
	if (w.fd >= 0)
		close(w.fd);
	if (w.id[0] == '\0')
		return;
	if (WIFSIGNALED(st))
		log_warn("%s: worker killed by signal %d", w.id, WTERMSIG(st));
	finished(r, w.id);
}

static void
reap(struct runner *r)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		size_t i;

		/* Its last reply may still wait in the socket. */
		for (i = 0; i < r->nw; i++)
			if (r->w[i].pid == pid && r->w[i].fd >= 0 &&
			    r->w[i].id[0])
				worker_input(r, &r->w[i]);
		worker_exited(r, pid, st);
	}
	prune(r);
}

/* Retires idle workers that outlived WORKER_IDLE_SECONDS or the
 * configuration; returns when the next one would be due. */
static int64_t
retire_idle(struct runner *r, int64_t now)
{
	int64_t next = INT64_MAX;
	size_t i;

	for (i = 0; i < r->nw; i++) {
		struct worker *w = &r->w[i];

		if (w->fd < 0 || w->id[0])
			continue;
		if (w->gen != r->gen ||
		    now - w->idle_since >= WORKER_IDLE_SECONDS)
			retire(w);
		else if (w->idle_since + WORKER_IDLE_SECONDS < next)
			next = w->idle_since + WORKER_IDLE_SECONDS;
	}
	return next;
}

static void
notify_status(struct runner *r)
{
	static size_t last_n = SIZE_MAX, last_run = SIZE_MAX;

	if (r->n + r->nrest == last_n && r->running == last_run)
		return;
	last_n = r->n + r->nrest;
	last_run = r->running;
	sd_notifyf(0, "STATUS=%zu messages queued, %zu in delivery",
	    r->n + r->nrest, r->running);
}

static int
flush_rest(const char *id, void *arg)
{
	struct runner *r = arg;

	if (find(r, id) == NULL)
		queue_admin_flush(&r->cfg, id);
	return 0;
}

static void
flush_all(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->m[i].pid) {
			r->m[i].flush = 1;
			continue;
		}
		queue_admin_flush(&r->cfg, r->m[i].id);
		r->m[i].due = 0;
	}
	/* Those outside the window are flushed on disk and paged in. */
	if (r->overflow) {
		spool_queue_scan(&r->sp, flush_rest, r);
		r->rest_due = 0;
	}
	log_info("flush: %zu messages due now", r->n + r->nrest);
}

static void
pickup(struct runner *r)
{
	unsigned moved = 0;

	/* Injected mail joins the queue before each pass (inject_pickup.h). */
	if (inject_pickup_run(&r->db, &r->sp, &moved) < 0)
		log_warn("maildrop pickup incomplete: %s", strerror(errno));
}

static void
reload(struct runner *r)
{
	struct cf_db ndb;
	const char *why;

	if (cf_db_open(&ndb, r->cdb_path, &why) < 0) {
		log_err("SIGHUP: cannot open %s: %s; keeping the old one",
		    r->cdb_path, why);
		return;
	}
	cf_db_close(&r->db);
	r->db = ndb;
	queue_cfg_load(&r->cfg, &r->db, &r->sp);
	r->gen++;	/* workers with the old one retire */
	/* SIGHUP also reopens the log (rotation by rename). */
	if (cf_logger_setup(&r->db, NULL, NULL) < 0)
		log_warn("SIGHUP: cannot reopen the log file; logging to stderr");
	log_info("SIGHUP: reopened %s", r->cdb_path);
}

static void
terminate(struct runner *r)
{
	time_t end = time(NULL) + TERM_WAIT_SECONDS;
	size_t i;
	pid_t pid;
	int st;

	/* Idle workers leave at end of file (closing their connections
	 * with QUIT); busy ones finish or abandon their message. */
	for (i = 0; i < r->nw; i++) {
		if (r->w[i].id[0])
			kill(r->w[i].pid, SIGTERM);
		retire(&r->w[i]);
	}
	while (r->nw && time(NULL) < end) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		reap(r);
		if (r->nw)
			nanosleep(&ts, NULL);
	}
	for (i = 0; i < r->nw; i++)
		kill(r->w[i].pid, SIGKILL);
	while (r->nw && (pid = waitpid(-1, &st, 0)) > 0)
		worker_exited(r, pid, st);
}

static int
run(struct runner *r)
{
	int sp[2];
	struct sigaction sa;
	int first = 1, flush = 0, rescan = 1;
	int64_t last_scan = 0;
	struct spool_nudge_rd rd;
	struct pollfd *pf;

	memset(&rd, 0, sizeof rd);
	if ((r->w = calloc(r->max_running, sizeof *r->w)) == NULL ||
	    (pf = calloc(r->max_running + 3, sizeof *pf)) == NULL)
		die(EX_OSERR, "out of memory");

	if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0)
		die_sys(EX_OSERR, "pipe");
	sigpipe_r = sp[0];
	sigpipe_w = sp[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r->nudge = spool_nudge_listen(&r->sp)) < 0)
		die_sys(EX_TEMPFAIL, "unable to open the nudge FIFO");
	/* Without it, other users' mail waits for the periodic pickup. */
	if ((r->pickfd = spool_nudge_pickup_listen(&r->sp)) < 0 &&
	    errno != ENOENT)
		log_warn("ignoring the pickup FIFO: %s", strerror(errno));

	for (;;) {
		int64_t now = now_s(), next = INT64_MAX, idle_at;
		size_t i, idle_due = 0, npf;
		int timeout, full = 0, rc;
		char b[64];

		if (got_term)
			break;
		if (got_hup) {
			got_hup = 0;
			reload(r);
		}
		if (got_chld) {
			got_chld = 0;
			reap(r);
		}
		if (rescan || now - last_scan >= RESCAN_SECONDS) {
			pickup(r);
			scan(r, first);
			last_scan = now;
			rescan = 0;
			if (first) {
				spool_queue_clean(&r->sp, now, SPOOL_TMP_MAX_AGE, NULL);
				sd_notify(0, "READY=1");
				log_info("started: %zu messages in the queue",
				    r->n + r->nrest);
			}
			first = 0;
		}
		if (flush) {
			flush = 0;
			flush_all(r);
		}
		/* Oldest first: ids sort by arrival. */
		for (i = 0; i < r->n; i++) {
			struct msg *m = &r->m[i];

			if (m->pid || (r->once && m->tried))
				continue;
			if (m->due <= now) {
				if (full || r->running >= r->max_running ||
				    !dest_room(r, m))
					idle_due++;
				else if ((rc = dispatch(r, m)) < 0) {
					full = rc == -1;	/* none idle */
					idle_due++;
				}
			} else if (m->due < next) {
				next = m->due;
			}
		}
		idle_at = retire_idle(r, now);
		if (idle_at < next)
			next = idle_at;
		/*
		 * Page-in: something outside the window is due and nothing
		 * due inside waits for a worker; a full scan reads the due
		 * times of the others and keeps the earliest (at most once a
		 * second).
		 */
		if (r->overflow && r->rest_due <= now) {
			if (idle_due == 0 && now >= r->next_page) {
				r->next_page = now + 1;
				rescan = 1;
				continue;
			}
			next = now + 1 < next ? now + 1 : next;
		} else if (r->overflow && r->rest_due < next) {
			next = r->rest_due;
		}
		notify_status(r);
		if (r->once && r->running == 0 && idle_due == 0) {
			/* Bounces queued in this run are delivered too. */
			size_t untried = 0;

			scan(r, 1);
			for (i = 0; i < r->n; i++)
				if (!r->m[i].tried && r->m[i].due <= now_s())
					untried++;
			if (untried == 0)
				break;
			continue;
		}
		timeout = next == INT64_MAX ? RESCAN_SECONDS * 1000 :
		    (int)((next - now > RESCAN_SECONDS ? RESCAN_SECONDS :
		    next - now) * 1000);
		if (idle_due && timeout > 1000)
			timeout = 1000;
		pf[0].fd = sp[0];
		pf[0].events = POLLIN;
		pf[1].fd = r->once ? -1 : r->nudge;
		pf[1].events = POLLIN;
		pf[2].fd = r->once ? -1 : r->pickfd;
		pf[2].events = POLLIN;
		for (i = 0, npf = 3; i < r->nw; i++) {
			pf[npf].fd = r->w[i].fd;	/* -1: ignored */
			pf[npf++].events = POLLIN;
		}
		if (poll(pf, npf, timeout) < 0 && errno != EINTR)
			die_sys(EX_OSERR, "poll");
		while (read(sp[0], b, sizeof b) > 0)
			;
		/* Only reap() and spawn_worker() move slots: none ran. */
		for (i = 3; i < npf; i++)
			if (pf[i].fd >= 0 && (pf[i].revents &
			    (POLLIN | POLLHUP | POLLERR)) &&
			    r->w[i - 3].fd == pf[i].fd)
				worker_input(r, &r->w[i - 3]);
		/* Any byte from a user's inject: look at maildrop/ now. */
		if (pf[2].fd >= 0 && (pf[2].revents & POLLIN) &&
		    spool_nudge_drain(r->pickfd) > 0 && !rescan)
			pickup(r);	/* its commits nudge their ids */
		if (!r->once && (pf[1].revents & POLLIN)) {
			/*
			 * "ID\n" lines join the table as they are; a legacy
			 * byte, garbage, a pipe that may have been full or an
			 * 'F' (--flush) make a full scan of queue/. Injected
			 * mail is picked up on every wake-up, before the pass
			 * (inject_pickup.h): its commits nudge their ids.
			 */
			int fl = spool_nudge_read(r->nudge, &rd, nudge_id, r);

			if (fl < 0 || (fl & (SPOOL_NUDGE_RESCAN |
			    SPOOL_NUDGE_FLUSH)))
				rescan = 1;
			if (fl > 0 && (fl & SPOOL_NUDGE_FLUSH))
				flush = 1;
			if (fl > 0 && !rescan)
				pickup(r);
			merge_new(r);
			if (r->window && r->n > r->window + WINDOW_SLACK(r->window) +
			    r->running)
				trim(r, 0, r->window + r->running);
		}
	}
	if (got_term)
		log_info("SIGTERM: stopping, %zu deliveries in flight",
		    r->running);
	terminate(r);
	free(pf);
	free(r->w);
	r->w = NULL;
	return 0;
}

/* --- privileges, lock, pid file ----------------------------------- */

static void
privileges(struct runner *r)
{
	char user[128], group[128];
	struct passwd *pw;
	struct group *gr;

	if (geteuid() != 0)
		return;
	cf_db_str(&r->db, "core", "", "user-id", user, sizeof user);
	cf_db_str(&r->db, "core", "", "group-id", group, sizeof group);
	if ((pw = getpwnam(user)) == NULL)
		die(EX_NOUSER, "[core] user-id '%s' does not exist", user);
	if ((gr = getgrnam(group)) == NULL)
		die(EX_NOUSER, "[core] group-id '%s' does not exist", group);
	r->cfg.root = 1;
	r->cfg.uid = pw->pw_uid;
	r->cfg.gid = gr->gr_gid;
	snprintf(r->cfg.user, sizeof r->cfg.user, "%s", user);
	/*
	 * Real and effective ids become the postmaster user's; root stays
	 * only as the saved uid, used by a freshly forked child to start a
	 * program as another user ([pipe] user, local names with accounts,
	 * lmtpd for ~/Maildir). Workers drop it for good before talking to
	 * any remote host; exec'd programs lose it (execve sets saved = e).
	 */
	if (setgroups(1, &gr->gr_gid) < 0 ||
	    setresgid(gr->gr_gid, gr->gr_gid, gr->gr_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, 0) < 0)
		die_sys(EX_OSERR, "unable to drop privileges to %s", user);
}

static void
take_lock(struct runner *r, const char *dir, int wait)
{
	int waited = 0;

	if ((r->lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_sys(EX_TEMPFAIL, "unable to open %s", dir);
	while (flock(r->lockfd, LOCK_EX | LOCK_NB) < 0) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (errno != EWOULDBLOCK)
			die_sys(EX_TEMPFAIL, "unable to lock %s", dir);
		if (!wait || waited >= LOCK_WAIT_MS)
			die(EX_TEMPFAIL, "another queue runner works on %s", dir);
		nanosleep(&ts, NULL);
		waited += 50;
	}
}

static void
write_pidfile(struct runner *r)
{
	char line[32];
	int fd, n;

	cf_db_str(&r->db, "core", "", "pid-file", r->pidfile, sizeof r->pidfile);
	if (r->pidfile[0] == '\0')
		return;
	fd = open(r->pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
	if (fd < 0 || write(fd, line, (size_t)n) != n || close(fd) < 0)
		die_sys(EX_CANTCREAT, "unable to write %s", r->pidfile);
}

static void
remove_pidfile(struct runner *r)
{
	if (r->pidfile[0] == '\0')
		return;
	if (r->cfg.root && seteuid(0) < 0)
		return;
	unlink(r->pidfile);
}

static int
cmd_list(struct runner *r)
{
	switch (queue_list(&r->sp, 1)) {
	case QUEUE_LIST_E_SCAN:
		die_sys(EX_TEMPFAIL, "unable to scan the queue");
	case QUEUE_LIST_E_WRITE:
		return EX_IOERR;
	}
	return 0;
}

static int
cmd_flush(struct runner *r, const char *dir)
{
	struct spool_ids s;
	size_t i;
	int fd;

	if ((r->lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_sys(EX_TEMPFAIL, "unable to open %s", dir);
	if (flock(r->lockfd, LOCK_EX | LOCK_NB) < 0) {
		/* A runner is running: it rewrites the times itself. */
		fd = openat(r->sp.root, "nudge", O_WRONLY | O_NONBLOCK |
		    O_CLOEXEC);
		if (fd < 0 || (write(fd, "F", 1) < 0 && errno != EAGAIN))
			die_sys(EX_TEMPFAIL, "unable to nudge the runner");
		close(fd);
		return 0;
	}
	if (spool_queue_ids(&r->sp, &s) < 0)
		die_sys(EX_TEMPFAIL, "unable to scan the queue");
	for (i = 0; i < s.n; i++)
		if (queue_admin_flush(&r->cfg, s.v[i]) < 0)
			log_warn("%s: cannot flush: %s", s.v[i], strerror(errno));
	spool_queue_ids_free(&s);
	return 0;
}

static int
cmd_delete(struct runner *r, const char *id)
{
	if (!spool_id_valid(id, strlen(id)))
		die(EX_USAGE, "%s: not a queue id", id);
	if (faccessat(r->sp.queue, id, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		die(EX_NOINPUT, "%s: no such message", id);
	if (spool_queue_finish(&r->sp, id) < 0)
		die_sys(EX_TEMPFAIL, "%s: unable to remove", id);
	log_info("%s removed (deleted by the operator)", id);
	return 0;
}

static void
find_lmtpd(struct runner *r)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	if (n < 0)
		n = 0;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		slash[1] = '\0';
	else
		snprintf(self, sizeof self, "/usr/sbin/");
	snprintf(r->cfg.lmtpd, sizeof r->cfg.lmtpd, "%.4000spostmaster-lmtpd", self);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "list", no_argument, NULL, 'l' },
		{ "flush", no_argument, NULL, 'f' },
		{ "delete", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct runner r;
	const char *why, *del = NULL;
	char dir[1024];
	uint64_t u;
	int opt, mode = 0, rc;

	log_init(argv[0]);
	/* A fixed threshold: glibc would otherwise raise it after the
	 * first large temporary (a trim's sort array) is freed, and keep
	 * the next ones on the heap -- resident for good. */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	r.cdb_path = PM_DEFAULT_CDB;
	while ((opt = getopt_long(argc, argv, "C:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'C':
			r.cdb_path = optarg;
			break;
		case 'o':
		case 'l':
		case 'f':
		case 'd':
			if (mode && mode != opt) {
				usage(stderr);
				return EX_USAGE;
			}
			mode = opt;
			if (opt == 'd')
				del = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (cf_db_open(&r.db, r.cdb_path, &why) < 0)
		die(EX_CONFIG, "unable to open %s: %s", r.cdb_path, why);
	cf_db_str(&r.db, "core", "", "spool-directory", dir, sizeof dir);
	/* The daemon logs where [core] logger says; commands to stderr. */
	if ((mode == 0 || mode == 'o') && cf_logger_setup(&r.db, NULL, NULL) < 0)
		log_warn("cannot open the log file; logging to stderr");
	if (mode == 0 && geteuid() == 0)
		write_pidfile(&r);
	privileges(&r);
	if (spool_dir_open(&r.sp, dir, mode == 0 || mode == 'o' ?
	    SPOOL_DIR_CREATE : 0) < 0)
		die_sys(EX_TEMPFAIL, "unable to open spool %s", dir);
	r.cfg.cdb_path = r.cdb_path;
	find_lmtpd(&r);
	if (queue_cfg_load(&r.cfg, &r.db, &r.sp) < 0)
		die(EX_CONFIG, "unable to read [core] from %s", r.cdb_path);
	r.max_running = 10;
	if (cf_db_uint(&r.db, "core", "", "queue-concurrency", &u) >= 0 && u)
		r.max_running = (size_t)u;
	r.max_per_dest = 20;
	if (cf_db_uint(&r.db, "core", "", "max-per-destination", &u) >= 0)
		r.max_per_dest = (size_t)u;
	r.window = WINDOW_DEFAULT;
	if (getenv("PM_QUEUE_WINDOW"))	/* tests */
		r.window = (size_t)strtoul(getenv("PM_QUEUE_WINDOW"), NULL, 10);
	r.worker_max_use = WORKER_MAX_USE;
	if (getenv("PM_QUEUE_WORKER_MAX_USE"))	/* tests */
		r.worker_max_use = (unsigned)strtoul(
		    getenv("PM_QUEUE_WORKER_MAX_USE"), NULL, 10);
	if (r.worker_max_use == 0)
		r.worker_max_use = WORKER_MAX_USE;
	r.rest_due = INT64_MAX;
	if (r.max_per_dest >= r.max_running)
		r.max_per_dest = 0;	/* the global limit bites first */
	/* At most max_running * QUEUE_DEST_MAX live keys. */
	if (r.max_per_dest &&
	    queue_dcount_init(&r.dc, r.max_running * QUEUE_DEST_MAX) < 0)
		die(EX_OSERR, "out of memory");

	switch (mode) {
	case 'l':
		return cmd_list(&r);
	case 'f':
		return cmd_flush(&r, dir);
	case 'd':
		return cmd_delete(&r, del);
	case 'o':
		r.once = 1;
		r.window = 0;	/* it tries every message anyway */
		break;
	default:
		if (!r.cfg.root)
			write_pidfile(&r);
		break;
	}
	take_lock(&r, dir, 1);
	rc = run(&r);
	remove_pidfile(&r);
	return rc;
}
