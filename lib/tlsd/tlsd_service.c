#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/wpool.h"
#include "net/net_tls_report.h"
#include "net/net_tlsd_req.h"
#include "tlsd/tlsd_service.h"

struct pending {
	int fd;
	int64_t until;
};

struct loop {
	struct tlsd_insts *insts;
	int lfd;
	uint64_t max;
	struct wpool pool;
	tlsd_session_fn session;
	char id[32]; /* the service's log id */
	struct pending p[TLSD_MAX_PENDING];
	size_t np;
	int64_t pause_until; /* out of descriptors: accept nothing until */
	sigset_t old;
};

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
on_child(int sig)
{
	(void)sig;
}

/* A refusal: one "error" record, written only if it fits at once. */
static void
refuse(int fd, const char *fmt, const char *arg)
{
	struct net_tls_report r;
	char rec[NET_TLS_REPORT_MAX];
	size_t n;

	memset(&r, 0, sizeof r);
	r.kind = NET_TLS_ERROR;
	snprintf(r.why, sizeof r.why, fmt, arg);
	n = net_tls_report_encode(&r, rec);
	if (send(fd, rec, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n)
		log_info("tls: unable to tell smtpd why it is refused: %s",
		    r.why);
	close(fd);
}

/* A new worker: the signals as a spawned tlsd has them. */
static void
worker_start(void *arg)
{
	struct loop *l = arg;

	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigprocmask(SIG_SETMASK, &l->old, NULL);
}

/*
 * One session in a worker: the client on fd 0 and smtpd's connection on
 * fd 1 as for a spawned tlsd, both closed again after it (/dev/null in
 * their place), so nothing of one session's sockets outlives it. The
 * job names the instance by its index in the worker's copy of the
 * table, which is current: the pool retires workers forked before the
 * last load (tlsd_insts gen).
 */
static int
worker_session(void *arg, struct wpool_job *j)
{
	struct loop *l = arg;
	char msg[WPOOL_MSG_MAX + 1], *id;
	unsigned long idx;
	int null;

	memcpy(msg, j->msg, j->len);
	msg[j->len] = '\0';
	idx = strtoul(msg, &id, 10);
	if (j->nfd != 2 || idx >= l->insts->n || *id != ' ')
		return 70;
	if (dup2(j->fd[0], 0) < 0 || dup2(j->fd[1], 1) < 0)
		return 71;
	close(j->fd[0]);
	close(j->fd[1]);
	j->nfd = 0;
	log_set_id(id[1] != '\0' ? id + 1 : l->id);
	/* its status is for a spawned tlsd; a failed handshake leaves
	 * nothing behind (tlsd_conn_handshake frees its session) */
	(void)l->session(l->insts->inst[idx]);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 ||
	    dup2(null, 0) < 0 || dup2(null, 1) < 0)
		return 71;
	close(null);
	log_set_id(l->id);
	return 0;
}

/* One request on conn: refused, or handed to a worker. */
static void
serve(struct loop *l, int conn, int client, const struct net_tlsd_req *rq)
{
	char why[512], max[32];
	struct tlsd_inst *in;
	struct wpool_job job;
	struct stat st;
	const char *e;
	size_t idx;

	if (fstat(client, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		refuse(conn, "postmaster-tlsd: %s", "not given a socket");
		return;
	}
	if ((in = tlsd_insts_get(l->insts, rq->name, why, sizeof why)) ==
	    NULL) {
		refuse(conn, "%s", why);
		return;
	}
	if (!in->loaded) {
		refuse(conn, "%s", in->why);
		return;
	}
	if (wpool_busy(&l->pool) >= l->max) {
		snprintf(max, sizeof max, "%llu", (unsigned long long)l->max);
		log_err("tls: %s sessions at once already (tls-max-sessions); "
		        "refusing one",
		    max);
		refuse(conn,
		    "postmaster-tlsd: %s sessions at once already "
		    "(tls-max-sessions)",
		    max);
		return;
	}
	for (idx = 0; l->insts->inst[idx] != in; idx++)
		;
	memset(&job, 0, sizeof job);
	job.fd[0] = client;
	job.fd[1] = conn;
	job.nfd = 2;
	l->pool.gen = l->insts->gen;
	l->pool.floor = l->insts->reset_gen;
	job.len =
	    (size_t)snprintf(job.msg, sizeof job.msg, "%zu %s", idx, rq->id);
	if (wpool_hand(&l->pool, &job, in->gen, clock_now_ms(), &e) < 0) {
		snprintf(why, sizeof why, "%s: %s", e, strerror(errno));
		log_err("tls: %s", why);
		refuse(conn, "postmaster-tlsd: %s", why);
		return;
	}
	/* the worker's alone: smtpd sees the end when the session ends */
	close(conn);
}

/* conn is readable: its request, or its end. 1: done with conn. */
static int
receive(struct loop *l, int conn)
{
	char data[NET_TLSD_REQ_MAX + 1];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct iovec iov = { data, sizeof data };
	struct msghdr m;
	struct cmsghdr *c;
	struct net_tlsd_req rq;
	int fds[4], nfd = 0, i;
	ssize_t n;

	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cm.b;
	m.msg_controllen = sizeof cm.b;
	n = recvmsg(conn, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			for (i = 0; (size_t)i <
			         (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) &&
			     nfd < 4;
			     i++)
				memcpy(&fds[nfd++],
				    CMSG_DATA(c) + (size_t)i * sizeof(int),
				    sizeof(int));
	if (n <= 0) {
		for (i = 0; i < nfd; i++)
			close(fds[i]);
		close(conn);
		return 1;
	}
	if (nfd != 1 || (m.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) ||
	    net_tlsd_req_parse(data, (size_t)n, &rq) < 0) {
		for (i = 0; i < nfd; i++)
			close(fds[i]);
		refuse(conn, "postmaster-tlsd: %s", "malformed request");
		return 1;
	}
	serve(l, conn, fds[0], &rq);
	close(fds[0]);
	return 1;
}

static void
accept_all(struct loop *l)
{
	int fd;

	while (l->np < TLSD_MAX_PENDING) {
		fd = accept4(l->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			/* the listener stays readable: not polled for a while,
			 * or the loop would spin */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_err("tls: accept: %s", strerror(errno));
				l->pause_until = clock_now_ms() + 1000;
			}
			return;
		}
		l->p[l->np].fd = fd;
		l->p[l->np].until = clock_now_ms() + TLSD_REQUEST_MS;
		l->np++;
	}
}

int
tlsd_service_run(struct tlsd_insts *s, int listen_fd, uint64_t max,
    uint64_t max_use, tlsd_session_fn session, char *why, size_t cap)
{
	static struct loop l;
	struct pollfd *pfd;
	struct sigaction sa;
	sigset_t block, wait;
	size_t i, j;

	memset(&l, 0, sizeof l);
	l.insts = s;
	l.lfd = listen_fd;
	l.max = max;
	l.session = session;
	snprintf(l.id, sizeof l.id, "%ld", (long)getpid());
	/* pending connections and their clients, the listener, stdio */
	if ((max = wpool_fit((size_t)max, 2 * TLSD_MAX_PENDING + 16)) <
	    l.max) {
		log_err("tls: descriptors for %llu sessions at once only "
		        "(RLIMIT_NOFILE); tls-max-sessions is %llu",
		    (unsigned long long)max, (unsigned long long)l.max);
		l.max = max;
	}
	pfd = calloc(TLSD_MAX_PENDING + 1 + max, sizeof *pfd);
	if (pfd == NULL ||
	    wpool_init(&l.pool, (size_t)max, max_use, TLSD_IDLE_MS,
	        worker_start, worker_session, &l) < 0) {
		free(pfd);
		snprintf(why, cap, "out of memory for %llu sessions",
		    (unsigned long long)max);
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, &l.old) < 0) {
		snprintf(why, cap, "sigprocmask: %s", strerror(errno));
		return -1;
	}
	wait = l.old;
	sigdelset(&wait, SIGCHLD);
	sigdelset(&wait, SIGTERM);
	sigdelset(&wait, SIGINT);
	while (!stopping) {
		int64_t now = clock_now_ms(), next;
		struct timespec ts, *tp = NULL;
		size_t n = 0, nw;

		next = wpool_tend(&l.pool, NULL, 0, now);
		for (i = 0; i < l.np; i++) {
			pfd[n].fd = l.p[i].fd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
			if (next < 0 || l.p[i].until < next)
				next = l.p[i].until;
		}
		pfd[n].fd = l.np < TLSD_MAX_PENDING && now >= l.pause_until ?
		    listen_fd :
		    -1;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		nw = wpool_pollfds(&l.pool, pfd + n + 1, (size_t)max);
		if (now < l.pause_until && (next < 0 || l.pause_until < next))
			next = l.pause_until;
		if (next >= 0) {
			next = next > now ? next - now : 0;
			ts.tv_sec = (time_t)(next / 1000);
			ts.tv_nsec = (long)(next % 1000) * 1000000L;
			tp = &ts;
		}
		if (ppoll(pfd, n + 1 + nw, tp, &wait) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, cap, "poll: %s", strerror(errno));
			break;
		}
		/* workers done first: one may take a request below */
		now = clock_now_ms();
		wpool_tend(&l.pool, pfd + n + 1, nw, now);
		/* pending requests: served, ended, or timed out */
		for (i = j = 0; i < l.np; i++) {
			int done = 0;

			if (pfd[i].revents != 0)
				done = receive(&l, l.p[i].fd);
			else if (l.p[i].until <= now) {
				log_info("tls: no request from smtpd in time");
				close(l.p[i].fd);
				done = 1;
			}
			if (!done)
				l.p[j++] = l.p[i];
		}
		l.np = j;
		if (pfd[n].revents != 0)
			accept_all(&l);
	}
	sigprocmask(SIG_SETMASK, &l.old, NULL);
	/* idle workers end now, busy ones after their session */
	wpool_free(&l.pool);
	free(pfd);
	return stopping ? 0 : -1;
}
