/*
 * queue_pool: the queue runner's worker processes (queue_worker.h):
 * spawn, pick (queue_pick.h decides), hand a message over, read the
 * reply, retire, forget one that exited.
 *
 * Each worker holds one end of a SOCK_SEQPACKET socketpair; the pool
 * holds the other (fd), -1 once the worker is retired: it then sees end
 * of file and exits when done. A worker lives for max_use messages, or
 * until the configuration generation (gen, bumped by the caller on
 * SIGHUP) moves past the one it was forked with, or until it has been
 * idle too long (queue_pool_retire_idle).
 *
 * spawn forks and runs child(arg, fd) in the new process with only its
 * own end of the pool's sockets open; child must not return (it is
 * _exit(0)ed if it does). A runner killed by SIGKILL takes its workers
 * along (PR_SET_PDEATHSIG).
 */
#ifndef PM_QUEUE_POOL_H
#define PM_QUEUE_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spool/spool_id.h"

#define QUEUE_POOL_IDLE_SECONDS 10 /* an idle worker exits after this */

struct queue_pool_worker {
	pid_t pid;
	int fd;                 /* -1: retired, exits when it is done */
	char id[SPOOL_ID_SIZE]; /* the message it delivers, "" when idle */
	uint64_t key;           /* destination of its last message */
	unsigned used;          /* messages handed to it */
	unsigned gen;           /* configuration it was forked with */
	int dropped;            /* gave up root: no programs as other users */
	int64_t idle_since;
};

struct queue_pool {
	struct queue_pool_worker *w; /* max slots, nw used */
	size_t nw, max;
	unsigned gen;
	unsigned max_use;
	void (*child)(void *arg, int fd);
	void *arg;
};

/* 0, or -1 with errno (ENOMEM). */
int queue_pool_init(struct queue_pool *p, size_t max, unsigned max_use,
    void (*child)(void *, int), void *arg);
void queue_pool_free(struct queue_pool *p);

void queue_pool_retire(struct queue_pool_worker *w);

/*
 * The worker for a message whose first destination is key, spawned when
 * queue_pick says so. NULL with *all_busy = 0: only the worker it needs
 * is missing (one is being made room for); other messages may go on.
 */
struct queue_pool_worker *queue_pool_pick(struct queue_pool *p, uint64_t key,
    int privileged, int64_t now, int *all_busy);

/* Hands id to w; 0, or -1 (logged; w is retired). */
int queue_pool_send(struct queue_pool_worker *w, const char *id, uint64_t key);

/*
 * Reads w's reply. 1: the id it was given is done, in id (SPOOL_ID_SIZE
 * bytes), its status octet (QUEUE_WORKER_*) in *st, and w is idle (or
 * retired past max_use or the generation); 0: nothing to read; -1: w is
 * gone or misbehaved and is retired (the caller settles its message
 * when it exits).
 */
int queue_pool_input(struct queue_pool *p, struct queue_pool_worker *w,
    char *id, char *st, int64_t now);

/*
 * Forgets exited worker pid. 1 when it still held a message (its id in
 * id, SPOOL_ID_SIZE bytes); 0 when idle or not a worker of the pool.
 */
int queue_pool_exited(struct queue_pool *p, pid_t pid, int status, char *id);

/* Retires idle workers that outlived QUEUE_POOL_IDLE_SECONDS or the
 * generation; returns when the next one would be due (INT64_MAX). */
int64_t queue_pool_retire_idle(struct queue_pool *p, int64_t now);

/* Shutdown: busy workers get SIGTERM (they abandon their message), idle
 * ones end of file (they close their connections with QUIT). */
void queue_pool_stop(struct queue_pool *p);
/* Then SIGKILL to those still there. */
void queue_pool_kill(struct queue_pool *p);

#endif
