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
 *   postmaster-tlsd [-C CDB] NAME      serve [smtpd "NAME"]
 *   postmaster-tlsd -k FILE            write a new session ticket key
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "cf/cf_db.h"
#include "net/net_tls_report.h"
#include "tlsd/tlsd_conn.h"
#include "tlsd/tlsd_cred.h"

#define TLSD_MAX_PAIRS 8
#define TLSD_REPORT_MS (10 * 1000)

struct tlsd_cfg {
	char cert[TLSD_MAX_PAIRS][4096];
	char key[TLSD_MAX_PAIRS][4096];
	const char *certp[TLSD_MAX_PAIRS], *keyp[TLSD_MAX_PAIRS];
	char priority[1024];
	char ticket[4096];
	uint64_t idle, deadline;
	struct tlsd_files files;
};

static void
usage(int code)
{
	fprintf(stderr,
	    "usage: postmaster-tlsd [-C CDB] NAME\n"
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

/* Pairs in order; more words of one key than of the other are cut
 * (cfcompile --check refuses them). */
static void
read_config(struct cf_db *db, const char *name, struct tlsd_cfg *c)
{
	struct cf_words cw, kw;
	size_t i;

	memset(c, 0, sizeof *c);
	cf_db_words(db, "smtpd", name, "tls-certificate", &cw);
	cf_db_words(db, "smtpd", name, "tls-key", &kw);
	for (i = 0; i < cw.n && i < kw.n && i < TLSD_MAX_PAIRS; i++) {
		snprintf(c->cert[i], sizeof c->cert[i], "%.*s", (int)cw.len[i],
		    cw.w[i]);
		snprintf(c->key[i], sizeof c->key[i], "%.*s", (int)kw.len[i],
		    kw.w[i]);
		c->certp[i] = c->cert[i];
		c->keyp[i] = c->key[i];
	}
	c->files.cert = c->certp;
	c->files.key = c->keyp;
	c->files.n = i;
	cf_db_str(db, "smtpd", name, "tls-priority", c->priority,
	    sizeof c->priority);
	cf_db_str(db, "smtpd", name, "tls-ticket-key-file", c->ticket,
	    sizeof c->ticket);
	c->files.priority = c->priority;
	c->files.ticket_key = c->ticket;
	c->idle = 300;
	c->deadline = 1800;
	cf_db_uint(db, "smtpd", name, "idle-timeout", &c->idle);
	cf_db_uint(db, "smtpd", name, "session-timeout", &c->deadline);
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

int
main(int argc, char **argv)
{
	const char *cdb = "/etc/postmaster.cdb", *ticket_out = NULL, *why;
	struct cf_db db;
	struct tlsd_cfg cfg;
	struct tlsd_cred cred;
	struct net_tls_report rep;
	gnutls_session_t s;
	char err[512];
	int opt, privileged = getegid() != getgid() || geteuid() != getuid();
	int64_t start = clock_now_ms(), end;

	log_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "C:i:k:h")) != -1) {
		switch (opt) {
		case 'C':
			/* a setgid tlsd reads the system's configuration only */
			if (privileged)
				die(EX_USAGE, "-C is not allowed when setgid");
			cdb = optarg;
			break;
		case 'i':
			log_set_id(optarg);
			break;
		case 'k':
			ticket_out = optarg;
			break;
		default:
			usage(opt == 'h' ? 0 : EX_USAGE);
		}
	}
	if (ticket_out != NULL) {
		if (optind != argc)
			usage(EX_USAGE);
		if (tlsd_ticket_key_write(ticket_out, err, sizeof err) < 0)
			die(EX_CANTCREAT, "%s", err);
		return 0;
	}
	if (optind + 1 != argc)
		usage(EX_USAGE);
	if (cf_db_open(&db, cdb, &why) < 0) {
		snprintf(err, sizeof err, "unable to open %s: %s", cdb, why);
		report_error(NET_TLS_ERROR, err);
		die(EX_TEMPFAIL, "%s", err);
	}
	read_config(&db, argv[optind], &cfg);
	cf_db_close(&db);
	if (tlsd_cred_load(&cred, &cfg.files, err, sizeof err) < 0) {
		report_error(NET_TLS_ERROR, err);
		return EX_CONFIG;
	}
	drop_extra_privileges();
	memset(&rep, 0, sizeof rep);
	rep.kind = NET_TLS_READY;
	report(&rep);

	/* smtpd ends the session first; this is only a backstop */
	end = start + (int64_t)clock_ms_from_s(cfg.deadline) + TLSD_BYE_MS;
	if (tlsd_conn_handshake(&cred, 0,
	        clock_now_ms() +
	            (int64_t)clock_ms_from_s(
	                cfg.idle < cfg.deadline ? cfg.idle : cfg.deadline),
	        &s, &rep) < 0) {
		report(&rep);
		tlsd_cred_free(&cred);
		return 1;
	}
	report(&rep);
	err[0] = '\0';
	if (tlsd_conn_relay(s, 0, 1, clock_ms_from_s(cfg.idle), end, err,
	        sizeof err) < 0)
		log_info("tls: relay ended: %s", err);
	gnutls_deinit(s);
	tlsd_cred_free(&cred);
	return 0;
}
