#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
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

int
spf_service_run(const char *path, unsigned max, unsigned long max_use,
    wpool_start_fn start, wpool_job_fn job, void *arg, const char **why)
{
	struct sigaction sa;
	struct wpool pool;
	struct pollfd *pfd;
	struct wpool_job j;
	unsigned refused = 0;
	int64_t now, next;
	size_t nw, n;
	int s, c, t;

	*why = "";
	if (geteuid() == 0 || getuid() == 0) {
		*why = "refusing to run as root";
		errno = EPERM;
		return -1;
	}
	if ((size_t)max > (n = wpool_fit(max, 16))) {
		log_warn("spf service: descriptors for %zu workers only "
		         "(RLIMIT_NOFILE), not %u",
		    n, max);
		max = (unsigned)n;
	}
	if ((pfd = calloc((size_t)max + 1, sizeof *pfd)) == NULL ||
	    wpool_init(&pool, max, max_use, SPF_SERVICE_IDLE_MS, start, job,
	        arg) < 0) {
		free(pfd);
		*why = "out of memory";
		return -1;
	}
	if ((s = listen_on(path, why)) < 0) {
		wpool_free(&pool);
		free(pfd);
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	log_info("spf service: listening on %s, at most %u workers, each "
	         "for %lu connections",
	    path, max, max_use);
	while (!stop_now) {
		next = wpool_tend(&pool, NULL, 0, clock_now_ms());
		pfd[0].fd = s;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		nw = wpool_pollfds(&pool, pfd + 1, max);
		/* a second at most: workers that end are reaped */
		now = clock_now_ms();
		t = next < 0 || next - now > 1000 ? 1000 :
		    next > now                    ? (int)(next - now) :
		                                    0;
		if (poll(pfd, nw + 1, t) <= 0)
			continue;
		wpool_tend(&pool, pfd + 1, nw, clock_now_ms());
		if (pfd[0].revents == 0)
			continue;
		if ((c = accept4(s, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			/* out of descriptors or memory: the listener stays
			 * readable, so a second's pause, not a spin */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("spf service: accept: %s; pausing",
				    strerror(errno));
				poll(NULL, 0, 1000);
			}
			continue;
		}
		memset(&j, 0, sizeof j);
		j.fd[0] = c;
		j.nfd = 1;
		j.len = 1;
		j.msg[0] = 'c';
		/* refused: smtpd sees EOF before "ready" and spawns */
		if (wpool_hand(&pool, &j, 0, clock_now_ms(), why) < 0 &&
		    refused++ % 100 == 0)
			log_warn("spf service: %s: %s; refusing (%u refused "
			         "so far)",
			    *why, strerror(errno), refused);
		close(c);
	}
	log_info("spf service: stopping");
	unlink(path);
	close(s);
	wpool_free(&pool);
	free(pfd);
	*why = "";
	return 0;
}
