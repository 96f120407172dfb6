#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/io.h"
#include "base/log.h"
#include "spf/spf_child.h"
#include "spf/spf_hello.h"

/* How long a child that was told to go may take to exit. */
#define SPF_CHILD_EXIT_MS 2000

void
spf_child_init(struct spf_child *c)
{
	memset(c, 0, sizeof *c);
	c->to = c->from = -1;
}

static void
reap(struct spf_child *c, int kill_now)
{
	int64_t end = clock_now_ms() + SPF_CHILD_EXIT_MS;
	struct timespec ms = { 0, 1000000 };
	pid_t r;

	if (c->pid <= 0)
		return;
	if (kill_now)
		kill(c->pid, SIGKILL);
	for (;;) {
		r = waitpid(c->pid, NULL, WNOHANG);
		if (r == c->pid || (r < 0 && errno != EINTR))
			break;
		if (r == 0 && clock_now_ms() >= end) {
			kill(c->pid, SIGKILL);
			while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
				;
			break;
		}
		nanosleep(&ms, NULL);
	}
	c->pid = 0;
}

static void
close_pipes(struct spf_child *c)
{
	if (c->to >= 0)
		close(c->to);
	if (c->from >= 0 && c->from != c->to)
		close(c->from);
	c->to = c->from = -1;
	c->inlen = 0;
	c->via = SPF_VIA_NONE;
}

void
spf_child_stop(struct spf_child *c)
{
	close_pipes(c);
	reap(c, 0);
}

static void
kill_child(struct spf_child *c)
{
	close_pipes(c);
	reap(c, 1);
}

/* The child's budget: it ends itself a little before smtpd would kill
 * it, so a slow DNS gives a temperror with a reason rather than a kill. */
static uint64_t
child_budget(const struct spf_child_cfg *cfg)
{
	return cfg->budget_ms > 2000 ? cfg->budget_ms - 1000 :
	                               cfg->budget_ms / 2 + 1;
}

/* "ready" on fd s before end, or -1. */
static int
await_ready(int s, int64_t end)
{
	char got[sizeof SPF_HELLO_READY];
	size_t len = 0;

	while (len < sizeof got - 1) {
		struct pollfd pfd = { s, POLLIN, 0 };
		int64_t left = end - clock_now_ms();
		ssize_t n;
		int r;

		if (left <= 0)
			return -1;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n = read(s, got + len, sizeof got - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
	}
	return memcmp(got, SPF_HELLO_READY, len) == 0 ? 0 : -1;
}

/*
 * A child of the service at cfg->socket: 0, or -1 with a static reason.
 * The connect is non-blocking: a full backlog (EAGAIN) is a refusal, not
 * a wait.
 */
static int
connect_service(struct spf_child *c, const struct spf_child_cfg *cfg,
    const char **why)
{
	struct sockaddr_un sa;
	struct spf_hello h;
	char line[SPF_HELLO_LINE_MAX];
	int64_t end = clock_now_ms() + SPF_CHILD_HELLO_MS;
	int s, n, fl;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(cfg->socket) >= sizeof sa.sun_path) {
		*why = "socket path too long";
		return -1;
	}
	memcpy(sa.sun_path, cfg->socket, strlen(cfg->socket));
	snprintf(h.receiver, sizeof h.receiver, "%s", cfg->receiver);
	h.budget_ms = child_budget(cfg);
	snprintf(h.dns, sizeof h.dns, "%s", cfg->dns_server);
	if ((n = spf_hello_format(&h, line, sizeof line)) < 0) {
		*why = "receiver not representable";
		return -1;
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0) {
		*why = "socket";
		return -1;
	}
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
		*why = errno == ENOENT ? "no socket" :
		    errno == EAGAIN    ? "backlog full" :
		                         "connect refused";
		close(s);
		return -1;
	}
	fl = fcntl(s, F_GETFL);
	if (fl < 0 || fcntl(s, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    io_write_all(s, line, (size_t)n) < 0 || await_ready(s, end) < 0) {
		*why = "no ready (refused or at its limit)";
		close(s);
		return -1;
	}
	c->pid = 0;
	c->to = c->from = s;
	c->inlen = 0;
	c->via = SPF_VIA_SERVICE;
	c->started++;
	return 0;
}

/*
 * posix_spawn (vfork-like) rather than fork + exec: on this machine the
 * copy of smtpd's page tables cost about 1 ms of CPU per session
 * (bench/spf.py). Only the pipes and stderr go on: never the client's
 * socket, the spool or the CDB.
 */
static int
spawn(struct spf_child *c, const struct spf_child_cfg *cfg)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def;
	int req[2], res[2], e;
	char budget[32];
	char *argv[8];
	pid_t pid;

	if (pipe2(req, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(res, O_CLOEXEC) < 0) {
		close(req[0]);
		close(req[1]);
		return -1;
	}
	snprintf(budget, sizeof budget, "%llu",
	    (unsigned long long)child_budget(cfg));
	argv[0] = (char *)"postmaster-spf";
	argv[1] = (char *)"-s";
	argv[2] = (char *)cfg->dns_server;
	argv[3] = (char *)"-r";
	argv[4] = (char *)cfg->receiver;
	argv[5] = (char *)"-t";
	argv[6] = budget;
	argv[7] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
	e = posix_spawn_file_actions_adddup2(&fa, req[0], 0);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, res[1], 1);
	if (e == 0)
		e = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (e == 0)
		e = posix_spawn(&pid, cfg->program, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(req[0]);
	close(res[1]);
	if (e != 0) {
		close(req[1]);
		close(res[0]);
		errno = e;
		return -1;
	}
	c->pid = pid;
	c->to = req[1];
	c->from = res[0];
	c->inlen = 0;
	c->via = SPF_VIA_SPAWN;
	c->started++;
	return 0;
}

/* The service's child if there is one, else a spawned program. */
static int
start(struct spf_child *c, const struct spf_child_cfg *cfg)
{
	const char *why = "no spf-socket";

	if (cfg->socket && cfg->socket[0]) {
		if (connect_service(c, cfg, &why) == 0) {
			log_info("spf: checks by the service at %s",
			    cfg->socket);
			return 0;
		}
	}
	if (spawn(c, cfg) < 0)
		return -1;
	log_info("spf: checks by a spawned postmaster-spf (service: %s)", why);
	return 0;
}

int
spf_child_ask(struct spf_child *c, const struct spf_child_cfg *cfg,
    const struct spf_req *req, struct spf_res *res, const char **why)
{
	char line[SPF_PROTO_LINE_MAX];
	int64_t end = clock_now_ms() + (int64_t)cfg->budget_ms;
	size_t used;
	int n, r;

	*why = "";
	if ((n = spf_proto_req_format(req, line, sizeof line)) < 0) {
		*why = "request not representable";
		return -1;
	}
	if (c->to < 0 && start(c, cfg) < 0) {
		*why = "unable to start postmaster-spf";
		return -1;
	}
	if (io_write_all(c->to, line, (size_t)n) < 0) {
		*why = "postmaster-spf is gone";
		kill_child(c);
		return -1;
	}
	for (;;) {
		struct pollfd pfd = { c->from, POLLIN, 0 };
		int64_t left = end - clock_now_ms();
		ssize_t got;

		r = spf_proto_res_parse(c->in, c->inlen, res, &used);
		if (r == SPF_PROTO_OK) {
			memmove(c->in, c->in + used, c->inlen - used);
			c->inlen -= used;
			return 0;
		}
		if (r != SPF_PROTO_MORE) {
			*why = "bad answer from postmaster-spf";
			break;
		}
		if (left <= 0) {
			*why = "time budget for the SPF check spent";
			break;
		}
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno != EINTR) {
			*why = "poll";
			break;
		}
		if (r <= 0)
			continue;
		got = read(c->from, c->in + c->inlen, sizeof c->in - c->inlen);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			*why = "postmaster-spf ended without an answer";
			break;
		}
		c->inlen += (size_t)got;
	}
	kill_child(c);
	return -1;
}
