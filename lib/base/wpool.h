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
 * one, or when its generation is below the floor; the worker then sees
 * end of file and exits. A worker that dies is forgotten (its channel's
 * end of file, then waitpid).
 *
 * Generations say what a worker's copy of the parent's memory holds: a
 * worker is forked with the pool's gen, a job asks for a worker of at
 * least min_gen (the caller's generation of what the job needs, such as
 * the credentials it loaded last), and every worker below floor (the
 * caller threw everything away) is retired. At most cap workers are
 * alive; retired ones still ending keep an entry (the table has 2 cap)
 * until reaped, and never keep a live one from being forked.
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
	size_t n, slots;  /* entries used, of 2 cap */
	size_t cap;       /* at most this many workers alive at once */
	uint64_t max_use; /* jobs per worker */
	int64_t idle_ms;  /* an idle worker retires after this */
	uint64_t gen;     /* a new worker's generation (the caller's) */
	uint64_t floor;   /* workers below it retire */
	wpool_start_fn start;
	wpool_job_fn run;
	void *arg;
};

/*
 * The parent holds a channel per worker: raises the soft descriptor
 * limit to the hard one and returns cap, or fewer when cap workers and
 * `others` descriptors would not fit under it.
 */
size_t wpool_fit(size_t cap, size_t others);

/* 0, or -1 with errno (ENOMEM). Opens /dev/null on whichever of fds
 * 0-2 are closed (a job dup2s over them, never over a channel). */
int wpool_init(struct wpool *p, size_t cap, uint64_t max_use, int64_t idle_ms,
    wpool_start_fn start, wpool_job_fn run, void *arg);
/* Retires every worker (each ends after its job) and frees the table. */
void wpool_free(struct wpool *p);

/*
 * Hands job to an idle worker of generation min_gen or later, forking
 * one if there is none (fewer than cap busy): 0; or -1 with a static
 * reason in *why (cap busy: errno EAGAIN; fork or send; a job of no
 * octets or too many descriptors: EINVAL). The caller keeps its own
 * copies of the job's descriptors.
 */
int wpool_hand(struct wpool *p, const struct wpool_job *job, uint64_t min_gen,
    int64_t now, const char **why);

size_t wpool_busy(const struct wpool *p);

/* The workers' channels to poll (POLLIN) into pfd; returns how many. */
size_t wpool_pollfds(const struct wpool *p, struct pollfd *pfd, size_t cap);

/*
 * After poll: the done octets and the ends of the workers whose
 * channels are in pfd[0..n); then the idle workers retired whose time,
 * use or generation is over, and exited workers reaped (waitpid on
 * their pids only). Returns when to call it again (the next idle
 * retirement, or soon while retired workers are still ending), or -1
 * for never (for the caller's poll timeout).
 */
int64_t wpool_tend(struct wpool *p, const struct pollfd *pfd, size_t n,
    int64_t now);

#endif
