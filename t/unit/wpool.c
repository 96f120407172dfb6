/* The worker pool over real forks and socketpairs: a worker used again,
 * retired by use, generation and idleness, its death noticed, the cap
 * held, and nothing of the other workers' open in it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/wpool.h"
#include "tap.h"

static int started;

static void
start(void *arg)
{
	(void)arg;
	started = 1;
}

static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.' && atoi(e->d_name) > 2;
	closedir(d);
	return n - 1; /* the directory's own */
}

/* msg "pid": our pid on fd[0]; "hold": first a byte from fd[1];
 * "die": exit 3; "fds": how many descriptors are open here. */
static int
job(void *arg, struct wpool_job *j)
{
	char out[64], b;
	int n;

	(void)arg;
	if (j->len == 3 && memcmp(j->msg, "die", 3) == 0)
		return 3;
	if (j->len == 4 && memcmp(j->msg, "hold", 4) == 0 &&
	    read(j->fd[1], &b, 1) != 1)
		return 4;
	if (j->len == 3 && memcmp(j->msg, "fds", 3) == 0)
		n = snprintf(out, sizeof out, "%d %d", open_fds(), started);
	else
		n = snprintf(out, sizeof out, "%ld", (long)getpid());
	return write(j->fd[0], out, (size_t)n) == n ? 0 : 5;
}

/* Polls the pool until no worker is busy (10 s at most). */
static void
settle(struct wpool *p)
{
	int64_t until = clock_now_ms() + 10000;
	struct pollfd pfd[16];
	size_t n;

	while (clock_now_ms() < until) {
		if (wpool_busy(p) == 0)
			return;
		n = wpool_pollfds(p, pfd, 16);
		poll(pfd, n, 50);
		wpool_tend(p, pfd, n, clock_now_ms());
	}
}

/* Waits until the pool's table has n entries (retired ones reaped). */
static void
shrink_to(struct wpool *p, size_t n)
{
	int64_t until = clock_now_ms() + 10000;

	while (p->n > n && clock_now_ms() < until) {
		wpool_tend(p, NULL, 0, clock_now_ms());
		usleep(10000);
	}
}

static uint64_t min_gen;

static size_t
live_count(const struct wpool *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->w[i].ch >= 0;
	return n;
}

/* Hands msg with a fresh pipe; returns what the worker wrote. */
static long
ask(struct wpool *p, const char *msg, char *out, size_t cap)
{
	struct wpool_job j;
	const char *why = "";
	int fd[2];
	ssize_t n;

	if (pipe(fd) < 0)
		return -1;
	memset(&j, 0, sizeof j);
	j.fd[0] = fd[1];
	j.nfd = 1;
	j.len = strlen(msg);
	memcpy(j.msg, msg, j.len);
	if (wpool_hand(p, &j, min_gen, clock_now_ms(), &why) < 0) {
		diag("hand: %s", why);
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	close(fd[1]);
	n = read(fd[0], out, cap - 1);
	close(fd[0]);
	out[n > 0 ? n : 0] = '\0';
	settle(p);
	return n > 0 ? strtol(out, NULL, 10) : -1;
}

int
main(void)
{
	struct wpool p;
	struct wpool_job j;
	char out[64];
	const char *why;
	int base = open_fds();
	long a, b, c;
	int hold[2][2], res[2][2], i;

	signal(SIGPIPE, SIG_IGN);
	if (wpool_init(&p, 2, 3, 60000, start, job, NULL) < 0)
		return 1;

	a = ask(&p, "pid", out, sizeof out);
	ok(a > 0 && a != getpid(), "a forked worker served the job");
	b = ask(&p, "pid", out, sizeof out);
	is_int(b, a, "the same worker served the second job");
	ask(&p, "fds", out, sizeof out);
	/* above 2: its channel and the job's pipe, not the test's own, not
	 * the first job's pipe (open in the parent when it forked) */
	ok(base >= 0, "the test's descriptors counted");
	is_str(out, "2 1",
	    "the worker: only its channel and the job's "
	    "descriptor above 2; the start hook ran");

	/* max_use 3: the third job was its last */
	shrink_to(&p, 0);
	is_int((long long)p.n, 0, "used 3 times: retired and reaped");
	c = ask(&p, "pid", out, sizeof out);
	ok(c > 0 && c != a, "the next job forked a new worker");

	/* a job that needs what the parent loaded after c's fork */
	p.gen = min_gen = 1;
	a = ask(&p, "pid", out, sizeof out);
	ok(a > 0 && a != c, "a job of a newer generation: a new worker");
	min_gen = 0;
	b = ask(&p, "pid", out, sizeof out);
	is_int(b, a, "an older job: the most recently used worker");
	is_int((long long)p.n, 2, "the older worker stays for older jobs");
	p.floor = 1;
	shrink_to(&p, 1);
	is_int((long long)p.n, 1, "below the floor: retired, reaped");
	ok(kill((pid_t)c, 0) < 0 && errno == ESRCH, "and its process");

	/* the table full of live workers, then a generation nobody has:
	 * the least recently used idle one makes room, nothing is refused */
	p.gen = min_gen = 2;
	ask(&p, "pid", out, sizeof out);
	is_int((long long)live_count(&p), 2, "two workers alive, the cap");
	p.gen = min_gen = 3;
	c = ask(&p, "pid", out, sizeof out);
	ok(c > 0, "a third generation's job is served at the cap");
	min_gen = 0;

	/* two held jobs fill the cap */
	for (i = 0; i < 2; i++) {
		if (pipe(hold[i]) < 0 || pipe(res[i]) < 0)
			return 1;
		memset(&j, 0, sizeof j);
		j.fd[0] = res[i][1];
		j.fd[1] = hold[i][0];
		j.nfd = 2;
		j.len = 4;
		memcpy(j.msg, "hold", 4);
		is_int(wpool_hand(&p, &j, 0, clock_now_ms(), &why), 0,
		    "a held job handed");
		close(res[i][1]);
		close(hold[i][0]);
	}
	is_int((long long)wpool_busy(&p), 2, "two busy");
	memset(&j, 0, sizeof j);
	j.len = 3;
	memcpy(j.msg, "pid", 3);
	errno = 0;
	is_int(wpool_hand(&p, &j, 0, clock_now_ms(), &why), -1,
	    "at the cap: refused");
	is_int(errno, EAGAIN, "with EAGAIN");
	for (i = 0; i < 2; i++) {
		if (write(hold[i][1], "x", 1) != 1)
			return 1;
		close(hold[i][1]);
		if (read(res[i][0], out, sizeof out) <= 0)
			return 1;
		close(res[i][0]);
	}
	settle(&p);
	is_int((long long)wpool_busy(&p), 0, "both done");

	/* a worker that dies in its job */
	is_int(ask(&p, "die", out, sizeof out), -1,
	    "the dying job wrote "
	    "nothing");
	is_int((long long)wpool_busy(&p), 0,
	    "its death is not a busy "
	    "worker");
	a = ask(&p, "pid", out, sizeof out);
	ok(a > 0, "the pool goes on after a death");

	/* idle for longer than idle_ms */
	p.idle_ms = 0;
	wpool_tend(&p, NULL, 0, clock_now_ms() + 1);
	shrink_to(&p, 0);
	is_int((long long)p.n, 0, "idle workers retired and reaped");

	wpool_free(&p);
	while (wait(NULL) > 0)
		;

	/* one channel per worker: the cap fits under RLIMIT_NOFILE, whose
	 * soft limit is raised to the hard one first */
	{
		struct rlimit rl = { 32, 64 };

		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 1;
		is_int((long long)wpool_fit(100, 16), 48,
		    "100 workers and 16 others under a hard limit of 64: 48");
		getrlimit(RLIMIT_NOFILE, &rl);
		is_int((long long)rl.rlim_cur, 64,
		    "the soft limit raised to the hard");
		is_int((long long)wpool_fit(10, 16), 10,
		    "10 workers fit as asked");
	}
	return tap_done();
}
