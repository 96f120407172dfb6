#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/wpool.h"

/* How soon the parent looks again for retired workers' exits. */
#define REAP_MS 100

int
wpool_init(struct wpool *p, size_t cap, uint64_t max_use, int64_t idle_ms,
    wpool_start_fn start, wpool_job_fn run, void *arg)
{
	int fd;

	memset(p, 0, sizeof *p);
	/* fds 0-2 taken, so no channel is one a worker's job dup2s over */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
	/* twice the cap: retired workers keep an entry until reaped, and
	 * must not stand in the way of live ones */
	if (cap == 0 || cap > SIZE_MAX / 2 / sizeof *p->w ||
	    (p->w = calloc(2 * cap, sizeof *p->w)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	p->cap = cap;
	p->slots = 2 * cap;
	p->max_use = max_use > 0 ? max_use : 1;
	p->idle_ms = idle_ms;
	p->start = start;
	p->run = run;
	p->arg = arg;
	return 0;
}

size_t
wpool_fit(size_t cap, size_t others)
{
	struct rlimit rl;
	size_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return cap;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= cap + others)
		return cap;
	room = rl.rlim_cur > others ? (size_t)(rl.rlim_cur - others) : 1;
	return room < cap ? room : cap;
}

static void
retire(struct wpool_worker *w)
{
	if (w->ch >= 0)
		close(w->ch);
	w->ch = -1;
}

void
wpool_free(struct wpool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		retire(&p->w[i]);
	free(p->w);
	memset(p, 0, sizeof *p);
}

/* A job from the parent: 1, 0 at its end, -1 on error. */
static int
receive(int ch, struct wpool_job *j)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(WPOOL_MAX_FDS * sizeof(int))];
	} cm;
	struct iovec iov = { j->msg, sizeof j->msg };
	struct msghdr m;
	struct cmsghdr *c;
	ssize_t n;
	size_t i, k;

	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cm.b;
	m.msg_controllen = sizeof cm.b;
	do
		n = recvmsg(ch, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n == 0 ? 0 : -1;
	j->len = (size_t)n;
	j->nfd = 0;
	for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k && j->nfd < WPOOL_MAX_FDS; i++)
			memcpy(&j->fd[j->nfd++],
			    CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	/* wpool_hand sends neither; a cut message is no job to run */
	return (m.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) ? -1 : 1;
}

static void __attribute__((noreturn)) worker(struct wpool *p, int ch)
{
	struct wpool_job j;
	size_t i;
	int r;

	for (;;) {
		if ((r = receive(ch, &j)) <= 0)
			_exit(r == 0 ? 0 : 71);
		r = p->run(p->arg, &j);
		for (i = 0; i < j.nfd; i++)
			close(j.fd[i]);
		if (r != 0)
			_exit(r);
		if (send(ch, "d", 1, MSG_NOSIGNAL) != 1)
			_exit(0);
	}
}

/*
 * In a new worker: every descriptor above 2 closed but keep. A worker
 * that held the job being handed would keep a client's connection open
 * after its session, one that held another's channel would keep that
 * worker from ever seeing its end: if this cannot be done the worker
 * does not run.
 */
static void
close_all_but(int keep)
{
	struct dirent *e;
	DIR *d;
	long fd;

	if ((keep <= 3 || close_range(3, (unsigned)keep - 1, 0) == 0) &&
	    close_range((unsigned)keep + 1, ~0U, 0) == 0)
		return;
	/* kernels before 5.9, or a seccomp filter that does not know it */
	if ((d = opendir("/proc/self/fd")) == NULL)
		_exit(71);
	while ((e = readdir(d)) != NULL) {
		fd = strtol(e->d_name, NULL, 10);
		if (e->d_name[0] != '.' && fd > 2 && fd != keep &&
		    fd != dirfd(d))
			close((int)fd);
	}
	closedir(d);
}

static size_t
live(const struct wpool *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->w[i].ch >= 0;
	return n;
}

/* Retired workers that have exited out of the table; ECHILD: the
 * caller reaped it. Returns how many retired entries remain. */
static size_t
reap(struct wpool *p)
{
	struct wpool_worker *w;
	size_t i, j, left = 0;
	pid_t r;
	int st;

	for (i = j = 0; i < p->n; i++) {
		w = &p->w[i];
		if (w->ch < 0) {
			r = waitpid(w->pid, &st, WNOHANG);
			if (r == w->pid || (r < 0 && errno == ECHILD))
				continue;
			left++;
		}
		p->w[j++] = *w;
	}
	p->n = j;
	return left;
}

/* A new worker, idle; NULL with *why. */
static struct wpool_worker *
spawn(struct wpool *p, int64_t now, const char **why)
{
	struct wpool_worker *w;
	int sv[2];
	pid_t pid;

	if (p->n == p->slots && reap(p) > 0 && p->n == p->slots) {
		*why = "every worker slot is taken by workers still ending";
		errno = EAGAIN;
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		*why = "socketpair";
		return NULL;
	}
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		*why = "fork";
		return NULL;
	}
	if (pid == 0) {
		close_all_but(sv[1]);
		if (p->start != NULL)
			p->start(p->arg);
		worker(p, sv[1]);
	}
	close(sv[1]);
	w = &p->w[p->n++];
	memset(w, 0, sizeof *w);
	w->pid = pid;
	w->ch = sv[0];
	w->gen = p->gen;
	w->since = now;
	return w;
}

/* The idle worker for a job needing min_gen: the most recently used one
 * (its pages are the warm ones), or a new one. With cap workers alive
 * and none fit, the least recently used idle one makes room. */
static struct wpool_worker *
pick(struct wpool *p, uint64_t min_gen, int64_t now, const char **why)
{
	struct wpool_worker *w = NULL, *old = NULL, *c;
	size_t i;

	for (i = 0; i < p->n; i++) {
		c = &p->w[i];
		if (c->ch < 0 || c->busy)
			continue;
		if (c->gen < p->floor) {
			retire(c);
			continue;
		}
		if (c->gen >= min_gen && (w == NULL || c->since > w->since))
			w = c;
		if (c->gen < min_gen && (old == NULL || c->since < old->since))
			old = c;
	}
	if (w != NULL)
		return w;
	if (live(p) >= p->cap && old != NULL)
		retire(old);
	return spawn(p, now, why);
}

int
wpool_hand(struct wpool *p, const struct wpool_job *job, uint64_t min_gen,
    int64_t now, const char **why)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(WPOOL_MAX_FDS * sizeof(int))];
	} cm;
	struct iovec iov = { (void *)job->msg, job->len };
	struct wpool_worker *w;
	struct msghdr m;
	struct cmsghdr *c;
	size_t tries;

	if (job->len == 0 || job->len > WPOOL_MSG_MAX ||
	    job->nfd > WPOOL_MAX_FDS) {
		*why = "a job the pool cannot send";
		errno = EINVAL;
		return -1;
	}
	if (wpool_busy(p) >= p->cap) {
		*why = "every worker is busy";
		errno = EAGAIN;
		return -1;
	}
	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (job->nfd > 0) {
		memset(&cm, 0, sizeof cm);
		m.msg_control = cm.b;
		m.msg_controllen = CMSG_SPACE(job->nfd * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(job->nfd * sizeof(int));
		memcpy(CMSG_DATA(c), job->fd, job->nfd * sizeof(int));
	}
	/* an idle worker may have died since the last look (EPIPE): the
	 * next one, or a new one, takes the job */
	for (tries = 0; tries <= p->cap; tries++) {
		if ((w = pick(p, min_gen, now, why)) == NULL)
			return -1;
		/* an idle worker's queue is empty: this never blocks */
		if (sendmsg(w->ch, &m, MSG_DONTWAIT | MSG_NOSIGNAL) ==
		    (ssize_t)job->len) {
			w->busy = 1;
			w->used++;
			return 0;
		}
		retire(w);
	}
	*why = "sending the job to a worker";
	return -1;
}

size_t
wpool_busy(const struct wpool *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->w[i].busy != 0;
	return n;
}

size_t
wpool_pollfds(const struct wpool *p, struct pollfd *pfd, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < p->n && n < cap; i++)
		if (p->w[i].ch >= 0) {
			pfd[n].fd = p->w[i].ch;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
	return n;
}

static struct wpool_worker *
by_channel(struct wpool *p, int ch)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->w[i].ch == ch)
			return &p->w[i];
	return NULL;
}

/* Its octet back (idle again), or its end. */
static void
hear(struct wpool_worker *w, int64_t now)
{
	char b[16];
	ssize_t n = recv(w->ch, b, sizeof b, MSG_DONTWAIT);

	if (n > 0) {
		w->busy = 0;
		w->since = now;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		retire(w);
}

int64_t
wpool_tend(struct wpool *p, const struct pollfd *pfd, size_t n, int64_t now)
{
	struct wpool_worker *w;
	int64_t next = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if (pfd[i].revents != 0 &&
		    (w = by_channel(p, pfd[i].fd)) != NULL)
			hear(w, now);
	for (i = 0; i < p->n; i++) {
		w = &p->w[i];
		if (w->ch < 0 || w->busy)
			continue;
		if (w->used >= p->max_use || w->gen < p->floor ||
		    now - w->since >= p->idle_ms)
			retire(w);
		else if (next < 0 || w->since + p->idle_ms < next)
			next = w->since + p->idle_ms;
	}
	/* A live worker's death shows as its channel's end, so only the
	 * retired are waited for; they keep their entry until gone (a busy
	 * one still counts as busy) and are looked for again soon. */
	if (reap(p) > 0 && (next < 0 || now + REAP_MS < next))
		next = now + REAP_MS;
	return next;
}
