/*
 * postmaster-inject: the sendmail(1) command line. Reads a message from
 * stdin (or an SMTP dialogue with -bs), completes its header, and leaves
 * it in SPOOL/maildrop for the queue runner's pickup, which re-validates
 * it (lib/inject/inject_pickup.h). Installed setgid postdrop; it never
 * touches the queue itself. Also -bp (queue listing), -bv (routing) and
 * -q (wake the runner). See postmaster-inject(8) and doc/THREATS.md.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/date.h"
#include "base/log.h"
#include "base/priv.h"
#include "cf/cf_db.h"
#include "net/net_drive.h"
#include "inject/inject_drop.h"
#include "inject/inject_msg.h"
#include "route/route_db.h"
#include "smtp/smtp_reply.h"
#include "smtp/smtp_session.h"
#include "spool/spool_dir.h"
#include "spool/spool_env.h"
#include "spool/spool_id.h"
#include "spool/spool_nudge.h"
#include "spool/spool_queue.h"

#define PM_DEFAULT_CDB "/etc/postmaster.cdb"

#ifdef __SANITIZE_ADDRESS__
/*
 * ASan builds only: LeakSanitizer needs ptrace, which the kernel denies to
 * a setgid process, and a secure-mode process ignores ASAN_OPTIONS; so the
 * default is set here or every setgid run would exit 1 at its end.
 */
const char *__lsan_default_options(void);
const char *
__lsan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

enum mode { M_DELIVER, M_SMTP, M_LIST, M_VERIFY, M_QUEUE };

struct inject {
	const char *cdb;
	struct cf_db db;
	struct route_ops ops;
	struct route_instance inst;
	char hostname[256];
	char spooldir[1024];
	uint64_t max_size;
	char login[64];
	char fullname[256];
	char sender[SMTP_PATH_MAX + 1];
	int have_sender;
	int dot_ok, extract;
	struct inject_rcpts rc;
	/* -bs */
	struct smtp_session *s;
	struct buf data;
	int data_failed;
	char smtp_sender[SMTP_PATH_MAX + 1];
	struct inject_rcpts smtp_rc;
};

static void
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

/* "Joe Bloggs,room,phone" with '&' as the capitalised login (BSD gecos). */
static void
gecos_name(const char *gecos, const char *login, char *out, size_t cap)
{
	size_t o = 0;
	const char *p;

	for (p = gecos; *p && *p != ',' && o + 1 < cap; p++) {
		if (*p == '&') {
			const char *l;

			for (l = login; *l && o + 1 < cap; l++)
				out[o++] = (char)(l == login && *l >= 'a' &&
				    *l <= 'z' ? *l - 'a' + 'A' : *l);
		} else if ((unsigned char)*p >= 0x20 && *p != 0x7f) {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

/* RFC 5322 3.2.5 display-name: quoted-string when it is not all atoms. */
static void
display_name(struct buf *b, const char *name)
{
	const char *p;
	int plain = 1;

	for (p = name; *p; p++)
		if (strchr("()<>[]:;@\\,.\"", *p))
			plain = 0;
	if (plain) {
		buf_append_str(b, name);
		return;
	}
	buf_append_byte(b, '"');
	for (p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_append_byte(b, '\\');
		buf_append_byte(b, *p);
	}
	buf_append_byte(b, '"');
}

/* -f value: "<a@b>", "a@b", "<>", "" or a local name (gets @hostname). */
static int
set_sender(struct inject *j, const char *arg)
{
	char tmp[SMTP_PATH_MAX + 1], canon[SMTP_PATH_MAX + 1];
	size_t n = strlen(arg);

	if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>') {
		arg++;
		n -= 2;
	}
	j->have_sender = 1;
	if (n == 0) {
		j->sender[0] = '\0';	/* the null sender, for bounces */
		return 0;
	}
	if (n >= sizeof tmp)
		return -1;
	memcpy(tmp, arg, n);
	tmp[n] = '\0';
	if (inject_addr_check(tmp, n, canon) < 0)
		return -1;
	if (strchr(canon, '@') == NULL) {
		if ((size_t)snprintf(j->sender, sizeof j->sender, "%s@%s",
		    canon, j->hostname) >= sizeof j->sender)
			return -1;
	} else {
		snprintf(j->sender, sizeof j->sender, "%s", canon);
	}
	return 0;
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

/*
 * Checks that each recipient goes somewhere before anything is dropped:
 * the caller learns now, not from a bounce. Returns 0 or an exit code.
 */
static int
route_check(struct inject *j, const char *addr, char *why, size_t cap)
{
	struct route_result res;
	const char *at = strchr(addr, '@');
	int rc = 0;

	route_result_init(&res, NULL);
	switch (route_resolve(&j->ops, &j->inst.q, addr, strlen(addr), &res)) {
	case ROUTE_OK:
		break;
	case ROUTE_NO_ROUTE:
		if (at && !route_is_our_domain(&j->ops, &j->inst.q, at + 1,
		    strlen(at + 1)))
			break;	/* by MX */
		snprintf(why, cap, "550 5.1.1 <%s>: User unknown", addr);
		rc = EX_NOUSER;
		break;
	case ROUTE_LOCAL_DENIED:
		snprintf(why, cap, "550 5.1.1 <%s>: User unknown", addr);
		rc = EX_NOUSER;
		break;
	case ROUTE_BAD_ADDRESS:
		snprintf(why, cap, "553 5.1.3 <%s>: bad address", addr);
		rc = EX_DATAERR;
		break;
	case ROUTE_LOOP:
	case ROUTE_TOO_MANY:
		snprintf(why, cap, "554 5.4.6 <%s>: %s", addr, res.why);
		rc = EX_CONFIG;
		break;
	case ROUTE_ERROR:
		snprintf(why, cap, "451 4.3.0 <%s>: routing lookup failed",
		    addr);
		rc = EX_TEMPFAIL;
		break;
	}
	route_result_free(&res);
	return rc;
}

static int
open_maildrop(struct inject *j)
{
	char path[1100];
	int fd;

	snprintf(path, sizeof path, "%s/%s", j->spooldir, INJECT_MAILDROP);
	/* O_PATH: the directory is 1730, the group may not read it. */
	fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die_sys(EX_TEMPFAIL, "maildrop directory %s is missing or "
		    "unusable (it must exist, mode 1730, group postdrop)", path);
	return fd;
}

/*
 * Writes the message into the maildrop. Returns 0 or an exit code, with a
 * diagnostic in why. id receives the maildrop id.
 */
static int
drop(struct inject *j, const struct inject_rcpts *rc, const struct buf *msg,
    int eightbit, char id[SPOOL_ID_SIZE], char *why, size_t cap)
{
	struct spool_env_limits lim = SPOOL_ENV_LIMITS_DEFAULT;
	struct spool_env env;
	struct spool_dlv *dv;
	struct inject_drop dr;
	struct spool_dir sd;
	struct buf e = BUF_INIT(0);
	char helo[64], path[1100];
	int full;
	size_t i;
	int md, r, smtputf8 = 0;

	if ((dv = calloc(rc->n, sizeof *dv)) == NULL) {
		snprintf(why, cap, "out of memory");
		return EX_TEMPFAIL;
	}
	for (i = 0; i < rc->n; i++) {
		dv[i].rcpt = i;
		dv[i].orig = dv[i].addr = spool_str_c(rc->a[i]);
		dv[i].target = spool_str_c("inject:");
		dv[i].status = SPOOL_ST_PENDING;
	}
	for (i = 0; i < rc->n && !smtputf8; i++) {
		const unsigned char *p;

		for (p = (const unsigned char *)rc->a[i]; *p; p++)
			if (*p >= 0x80)
				smtputf8 = 1;
	}
	md = open_maildrop(j);
	if (inject_drop_open(&dr, md) < 0) {
		full = spool_err_full(errno);
		snprintf(path, sizeof path, "%s/%s", j->spooldir,
		    INJECT_MAILDROP);
		snprintf(why, cap, "unable to create a file in %.200s: %s%s",
		    path, strerror(errno), full ? "" :
		    " (is postmaster-inject setgid postdrop?)");
		free(dv);
		close(md);
		return EX_TEMPFAIL;
	}
	memset(&env, 0, sizeof env);
	memcpy(env.id, dr.id, SPOOL_ID_SIZE);
	env.arrival = (int64_t)time(NULL);
	snprintf(helo, sizeof helo, "uid=%lu", (unsigned long)getuid());
	env.helo = spool_str_c(helo);
	env.client = spool_str_c("local");
	env.proto = spool_str_c("local");
	env.instance = spool_str_c("inject");
	env.auth = spool_str_c("");
	env.sender = spool_str_c(j->sender);
	env.body = eightbit ? SPOOL_BODY_8BITMIME : SPOOL_BODY_7BIT;
	env.smtputf8 = smtputf8;
	env.dlv = dv;
	env.ndlv = rc->n;
	r = spool_env_encode(&e, &env, &lim);
	free(dv);
	if (r != SPOOL_ENV_OK) {
		inject_drop_abort(&dr);
		close(md);
		buf_free(&e);
		snprintf(why, cap, "envelope refused: %s",
		    spool_env_strerror(r));
		return EX_DATAERR;
	}
	if (inject_drop_write(&dr, e.p, e.len) < 0 ||
	    inject_drop_write(&dr, msg->p, msg->len) < 0 ||
	    inject_drop_commit(&dr) < 0) {
		int err = errno;

		inject_drop_abort(&dr);
		close(md);
		buf_free(&e);
		snprintf(why, cap, "unable to write the message: %s%s",
		    strerror(err), spool_err_full(err) ?
		    " (nothing was queued)" : "");
		return EX_TEMPFAIL;
	}
	buf_free(&e);
	close(md);
	memcpy(id, dr.id, SPOOL_ID_SIZE);
	/*
	 * Wake the runner through the public FIFO SPOOL/pickup, which group
	 * postdrop may write (Postfix's public/pickup); without it, only
	 * root and the postmaster user reach SPOOL/nudge, and other users'
	 * mail waits for the runner's periodic pass.
	 */
	memset(&sd, 0, sizeof sd);
	sd.tmp = sd.queue = sd.state = -1;
	if ((sd.root = open(j->spooldir, O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) >= 0) {
		(void)spool_nudge_send_pickup(&sd);
		close(sd.root);
	}
	return 0;
}

static void
header_values(struct inject *j, char date[DATE_RFC5322_SIZE], char *msgid,
    size_t mcap, struct buf *from)
{
	char id[SPOOL_ID_SIZE];
	struct timespec ts;

	date_rfc5322_local(time(NULL), date);
	clock_gettime(CLOCK_REALTIME, &ts);
	if (spool_id_new(id, &ts) < 0)
		snprintf(id, sizeof id, "%lld%09ld", (long long)ts.tv_sec,
		    ts.tv_nsec);
	snprintf(msgid, mcap, "<%s.inject@%s>", id, j->hostname);
	buf_reset(from);
	if (j->fullname[0]) {
		display_name(from, j->fullname);
		buf_append_str(from, " <");
	}
	if (j->sender[0])
		buf_append_str(from, j->sender);
	else
		buf_printf(from, "%s@%s", j->login, j->hostname);
	if (j->fullname[0])
		buf_append_byte(from, '>');
}

/* Builds and drops one message. Returns 0 or an exit code (with why). */
static int
submit(struct inject *j, const char *in, size_t n, int flags,
    struct inject_rcpts *rc, char id[SPOOL_ID_SIZE], char *why, size_t cap)
{
	struct inject_msg_opts o;
	struct inject_msg_info info;
	struct buf msg = BUF_INIT(0), from = BUF_INIT(0);
	char date[DATE_RFC5322_SIZE], msgid[SPOOL_ID_SIZE + 300];
	size_t i;
	int r;

	header_values(j, date, msgid, sizeof msgid, &from);
	memset(&o, 0, sizeof o);
	o.flags = flags;
	o.max_size = (size_t)j->max_size;
	o.from = from.p;
	o.date = date;
	o.msgid = msgid;
	r = inject_msg_build(in, n, &o, &msg, rc, &info);
	buf_free(&from);
	if (r != INJECT_MSG_OK) {
		if (r == INJECT_MSG_E_HEADER)
			snprintf(why, cap, "malformed header: line %zu: %s",
			    info.err_line, info.why);
		else
			snprintf(why, cap, "%s", info.why);
		buf_free(&msg);
		return r == INJECT_MSG_E_NOMEM ? EX_TEMPFAIL :
		    r == INJECT_MSG_E_TOOMANY ? EX_DATAERR : EX_DATAERR;
	}
	if (rc->n == 0) {
		snprintf(why, cap, "%s", flags & INJECT_MSG_EXTRACT ?
		    "no recipient addresses found in the message header" :
		    "no recipients given");
		buf_free(&msg);
		return EX_USAGE;
	}
	for (i = 0; i < rc->n; i++)
		if ((r = route_check(j, rc->a[i], why, cap)) != 0) {
			buf_free(&msg);
			return r;
		}
	r = drop(j, rc, &msg, info.eightbit, id, why, cap);
	buf_free(&msg);
	return r;
}

/* ---- -bs: an SMTP dialogue on stdin/stdout ---- */

static void
bs_reset(struct inject *j)
{
	inject_rcpts_free(&j->smtp_rc);
	buf_reset(&j->data);
	j->data_failed = 0;
}

static int
bs_mail(void *ctx, const struct smtp_path *from, const struct smtp_params *par,
    struct buf *r)
{
	struct inject *j = ctx;

	(void)par;
	(void)r;
	bs_reset(j);
	snprintf(j->smtp_sender, sizeof j->smtp_sender, "%s", from->addr);
	return 0;
}

static int
bs_rcpt(void *ctx, const struct smtp_path *to, const struct smtp_params *par,
    struct buf *r)
{
	struct inject *j = ctx;
	char why[512];

	(void)par;
	if (route_check(j, to->addr, why, sizeof why) != 0) {
		smtp_reply_text(r, "%s", why);
		return 1;
	}
	if (inject_addr_list(to->addr, to->addrlen, &j->smtp_rc, why,
	    sizeof why) != INJECT_MSG_OK) {
		smtp_reply_text(r, "501 5.1.3 <%s>: bad recipient address", to->addr);
		return 1;
	}
	return 0;
}

static int
bs_data_begin(void *ctx, struct buf *r)
{
	struct inject *j = ctx;

	(void)r;
	buf_reset(&j->data);
	j->data_failed = 0;
	return 0;
}

static int
bs_data_write(void *ctx, const char *p, size_t n)
{
	struct inject *j = ctx;

	if (!j->data_failed && buf_append(&j->data, p, n) < 0)
		j->data_failed = 1;
	return j->data_failed;
}

static int
bs_data_end(void *ctx, const struct smtp_msg_info *info, struct buf *r)
{
	struct inject *j = ctx;
	char id[SPOOL_ID_SIZE], why[600];
	int e;

	(void)info;
	/* The dialogue's MAIL FROM is the envelope sender, like -f. */
	snprintf(j->sender, sizeof j->sender, "%s", j->smtp_sender);
	e = submit(j, j->data.p ? j->data.p : "", j->data.len, INJECT_MSG_DOT_OK,
	    &j->smtp_rc, id, why, sizeof why);
	if (e == 0) {
		smtp_reply_text(r, "250 2.0.0 Ok: queued as %s", id);
	} else if (e == EX_TEMPFAIL) {
		smtp_reply_text(r, "451 4.3.0 %s", why);
	} else {
		smtp_reply_text(r, "554 5.6.0 %s", why);
	}
	bs_reset(j);
	return e != 0;
}

static void
bs_abort(void *ctx)
{
	bs_reset(ctx);
}

/*
 * A minute of -bs time. PM_INJECT_TIMEOUT_SCALE_MS (tests) makes it that
 * many milliseconds; secure_getenv() ignores it in a setgid inject, so a
 * user cannot change the limits of the privileged program.
 */
static uint64_t
minute_ms(void)
{
	const char *v = secure_getenv("PM_INJECT_TIMEOUT_SCALE_MS");
	unsigned long ms = v ? strtoul(v, NULL, 10) : 0;

	return ms ? ms : 60 * 1000;
}

static int
run_smtp(struct inject *j)
{
	struct net_drive drive;
	struct smtp_session_cfg cfg;
	struct smtp_session_ops ops = { bs_mail, bs_rcpt, bs_data_begin,
		bs_data_write, bs_data_end, bs_abort, NULL, NULL, NULL };
	int rc;

	memset(&cfg, 0, sizeof cfg);
	cfg.hostname = j->hostname;
	cfg.accept_mail = 1;
	cfg.size_max = j->max_size;
	cfg.ext = SMTP_EXT_SIZE | SMTP_EXT_8BITMIME;
	buf_init(&j->data, (size_t)j->max_size + 65536);
	if ((j->s = smtp_session_new(&cfg, &ops, j)) == NULL)
		die(EX_TEMPFAIL, "out of memory");
	memset(&drive, 0, sizeof drive);
	drive.in = 0;
	drive.out = 1;
	/* smtpd's defaults: 5 min idle, 30 min in all, reads and writes */
	drive.idle_ms = 5 * minute_ms();
	drive.deadline_ms = 30 * minute_ms();
	rc = net_drive_run(j->s, &drive);
	if (rc == NET_DRIVE_WRITE_IDLE || rc == NET_DRIVE_WRITE_DEADLINE)
		fprintf(stderr, "%s: fatal: -bs: the client did not read its "
		    "replies within the %s\n", log_prog(),
		    rc == NET_DRIVE_WRITE_IDLE ? "idle timeout (5 min)" :
		    "session time limit (30 min)");
	rc = rc == NET_DRIVE_DONE ? 0 : EX_IOERR;
	smtp_session_free(j->s);
	bs_reset(j);
	buf_free(&j->data);
	return rc;
}

/* ---- -bp, -q: need the postmaster user's spool ---- */

/* Root becomes the postmaster user: the spool is that user's, 0700. */
static void
become_postmaster(struct inject *j)
{
	char user[128], group[128];

	if (geteuid() != 0)
		return;
	cf_db_str(&j->db, "core", "", "user-id", user, sizeof user);
	cf_db_str(&j->db, "core", "", "group-id", group, sizeof group);
	if (priv_drop(user, group) < 0) {
		if (errno == ENOENT)
			die(EX_NOUSER, "[core] user-id '%s' or group-id '%s' "
			    "does not exist", user, group);
		die_sys(EX_OSERR, "unable to become %s", user);
	}
}

static void
open_spool(struct inject *j, struct spool_dir *sp)
{
	become_postmaster(j);
	if (spool_dir_open(sp, j->spooldir, 0) < 0)
		die_sys(errno == EACCES || errno == EPERM ? EX_NOPERM :
		    EX_TEMPFAIL, "unable to open the spool %s", j->spooldir);
}

struct list_ctx {
	struct spool_dir *sp;
	unsigned long n;
};

static int
list_one(const char *id, void *arg)
{
	struct list_ctx *lc = arg;
	struct spool_env_limits lim = SPOOL_ENV_LIMITS_DEFAULT;
	struct spool_msg m;
	struct spool_state st;
	char when[64];
	time_t t;
	struct tm tm;
	size_t i;
	int err = 0;

	if (spool_queue_open(lc->sp, id, &lim, &m, &err) < 0) {
		if (errno != ENOENT)
			printf("%s  (unreadable: %s)\n", id, err ?
			    spool_env_strerror(err) : strerror(errno));
		return 0;
	}
	if (spool_queue_state_load(lc->sp, &m, &st, &err) < 0) {
		printf("%s  (state unreadable)\n", id);
		spool_queue_close(&m);
		return 0;
	}
	t = (time_t)m.env.arrival;
	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%a %b %d %H:%M:%S", &tm);
	printf("%-30s %9lld %s  <%s>\n", id,
	    (long long)(m.file_size - m.body_off), when, m.env.sender.p);
	for (i = 0; i < m.env.ndlv; i++) {
		const struct spool_dstate *d = &st.d[i];

		printf("        <%s> %s %s", m.env.dlv[i].addr.p,
		    m.env.dlv[i].target.p, spool_status_name(d->status));
		if (d->attempts)
			printf(" attempts=%lu", (unsigned long)d->attempts);
		if (d->reply && d->reply[0])
			printf(" (%s)", d->reply);
		putchar('\n');
	}
	lc->n++;
	spool_state_free(&st);
	spool_queue_close(&m);
	return 0;
}

static int
list_queue(struct inject *j)
{
	struct spool_dir sp;
	struct list_ctx lc = { &sp, 0 };

	open_spool(j, &sp);
	if (spool_queue_scan(&sp, list_one, &lc) < 0 && errno != 0)
		die_sys(EX_TEMPFAIL, "unable to scan the queue");
	if (lc.n == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %lu message%s in the queue\n", lc.n,
		    lc.n == 1 ? "" : "s");
	spool_dir_close(&sp);
	return 0;
}

static int
verify(struct inject *j, char **addrs, int n)
{
	struct route_result res;
	char t[1200], why[512];
	int i, rc = 0;
	size_t k;

	if (n == 0)
		die(EX_USAGE, "-bv needs at least one address");
	for (i = 0; i < n; i++) {
		route_result_init(&res, NULL);
		switch (route_resolve(&j->ops, &j->inst.q, addrs[i],
		    strlen(addrs[i]), &res)) {
		case ROUTE_OK:
			for (k = 0; k < res.n; k++) {
				route_target_format(&res.t[k], t, sizeof t);
				printf("%s: deliver: %s to %s\n", addrs[i],
				    res.t[k].rcpt, t);
			}
			break;
		default:
			if (route_check(j, addrs[i], why, sizeof why) == 0) {
				const char *at = strchr(addrs[i], '@');

				printf("%s: deliver: %s to mx:%s\n", addrs[i],
				    addrs[i], at ? at + 1 : "");
			} else {
				printf("%s: refused: %s\n", addrs[i], why);
				rc = EX_NOUSER;
			}
			break;
		}
		route_result_free(&res);
	}
	return rc;
}

static int
nudge(struct inject *j)
{
	struct spool_dir sp;

	open_spool(j, &sp);
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

int
main(int argc, char **argv)
{
	struct inject j;
	struct passwd *pw;
	struct buf in = BUF_INIT(0);
	enum mode mode = M_DELIVER;
	const char *name, *why, *fflag = NULL, *Fflag = NULL;
	char id[SPOOL_ID_SIZE], err[700];
	int i, r;

	log_init(argv[0]);
	memset(&j, 0, sizeof j);
	j.cdb = PM_DEFAULT_CDB;
	signal(SIGPIPE, SIG_IGN);
	name = called_as(argc > 0 ? argv[0] : "");
	if (strcmp(name, "mailq") == 0)
		mode = M_LIST;
	else if (strcmp(name, "newaliases") == 0)
		return new_aliases();
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "--help") == 0)
			usage(0);
		switch (a[1]) {
		case 't':
			if (a[2])
				goto bad;
			j.extract = 1;
			break;
		case 'i':
			if (a[2])
				goto bad;
			j.dot_ok = 1;
			break;
		case 'o':
			/* -oi; every other sendmail -oXvalue is accepted. */
			if (a[2] == '\0')
				goto bad;
			if (strcmp(a, "-oi") == 0)
				j.dot_ok = 1;
			break;
		case 'f':
		case 'r':
			fflag = optval(argc, argv, &i, a);
			break;
		case 'F':
			Fflag = optval(argc, argv, &i, a);
			break;
		case 'C':
			j.cdb = optval(argc, argv, &i, a);
			break;
		case 'b':
			if (strcmp(a, "-bm") == 0)
				mode = M_DELIVER;
			else if (strcmp(a, "-bs") == 0)
				mode = M_SMTP;
			else if (strcmp(a, "-bp") == 0)
				mode = M_LIST;
			else if (strcmp(a, "-bv") == 0)
				mode = M_VERIFY;
			else if (strcmp(a, "-bd") == 0 || strcmp(a, "-bD") == 0)
				die(EX_USAGE, "%s: no daemon mode; listeners are "
				    "systemd sockets or tcpserver running "
				    "postmaster-smtpd", a);
			else if (strcmp(a, "-bi") == 0)
				return new_aliases();
			else
				goto bad;
			break;
		case 'q':
			/* -q, -q30m, -qI..., -qR...: all mean "run now". */
			mode = M_QUEUE;
			break;
		case 'h':
			/* sendmail's hop count -h N, else help. */
			if (a[2] ? is_number(a + 2) :
			    i + 1 < argc && is_number(argv[i + 1])) {
				if (!a[2])
					i++;
				break;
			}
			if (a[2])
				goto bad;
			usage(0);
			break;
		case 'B':
		case 'N':
		case 'R':
		case 'V':
		case 'X':
		case 'L':
		case 'O':
			(void)optval(argc, argv, &i, a);
			break;
		case 'v':
		case 'U':
		case 'G':
		case 'n':
		case 'm':
			if (a[2])
				goto bad;
			break;
		case 'e':
			/* -em -ep -eq -ew -ee: error reporting modes. */
			if (a[2] == '\0' || a[3] != '\0' ||
			    strchr("mpqwe", a[2]) == NULL)
				goto bad;
			break;
		default:
			goto bad;
		}
	}

	if (strcmp(j.cdb, PM_DEFAULT_CDB) != 0 && !may_choose_cdb())
		die(EX_NOPERM, "-C %s: only root or the postmaster user may "
		    "choose the configuration", j.cdb);
	if (cf_db_open(&j.db, j.cdb, &why) < 0)
		die(EX_TEMPFAIL, "unable to open %s: %s", j.cdb, why);
	route_db_ops(&j.ops, &j.db);
	if (route_db_instance(&j.db, NULL, &j.inst) < 0)
		die(EX_TEMPFAIL, "unable to read %s", j.cdb);
	j.inst.q.local_names_ok = 1;	/* a local caller */
	snprintf(j.hostname, sizeof j.hostname, "%s",
	    j.inst.hostname[0] ? j.inst.hostname : "localhost");
	cf_db_str(&j.db, "core", "", "spool-directory", j.spooldir,
	    sizeof j.spooldir);
	j.max_size = 35u << 20;
	cf_db_uint(&j.db, "core", "", "max-message-size", &j.max_size);

	if ((pw = getpwuid(getuid())) == NULL)
		die(EX_NOUSER, "no passwd entry for uid %lu",
		    (unsigned long)getuid());
	snprintf(j.login, sizeof j.login, "%s", pw->pw_name);
	if (Fflag)
		snprintf(j.fullname, sizeof j.fullname, "%s", Fflag);
	else if (pw->pw_gecos)
		gecos_name(pw->pw_gecos, pw->pw_name, j.fullname,
		    sizeof j.fullname);
	if (fflag) {
		if (set_sender(&j, fflag) < 0)
			die(EX_DATAERR, "bad sender address '%s'", fflag);
	} else if ((size_t)snprintf(j.sender, sizeof j.sender, "%s@%s",
	    j.login, j.hostname) >= sizeof j.sender) {
		die(EX_SOFTWARE, "sender address too long");
	}

	switch (mode) {
	case M_SMTP:
		if (i < argc)
			die(EX_USAGE, "-bs takes no recipients");
		return run_smtp(&j);
	case M_LIST:
		return list_queue(&j);
	case M_VERIFY:
		return verify(&j, argv + i, argc - i);
	case M_QUEUE:
		return nudge(&j);
	case M_DELIVER:
		break;
	}
	for (; i < argc; i++) {
		if (inject_addr_list(argv[i], strlen(argv[i]), &j.rc, err,
		    sizeof err) != INJECT_MSG_OK)
			die(EX_DATAERR, "%s", err);
	}
	if (!j.extract && j.rc.n == 0)
		die(EX_USAGE, "no recipients given (and no -t)");
	read_stdin(&in, j.max_size + 1024 * 1024);
	r = submit(&j, in.p ? in.p : "", in.len,
	    (j.dot_ok ? INJECT_MSG_DOT_OK : 0) |
	    (j.extract ? INJECT_MSG_EXTRACT : 0), &j.rc, id, err, sizeof err);
	buf_free(&in);
	if (r != 0)
		die(r, "%s", err);
	/* Silent on success: cron mails whatever a job prints. */
	inject_rcpts_free(&j.rc);
	cf_db_close(&j.db);
	return 0;
bad:
	fprintf(stderr, "%s: fatal: unknown option %s\n", log_prog(), argv[i]);
	usage(EX_USAGE);
}
