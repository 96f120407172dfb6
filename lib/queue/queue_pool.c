#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/array.h"
#include "base/log.h"
#include "queue/queue_pick.h"
#include "queue/queue_pool.h"
#include "queue/queue_worker.h"

int
queue_pool_init(struct queue_pool *p, size_t max, unsigned max_use,
    void (*child)(void *, int), void *arg)
{
	memset(p, 0, sizeof *p);
	if ((p->w = array_resize(NULL, max, sizeof *p->w)) == NULL)
		return -1;
	p->max = max;
	p->max_use = max_use;
	p->child = child;
	p->arg = arg;
	return 0;
}

void
queue_pool_free(struct queue_pool *p)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		queue_pool_retire(&p->w[i]);
	free(p->w);
	p->w = NULL;
	p->nw = 0;
}

void
queue_pool_retire(struct queue_pool_worker *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
}

/* In the new process: only its own socket, then the caller's child. */
static void
in_child(struct queue_pool *p, pid_t parent, int fd)
{
	size_t i;

	/* A runner killed by SIGKILL takes its workers along; the state
	 * on disk stays consistent at every instant. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	/* A retired sibling must see end of file: only the runner may hold
	 * its other end. */
	for (i = 0; i < p->nw; i++)
		if (p->w[i].fd >= 0)
			close(p->w[i].fd);
	p->child(p->arg, fd);
	_exit(0);
}

/* A new worker process in the next slot, or NULL (logged). */
static struct queue_pool_worker *
spawn(struct queue_pool *p, int64_t now)
{
	pid_t parent = getpid(), pid;
	struct queue_pool_worker *w;
	int sv[2];

	if (p->nw >= p->max)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("cannot create a worker socket: %s", strerror(errno));
		return NULL;
	}
	if ((pid = fork()) < 0) {
		log_err("cannot fork a worker: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (pid == 0) {
		close(sv[0]);
		in_child(p, parent, sv[1]);
	}
	close(sv[1]);
	w = &p->w[p->nw++];
	memset(w, 0, sizeof *w);
	w->pid = pid;
	w->fd = sv[0];
	w->gen = p->gen;
	w->idle_since = now;
	return w;
}

struct queue_pool_worker *
queue_pool_pick(struct queue_pool *p, uint64_t key, int privileged,
    int64_t now, int *all_busy)
{
	struct queue_pool_worker *w;
	struct queue_pick pk;
	size_t i, which;
	int has_any;

	*all_busy = 0;
	queue_pick_init(&pk, key, privileged);
	for (i = 0; i < p->nw; i++) {
		w = &p->w[i];
		if (w->fd >= 0 && !w->id[0] && w->gen != p->gen)
			queue_pool_retire(w); /* SIGHUP: not the old config */
		if (queue_pick_offer(&pk, i, w->fd >= 0, w->id[0] != '\0',
		        w->dropped, w->key))
			break;
	}
	switch (queue_pick_decide(&pk, p->nw, p->max, &which, &has_any)) {
	case QUEUE_PICK_WORKER:
		return &p->w[which];
	case QUEUE_PICK_SPAWN:
		if ((w = spawn(p, now)) != NULL)
			return w;
		*all_busy = !has_any; /* fork failed: retry later */
		return has_any ? &p->w[which] : NULL;
	case QUEUE_PICK_RETIRE:
		queue_pool_retire(&p->w[which]);
		return NULL;
	case QUEUE_PICK_WAIT:
		return NULL;
	case QUEUE_PICK_BUSY:
	default:
		*all_busy = 1;
		return NULL;
	}
}

int
queue_pool_send(struct queue_pool_worker *w, const char *id, uint64_t key)
{
	size_t len = strlen(id);

	if (send(w->fd, id, len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)len) {
		log_warn("worker %ld: cannot hand it %s: %s", (long)w->pid, id,
		    strerror(errno));
		queue_pool_retire(w);
		return -1;
	}
	snprintf(w->id, sizeof w->id, "%s", id);
	w->key = key;
	w->used++;
	return 0;
}

int
queue_pool_input(struct queue_pool *p, struct queue_pool_worker *w, char *id,
    char *st, int64_t now)
{
	char b[SPOOL_ID_SIZE + 2];
	ssize_t n = recv(w->fd, b, sizeof b, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		queue_pool_retire(w); /* it is gone */
		return -1;
	}
	*st = b[n - 1];
	b[n - 1] = '\0';
	if (w->id[0] == '\0' || strcmp(b, w->id) != 0 ||
	    (*st != QUEUE_WORKER_DONE && *st != QUEUE_WORKER_DONE_DROPPED &&
	        *st != QUEUE_WORKER_NEEDS_ROOT)) {
		log_err("worker %ld: unexpected reply", (long)w->pid);
		queue_pool_retire(w);
		return -1;
	}
	memcpy(id, w->id, SPOOL_ID_SIZE); /* the same, and it fits */
	w->id[0] = '\0';
	w->idle_since = now;
	w->dropped = *st != QUEUE_WORKER_DONE;
	if (w->used >= p->max_use || w->gen != p->gen)
		queue_pool_retire(w);
	return 1;
}

int
queue_pool_exited(struct queue_pool *p, pid_t pid, int status, char *id)
{
	struct queue_pool_worker w;
	size_t i;

	for (i = 0; i < p->nw && p->w[i].pid != pid; i++)
		;
	if (i == p->nw)
		return 0;
	w = p->w[i];
	p->w[i] = p->w[--p->nw];
	if (w.fd >= 0)
		close(w.fd);
	if (w.id[0] == '\0')
		return 0;
	if (WIFSIGNALED(status))
		log_warn("%s: worker killed by signal %d", w.id,
		    WTERMSIG(status));
	snprintf(id, SPOOL_ID_SIZE, "%s", w.id);
	return 1;
}

int64_t
queue_pool_retire_idle(struct queue_pool *p, int64_t now)
{
	int64_t next = INT64_MAX;
	size_t i;

	for (i = 0; i < p->nw; i++) {
		struct queue_pool_worker *w = &p->w[i];

		if (w->fd < 0 || w->id[0])
			continue;
		if (w->gen != p->gen ||
		    now - w->idle_since >= QUEUE_POOL_IDLE_SECONDS)
			queue_pool_retire(w);
		else if (w->idle_since + QUEUE_POOL_IDLE_SECONDS < next)
			next = w->idle_since + QUEUE_POOL_IDLE_SECONDS;
	}
	return next;
}

void
queue_pool_stop(struct queue_pool *p)
{
	size_t i;

	for (i = 0; i < p->nw; i++) {
		if (p->w[i].id[0])
			kill(p->w[i].pid, SIGTERM);
		queue_pool_retire(&p->w[i]);
	}
}

void
queue_pool_kill(struct queue_pool *p)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		kill(p->w[i].pid, SIGKILL);
}
