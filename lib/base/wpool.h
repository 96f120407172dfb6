/*
 * wpool: forked workers of a long-running service (postmaster-tlsd -s,
 * postmaster-spf -l) that serve one job at a time and are used again
 * for the next one. On the development VM a fork of a process with
 * GnuTLS or libspf2 loaded, its copy-on-write faults and its exit cost
 * more CPU than the TLS handshake or the SPF check the child then does
 * (bench/tls.sh, bench/spf.py); a worker that lives for max_use jobs
 * pays them once for all of those.
 *
 * The parent hands a job -- up to WPOOL_MAX_FDS descriptors and a short
 * message -- to an idle worker over that worker's SOCK_SEQPACKET
 * socketpair (SCM_RIGHTS), forking a new worker when none is idle. The
 * worker answers one octet when the job is done. The parent retires a
 * worker by closing its end: after max_use jobs, after idle_ms without
 * one, or when the generation moved on (the parent loaded something,
 * such as new credentials, that the worker's copy of its memory lacks);
 * the worker then sees end of file and exits. A worker that dies is
 * forgotten (its channel's end of file, then waitpid).
 *
 * A worker keeps nothing of the parent's but fds 0-2, its own channel
 * and memory: in a new worker the pool closes every other descriptor
 * (listeners, the other workers' channels, the job being handed: a
 * client's socket held there would keep that connection open after its
 * session) before start(arg) runs there.
 */
#ifndef PM_WPOOL_H
#define PM_WPOOL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WPOOL_MAX_FDS 2
#define WPOOL_MSG_MAX 512

struct wpool_job {
	int fd[WPOOL_MAX_FDS];
	size_t nfd;
	char msg[WPOOL_MSG_MAX];
	size_t len;
};

/* In a new worker, once, before its first job (may _exit). */
typedef void (*wpool_start_fn)(void *arg);
/* In a worker: one job. 0: ready for the next; else the worker exits
 * with that status. The pool closes the job's descriptors after it
 * (the first nfd: a job that closed them sets nfd to 0). */
typedef int (*wpool_job_fn)(void *arg, struct wpool_job *job);

struct wpool_worker {
	pid_t pid;
	int ch;        /* the parent's end; -1: retired, exits when done */
	int busy;      /* a job handed, its octet not yet back */
	uint64_t used; /* jobs handed */
	uint64_t gen;  /* the pool's generation when it was forked */
	int64_t since; /* idle since (ms, clock_now_ms) */
};

struct wpool {
	struct wpool_worker *w;
	size_t n, cap;    /* cap: at most this many workers at once */
	uint64_t max_use; /* jobs per worker */
	int64_t idle_ms;  /* an idle worker retires after this */
	uint64_t gen;     /* the caller bumps it; older workers retire */
	wpool_start_fn start;
	wpool_job_fn run;
	void *arg;
};

/* 0, or -1 with errno (ENOMEM). Opens /dev/null on whichever of fds
 * 0-2 are closed (a job dup2s over them, never over a channel). */
int wpool_init(struct wpool *p, size_t cap, uint64_t max_use, int64_t idle_ms,
    wpool_start_fn start, wpool_job_fn run, void *arg);
/* Retires every worker (each ends after its job) and frees the table. */
void wpool_free(struct wpool *p);

/*
 * Hands job to an idle worker of the current generation, forking one if
 * there is none and fewer than cap workers are busy: 0; or -1 with a
 * static reason in *why (all cap busy: errno EAGAIN; fork or send).
 * The caller keeps its own copies of the job's descriptors.
 */
int wpool_hand(struct wpool *p, const struct wpool_job *job, int64_t now,
    const char **why);

size_t wpool_busy(const struct wpool *p);

/* The workers' channels to poll (POLLIN) into pfd; returns how many. */
size_t wpool_pollfds(const struct wpool *p, struct pollfd *pfd, size_t cap);

/*
 * After poll: the done octets and the ends of the workers whose
 * channels are in pfd[0..n); then the idle workers retired whose time,
 * use or generation is over, and exited workers reaped (waitpid on
 * their pids only). Returns the time of the next idle retirement, or
 * -1 for none (for the caller's poll timeout).
 */
int64_t wpool_tend(struct wpool *p, const struct pollfd *pfd, size_t n,
    int64_t now);

#endif
