/*
 * queue_pipe: run one delivery program (a [pipe] or a "|/path" target).
 *
 * fork + execve, never a shell. The child gets its own process group, a
 * parent-death signal (SIGTERM: a runner killed mid-delivery takes its
 * programs with it, and the delivery stays pending), stdin = the message,
 * stdout and stderr = one pipe back to us, every other fd closed, the
 * working directory "/" (or the user's home), and the environment the
 * caller built. When req->uid differs from ours the child first takes that
 * user's groups, gid and uid (only root can; we check it stuck).
 *
 * The message goes to stdin as procmail and Maildir tools expect it: LF
 * line ends (the spool's CRLF converted, a bare CR kept), preceded by the
 * caller's header lines (the runner's Return-Path). A program that exits
 * without reading everything is not an error: its exit status decides.
 *
 * Output is kept up to QUEUE_PIPE_OUT_MAX bytes; the rest is read and
 * dropped so the program never blocks on a full pipe. A program still
 * running after req->timeout seconds, or when *req->stop becomes nonzero
 * (SIGTERM to the runner), is killed with its process group (SIGKILL).
 *
 * queue_pipe_classify() maps the result to sysexits(3) as sendmail,
 * Postfix and procmail do: 0 delivered; 75 (EX_TEMPFAIL), death by a
 * signal, a timeout and any exit outside 64..78 temporary; the rest of
 * 64..78 permanent; a program killed because of *req->stop is
 * QUEUE_ABANDONED (not an attempt). It writes an RFC 3464 diagnostic
 * "x-unix; X.Y.Z exit N (EX_NAME): output".
 */
#ifndef PM_QUEUE_PIPE_H
#define PM_QUEUE_PIPE_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "queue/queue_outcome.h"

#define QUEUE_PIPE_OUT_MAX 600

struct queue_pipe_req {
	char *const *argv;
	char *const *envp;
	int setuser;		/* switch to user/uid/gid in the child */
	const char *user;	/* for initgroups */
	uid_t uid;
	gid_t gid;
	const char *dir;	/* working directory, or NULL for "/" */
	const char *hdr;	/* prepended to stdin verbatim */
	size_t hdrlen;
	int msgfd;		/* the message, CRLF, read with pread */
	off_t off;
	off_t end;
	unsigned timeout;	/* seconds */
	volatile sig_atomic_t *stop;
};

struct queue_pipe_res {
	int wstatus;		/* from waitpid */
	int timed_out;
	int stopped;		/* killed because of *stop */
	int exec_errno;		/* nonzero: could not start */
	char out[QUEUE_PIPE_OUT_MAX + 1];
	size_t outlen;
};

/* Returns 0 when the program ran (see res), -1/errno if it could not. */
int queue_pipe_run(const struct queue_pipe_req *req, struct queue_pipe_res *res);

enum queue_outcome queue_pipe_classify(const struct queue_pipe_res *res,
    char *diag, size_t cap);

/* enum queue_outcome and X.Y.Z for an exit code (pure, for tests). */
enum queue_outcome queue_pipe_exit_class(int code, const char **status,
    const char **name);

#endif
