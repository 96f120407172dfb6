/*
 * postmaster-inject: the sendmail(1) command line. Reads a message from
 * stdin (or an SMTP dialogue with -bs), completes its header, and leaves
 * it in SPOOL/maildrop for the queue runner's pickup, which re-validates
 * it (lib/inject/inject_pickup.h). Installed setgid postdrop; it never
 * touches the queue itself. Also -bp (queue listing), -bv (routing) and
 * -q (wake the runner). The work is in lib/inject (inject_submit.h,
 * inject_bs.h, inject_route.h) and lib/queue/queue_list.h; this file
 * reads the command line, chooses the configuration and the privileges,
 * and maps results to exit codes. See postmaster-inject(8) and
 * doc/THREATS.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/io.h"
#include "base/log.h"
#include "base/priv.h"
#include "cf/cf_db.h"
#include "inject/inject_bs.h"
#include "inject/inject_cfg.h"
#include "inject/inject_msg.h"
#include "inject/inject_route.h"
#include "inject/inject_submit.h"
#include "queue/queue_list.h"
#include "spool/spool_dir.h"
#include "spool/spool_nudge.h"

#include "base/san_setgid.h"

enum mode { M_DELIVER, M_SMTP, M_LIST, M_VERIFY, M_QUEUE, M_ALIASES };

/* The command line. */
struct opts {
	enum mode mode;
	const char *cdb;
	const char *sender;	/* -f, -r */
	const char *fullname;	/* -F */
	int dot_ok, extract;	/* -i/-oi, -t */
	int first;		/* argv index of the first recipient */
};

static noreturn void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: postmaster-inject [-C CDB] [-f SENDER] [-F NAME] [-t] [-i] "
	    "[RCPT...]\n"
	    "       postmaster-inject -bs | -bp | -bv ADDR... | -q\n"
	    "  -t        recipients from To:, Cc:, Bcc: (Bcc: removed)\n"
	    "  -i, -oi   a line with a single '.' does not end the message\n"
	    "  -f, -r    envelope sender; -F the From: full name\n"
	    "  -bs       SMTP on stdin/stdout; -bp list the queue;\n"
	    "  -bv       show where addresses go; -q wake the queue runner\n"
	    "See postmaster-inject(8).\n");
	exit(code);
}

static int
is_number(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* ---- -bp, -q: need the postmaster user's spool ---- */

/* Root becomes the postmaster user: the spool is that user's, 0700. */
static void
become_postmaster(struct inject_cfg *c)
{
	char user[128], group[128];

	if (geteuid() != 0)
		return;
	cf_db_str(&c->db, "core", "", "user-id", user, sizeof user);
	cf_db_str(&c->db, "core", "", "group-id", group, sizeof group);
	if (priv_drop(user, group) < 0) {
		if (errno == ENOENT)
			die(EX_NOUSER, "[core] user-id '%s' or group-id '%s' "
			    "does not exist", user, group);
		die_sys(EX_OSERR, "unable to become %s", user);
	}
}

static void
open_spool(struct inject_cfg *c, struct spool_dir *sp)
{
	become_postmaster(c);
	if (spool_dir_open(sp, c->spooldir, 0) < 0)
		die_sys(errno == EACCES || errno == EPERM ? EX_NOPERM :
		    EX_TEMPFAIL, "unable to open the spool %s", c->spooldir);
}

static int
list_queue(struct inject_cfg *c)
{
	struct spool_dir sp;
	int r;

	open_spool(c, &sp);
	r = queue_list(&sp, 1);
	if (r == QUEUE_LIST_E_SCAN)
		die_sys(EX_TEMPFAIL, "unable to scan the queue");
	spool_dir_close(&sp);
	return r == QUEUE_LIST_OK ? 0 : EX_IOERR;
}

static int
verify(struct inject_cfg *c, char *const *addrs, int n)
{
	struct buf out = BUF_INIT(0);
	int rc;

	if (n == 0)
		die(EX_USAGE, "-bv needs at least one address");
	rc = inject_route_verify(c, addrs, (size_t)n, &out);
	if (out.len && io_write_all(1, out.p, out.len) < 0)
		rc = EX_IOERR;
	buf_free(&out);
	return rc;
}

static int
nudge(struct inject_cfg *c)
{
	struct spool_dir sp;

	open_spool(c, &sp);
	if (spool_nudge_send(&sp) < 0)
		die_sys(EX_TEMPFAIL, "unable to wake the queue runner");
	spool_dir_close(&sp);
	return 0;
}

/* Reads all of stdin, up to limit bytes (then EX_DATAERR). */
static void
read_stdin(struct buf *b, uint64_t limit)
{
	char chunk[65536];

	for (;;) {
		ssize_t n = read(0, chunk, sizeof chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_sys(EX_IOERR, "unable to read the message");
		if (n == 0)
			break;
		if ((uint64_t)(b->len + (size_t)n) > limit)
			die(EX_DATAERR, "message too large (limit %llu bytes)",
			    (unsigned long long)limit);
		if (buf_append(b, chunk, (size_t)n) < 0)
			die(EX_TEMPFAIL, "out of memory");
	}
}

/*
 * The name it was called by: sendmail(1) installs one program under
 * several names, and scripts call them without options (mailq is -bp,
 * newaliases -bi, as in sendmail and Postfix).
 */
static const char *
called_as(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	return slash ? slash + 1 : argv0;
}

/*
 * -bi, newaliases: aliases are routes in postmaster.cf, compiled into the
 * CDB, so there is no alias database to rebuild. Package scripts run
 * newaliases after editing /etc/aliases and must not fail; say where
 * aliases live instead.
 */
static int
new_aliases(void)
{
	fprintf(stderr, "%s: aliases are routes in postmaster.cf; run "
	    "postmaster-cfcompile after editing it (nothing to do)\n",
	    log_prog());
	return 0;
}

/*
 * -C from a setgid inject: the chosen CDB names the spool, so a user
 * could make inject drop files into any directory group postdrop may
 * write. As Postfix's postdrop, only root and the postmaster user (that
 * of the default CDB's [core] user-id) may choose. Without setgid the
 * choice gains nothing the caller could not do alone, so it is free.
 */
static int
may_choose_cdb(void)
{
	struct cf_db db;
	struct passwd *pw;
	char user[128];
	const char *why;

	if (getuid() == 0 || (getegid() == getgid() && geteuid() == getuid()))
		return 1;
	snprintf(user, sizeof user, "postmaster");
	if (cf_db_open(&db, PM_DEFAULT_CDB, &why) == 0) {
		cf_db_str(&db, "core", "", "user-id", user, sizeof user);
		cf_db_close(&db);
	}
	return (pw = getpwnam(user)) != NULL && pw->pw_uid == getuid();
}

/* Options that take a value, attached or as the next argument. */
static const char *
optval(int argc, char **argv, int *i, const char *a)
{
	if (a[2])
		return a + 2;
	if (*i + 1 >= argc)
		die(EX_USAGE, "option %s needs a value", a);
	return argv[++*i];
}

/*
 * A minute of -bs time. In a test build (PM_TEST_KNOBS, doc/HACKING.md)
 * PM_INJECT_TIMEOUT_SCALE_MS makes it that many milliseconds;
 * secure_getenv() ignores it in a setgid inject even there, so a user
 * cannot change the limits of the privileged program.
 */
static uint64_t
minute_ms(void)
{
#ifdef PM_TEST_KNOBS
	const char *v = secure_getenv("PM_INJECT_TIMEOUT_SCALE_MS");
	unsigned long ms = v ? strtoul(v, NULL, 10) : 0;

	if (ms)
		return ms;
#endif
	return 60 * 1000;
}

static int
run_smtp(struct inject_cfg *c)
{
	char why[300];
	int r = inject_bs_run(c, 0, 1, minute_ms(), why, sizeof why);

	if (why[0])
		die(r, "%s", why);
	return r;
}

/* The default mode: recipients from argv (and with -t the header). */
static int
deliver(struct inject_cfg *c, const struct opts *o, char **rcpts, int n)
{
	struct inject_rcpts rc = { NULL, 0, 0 };
	struct buf in = BUF_INIT(0);
	char id[SPOOL_ID_SIZE], err[700];
	int i, r;

	for (i = 0; i < n; i++)
		if (inject_addr_list(rcpts[i], strlen(rcpts[i]), &rc, err,
		    sizeof err) != INJECT_MSG_OK)
			die(EX_DATAERR, "%s", err);
	if (!o->extract && rc.n == 0)
		die(EX_USAGE, "no recipients given (and no -t)");
	read_stdin(&in, c->max_size + 1024 * 1024);
	r = inject_submit(c, c->sender, in.p ? in.p : "", in.len,
	    (o->dot_ok ? INJECT_MSG_DOT_OK : 0) |
	    (o->extract ? INJECT_MSG_EXTRACT : 0), &rc, id, err, sizeof err);
	buf_free(&in);
	if (r != 0)
		die(r, "%s", err);
	/* Silent on success: cron mails whatever a job prints. */
	inject_rcpts_free(&rc);
	return 0;
}

static noreturn void
bad_option(const char *a)
{
	fprintf(stderr, "%s: fatal: unknown option %s\n", log_prog(), a);
	usage(EX_USAGE);
}

/* -bX: the mode. */
static void
mode_option(struct opts *o, const char *a)
{
	if (strcmp(a, "-bm") == 0)
		o->mode = M_DELIVER;
	else if (strcmp(a, "-bs") == 0)
		o->mode = M_SMTP;
	else if (strcmp(a, "-bp") == 0)
		o->mode = M_LIST;
	else if (strcmp(a, "-bv") == 0)
		o->mode = M_VERIFY;
	else if (strcmp(a, "-bd") == 0 || strcmp(a, "-bD") == 0)
		die(EX_USAGE, "%s: no daemon mode; listeners are systemd "
		    "sockets or tcpserver running postmaster-smtpd", a);
	else if (strcmp(a, "-bi") == 0)
		o->mode = M_ALIASES;
	else
		bad_option(a);
}

/*
 * One option at argv[*i] (which it may move past a value). Options of
 * sendmail that mean nothing here are accepted and ignored, so that
 * programs written for sendmail keep working.
 */
static void
one_option(struct opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	switch (a[1]) {
	case 't':
	case 'i':
		if (a[2])
			bad_option(a);
		if (a[1] == 't')
			o->extract = 1;
		else
			o->dot_ok = 1;
		break;
	case 'o':
		/* -oi; every other sendmail -oXvalue is accepted. */
		if (a[2] == '\0')
			bad_option(a);
		if (strcmp(a, "-oi") == 0)
			o->dot_ok = 1;
		break;
	case 'f':
	case 'r':
		o->sender = optval(argc, argv, i, a);
		break;
	case 'F':
		o->fullname = optval(argc, argv, i, a);
		break;
	case 'C':
		o->cdb = optval(argc, argv, i, a);
		break;
	case 'b':
		mode_option(o, a);
		break;
	case 'q':
		/* -q, -q30m, -qI..., -qR...: all mean "run now". */
		o->mode = M_QUEUE;
		break;
	case 'h':
		/* sendmail's hop count -h N, else help. */
		if (a[2] ? is_number(a + 2) :
		    *i + 1 < argc && is_number(argv[*i + 1])) {
			if (!a[2])
				++*i;
			break;
		}
		if (a[2])
			bad_option(a);
		usage(0);
	case 'B':
	case 'N':
	case 'R':
	case 'V':
	case 'X':
	case 'L':
	case 'O':
		(void)optval(argc, argv, i, a);
		break;
	case 'v':
	case 'U':
	case 'G':
	case 'n':
	case 'm':
		if (a[2])
			bad_option(a);
		break;
	case 'e':
		/* -em -ep -eq -ew -ee: error reporting modes. */
		if (a[2] == '\0' || a[3] != '\0' ||
		    strchr("mpqwe", a[2]) == NULL)
			bad_option(a);
		break;
	default:
		bad_option(a);
	}
}

/* Options up to the first recipient; -bi ends the parse at once. */
static void
parse_args(struct opts *o, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && o->mode != M_ALIASES; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "--help") == 0)
			usage(0);
		one_option(o, argc, argv, &i);
	}
	o->first = i;
}

int
main(int argc, char **argv)
{
	struct inject_cfg c;
	struct opts o;
	struct passwd *pw;
	const char *name, *why;
	int r;

	log_init(argv[0]);
	memset(&o, 0, sizeof o);
	o.cdb = PM_DEFAULT_CDB;
	signal(SIGPIPE, SIG_IGN);
	name = called_as(argc > 0 ? argv[0] : "");
	if (strcmp(name, "mailq") == 0)
		o.mode = M_LIST;
	else if (strcmp(name, "newaliases") == 0)
		return new_aliases();
	parse_args(&o, argc, argv);
	if (o.mode == M_ALIASES)
		return new_aliases();

	if (strcmp(o.cdb, PM_DEFAULT_CDB) != 0 && !may_choose_cdb())
		die(EX_NOPERM, "-C %s: only root or the postmaster user may "
		    "choose the configuration", o.cdb);
	if (inject_cfg_open(&c, o.cdb, &why) < 0)
		die(EX_TEMPFAIL, "unable to open %s: %s", o.cdb, why);
	if ((pw = getpwuid(getuid())) == NULL)
		die(EX_NOUSER, "no passwd entry for uid %lu",
		    (unsigned long)getuid());
	if (inject_cfg_caller(&c, pw, o.fullname, o.sender) < 0) {
		if (o.sender)
			die(EX_DATAERR, "bad sender address '%s'", o.sender);
		die(EX_SOFTWARE, "sender address too long");
	}

	switch (o.mode) {
	case M_SMTP:
		if (o.first < argc)
			die(EX_USAGE, "-bs takes no recipients");
		r = run_smtp(&c);
		break;
	case M_LIST:
		r = list_queue(&c);
		break;
	case M_VERIFY:
		r = verify(&c, argv + o.first, argc - o.first);
		break;
	case M_QUEUE:
		r = nudge(&c);
		break;
	default:
		r = deliver(&c, &o, argv + o.first, argc - o.first);
		break;
	}
	inject_cfg_close(&c);
	return r;
}
