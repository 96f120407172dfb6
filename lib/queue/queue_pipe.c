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

int
queue_pipe_run(const struct queue_pipe_req *req, struct queue_pipe_res *res)
{
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	char *raw = NULL, *conv = NULL;
	size_t convlen = 0, convoff = 0, hdroff = 0;
	off_t pos = req->off;
	int cr = 0, in_open = 1, out_open = 1, save, n;
	int64_t deadline;
	pid_t pid, parent;

	memset(res, 0, sizeof *res);
	if ((raw = malloc(CHUNK)) == NULL || (conv = malloc(CHUNK + 1)) == NULL)
		goto fail;
	if (pipe2(inp, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 ||
	    pipe2(errp, O_CLOEXEC) < 0)
		goto fail;
	parent = getpid();
	if ((pid = fork()) < 0)
		goto fail;
	if (pid == 0)
		child(req, parent, inp[0], outp[1], errp[1]);
	close(inp[0]);
	close(outp[1]);
	close(errp[1]);
	inp[0] = outp[1] = errp[1] = -1;
	fcntl(inp[1], F_SETFL, O_NONBLOCK);
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	deadline = clock_now_ms() + (int64_t)req->timeout * 1000;

	while (in_open || out_open) {
		struct pollfd pf[2];
		int np = 0, ii = -1, oi = -1;
		int64_t left = deadline - clock_now_ms();

		if (req->stop && *req->stop) {
			res->stopped = 1;
			break;
		}
		if (left <= 0) {
			res->timed_out = 1;
			break;
		}
		/* Refill the converted buffer from the header, then the file. */
		if (in_open && convoff == convlen) {
			convoff = convlen = 0;
			if (hdroff < req->hdrlen) {
				convlen = req->hdrlen - hdroff < CHUNK ?
				    req->hdrlen - hdroff : CHUNK;
				memcpy(conv, req->hdr + hdroff, convlen);
				hdroff += convlen;
			} else if (pos < req->end) {
				size_t want = req->end - pos < CHUNK ?
				    (size_t)(req->end - pos) : CHUNK;
				ssize_t r = pread(req->msgfd, raw, want, pos);

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) {
					/* The spool file shrank or failed. */
					res->exec_errno = r < 0 ? errno : EIO;
					break;
				}
				pos += r;
				convlen = crlf_to_lf(raw, (size_t)r, conv, &cr);
			} else {
				if (cr)
					conv[convlen++] = '\r';
				cr = 0;
				close(inp[1]);
				inp[1] = -1;
				in_open = 0;
			}
		}
		if (in_open && convoff < convlen) {
			pf[np].fd = inp[1];
			pf[np].events = POLLOUT;
			ii = np++;
		}
		if (out_open) {
			pf[np].fd = outp[0];
			pf[np].events = POLLIN;
			oi = np++;
		}
		if (np == 0)
			continue;
		n = poll(pf, (nfds_t)np, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR)
			goto killfail;
		if (n <= 0)
			continue;
		if (ii >= 0 && pf[ii].revents) {
			ssize_t w = write(inp[1], conv + convoff, convlen - convoff);

			if (w > 0) {
				convoff += (size_t)w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				/* EPIPE: it stopped reading; its status decides. */
				close(inp[1]);
				inp[1] = -1;
				in_open = 0;
			}
		}
		if (oi >= 0 && pf[oi].revents) {
			char tmp[4096];
			ssize_t r = read(outp[0], tmp, sizeof tmp);

			if (r > 0) {
				size_t room = QUEUE_PIPE_OUT_MAX - res->outlen;
				size_t k = (size_t)r < room ? (size_t)r : room;

				memcpy(res->out + res->outlen, tmp, k);
				res->outlen += k;
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				out_open = 0;
			}
		}
	}
	/* Wait for the exit, still bounded by the deadline and *stop. */
	for (;;) {
		pid_t w;

		if (res->timed_out || res->stopped || res->exec_errno) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
		w = waitpid(pid, &res->wstatus, res->timed_out ||
		    res->stopped || res->exec_errno ? 0 : WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			res->wstatus = 0;
			break;
		}
		if (w == 0) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			if (req->stop && *req->stop)
				res->stopped = 1;
			else if (clock_now_ms() >= deadline)
				res->timed_out = 1;
			else
				nanosleep(&ts, NULL);
		}
	}
	res->out[res->outlen] = '\0';
	{
		int e = 0;

		if (read(errp[0], &e, sizeof e) == (ssize_t)sizeof e)
			res->exec_errno = e;
	}
	save = 0;
	goto out;
killfail:
	save = errno;
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	goto outerr;
fail:
	save = errno;
outerr:
out:
	free(raw);
	free(conv);
	if (inp[0] >= 0)
		close(inp[0]);
	if (inp[1] >= 0)
		close(inp[1]);
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
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
