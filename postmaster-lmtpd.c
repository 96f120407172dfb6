/*
 * postmaster-lmtpd: one LMTP session (RFC 2033) on an accepted connection
 * (fd 0/1 inetd style, or LISTEN_FDS fd 3) that delivers each message into
 * local Maildirs and answers once per recipient with that recipient's own
 * outcome. See postmaster-lmtpd(8).
 *
 * Two modes, chosen by [lmtpd] maildir:
 *
 *   "~/Maildir" (anything starting with ~)   system users: the local part
 *       must name a passwd entry (else 550 5.1.1 at RCPT); the message is
 *       written by a child running as that user (lib/deliver/deliver_user),
 *       so the daemon must run as root; uid 0 is refused (550 5.7.1), and
 *       so is a uid below [core] first-valid-uid or the overflow uid
 *       65534 (550 5.1.1, as unknown: lib/deliver/deliver_account).
 *   "/var/mail/%d/%u/Maildir"                virtual mailboxes: every
 *       syntactically valid recipient whose expansion is a safe path is
 *       accepted (routing already decided: lmtpd listens only on a unix
 *       socket or runs under the queue runner); the files belong to the
 *       postmaster user, which a root start drops to first.
 *
 * The message is spooled to an unlinked temporary file while it arrives,
 * then delivered per recipient in RCPT order after the end of data.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/io.h"
#include "base/log.h"
#include "base/priv.h"
#include "cf/cf_db.h"
#include "cf/cf_schema.h"
#include "net/net_drive.h"
#include "net/net_peer.h"
#include "deliver/deliver_account.h"
#include "deliver/deliver_loop.h"
#include "deliver/deliver_maildir.h"
#include "deliver/deliver_path.h"
#include "deliver/deliver_user.h"
#include "smtp/smtp_reply.h"
#include "smtp/smtp_session.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* Header bytes kept in memory for the loop scan (Postfix header_size_limit). */
#define LMTPD_HDR_MAX (100 * 1024)
/* Write buffer in front of the temporary file. */
#define LMTPD_WBUF 65536

/* One accepted recipient, with what delivery needs, fixed at RCPT time. */
struct lmtp_rcpt {
	char addr[SMTP_PATH_MAX + 1];	/* as given: Delivered-To, loop scan */
	char path[PATH_MAX];		/* the expanded Maildir */
	struct passwd pw;		/* system mode: the owner */
	char name[64];
	char home[PATH_MAX];
};

struct lmtpd {
	char hostname[256];
	char tmpl[PATH_MAX];
	char tmpdir[PATH_MAX];
	int system;			/* "~/..." template: system users */
	uint64_t first_uid;		/* system mode: lower uids get no mail */
	uint64_t max_hops;
	struct smtp_session *s;
	struct deliver_maildir dm;
	/* the transaction */
	char sender[SMTP_PATH_MAX + 1];
	struct lmtp_rcpt *rc;
	size_t nrc, caprc;
	int fd;				/* unlinked temporary file, or -1 */
	int failed;			/* a write to it failed: errno kept */
	int werr;
	char *wbuf;
	size_t wlen;
	struct buf hdr;			/* the first LMTPD_HDR_MAX bytes */
	unsigned long messages, delivered;
};

static void
tx_reset(struct lmtpd *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->failed = d->werr = 0;
	d->wlen = 0;
	d->nrc = 0;
	d->sender[0] = '\0';
	buf_reset(&d->hdr);
}

static int
on_mail(void *ctx, const struct smtp_path *from, const struct smtp_params *par,
    struct buf *r)
{
	struct lmtpd *d = ctx;

	(void)par;
	(void)r;
	tx_reset(d);
	snprintf(d->sender, sizeof d->sender, "%s", from->addr);
	return 0;
}

static int
on_rcpt(void *ctx, const struct smtp_path *to, const struct smtp_params *par,
    struct buf *r)
{
	struct lmtpd *d = ctx;
	struct lmtp_rcpt *v;
	struct passwd pwbuf, *pw = NULL;
	char sbuf[4096];
	const char *home = NULL;
	int e;

	(void)par;
	v = array_grow(d->rc, &d->caprc, d->nrc + 1, sizeof *v);
	if (v == NULL) {
		smtp_reply_text(r, "451 4.3.0 <%s>: out of memory", to->addr);
		return 1;
	}
	d->rc = v;
	v = &d->rc[d->nrc];
	memset(v, 0, sizeof *v);
	if (d->system) {
		switch (deliver_account_find(to->addr, to->locallen,
		    d->first_uid, &pwbuf, sbuf, sizeof sbuf, &pw)) {
		case DELIVER_ACCOUNT_OK:
			break;
		case DELIVER_ACCOUNT_ERROR:
			smtp_reply_text(r, "451 4.3.0 <%s>: user lookup failed",
			    to->addr);
			return 1;
		case DELIVER_ACCOUNT_ROOT:
			smtp_reply_text(r, "550 5.7.1 <%s>: Refusing to deliver as "
			    "root (route root's mail to a person)", to->addr);
			return 1;
		case DELIVER_ACCOUNT_SYSTEM:
			/*
			 * daemon, man, mail, nobody... are passwd entries but
			 * no mailboxes (Dovecot's first_valid_uid): the reply
			 * is the unknown user's, so it does not tell which
			 * system accounts exist.
			 */
			if (pw->pw_uid == DELIVER_ACCOUNT_OVERFLOW_UID)
				log_msg(LOG_L_NOTICE, "refused: to=<%s> user=%s "
				    "uid=%lu: the overflow uid", to->addr,
				    pw->pw_name, (unsigned long)pw->pw_uid);
			else
				log_msg(LOG_L_NOTICE, "refused: to=<%s> user=%s "
				    "uid=%lu: below [core] first-valid-uid %llu",
				    to->addr, pw->pw_name,
				    (unsigned long)pw->pw_uid,
				    (unsigned long long)d->first_uid);
			smtp_reply_text(r, "550 5.1.1 <%s>: Recipient address rejected: "
			    "User unknown in local recipient table", to->addr);
			return 1;
		case DELIVER_ACCOUNT_UNKNOWN:
			smtp_reply_text(r, "550 5.1.1 <%s>: Recipient address rejected: "
			    "User unknown in local recipient table", to->addr);
			return 1;
		}
		snprintf(v->name, sizeof v->name, "%s", pw->pw_name);
		snprintf(v->home, sizeof v->home, "%s", pw->pw_dir);
		v->pw.pw_name = v->name;
		v->pw.pw_dir = v->home;
		v->pw.pw_uid = pw->pw_uid;
		v->pw.pw_gid = pw->pw_gid;
		home = v->home;
	}
	e = deliver_path_expand(v->path, sizeof v->path, d->tmpl, to->addr,
	    to->locallen, to->domainlen ? to->domain : NULL, to->domainlen,
	    home);
	if (e != DELIVER_PATH_OK) {
		smtp_reply_text(r, "550 5.1.3 <%s>: Mailbox name not allowed (%s)",
		    to->addr, deliver_path_strerror(e));
		return 1;
	}
	snprintf(v->addr, sizeof v->addr, "%s", to->addr);
	d->nrc++;
	return 0;
}

static int
open_temp(struct lmtpd *d)
{
	char path[PATH_MAX];
	int fd;

	/* O_TMPFILE: never has a name, so nothing is left after a crash. */
	fd = open(d->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	if ((size_t)snprintf(path, sizeof path, "%s/lmtpd.XXXXXX",
	    d->tmpdir) >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
		unlink(path);
	return fd;
}

static int
on_data_begin(void *ctx, struct buf *r)
{
	struct lmtpd *d = ctx;

	if ((d->fd = open_temp(d)) < 0) {
		int full = errno == ENOSPC || errno == EDQUOT;

		log_err("unable to create a temporary file in %s: %s",
		    d->tmpdir, strerror(errno));
		smtp_reply_text(r, "%s", full ? "452 4.3.1 Insufficient system storage" :
		    "451 4.3.0 Temporary local problem");
		return 1;
	}
	d->wlen = 0;
	d->failed = 0;
	buf_reset(&d->hdr);
	return 0;
}

static int
wflush(struct lmtpd *d)
{
	if (d->wlen && io_write_all(d->fd, d->wbuf, d->wlen) < 0) {
		d->failed = 1;
		d->werr = errno;
		return -1;
	}
	d->wlen = 0;
	return 0;
}

static int
on_data_write(void *ctx, const char *p, size_t n)
{
	struct lmtpd *d = ctx;

	/*
	 * A failure is remembered, not returned: data_end then answers each
	 * recipient 452 4.3.1 (disk full) or 451 4.3.0 itself, where the
	 * session's own reply would always be 451.
	 */
	if (d->fd < 0 || d->failed)
		return 0;
	if (d->hdr.len < LMTPD_HDR_MAX) {
		size_t k = LMTPD_HDR_MAX - d->hdr.len;

		if (buf_append(&d->hdr, p, k < n ? k : n) < 0) {
			d->failed = 1;
			d->werr = errno;
			return 0;
		}
	}
	if (d->wlen + n > LMTPD_WBUF && wflush(d) < 0)
		return 0;
	if (n >= LMTPD_WBUF) {
		if (io_write_all(d->fd, p, n) < 0) {
			d->failed = 1;
			d->werr = errno;
		}
		return 0;
	}
	memcpy(d->wbuf + d->wlen, p, n);
	d->wlen += n;
	return 0;
}

/* "250 2.0.0 text" -> "250 2.0.0 <addr> text" */
static void
rcpt_reply(struct buf *r, const char *text, const char *addr)
{
	const char *sp = strchr(text, ' ');

	sp = sp ? strchr(sp + 1, ' ') : NULL;
	if (sp == NULL)
		smtp_reply_text(r, "%s <%s>", text, addr);
	else
		smtp_reply_text(r, "%.*s <%s>%s", (int)(sp - text), text, addr, sp);
}

static const char *
status_word(int res)
{
	if (res == DELIVER_OK)
		return "sent";
	if (res == DELIVER_E_TEMP || res == DELIVER_E_QUOTA ||
	    res == DELIVER_E_NOSPACE)
		return "deferred";
	return "bounced";
}

static int
deliver_one(struct lmtpd *d, const struct lmtp_rcpt *v, char *fname,
    size_t fcap, int *err)
{
	struct deliver_loop lp;
	struct deliver_msg msg;
	struct buf h = BUF_INIT(0);
	int res;

	*err = 0;
	fname[0] = '\0';
	deliver_loop_scan(d->hdr.p, d->hdr.len, LMTPD_HDR_MAX, v->addr,
	    strlen(v->addr), &lp);
	/* Our own Delivered-To counts as one more hop (RFC 5321 6.3). */
	if (lp.found || lp.hops + 1 > d->max_hops)
		return DELIVER_E_LOOP;
	if (deliver_maildir_hdr_return_path(&h, d->sender,
	    strlen(d->sender)) < 0 ||
	    deliver_maildir_hdr_delivered_to(&h, v->addr, strlen(v->addr)) < 0) {
		*err = errno;
		buf_free(&h);
		return DELIVER_E_TEMP;
	}
	memset(&msg, 0, sizeof msg);
	msg.hdr = h.p;
	msg.hdrlen = h.len;
	msg.fd = d->fd;
	msg.off = 0;
	msg.flags = DELIVER_MSG_CRLF;
	if (d->system)
		res = deliver_user_put(&d->dm, &v->pw, v->path, &msg, fname,
		    fcap);
	else
		res = deliver_maildir_put(&d->dm, v->path, &msg, fname, fcap);
	*err = res == DELIVER_OK ? 0 : errno;
	buf_free(&h);
	return res;
}

static int
on_data_end(void *ctx, const struct smtp_msg_info *info, struct buf *r)
{
	struct lmtpd *d = ctx;
	char fname[DELIVER_MAILDIR_NAMEMAX];
	size_t i;
	int all_ok = 1;

	if (info->nrcpt != d->nrc)
		die_bug("session has %u recipients, lmtpd %zu", info->nrcpt,
		    d->nrc);
	if (d->fd >= 0 && !d->failed)
		wflush(d);
	d->messages++;
	for (i = 0; i < d->nrc; i++) {
		const struct lmtp_rcpt *v = &d->rc[i];
		int res, err;

		if (d->fd < 0 || d->failed) {
			err = d->werr;
			res = deliver_maildir_errno_result(err);
			fname[0] = '\0';
		} else {
			res = deliver_one(d, v, fname, sizeof fname, &err);
		}
		rcpt_reply(r, deliver_maildir_reply(res), v->addr);
		if (res == DELIVER_OK) {
			d->delivered++;
			log_info("delivery: to=<%s> from=<%s> status=sent "
			    "size=%llu maildir=%s/new/%s", v->addr, d->sender,
			    (unsigned long long)info->size, v->path, fname);
		} else {
			all_ok = 0;
			log_msg(res == DELIVER_E_LOOP || res == DELIVER_E_ROOT ||
			    res == DELIVER_E_MAILBOX ? LOG_L_NOTICE : LOG_L_WARN,
			    "delivery: to=<%s> from=<%s> status=%s reply=\"%s\" "
			    "maildir=%s%s%s", v->addr, d->sender,
			    status_word(res), deliver_maildir_reply(res),
			    v->path, err ? " error=" : "",
			    err ? strerror(err) : "");
		}
	}
	tx_reset(d);
	return all_ok ? 0 : 1;
}

static void
on_abort(void *ctx)
{
	tx_reset(ctx);
}

/* Virtual mode: the files belong to the postmaster user, never root. */
static void
drop_privileges(struct cf_db *db, const char *host, int out)
{
	char user[128], group[128];
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	cf_db_str(db, "core", "", "user-id", user, sizeof user);
	cf_db_str(db, "core", "", "group-id", group, sizeof group);
	if ((pw = getpwnam(user)) != NULL && pw->pw_uid == 0) {
		net_early_fail(out, host, "misconfigured");
		die(EX_CONFIG, "[core] user-id '%s' is root: refusing to write "
		    "virtual mailboxes as root", user);
	}
	if (priv_drop(user, group) < 0) {
		int e = errno;

		net_early_fail(out, host, "misconfigured");
		if (e == ENOENT)
			die(EX_NOUSER, "[core] user-id '%s' or group-id '%s' "
			    "does not exist", user, group);
		errno = e;
		die_sys(EX_OSERR, "unable to drop privileges to %s", user);
	}
}

static void
usage(int code)
{
	fprintf(code ? stderr : stdout, "usage: postmaster-lmtpd [-C CDB]\n"
	    "  LMTP (RFC 2033) on fd 0/1 or LISTEN_FDS fd 3; delivers to the\n"
	    "  Maildirs of [lmtpd] maildir. See postmaster-lmtpd(8).\n");
	exit(code);
}

/*
 * [lmtpd] and the [core] keys lmtpd uses, each with its default in the
 * schema (lib/cf/cf_schema.c); -1 when one is unreadable.
 */
static int
read_config(struct cf_db *db, struct lmtpd *d, struct smtp_session_cfg *cfg,
    uint64_t *idle, uint64_t *deadline)
{
	const struct cf_key_def *kd;
	uint64_t size;

	if (cf_db_str(db, "lmtpd", "", "maildir", d->tmpl, sizeof d->tmpl) < 0 ||
	    cf_db_uint(db, "core", "", "first-valid-uid", &d->first_uid) < 0 ||
	    cf_db_uint(db, "core", "", "max-hops", &d->max_hops) < 0 ||
	    cf_db_uint(db, "core", "", "max-message-size", &size) < 0 ||
	    cf_db_uint(db, "lmtpd", "", "idle-timeout", idle) < 0 ||
	    cf_db_uint(db, "lmtpd", "", "session-timeout", deadline) < 0)
		return -1;
	/* maildir = "" is the default template. */
	if (d->tmpl[0] == '\0') {
		kd = cf_schema_key(cf_schema_kind("lmtpd"), "maildir");
		snprintf(d->tmpl, sizeof d->tmpl, "%s", kd ? kd->def : "");
	}
	memset(cfg, 0, sizeof *cfg);
	cfg->accept_mail = 1;
	cfg->lmtp_only = 1;
	/*
	 * A Maildir stores octets: UTF-8 addresses and headers go in as they
	 * came (RFC 6531 3.1 applies to LMTP too; RFC 6532 3.2). No
	 * BINARYMIME: readers expect LF text, the queue converts for us.
	 */
	cfg->ext = SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8;
	cfg->size_max = size;
	cfg->max_received = (unsigned)d->max_hops;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cdb = PM_DEFAULT_CDB, *why, *env;
	struct lmtpd d;
	struct cf_db db;
	struct smtp_session_cfg cfg;
	struct smtp_session_ops ops = { on_mail, on_rcpt, on_data_begin,
		on_data_write, on_data_end, on_abort, NULL, NULL, NULL, NULL };
	uint64_t idle, deadline;
	int in = 0, out = 1, i, e;

	log_init(argv[0]);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			usage(0);
		else if (strcmp(argv[i], "-C") == 0 && i + 1 < argc)
			cdb = argv[++i];
		else if (strncmp(argv[i], "-C", 2) == 0 && argv[i][2])
			cdb = argv[i] + 2;
		else
			usage(EX_USAGE);
	}
	memset(&d, 0, sizeof d);
	d.fd = -1;
	buf_init(&d.hdr, 0);
	signal(SIGPIPE, SIG_IGN);
	if (net_listen_fds() == 1)
		in = out = 3;
	gethostname(d.hostname, sizeof d.hostname - 1);

	if (cf_db_open(&db, cdb, &why) < 0) {
		net_early_fail(out, d.hostname, "configuration unavailable");
		die(EX_TEMPFAIL, "unable to open %s: %s", cdb, why);
	}
	if (cf_db_str(&db, "core", "", "hostname", d.tmpl,
	    sizeof d.hostname) >= 0 && d.tmpl[0])
		memcpy(d.hostname, d.tmpl, strlen(d.tmpl) + 1);
	if (read_config(&db, &d, &cfg, &idle, &deadline) < 0) {
		net_early_fail(out, d.hostname, "configuration unavailable");
		die(EX_TEMPFAIL, "unable to read the configuration in %s", cdb);
	}
	d.system = d.tmpl[0] == '~';
	/* A template that can never expand is a configuration error. */
	{
		char probe[PATH_MAX];

		e = deliver_path_expand(probe, sizeof probe, d.tmpl, "u", 1,
		    "d", 1, "/h");
		if (e != DELIVER_PATH_OK) {
			net_early_fail(out, d.hostname, "misconfigured");
			die(EX_CONFIG, "[lmtpd] maildir \"%s\": %s", d.tmpl,
			    deliver_path_strerror(e));
		}
	}
	if ((env = getenv("TMPDIR")) == NULL || env[0] != '/')
		env = "/tmp";
	snprintf(d.tmpdir, sizeof d.tmpdir, "%s", env);
	if (!d.system)
		drop_privileges(&db, d.hostname, out);
	else if (geteuid() != 0)
		log_warn("not running as root: can deliver only to uid %ld",
		    (long)geteuid());
	if (deliver_maildir_init(&d.dm, d.hostname) < 0 ||
	    (d.wbuf = malloc(LMTPD_WBUF)) == NULL) {
		net_early_fail(out, d.hostname, "out of memory");
		die_sys(EX_TEMPFAIL, "unable to initialise");
	}

	cfg.hostname = d.hostname;
	cf_db_close(&db);

	if ((d.s = smtp_session_new(&cfg, &ops, &d)) == NULL)
		die(EX_TEMPFAIL, "out of memory");
	log_info("connect: maildir=%s mode=%s", d.tmpl,
	    d.system ? "system" : "virtual");
	{
		struct net_drive drive = { .in = in, .out = out,
			.idle_ms = clock_ms_from_s(idle),
			.deadline_ms = clock_ms_from_s(deadline),
			.on_output = NULL, .on_pregreet = NULL, .arg = &d };

		e = net_drive_run(d.s, &drive);
		if (e == NET_DRIVE_WRITE_IDLE || e == NET_DRIVE_WRITE_DEADLINE)
			log_info("timeout: the client did not read its replies "
			    "within the %s (%llu s); connection closed",
			    e == NET_DRIVE_WRITE_IDLE ? "idle-timeout" :
			    "session-timeout", (unsigned long long)(e ==
			    NET_DRIVE_WRITE_IDLE ? idle : deadline));
	}
	log_info("disconnect: messages=%lu delivered=%lu errors=%u",
	    d.messages, d.delivered, smtp_session_errors(d.s));
	tx_reset(&d);
	smtp_session_free(d.s);
	buf_free(&d.hdr);
	free(d.rc);
	free(d.wbuf);
	return 0;
}
