/* postmaster-spf's sandbox, applied in a child of this test: root is
 * refused; then no fork, the limits, and with Landlock no file opened and
 * no signal to a process outside. */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "spf/spf_sandbox.h"
#include "tap.h"

/* Runs fn in a child as nobody; its exit status. */
static int
in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (getuid() == 0 &&
		    (setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
		        setuid(65534) < 0))
			_exit(100);
		_exit(fn());
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int
limits_hold(void)
{
	const char *why;
	struct rlimit rl;

	if (spf_sandbox_limits(&why) < 0)
		return 1;
	if (fork() != -1 || errno != EAGAIN)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
	    rl.rlim_max != SPF_SANDBOX_NOFILE)
		return 3;
	if (getrlimit(RLIMIT_CPU, &rl) < 0 ||
	    rl.rlim_max != SPF_SANDBOX_CPU_SECS)
		return 4;
	return 0;
}

static int
landlock_holds(void)
{
	const char *why;
	int abi;

	if (spf_sandbox_limits(&why) < 0)
		return 1;
	if (open("/etc/passwd", O_RDONLY) < 0)
		return 2; /* readable before */
	if (spf_sandbox_lock(53, &abi, &why) < 0)
		return 3;
	if (abi == 0)
		return 42; /* no Landlock in this kernel */
	if (open("/etc/passwd", O_RDONLY) >= 0 || errno != EACCES)
		return 4;
	if (open("/tmp", O_RDONLY | O_DIRECTORY) >= 0)
		return 5;
	if (abi >= 6 && (kill(getppid(), 0) == 0 || errno != EPERM))
		return 6;
	return 0;
}

static int
root_refused(void)
{
	const char *why;

	return spf_sandbox_limits(&why) < 0 ? 0 : 1;
}

int
main(void)
{
	int r;

	is_int(in_child(limits_hold), 0,
	    "limits: no fork, 16 descriptors, 30 s of CPU");
	r = in_child(landlock_holds);
	if (r == 42)
		skip(1, "the kernel has no Landlock");
	else
		is_int(r, 0, "Landlock: no file opened, no signal outside");
	if (getuid() == 0)
		is_int(root_refused(), 0, "root is refused");
	else
		skip(1, "not root");
	return done_testing();
}
