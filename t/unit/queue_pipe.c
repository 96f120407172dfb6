/*
 * queue_pipe: a delivery program does not outlive a worker that is
 * killed. Root only (the program runs as another user, as a [pipe] user
 * or a local name's account does); skipped otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "queue/queue_pipe.h"
#include "tap.h"

/* The first child of pid (Linux /proc), or 0 until one exists. */
static pid_t
first_child(pid_t pid)
{
	char path[64];
	FILE *f;
	long c = 0;

	snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", (long)pid,
	    (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &c) != 1)
		c = 0;
	fclose(f);
	return (pid_t)c;
}

/* 1 while pid exists and is no zombie. */
static int
alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] == '\0')
		return 0;
	return p[2] != 'Z';
}

/* The worker: runs sleep(1) as the given user until it is killed. */
static void
worker(const struct passwd *pw, int msgfd)
{
	static char *const argv[] = { "/bin/sleep", "30", NULL };
	static char *const envp[] = { "PATH=/bin:/usr/bin", NULL };
	static volatile sig_atomic_t stop;
	struct queue_pipe_req req = { 0 };
	struct queue_pipe_res res;

	req.argv = argv;
	req.envp = envp;
	req.setuser = 1;
	req.user = pw->pw_name;
	req.uid = pw->pw_uid;
	req.gid = pw->pw_gid;
	req.msgfd = msgfd;
	req.off = 0;
	req.end = 0;
	req.timeout = 60;
	req.stop = &stop;
	queue_pipe_run(&req, &res);
	_exit(0);
}

int
main(void)
{
	struct passwd *pw;
	pid_t w, prog = 0;
	int64_t end;
	int msgfd, gone = 0;

	if (geteuid() != 0 || (pw = getpwnam("daemon")) == NULL) {
		printf("1..0 # SKIP needs root and the user daemon\n");
		return 0;
	}
	if ((msgfd = open("/dev/null", O_RDONLY)) < 0)
		return 1;
	if ((w = fork()) < 0)
		return 1;
	if (w == 0)
		worker(pw, msgfd);
	for (end = clock_now_ms() + 10000; clock_now_ms() < end;) {
		if ((prog = first_child(w)) != 0)
			break;
		usleep(10000);
	}
	ok(prog != 0, "the worker started its program");
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);
	/* The program changed its credentials (setuid) before exec, which
	 * clears a parent-death signal armed before: it must be re-armed. */
	for (end = clock_now_ms() + 10000; prog && clock_now_ms() < end;) {
		if (!alive(prog)) {
			gone = 1;
			break;
		}
		usleep(10000);
	}
	ok(gone, "a program run as another user dies with its killed worker");
	if (prog && !gone)
		kill(prog, SIGKILL);
	return done_testing();
}
