#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "spf/spf_service.h"

static volatile sig_atomic_t stop_now;

static void
on_stop(int sig)
{
	(void)sig;
	stop_now = 1;
}

static int
listen_on(const char *path, const char **why)
{
	struct sockaddr_un sa;
	struct stat st;
	int s;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		*why = "socket path too long";
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*why = "something other than a socket is in the way";
			errno = EEXIST;
			return -1;
		}
		unlink(path); /* a previous run's */
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0) {
		*why = "socket";
		return -1;
	}
	if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    chmod(path, 0660) < 0 || listen(s, 64) < 0) {
		*why = "bind or listen";
		close(s);
		return -1;
	}
	return s;
}

/* In the child: the connection becomes fd 0 and 1, nothing else of the
 * parent's stays open but stderr. */
static void
child(int s, int c, spf_service_fn fn, void *arg)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	close(s);
	if (dup2(c, 0) < 0 || dup2(c, 1) < 0)
		_exit(71);
	close_range(3, ~0U, 0);
	_exit(fn(arg));
}

static void
reap(unsigned *live)
{
	while (*live > 0 && waitpid(-1, NULL, WNOHANG) > 0)
		(*live)--;
}

int
spf_service_run(const char *path, unsigned max, spf_service_fn fn, void *arg,
    const char **why)
{
	struct sigaction sa;
	unsigned live = 0, refused = 0;
	pid_t pid;
	int s, c;

	*why = "";
	if (geteuid() == 0 || getuid() == 0) {
		*why = "refusing to run as root";
		errno = EPERM;
		return -1;
	}
	if ((s = listen_on(path, why)) < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	log_info("spf service: listening on %s, at most %u children", path,
	    max);
	while (!stop_now) {
		struct pollfd pfd = { s, POLLIN, 0 };

		/* a second's wait at most, so exited children are reaped */
		if (poll(&pfd, 1, 1000) <= 0) {
			reap(&live);
			continue;
		}
		c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		reap(&live); /* the limit counts live children only */
		if (live >= max) {
			/* smtpd sees EOF before "ready" and spawns */
			if (refused++ % 100 == 0)
				log_warn("spf service: %u children, refusing "
				         "(%u refused so far)",
				    live, refused);
			close(c);
			continue;
		}
		pid = fork();
		if (pid == 0)
			child(s, c, fn, arg);
		if (pid > 0)
			live++;
		else
			log_warn("spf service: fork: %s", strerror(errno));
		close(c);
	}
	log_info("spf service: stopping");
	unlink(path);
	close(s);
	return 0;
}
