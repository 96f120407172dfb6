#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/crlf.h"
#include "queue/queue_pipe.h"

#define CHUNK 65536

/* The child: only async-signal-safe calls until execve. */
static void
child(const struct queue_pipe_req *req, pid_t parent, int in, int out,
    int errp)
{
	sigset_t all;
	int e;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	setpgid(0, 0);
	/* A runner killed mid-delivery takes its program along. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		goto fail;
	if (req->setuser) {
		/* The runner keeps root only as its saved uid (INTERNALS). */
		if (geteuid() != 0 && seteuid(0) < 0)
			goto fail;
		if (initgroups(req->user, req->gid) < 0 ||
		    setgid(req->gid) < 0 || setuid(req->uid) < 0)
			goto fail;
		if (req->uid != 0 && (setuid(0) == 0 || getuid() != req->uid)) {
			errno = EPERM;
			goto fail;
		}
	}
	/*
	 * Changing credentials clears the parent-death signal (prctl(2)),
	 * so arm it again; and a worker that died before it was armed at
	 * all never sends it: without this check the program would run as
	 * an orphan on an empty stdin and deliver an empty message, then
	 * the real one on the next attempt.
	 */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	if (chdir(req->dir ? req->dir : "/") < 0 && chdir("/") < 0)
		goto fail;
	/* Keep errp (CLOEXEC) open: exec success closes it. */
	closefrom(3);
	execve(req->argv[0], req->argv, req->envp);
fail:
	e = errno;
	if (write(errp, &e, sizeof e) < 0)
		_exit(127);
	_exit(127);
}

/* One run of a program: our ends of its pipes and the message stream. */
struct run {
	int inp[2], outp[2], errp[2];
	char *raw, *conv; /* CHUNK read from the file; converted */
	size_t convlen, convoff, hdroff;
	off_t pos;
	int cr, in_open, out_open;
	int64_t deadline;
	pid_t pid;
};

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Pipes, fork, the child; 0, or -1 with errno. */
static int
run_start(const struct queue_pipe_req *req, struct run *r)
{
	pid_t parent;

	if ((r->raw = malloc(CHUNK)) == NULL ||
	    (r->conv = malloc(CHUNK + 1)) == NULL)
		return -1;
	if (pipe2(r->inp, O_CLOEXEC) < 0 || pipe2(r->outp, O_CLOEXEC) < 0 ||
	    pipe2(r->errp, O_CLOEXEC) < 0)
		return -1;
	parent = getpid();
	if ((r->pid = fork()) < 0)
		return -1;
	if (r->pid == 0)
		child(req, parent, r->inp[0], r->outp[1], r->errp[1]);
	close_fd(&r->inp[0]);
	close_fd(&r->outp[1]);
	close_fd(&r->errp[1]);
	fcntl(r->inp[1], F_SETFL, O_NONBLOCK);
	fcntl(r->outp[0], F_SETFL, O_NONBLOCK);
	r->deadline = clock_now_ms() + (int64_t)req->timeout * 1000;
	return 0;
}

/* Refills the converted buffer from the header, then the file; at the
 * end closes the program's stdin. 0, 1 to try again (EINTR), -1 when
 * the spool file shrank or failed (res->exec_errno). */
static int
run_refill(const struct queue_pipe_req *req, struct queue_pipe_res *res,
    struct run *r)
{
	r->convoff = r->convlen = 0;
	if (r->hdroff < req->hdrlen) {
		r->convlen = req->hdrlen - r->hdroff < CHUNK ?
		    req->hdrlen - r->hdroff : CHUNK;
		memcpy(r->conv, req->hdr + r->hdroff, r->convlen);
		r->hdroff += r->convlen;
	} else if (r->pos < req->end) {
		size_t want = req->end - r->pos < CHUNK ?
		    (size_t)(req->end - r->pos) : CHUNK;
		ssize_t n = pread(req->msgfd, r->raw, want, r->pos);

		if (n < 0 && errno == EINTR)
			return 1;
		if (n <= 0) {
			res->exec_errno = n < 0 ? errno : EIO;
			return -1;
		}
		r->pos += n;
		r->convlen = crlf_to_lf(r->raw, (size_t)n, r->conv, &r->cr);
	} else {
		if (r->cr)
			r->conv[r->convlen++] = '\r';
		r->cr = 0;
		close_fd(&r->inp[1]);
		r->in_open = 0;
	}
	return 0;
}

/* Its output, kept up to QUEUE_PIPE_OUT_MAX, the rest dropped. */
static void
run_read_out(struct queue_pipe_res *res, struct run *r)
{
	char tmp[4096];
	ssize_t n = read(r->outp[0], tmp, sizeof tmp);

	if (n > 0) {
		size_t room = QUEUE_PIPE_OUT_MAX - res->outlen;
		size_t k = (size_t)n < room ? (size_t)n : room;

		memcpy(res->out + res->outlen, tmp, k);
		res->outlen += k;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		r->out_open = 0;
	}
}

/* One poll on its stdin (when there is something to write) and output. */
static int
run_poll(struct run *r, int64_t left)
{
	struct pollfd pf[2];
	int np = 0, ii = -1, oi = -1, n;

	if (r->in_open && r->convoff < r->convlen) {
		pf[np].fd = r->inp[1];
		pf[np].events = POLLOUT;
		ii = np++;
	}
	if (r->out_open) {
		pf[np].fd = r->outp[0];
		pf[np].events = POLLIN;
		oi = np++;
	}
	if (np == 0)
		return 0;
	n = poll(pf, (nfds_t)np, (int)(left > 1000 ? 1000 : left));
	if (n < 0 && errno != EINTR)
		return -1;
	if (n <= 0)
		return 0;
	if (ii >= 0 && pf[ii].revents) {
		ssize_t w = write(r->inp[1], r->conv + r->convoff,
		    r->convlen - r->convoff);

		if (w > 0) {
			r->convoff += (size_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			/* EPIPE: it stopped reading; its status decides. */
			close_fd(&r->inp[1]);
			r->in_open = 0;
		}
	}
	return oi >= 0 && pf[oi].revents ? 1 : 0;
}

/* Feeds stdin and reads the output until both are closed, the deadline
 * or *stop; 0, or -1 with errno (poll failed). */
static int
run_feed(const struct queue_pipe_req *req, struct queue_pipe_res *res,
    struct run *r)
{
	int rc;

	r->in_open = r->out_open = 1;
	while (r->in_open || r->out_open) {
		int64_t left = r->deadline - clock_now_ms();

		if (req->stop && *req->stop) {
			res->stopped = 1;
			break;
		}
		if (left <= 0) {
			res->timed_out = 1;
			break;
		}
		if (r->in_open && r->convoff == r->convlen &&
		    (rc = run_refill(req, res, r)) != 0) {
			if (rc < 0)
				break;
			continue;
		}
		if ((rc = run_poll(r, left)) < 0)
			return -1;
		if (rc > 0)
			run_read_out(res, r);
	}
	return 0;
}

/* Waits for the exit, still bounded by the deadline and *stop; one that
 * must stop is killed with its process group. */
static void
run_wait(const struct queue_pipe_req *req, struct queue_pipe_res *res,
    struct run *r)
{
	int e = 0;

	for (;;) {
		int kill_it = res->timed_out || res->stopped || res->exec_errno;
		pid_t w;

		if (kill_it) {
			kill(-r->pid, SIGKILL);
			kill(r->pid, SIGKILL);
		}
		w = waitpid(r->pid, &res->wstatus, kill_it ? 0 : WNOHANG);
		if (w == r->pid)
			break;
		if (w < 0 && errno != EINTR) {
			res->wstatus = 0;
			break;
		}
		if (w == 0) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			if (req->stop && *req->stop)
				res->stopped = 1;
			else if (clock_now_ms() >= r->deadline)
				res->timed_out = 1;
			else
				nanosleep(&ts, NULL);
		}
	}
	res->out[res->outlen] = '\0';
	if (read(r->errp[0], &e, sizeof e) == (ssize_t)sizeof e)
		res->exec_errno = e;
}

int
queue_pipe_run(const struct queue_pipe_req *req, struct queue_pipe_res *res)
{
	struct run r;
	int save = 0, i;

	memset(res, 0, sizeof *res);
	memset(&r, 0, sizeof r);
	for (i = 0; i < 2; i++)
		r.inp[i] = r.outp[i] = r.errp[i] = -1;
	r.pos = req->off;
	r.pid = -1;
	if (run_start(req, &r) < 0) {
		save = errno;
	} else if (run_feed(req, res, &r) < 0) {
		save = errno;
		kill(-r.pid, SIGKILL);
		kill(r.pid, SIGKILL);
		waitpid(r.pid, NULL, 0);
	} else {
		run_wait(req, res, &r);
	}
	free(r.raw);
	free(r.conv);
	for (i = 0; i < 2; i++) {
		close_fd(&r.inp[i]);
		close_fd(&r.outp[i]);
		close_fd(&r.errp[i]);
	}
	if (save) {
		errno = save;
		return -1;
	}
	return 0;
}

enum queue_outcome
queue_pipe_exit_class(int code, const char **status, const char **name)
{
	static const struct {
		int code;
		const char *name, *status;
	} tab[] = {
		{ 64, "EX_USAGE", "5.3.0" }, { 65, "EX_DATAERR", "5.6.0" },
		{ 66, "EX_NOINPUT", "5.3.0" }, { 67, "EX_NOUSER", "5.1.1" },
		{ 68, "EX_NOHOST", "5.1.2" }, { 69, "EX_UNAVAILABLE", "5.3.0" },
		{ 70, "EX_SOFTWARE", "5.3.0" }, { 71, "EX_OSERR", "5.3.0" },
		{ 72, "EX_OSFILE", "5.3.0" }, { 73, "EX_CANTCREAT", "5.3.0" },
		{ 74, "EX_IOERR", "5.3.0" }, { 75, "EX_TEMPFAIL", "4.3.0" },
		{ 76, "EX_PROTOCOL", "5.5.0" }, { 77, "EX_NOPERM", "5.7.1" },
		{ 78, "EX_CONFIG", "5.3.5" }
	};
	size_t i;

	*name = "";
	if (code == 0) {
		*status = "2.0.0";
		return QUEUE_OK;
	}
	for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (tab[i].code == code) {
			*status = tab[i].status;
			*name = tab[i].name;
			return code == 75 ? QUEUE_TEMP : QUEUE_PERM;
		}
	*status = "4.3.0";
	return QUEUE_TEMP;
}

/* Output as one line: controls become spaces, runs squeezed. */
static void
one_line(const char *in, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	int sp = 1;

	for (i = 0; i < n && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (!sp)
				out[o++] = ' ';
			sp = 1;
			continue;
		}
		out[o++] = (char)c;
		sp = 0;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

enum queue_outcome
queue_pipe_classify(const struct queue_pipe_res *res, char *diag, size_t cap)
{
	char text[QUEUE_PIPE_OUT_MAX + 1];
	const char *status, *name;
	enum queue_outcome o;

	one_line(res->out, res->outlen, text, sizeof text);
	if (res->exec_errno) {
		snprintf(diag, cap, "x-unix; 4.3.0 cannot run program: %s",
		    strerror(res->exec_errno));
		return QUEUE_TEMP;
	}
	if (res->timed_out || res->stopped) {
		snprintf(diag, cap, "x-unix; 4.4.7 %s%s%s",
		    res->timed_out ? "program timed out" :
		    "delivery abandoned at shutdown", text[0] ? ": " : "", text);
		return res->timed_out ? QUEUE_TEMP : QUEUE_ABANDONED;
	}
	if (WIFSIGNALED(res->wstatus)) {
		snprintf(diag, cap, "x-unix; 4.3.0 program killed by signal %d%s%s",
		    WTERMSIG(res->wstatus), text[0] ? ": " : "", text);
		return QUEUE_TEMP;
	}
	o = queue_pipe_exit_class(WEXITSTATUS(res->wstatus), &status, &name);
	if (o == QUEUE_OK)
		snprintf(diag, cap, "x-unix; 2.0.0 delivered%s%s",
		    text[0] ? ": " : "", text);
	else
		snprintf(diag, cap, "x-unix; %s exit %d%s%s%s%s%s", status,
		    WEXITSTATUS(res->wstatus), name[0] ? " (" : "", name,
		    name[0] ? ")" : "", text[0] ? ": " : "", text);
	return o;
}
