/*
 * postmaster-tlsd: the TLS side of one postmaster-smtpd connection.
 * smtpd starts it at STARTTLS (or at once for tls = implicit) with the
 * client's socket as fd 0 and one end of a socketpair as fd 1; it reads
 * the instance's certificates, keys and ticket key itself (so no key
 * octet ever enters the process that parses SMTP), does the handshake
 * with a deadline, reports the outcome on fd 1 (net_tls_report.h), and
 * then relays plaintext between the two. Linked with GnuTLS, which only
 * TLS sessions pay for. See postmaster-tlsd(8).
 *
 * As a service (-s) it does the same for every smtpd that connects to
 * [core] tls-socket, from worker processes it forks and uses again for
 * later sessions, so GnuTLS and the credentials are loaded once and a
 * session costs no fork (tlsd_service.h).
 *
 * Installed setgid to a group that alone may read the keys, it opens only
 * a CDB root alone can change (tlsd_trust.h), unless root runs it.
 *
 *   postmaster-tlsd [-C CDB] NAME      serve [smtpd "NAME"]
 *   postmaster-tlsd -s [-C CDB]        the service
 *   postmaster-tlsd -k FILE            write a new session ticket key
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "cf/cf_db.h"
#include "net/net_tls_report.h"
#include "tlsd/tlsd_conn.h"
#include "tlsd/tlsd_cred.h"
#include "tlsd/tlsd_inst.h"
#include "tlsd/tlsd_service.h"
#include "tlsd/tlsd_trust.h"
#include "base/priv.h"
#include "base/san_setgid.h"

#define TLSD_REPORT_MS (10 * 1000)

static void
usage(int code)
{
	fprintf(stderr,
	    "usage: postmaster-tlsd [-C CDB] NAME\n"
	    "       postmaster-tlsd -s [-C CDB]\n"
	    "       postmaster-tlsd -k TICKET-KEY-FILE\n");
	exit(code);
}

/* One report record to smtpd; blocking is fine: smtpd waits for it. */
static void
report(const struct net_tls_report *r)
{
	char rec[NET_TLS_REPORT_MAX];
	size_t n = net_tls_report_encode(r, rec), off = 0;
	int64_t until = clock_now_ms() + TLSD_REPORT_MS;

	while (off < n) {
		struct pollfd p = { 1, POLLOUT, 0 };
		ssize_t w =
		    send(1, rec + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			die_sys(EX_IOERR, "unable to report to smtpd");
		if (clock_now_ms() >= until)
			die(EX_IOERR, "smtpd does not read the report");
		poll(&p, 1, 100);
	}
}

static void
report_error(enum net_tls_kind kind, const char *why)
{
	struct net_tls_report r;

	memset(&r, 0, sizeof r);
	r.kind = kind;
	snprintf(r.why, sizeof r.why, "%s", why);
	report(&r);
}

/*
 * Installed setgid (or setuid) to a group that may read the keys, tlsd
 * drops that privilege for good once they are read: the handshake and
 * the relay, which parse what the client sends, run as smtpd's user.
 */
static void
drop_extra_privileges(void)
{
	gid_t g = getgid();
	uid_t u = getuid();

	if (getegid() != g && setresgid(g, g, g) < 0)
		die_sys(EX_OSERR, "unable to drop the group privilege");
	if (geteuid() != u && setresuid(u, u, u) < 0)
		die_sys(EX_OSERR, "unable to drop the user privilege");
}

/*
 * The session on fd 0 (the client) and fd 1 (smtpd), credentials loaded:
 * "ready", the handshake and its report, then the relay.
 */
static int
session(const struct tlsd_cred *cred, const struct tlsd_cfg *cfg)
{
	struct net_tls_report rep;
	gnutls_session_t s;
	char err[512];
	int64_t end;

	memset(&rep, 0, sizeof rep);
	rep.kind = NET_TLS_READY;
	report(&rep);

	/* smtpd ends the session first; this is only a backstop */
	end = clock_now_ms() + (int64_t)clock_ms_from_s(cfg->deadline) +
	    TLSD_BYE_MS;
	if (tlsd_conn_handshake(cred, 0,
	        clock_now_ms() +
	            (int64_t)clock_ms_from_s(
	                cfg->idle < cfg->deadline ? cfg->idle : cfg->deadline),
	        &s, &rep) < 0) {
		report(&rep);
		return 1;
	}
	report(&rep);
	err[0] = '\0';
	if (tlsd_conn_relay(s, 0, 1, clock_ms_from_s(cfg->idle), end, err,
	        sizeof err) < 0)
		log_info("tls: relay ended: %s", err);
	gnutls_deinit(s);
	return 0;
}

static int
service_session(const struct tlsd_inst *in)
{
	return session(&in->cred, &in->cfg);
}

/* A refusal before the session: to smtpd when it spawned us (so its log
 * says why), and one line on stderr. */
static void
refuse(int code, const char *why)
{
	struct stat st;

	if (fstat(1, &st) == 0 && S_ISSOCK(st.st_mode))
		report_error(NET_TLS_ERROR, why);
	die(code, "%s", why);
}

/* One session for the smtpd that spawned us; setgid, only from a CDB
 * root alone can change (tlsd_trust.h). */
static int
spawned(const char *cdb, const char *name, int privileged)
{
	struct cf_db db;
	struct tlsd_cfg cfg;
	struct tlsd_cred cred;
	const char *why;
	char err[512];
	int r, fd;

	if (privileged) {
		/* the CDB with the caller's own group (it is world-readable):
		 * with the key group, what tlsd says about a path would tell
		 * the caller about files only that group may see */
		gid_t key_group = getegid();

		if (setegid(getgid()) < 0)
			refuse(EX_OSERR, "unable to set the group id");
		if ((fd = tlsd_trust_open(cdb, err, sizeof err)) < 0)
			refuse(EX_NOPERM, err);
		if (cf_db_open_fd(&db, fd, &why) < 0) {
			close(fd);
			snprintf(err, sizeof err, "unable to open %s: %s", cdb,
			    why);
			refuse(EX_TEMPFAIL, err);
		}
		/* the keys with it, then the group goes for good below */
		if (setegid(key_group) < 0)
			refuse(EX_OSERR, "unable to set the group id");
	} else if (cf_db_open(&db, cdb, &why) < 0) {
		snprintf(err, sizeof err, "unable to open %s: %s", cdb, why);
		report_error(NET_TLS_ERROR, err);
		die(EX_TEMPFAIL, "%s", err);
	}
	tlsd_inst_read(&db, name, &cfg);
	cf_db_close(&db);
	if (tlsd_cred_load(&cred, &cfg.files, err, sizeof err) < 0) {
		report_error(NET_TLS_ERROR, err);
		return EX_CONFIG;
	}
	drop_extra_privileges();
	r = session(&cred, &cfg);
	tlsd_cred_free(&cred);
	return r;
}

/* The service's socket, private to [core] user-id (a connection to it
 * can use the keys), and the drop to that user when started as root. */
static int
listen_on(struct cf_db *db, char *path, size_t cap)
{
	struct sockaddr_un sa;
	char user[128], group[128];
	struct passwd *pw;
	struct stat st;
	int fd;

	cf_db_str(db, "core", "", "tls-socket", path, cap);
	cf_db_str(db, "core", "", "user-id", user, sizeof user);
	cf_db_str(db, "core", "", "group-id", group, sizeof group);
	if (path[0] == '\0')
		die(EX_CONFIG, "[core] tls-socket is empty: no service");
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path)
		die(EX_CONFIG, "[core] tls-socket %s: name too long", path);
	memcpy(sa.sun_path, path, strlen(path));
	/* a socket left by a service that did not stop cleanly */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 128) < 0)
		die_sys(EX_CANTCREAT, "unable to listen on %s", path);
	if (geteuid() == 0) {
		if ((pw = getpwnam(user)) == NULL)
			die(EX_NOUSER, "[core] user-id '%s' does not exist",
			    user);
		if (chown(path, pw->pw_uid, (gid_t)-1) < 0)
			die_sys(EX_OSERR, "chown %s", path);
		if (priv_drop(user, group) < 0)
			die_sys(EX_OSERR, "unable to drop privileges to %s",
			    user);
	}
	return fd;
}

static int
service(const char *cdb)
{
	struct tlsd_insts insts;
	struct cf_db db;
	const char *why;
	char path[4096], err[512], id[32];
	uint64_t max = 0, max_use = 0;
	int fd, r;

	snprintf(id, sizeof id, "%ld", (long)getpid());
	log_set_id(id);
	/* fds 0-2 taken, so no socket of ours is one a child dup2s over */
	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
		if (fcntl(fd, F_SETFD, 0) < 0)
			break;
	if (fd > 2)
		close(fd);

	if (cf_db_open(&db, cdb, &why) < 0)
		die(EX_TEMPFAIL, "unable to open %s: %s", cdb, why);
	if (cf_db_uint(&db, "core", "", "tls-max-sessions", &max) < 0 ||
	    cf_db_uint(&db, "core", "", "tls-max-use", &max_use) < 0)
		die(EX_TEMPFAIL,
		    "%s: no [core] tls-max-sessions or "
		    "tls-max-use (compiled by an older cfcompile?)",
		    cdb);
	fd = listen_on(&db, path, sizeof path);
	cf_db_close(&db);
	tlsd_insts_init(&insts, cdb);
	log_info("tls: service on %s, at most %llu sessions at once", path,
	    (unsigned long long)max);
	r = tlsd_service_run(&insts, fd, max, max_use, service_session, err,
	    sizeof err);
	unlink(path);
	close(fd);
	tlsd_insts_free(&insts);
	if (r < 0)
		die(EX_OSERR, "%s", err);
	log_info("tls: service stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cdb = PM_DEFAULT_CDB, *ticket_out = NULL;
	char err[512];
	int opt, serve = 0;
	/* run by root, the set-id bits give nothing root lacks */
	int privileged =
	    (getegid() != getgid() || geteuid() != getuid()) && getuid() != 0;

	log_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "C:i:k:sh")) != -1) {
		switch (opt) {
		case 'C':
			/* setgid: checked when opened (tlsd_trust.h) */
			cdb = optarg;
			break;
		case 'i':
			log_set_id(optarg);
			break;
		case 'k':
			ticket_out = optarg;
			break;
		case 's':
			serve = 1;
			break;
		default:
			usage(opt == 'h' ? 0 : EX_USAGE);
		}
	}
	if (ticket_out != NULL) {
		if (optind != argc || serve)
			usage(EX_USAGE);
		/* the caller's own file, written with the caller's rights */
		if (privileged)
			drop_extra_privileges();
		if (tlsd_ticket_key_write(ticket_out, err, sizeof err) < 0)
			die(EX_CANTCREAT, "%s", err);
		return 0;
	}
	if (serve) {
		if (optind != argc)
			usage(EX_USAGE);
		if (privileged)
			die(EX_USAGE,
			    "-s is not for a setgid postmaster-tlsd");
		return service(cdb);
	}
	if (optind + 1 != argc)
		usage(EX_USAGE);
	return spawned(cdb, argv[optind], privileged);
}
