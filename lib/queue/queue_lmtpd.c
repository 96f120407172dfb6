#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "client/client_conn.h"
#include "queue/queue_lmtpd.h"

/* "~/Maildir" delivers as each system user: postmaster-lmtpd needs
 * root. */
int
queue_lmtpd_as_users(const struct queue_cfg *c)
{
	char maildir[512] = "";

	queue_cfg_str(c->db, "lmtpd", "", "maildir", maildir, sizeof maildir);
	return maildir[0] == '~';
}

/* postmaster-lmtpd -C CDB on a socketpair: fd 0 and 1 are its end. */
static pid_t
spawn_lmtpd(const struct queue_cfg *c, int *fd)
{
	char *argv[] = { (char *)"postmaster-lmtpd", (char *)"-C",
		(char *)c->cdb_path, NULL };
	char *envp[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	int sv[2], asroot = c->root && queue_lmtpd_as_users(c);
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (asroot && (seteuid(0) < 0 || setuid(0) < 0))
			_exit(111);
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(111);
		closefrom(3);
		execve(c->lmtpd, argv, envp);
		_exit(111);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

/* client_dest.open_fd: a new postmaster-lmtpd. A cached one is reaped
 * by queue_lmtpd_reap() once its connection is closed. */
static int
open_lmtpd(void *arg)
{
	struct queue_lmtpd_open *lo = arg;
	int fd;

	if ((lo->pid = spawn_lmtpd(lo->c, &fd)) < 0)
		return -1;
	return fd;
}

/* The local mailer as a client destination (queue_priv_drop() needs its
 * cache key too). */
void
queue_lmtpd_dest(const struct queue_cfg *c, struct client_dest *cd,
    struct queue_lmtpd_open *lo)
{
	static struct queue_lmtpd_open none;

	memset(cd, 0, sizeof *cd);
	cd->fd = -1;
	cd->helo = c->hostname;
	cd->timeout_scale_ms = c->timeout_scale_ms;
	cd->proto = CLIENT_LMTP;
	cd->host = "postmaster-lmtpd";
	cd->open_fd = open_lmtpd;
	cd->open_arg = lo ? lo : &none;
	if (lo) {
		lo->c = c;
		lo->pid = -1;
	}
}

int
queue_lmtpd_reap(int wait_ms)
{
	int64_t end = clock_now_ms() + wait_ms;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	pid_t p;

	for (;;) {
		while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (p < 0)
			return 0; /* ECHILD: none left */
		if (clock_now_ms() >= end)
			return 1;
		nanosleep(&ts, NULL);
	}
}

void
queue_lmtpd_close_cached(const struct queue_cfg *c)
{
	struct client_dest cd;
	struct client_conn *conn;
	char key[CLIENT_CACHE_KEY_MAX];

	if (c->cache == NULL)
		return;
	queue_lmtpd_dest(c, &cd, NULL);
	if (client_cache_key(&cd, key, sizeof key) == 0 &&
	    (conn = client_cache_get(c->cache, key)) != NULL)
		client_cache_conn_free(conn, 1);
	queue_lmtpd_reap(1000);
}
