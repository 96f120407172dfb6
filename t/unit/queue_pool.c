/* The worker pool's choices over workers it already has (no fork): the
 * same destination first, a worker of the old configuration retired,
 * replies read and checked, idle workers retired after their time. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "queue/queue_pool.h"
#include "queue/queue_worker.h"
#include "tap.h"

static void
never(void *arg, int fd)
{
	(void)arg;
	(void)fd;
}

/* Worker slot i of p, idle, its runner end fd, last destination key. */
static void
add(struct queue_pool *p, int fd, uint64_t key, unsigned gen)
{
	struct queue_pool_worker *w = &p->w[p->nw++];

	memset(w, 0, sizeof *w);
	w->pid = (pid_t)(1000 + p->nw);
	w->fd = fd;
	w->key = key;
	w->gen = gen;
	w->idle_since = 100;
}

int
main(void)
{
	static const char id[] = "06B15A497B567204E4023E69BFDCC9";
	struct queue_pool p;
	struct queue_pool_worker *w;
	char got[SPOOL_ID_SIZE], st, reply[64];
	int sv[3][2], all_busy, i;

	for (i = 0; i < 3; i++)
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv[i]) < 0)
			return 1;
	queue_pool_init(&p, 3, 2, never, NULL);
	p.gen = 1;
	add(&p, sv[0][0], 7, 1);
	add(&p, sv[1][0], 9, 0); /* forked before a SIGHUP */
	add(&p, sv[2][0], 9, 1);

	w = queue_pool_pick(&p, 9, 0, 100, &all_busy);
	is_int(w == &p.w[2], 1, "the idle worker that last went to 9");
	is_int(p.w[1].fd, -1, "the old configuration's idle worker retired");
	w = queue_pool_pick(&p, 5, 0, 100, &all_busy);
	is_int(w == &p.w[0], 1, "no worker for 5, all slots used: any idle");

	/* Busy with id: a reply of another id is refused. */
	is_int(queue_pool_send(&p.w[0], id, 5), 0, "handed over");
	is_int(p.w[0].used, 1, "counted");
	is_int((long long)p.w[0].key, 5, "its destination is now 5");
	w = queue_pool_pick(&p, 5, 0, 100, &all_busy);
	is_int(w == &p.w[2], 1, "worker 0 busy: the other live one");
	is_int(recv(sv[0][1], reply, sizeof reply, 0), 30, "the id arrived");
	is_int(queue_pool_input(&p, &p.w[0], got, &st, 150), 0,
	    "nothing to read yet");
	memcpy(reply, id, 30);
	reply[30] = QUEUE_WORKER_DONE;
	send(sv[0][1], reply, 31, 0);
	is_int(queue_pool_input(&p, &p.w[0], got, &st, 150), 1, "a reply");
	is_str(got, id, "for its id");
	is_int(st, QUEUE_WORKER_DONE, "done");
	is_int(p.w[0].id[0], 0, "idle again");
	is_int(p.w[0].fd, sv[0][0], "one of its 2 messages: still live");
	is_int(p.w[0].idle_since, 150, "idle since the reply");

	queue_pool_send(&p.w[0], id, 5);
	recv(sv[0][1], reply, sizeof reply, 0);
	reply[0] = '1';
	send(sv[0][1], reply, 31, 0);
	is_int(queue_pool_input(&p, &p.w[0], got, &st, 160), -1,
	    "a reply for another id");
	is_int(p.w[0].fd, -1, "... retires the worker");

	/* Worker 2 idle since 100: retired at 110, not before. */
	is_int(queue_pool_retire_idle(&p, 105), 110, "next retirement: 110");
	is_int(p.w[2].fd, sv[2][0], "not yet");
	queue_pool_retire_idle(&p, 110);
	is_int(p.w[2].fd, -1, "idle 10 s: retired");

	/* An exited worker holding a message gives it back. */
	snprintf(p.w[0].id, sizeof p.w[0].id, "%s", id);
	is_int(queue_pool_exited(&p, p.w[0].pid, 0, got), 1, "it held one");
	is_str(got, id, "that one");
	is_int((long long)p.nw, 2, "its slot is free");
	is_int(queue_pool_exited(&p, 4242, 0, got), 0, "not a worker");
	queue_pool_free(&p);
	return tap_done();
}
