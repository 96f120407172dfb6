/*
 * postmaster-queue [-C CDB] [--once | --list | --flush | --delete ID]:
 * the queue runner. A single-threaded scheduler that hands each due
 * message to a worker process (lib/queue/queue_worker.c), at most [core]
 * queue-concurrency workers and at most [core] max-per-destination
 * deliveries to any one destination at a time, woken by the spool's
 * nudge FIFO. Workers live for many messages and keep their SMTP/LMTP
 * connections between them; a message goes preferably to an idle worker
 * whose last message had the same destination.
 *
 * This file keeps the command line, privileges, the lock and pid file,
 * signals and the poll loop; the scheduler is lib/queue/queue_table.c
 * (its decisions) and queue_dispatch.c (their I/O), the workers
 * queue_pool.c. See postmaster-queue(8) and doc/INTERNALS.md "The queue
 * runner".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/io.h"
#include "base/log.h"
#include "base/sibling.h"
#include "cf/cf_db.h"
#include "cf/cf_logger.h"
#include "client/client_conn.h"
#include "client/client_tls.h"
#include "inject/inject_pickup.h"
#include "queue/queue_admin.h"
#include "queue/queue_dispatch.h"
#include "queue/queue_list.h"
#include "queue/queue_worker.h"
#include "spool/spool_dir.h"
#include "spool/spool_id.h"
#include "spool/spool_nudge.h"
#include "spool/spool_queue.h"

#define LOCK_WAIT_MS 30000	/* a killed runner's workers die first */
#define RESCAN_SECONDS 300	/* a lost nudge costs at most this */
#define TERM_WAIT_SECONDS 20	/* then in-flight workers are killed */

struct runner {
	const char *cdb_path;
	struct cf_db db;
	struct spool_dir sp;
	struct queue_cfg cfg;
	struct queue_dispatch d;	/* the scheduler and its workers */
	int once, lockfd, nudge;
	int pickfd;		/* ROOT/pickup, the public FIFO, or -1 */
	char pidfile[1024];
};

/* What the poll loop carries from one wake-up to the next. */
struct loop {
	struct spool_nudge_rd rd;
	struct pollfd *pf;
	size_t npf;
	int first, flush, rescan;
	int64_t last_scan;
};

static volatile sig_atomic_t got_term, got_hup, got_chld;
static volatile sig_atomic_t worker_stop;
static int sigpipe_r = -1, sigpipe_w = -1;

static void
on_signal(int sig)
{
	int save = errno;

	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
	if (sigpipe_w >= 0 && write(sigpipe_w, "s", 1) < 0)
		errno = save;
	errno = save;
}

static void
on_worker_term(int sig)
{
	(void)sig;
	worker_stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: postmaster-queue [-C CDB] "
	    "[--once | --list | --flush | --delete ID]\n");
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* In a new worker process (queue_pool.h): the runner's own descriptors
 * and signals are not its business. */
static void
worker_child(void *arg, int fd)
{
	struct runner *r = arg;
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_worker_term;
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	close(r->nudge);
	if (r->pickfd >= 0)
		close(r->pickfd);
	if (sigpipe_w >= 0)
		close(sigpipe_w);
	if (sigpipe_r >= 0)
		close(sigpipe_r);
	r->cfg.stop = &worker_stop;
	queue_worker_serve(&r->cfg, fd, r->cfg.worker_max_use);
	_exit(0);
}

static void
notify_status(struct runner *r)
{
	static size_t last_n = SIZE_MAX, last_run = SIZE_MAX;
	size_t n = r->d.t.n + r->d.t.nrest, running = r->d.t.running;

	if (n == last_n && running == last_run)
		return;
	last_n = n;
	last_run = running;
	sd_notifyf(0, "STATUS=%zu messages queued, %zu in delivery", n,
	    running);
}

static void
pickup(struct runner *r)
{
	unsigned moved = 0;

	/* Injected mail joins the queue before each pass (inject_pickup.h). */
	if (inject_pickup_run(&r->db, &r->sp, &moved) < 0)
		log_warn("maildrop pickup incomplete: %s", strerror(errno));
}

static void
reload(struct runner *r)
{
	struct cf_db ndb;
	const char *why;

	if (cf_db_open(&ndb, r->cdb_path, &why) < 0) {
		log_err("SIGHUP: cannot open %s: %s; keeping the old one",
		    r->cdb_path, why);
		return;
	}
	cf_db_close(&r->db);
	r->db = ndb;
	if (queue_cfg_load(&r->cfg, &r->db, &r->sp) < 0)
		log_warn("SIGHUP: cannot read [core] from %s", r->cdb_path);
	r->d.pool.gen++;	/* workers with the old one retire */
	/* SIGHUP also reopens the log (rotation by rename). */
	if (cf_logger_setup(&r->db, NULL, NULL) < 0)
		log_warn("SIGHUP: cannot reopen the log file; logging to stderr");
	log_info("SIGHUP: reopened %s", r->cdb_path);
}

static void
terminate(struct runner *r)
{
	time_t end = time(NULL) + TERM_WAIT_SECONDS;
	pid_t pid;
	int st;

	/* Idle workers leave at end of file (closing their connections
	 * with QUIT); busy ones finish or abandon their message. */
	queue_pool_stop(&r->d.pool);
	while (r->d.pool.nw && time(NULL) < end) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		queue_dispatch_reap(&r->d);
		if (r->d.pool.nw)
			nanosleep(&ts, NULL);
	}
	queue_pool_kill(&r->d.pool);
	while (r->d.pool.nw && (pid = waitpid(-1, &st, 0)) > 0)
		queue_dispatch_exited(&r->d, pid, st);
}

static void
loop_start(struct runner *r, struct loop *lp)
{
	struct sigaction sa;
	int sp[2];

	memset(lp, 0, sizeof *lp);
	lp->first = lp->rescan = 1;
	if (queue_dispatch_init(&r->d, &r->cfg, &r->sp, r->once, worker_child,
	    r) < 0 ||
	    (lp->pf = array_resize(NULL, r->d.pool.max + 3,
	    sizeof *lp->pf)) == NULL)
		die(EX_OSERR, "out of memory");
	if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0)
		die_sys(EX_OSERR, "pipe");
	sigpipe_r = sp[0];
	sigpipe_w = sp[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r->nudge = spool_nudge_listen(&r->sp)) < 0)
		die_sys(EX_TEMPFAIL, "unable to open the nudge FIFO");
	/* Without it, other users' mail waits for the periodic pickup. */
	if ((r->pickfd = spool_nudge_pickup_listen(&r->sp)) < 0 &&
	    errno != ENOENT)
		log_warn("ignoring the pickup FIFO: %s", strerror(errno));
}

/* Signals, the periodic (or requested) scan, a flush. */
static void
loop_events(struct runner *r, struct loop *lp, int64_t now)
{
	if (got_hup) {
		got_hup = 0;
		reload(r);
	}
	if (got_chld) {
		got_chld = 0;
		queue_dispatch_reap(&r->d);
	}
	if (lp->rescan || now - lp->last_scan >= RESCAN_SECONDS) {
		pickup(r);
		queue_dispatch_scan(&r->d, lp->first);
		lp->last_scan = now;
		lp->rescan = 0;
		if (lp->first) {
			spool_queue_clean(&r->sp, now, SPOOL_TMP_MAX_AGE, NULL);
			sd_notify(0, "READY=1");
			log_info("started: %zu messages in the queue",
			    r->d.t.n + r->d.t.nrest);
		}
		lp->first = 0;
	}
	if (lp->flush) {
		lp->flush = 0;
		queue_dispatch_flush(&r->d);
	}
}

/* --once: done when nothing runs and nothing is left untried (bounces
 * queued in this run are delivered too). */
static int
once_done(struct runner *r)
{
	queue_dispatch_scan(&r->d, 1);
	return queue_table_untried(&r->d.t, now_s()) == 0;
}

/* The nudge FIFO: ids of commits, or a request for a scan or a flush. */
static void
loop_nudge(struct runner *r, struct loop *lp)
{
	/*
	 * "ID\n" lines join the table as they are; a legacy byte, garbage,
	 * a pipe that may have been full or an 'F' (--flush) make a full
	 * scan of queue/. Injected mail is picked up on every wake-up,
	 * before the pass (inject_pickup.h): its commits nudge their ids.
	 */
	int fl = spool_nudge_read(r->nudge, &lp->rd, queue_dispatch_nudged,
	    &r->d);

	if (fl < 0 || (fl & (SPOOL_NUDGE_RESCAN | SPOOL_NUDGE_FLUSH)))
		lp->rescan = 1;
	if (fl > 0 && (fl & SPOOL_NUDGE_FLUSH))
		lp->flush = 1;
	if (fl > 0 && !lp->rescan)
		pickup(r);
	queue_dispatch_merge(&r->d);
}

/* Sleeps until a signal, a nudge, a worker's reply or timeout ms. */
static void
loop_wait(struct runner *r, struct loop *lp, int timeout)
{
	struct pollfd *pf = lp->pf;
	struct queue_pool *p = &r->d.pool;
	size_t i, npf;
	char b[64];

	pf[0].fd = sigpipe_r;
	pf[0].events = POLLIN;
	pf[1].fd = r->once ? -1 : r->nudge;
	pf[1].events = POLLIN;
	pf[2].fd = r->once ? -1 : r->pickfd;
	pf[2].events = POLLIN;
	for (i = 0, npf = 3; i < p->nw; i++) {
		pf[npf].fd = p->w[i].fd;	/* -1: ignored */
		pf[npf++].events = POLLIN;
	}
	if (poll(pf, npf, timeout) < 0 && errno != EINTR)
		die_sys(EX_OSERR, "poll");
	while (read(sigpipe_r, b, sizeof b) > 0)
		;
	/* Only reaping and spawning move slots: neither ran. */
	for (i = 3; i < npf; i++)
		if (pf[i].fd >= 0 && (pf[i].revents &
		    (POLLIN | POLLHUP | POLLERR)) && p->w[i - 3].fd == pf[i].fd)
			queue_dispatch_input(&r->d, &p->w[i - 3]);
	/* Any byte from a user's inject: look at maildrop/ now. */
	if (pf[2].fd >= 0 && (pf[2].revents & POLLIN) &&
	    spool_nudge_drain(r->pickfd) > 0 && !lp->rescan)
		pickup(r);	/* its commits nudge their ids */
	if (!r->once && (pf[1].revents & POLLIN))
		loop_nudge(r, lp);
}

static int
run(struct runner *r)
{
	struct loop lp;

	loop_start(r, &lp);
	while (!got_term) {
		int64_t now = now_s(), idle_at;
		struct queue_table_pass pass;
		int timeout;

		loop_events(r, &lp, now);
		queue_dispatch_pass(&r->d, now, &pass);
		idle_at = queue_pool_retire_idle(&r->d.pool, now);
		if (idle_at < pass.next)
			pass.next = idle_at;
		if (queue_table_page_in(&r->d.t, now, pass.idle_due,
		    &pass.next)) {
			lp.rescan = 1;
			continue;
		}
		notify_status(r);
		if (r->once && r->d.t.running == 0 && pass.idle_due == 0) {
			if (once_done(r))
				break;
			continue;
		}
		timeout = pass.next == INT64_MAX ? RESCAN_SECONDS * 1000 :
		    (int)((pass.next - now > RESCAN_SECONDS ? RESCAN_SECONDS :
		    pass.next - now) * 1000);
		if (pass.idle_due && timeout > 1000)
			timeout = 1000;
		loop_wait(r, &lp, timeout);
	}
	if (got_term)
		log_info("SIGTERM: stopping, %zu deliveries in flight",
		    r->d.t.running);
	terminate(r);
	free(lp.pf);
	queue_dispatch_free(&r->d);
	return 0;
}

/* --- privileges, lock, pid file ----------------------------------- */

static void
privileges(struct runner *r)
{
	char user[128], group[128];
	struct passwd *pw;
	struct group *gr;

	if (geteuid() != 0)
		return;
	cf_db_str(&r->db, "core", "", "user-id", user, sizeof user);
	cf_db_str(&r->db, "core", "", "group-id", group, sizeof group);
	if ((pw = getpwnam(user)) == NULL)
		die(EX_NOUSER, "[core] user-id '%s' does not exist", user);
	if ((gr = getgrnam(group)) == NULL)
		die(EX_NOUSER, "[core] group-id '%s' does not exist", group);
	r->cfg.root = 1;
	r->cfg.uid = pw->pw_uid;
	r->cfg.gid = gr->gr_gid;
	snprintf(r->cfg.user, sizeof r->cfg.user, "%s", user);
	/*
	 * Real and effective ids become the postmaster user's; root stays
	 * only as the saved uid, used by a freshly forked child to start a
	 * program as another user ([pipe] user, local names with accounts,
	 * lmtpd for ~/Maildir). Workers drop it for good before talking to
	 * any remote host; exec'd programs lose it (execve sets saved = e).
	 */
	if (setgroups(1, &gr->gr_gid) < 0 ||
	    setresgid(gr->gr_gid, gr->gr_gid, gr->gr_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, 0) < 0)
		die_sys(EX_OSERR, "unable to drop privileges to %s", user);
}

static void
take_lock(struct runner *r, const char *dir, int wait)
{
	int waited = 0;

	if ((r->lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_sys(EX_TEMPFAIL, "unable to open %s", dir);
	while (flock(r->lockfd, LOCK_EX | LOCK_NB) < 0) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (errno != EWOULDBLOCK)
			die_sys(EX_TEMPFAIL, "unable to lock %s", dir);
		if (!wait || waited >= LOCK_WAIT_MS)
			die(EX_TEMPFAIL, "another queue runner works on %s", dir);
		nanosleep(&ts, NULL);
		waited += 50;
	}
}

static void
write_pidfile(struct runner *r)
{
	char line[32];
	int fd, n;

	cf_db_str(&r->db, "core", "", "pid-file", r->pidfile, sizeof r->pidfile);
	if (r->pidfile[0] == '\0')
		return;
	fd = open(r->pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
	if (fd < 0 || io_write_all(fd, line, (size_t)n) < 0 || close(fd) < 0)
		die_sys(EX_CANTCREAT, "unable to write %s", r->pidfile);
}

static void
remove_pidfile(struct runner *r)
{
	if (r->pidfile[0] == '\0')
		return;
	if (r->cfg.root && seteuid(0) < 0)
		return;
	unlink(r->pidfile);
}

static int
cmd_list(struct runner *r)
{
	switch (queue_list(&r->sp, 1)) {
	case QUEUE_LIST_E_SCAN:
		die_sys(EX_TEMPFAIL, "unable to scan the queue");
	case QUEUE_LIST_E_WRITE:
		return EX_IOERR;
	}
	return 0;
}

static int
cmd_flush(struct runner *r, const char *dir)
{
	struct spool_ids s;
	size_t i;
	int fd;

	if ((r->lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_sys(EX_TEMPFAIL, "unable to open %s", dir);
	if (flock(r->lockfd, LOCK_EX | LOCK_NB) < 0) {
		/* A runner is running: it rewrites the times itself. */
		fd = openat(r->sp.root, "nudge", O_WRONLY | O_NONBLOCK |
		    O_CLOEXEC);
		if (fd < 0 || (write(fd, "F", 1) < 0 && errno != EAGAIN))
			die_sys(EX_TEMPFAIL, "unable to nudge the runner");
		close(fd);
		return 0;
	}
	if (spool_queue_ids(&r->sp, &s) < 0)
		die_sys(EX_TEMPFAIL, "unable to scan the queue");
	for (i = 0; i < s.n; i++)
		if (queue_admin_flush(&r->cfg, s.v[i]) < 0)
			log_warn("%s: cannot flush: %s", s.v[i], strerror(errno));
	spool_queue_ids_free(&s);
	return 0;
}

static int
cmd_delete(struct runner *r, const char *id)
{
	if (!spool_id_valid(id, strlen(id)))
		die(EX_USAGE, "%s: not a queue id", id);
	if (faccessat(r->sp.queue, id, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		die(EX_NOINPUT, "%s: no such message", id);
	if (spool_queue_finish(&r->sp, id) < 0)
		die_sys(EX_TEMPFAIL, "%s: unable to remove", id);
	log_info("%s removed (deleted by the operator)", id);
	return 0;
}

static void
find_lmtpd(struct runner *r)
{
	if (sibling_path("postmaster-lmtpd", r->cfg.lmtpd,
	    sizeof r->cfg.lmtpd) < 0)
		snprintf(r->cfg.lmtpd, sizeof r->cfg.lmtpd,
		    "/usr/sbin/postmaster-lmtpd");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "list", no_argument, NULL, 'l' },
		{ "flush", no_argument, NULL, 'f' },
		{ "delete", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct runner r;
	const char *why, *del = NULL;
	char dir[1024];
	int opt, mode = 0, rc;

	log_init(argv[0]);
	/* STARTTLS to MX hosts and relays (lib/client/client_conn.h) */
	client_conn_tls_install(&client_tls_io);
	/* A fixed threshold: glibc would otherwise raise it after the
	 * first large temporary (a trim's sort array) is freed, and keep
	 * the next ones on the heap -- resident for good. */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	r.cdb_path = PM_DEFAULT_CDB;
	while ((opt = getopt_long(argc, argv, "C:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'C':
			r.cdb_path = optarg;
			break;
		case 'o':
		case 'l':
		case 'f':
		case 'd':
			if (mode && mode != opt) {
				usage(stderr);
				return EX_USAGE;
			}
			mode = opt;
			if (opt == 'd')
				del = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (cf_db_open(&r.db, r.cdb_path, &why) < 0)
		die(EX_CONFIG, "unable to open %s: %s", r.cdb_path, why);
	cf_db_str(&r.db, "core", "", "spool-directory", dir, sizeof dir);
	/* The daemon logs where [core] logger says; commands to stderr. */
	if ((mode == 0 || mode == 'o') && cf_logger_setup(&r.db, NULL, NULL) < 0)
		log_warn("cannot open the log file; logging to stderr");
	if (mode == 0 && geteuid() == 0)
		write_pidfile(&r);
	privileges(&r);
	if (spool_dir_open(&r.sp, dir, mode == 0 || mode == 'o' ?
	    SPOOL_DIR_CREATE : 0) < 0)
		die_sys(EX_TEMPFAIL, "unable to open spool %s", dir);
	r.cfg.cdb_path = r.cdb_path;
	find_lmtpd(&r);
	if (queue_cfg_load(&r.cfg, &r.db, &r.sp) < 0)
		die(EX_CONFIG, "unable to read [core] from %s", r.cdb_path);
	switch (mode) {
	case 'l':
		return cmd_list(&r);
	case 'f':
		return cmd_flush(&r, dir);
	case 'd':
		return cmd_delete(&r, del);
	case 'o':
		r.once = 1;
		break;
	default:
		if (!r.cfg.root)
			write_pidfile(&r);
		break;
	}
	take_lock(&r, dir, 1);
	rc = run(&r);
	remove_pidfile(&r);
	return rc;
}
