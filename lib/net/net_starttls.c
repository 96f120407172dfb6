#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "net/net_starttls.h"
#include "net/net_tlsd_req.h"

extern char **environ;

void
net_starttls_init(struct net_starttls *t)
{
	memset(t, 0, sizeof *t);
	t->fd = -1;
}

/* Reads exactly n octets before until_ms: 0, or -1 (errno ETIMEDOUT,
 * EPIPE at end of file, or the read's). */
static int
read_exact(int fd, char *p, size_t n, int64_t until_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	while (n > 0) {
		int64_t left = until_ms - clock_now_ms();
		ssize_t r;
		int k;

		if (left < 0)
			left = 0;
		pfd.revents = 0;
		k = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = read(fd, p, n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EPIPE;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
read_report(struct net_starttls *t, int64_t until_ms,
    struct net_tls_report *rep, char *why, size_t cap)
{
	char rec[NET_TLS_REPORT_MAX];
	unsigned char len;

	if (read_exact(t->fd, (char *)&len, 1, until_ms) < 0 || len == 0 ||
	    read_exact(t->fd, rec, len, until_ms) < 0) {
		snprintf(why, cap, "postmaster-tlsd: %s",
		    errno == EPIPE         ? "ended without a report" :
		        errno == ETIMEDOUT ? "no report in time" :
		        len == 0           ? "empty report" :
		                             strerror(errno));
		return -1;
	}
	if (net_tls_report_parse(rec, len, rep) < 0) {
		snprintf(why, cap, "postmaster-tlsd: malformed report");
		return -1;
	}
	return 0;
}

/* Ends tlsd now (SIGKILL) unless it has already exited; reaps it. */
static void
stop(struct net_starttls *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	t->pid = 0;
	t->service = 0;
}

/* tlsd's first report: ready, or why not (and tlsd stopped). */
static int
wait_ready(struct net_starttls *t, int64_t until_ms, char *why, size_t cap)
{
	struct net_tls_report rep;

	if (read_report(t, until_ms, &rep, why, cap) < 0) {
		stop(t);
		return -1;
	}
	if (rep.kind != NET_TLS_READY) {
		snprintf(why, cap, "%s",
		    rep.kind == NET_TLS_ERROR ?
		        rep.why :
		        "postmaster-tlsd: unexpected report");
		stop(t);
		return -1;
	}
	return 0;
}

int
net_starttls_start(struct net_starttls *t, int sock, char *const argv[],
    int64_t until_ms, char *why, size_t cap)
{
	posix_spawn_file_actions_t fa;
	int sp[2], e;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(why, cap, "socketpair: %s", strerror(errno));
		return -1;
	}
	/* tlsd: fd 0 the client, fd 1 smtpd, fd 2 the log, nothing else */
	if ((e = posix_spawn_file_actions_init(&fa)) == 0) {
		if ((e = posix_spawn_file_actions_adddup2(&fa, sock, 0)) ==
		        0 &&
		    (e = posix_spawn_file_actions_adddup2(&fa, sp[1], 1)) ==
		        0 &&
		    (e = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) ==
		        0)
			e = posix_spawn(&t->pid, argv[0], &fa, NULL, argv,
			    environ);
		posix_spawn_file_actions_destroy(&fa);
	}
	close(sp[1]);
	t->fd = sp[0];
	if (e != 0) {
		t->pid = 0;
		snprintf(why, cap, "unable to start %s: %s", argv[0],
		    strerror(e));
		stop(t);
		return -1;
	}
	return wait_ready(t, until_ms, why, cap);
}

/* The client's socket and the request in one message. */
static int
send_request(int fd, int sock, const struct net_tlsd_req *rq)
{
	char data[NET_TLSD_REQ_MAX];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { data, 0 };
	struct msghdr m;
	struct cmsghdr *c;

	if ((iov.iov_len = net_tlsd_req_encode(rq, data)) == 0) {
		errno = EINVAL;
		return -1;
	}
	memset(&m, 0, sizeof m);
	memset(&cm, 0, sizeof cm);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cm.b;
	m.msg_controllen = sizeof cm.b;
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &sock, sizeof(int));
	/* a new connection's buffer takes the few octets at once */
	return sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	        (ssize_t)iov.iov_len ?
	    0 :
	    -1;
}

int
net_starttls_connect(struct net_starttls *t, int sock, const char *path,
    const char *name, const char *id, int64_t until_ms, char *why, size_t cap)
{
	struct sockaddr_un sa;
	struct net_tlsd_req rq;
	int fd, fl;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(why, cap, "%s: name too long", path);
		return 1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	memset(&rq, 0, sizeof rq);
	snprintf(rq.name, sizeof rq.name, "%s", name);
	snprintf(rq.id, sizeof rq.id, "%s", id);
	/* non-blocking: a full backlog (EAGAIN) is a service that refuses */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	         0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	/* blocking from here, as the socketpair is (smtpd does its I/O on
	 * it once the handshake is done) */
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    send_request(fd, sock, &rq) < 0) {
		snprintf(why, cap, "postmaster-tlsd service %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	t->fd = fd;
	t->service = 1;
	return wait_ready(t, until_ms, why, cap);
}

int
net_starttls_handshake(struct net_starttls *t, int in, int out,
    int64_t until_ms, char *why, size_t cap)
{
	if (read_report(t, until_ms, &t->info, why, cap) < 0) {
		stop(t);
		return -1;
	}
	if (t->info.kind != NET_TLS_DONE) {
		snprintf(why, cap, "%s",
		    t->info.kind == NET_TLS_FAIL ?
		        t->info.why :
		        "postmaster-tlsd: unexpected report");
		stop(t);
		return -1;
	}
	if (dup2(t->fd, in) < 0 || (out != in && dup2(t->fd, out) < 0)) {
		snprintf(why, cap, "dup2: %s", strerror(errno));
		stop(t);
		return -1;
	}
	close(t->fd);
	t->fd = in;
	t->active = 1;
	return 0;
}

void
net_starttls_finish(struct net_starttls *t, int64_t until_ms)
{
	char buf[512];

	if (t->pid == 0 && !t->service)
		return;
	if (t->active) {
		/* tlsd sends close_notify and exits: its end closes */
		shutdown(t->fd, SHUT_WR);
		while (read_exact(t->fd, buf, sizeof buf, until_ms) == 0)
			;
		if (errno == EPIPE && t->pid > 0) {
			while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
				;
			t->pid = 0;
		}
	}
	t->fd = -1; /* the session's fds; the caller closes them */
	stop(t);
}
