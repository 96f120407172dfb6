#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "inject/inject_bs.h"
#include "inject/inject_msg.h"
#include "inject/inject_route.h"
#include "inject/inject_submit.h"
#include "net/net_drive.h"
#include "smtp/smtp_reply.h"
#include "smtp/smtp_session.h"

struct bs {
	struct inject_cfg *c;
	struct buf data;
	int data_failed;
	char sender[SMTP_PATH_MAX + 1];
	struct inject_rcpts rc;
};

static void
bs_reset(struct bs *b)
{
	inject_rcpts_free(&b->rc);
	buf_reset(&b->data);
	b->data_failed = 0;
}

static int
bs_mail(void *ctx, const struct smtp_path *from, const struct smtp_params *par,
    struct buf *r)
{
	struct bs *b = ctx;

	(void)par;
	(void)r;
	bs_reset(b);
	snprintf(b->sender, sizeof b->sender, "%s", from->addr);
	return 0;
}

static int
bs_rcpt(void *ctx, const struct smtp_path *to, const struct smtp_params *par,
    struct buf *r)
{
	struct bs *b = ctx;
	char why[512];

	(void)par;
	if (inject_route_check(b->c, to->addr, why, sizeof why) != 0) {
		smtp_reply_text(r, "%s", why);
		return 1;
	}
	if (inject_addr_list(to->addr, to->addrlen, &b->rc, why, sizeof why) !=
	    INJECT_MSG_OK) {
		smtp_reply_text(r, "501 5.1.3 <%s>: bad recipient address",
		    to->addr);
		return 1;
	}
	return 0;
}

static int
bs_data_begin(void *ctx, struct buf *r)
{
	struct bs *b = ctx;

	(void)r;
	buf_reset(&b->data);
	b->data_failed = 0;
	return 0;
}

static int
bs_data_write(void *ctx, const char *p, size_t n)
{
	struct bs *b = ctx;

	if (!b->data_failed && buf_append(&b->data, p, n) < 0)
		b->data_failed = 1;
	return b->data_failed;
}

static int
bs_data_end(void *ctx, const struct smtp_msg_info *info, struct buf *r)
{
	struct bs *b = ctx;
	char id[SPOOL_ID_SIZE], why[600];
	int e;

	(void)info;
	/* The dialogue's MAIL FROM is the envelope sender, like -f. */
	e = inject_submit(b->c, b->sender, b->data.p ? b->data.p : "",
	    b->data.len, INJECT_MSG_DOT_OK, &b->rc, id, why, sizeof why);
	if (e == 0)
		smtp_reply_text(r, "250 2.0.0 Ok: queued as %s", id);
	else if (e == EX_TEMPFAIL)
		smtp_reply_text(r, "451 4.3.0 %s", why);
	else
		smtp_reply_text(r, "554 5.6.0 %s", why);
	bs_reset(b);
	return e != 0;
}

static void
bs_abort(void *ctx)
{
	bs_reset(ctx);
}

/* "5 min" or "90 s", for the diagnostic. */
static void
fmt_limit(uint64_t s, char *out, size_t cap)
{
	if (s % 60 == 0)
		snprintf(out, cap, "%llu min", (unsigned long long)(s / 60));
	else
		snprintf(out, cap, "%llu s", (unsigned long long)s);
}

int
inject_bs_run(struct inject_cfg *c, int in, int out, uint64_t minute_ms,
    char *why, size_t cap)
{
	struct net_drive drive;
	struct smtp_session_cfg cfg;
	struct smtp_session_ops ops = { bs_mail, bs_rcpt, bs_data_begin,
		bs_data_write, bs_data_end, bs_abort, NULL, NULL, NULL, NULL };
	struct smtp_session *s;
	struct bs b;
	uint64_t idle, session, rcpt, errors, line, hops;
	char limit[32];
	int rc;

	why[0] = '\0';
	/*
	 * -bs belongs to no [smtpd] instance: it has the schema's defaults of
	 * one ("" names none) and [core] max-hops.
	 */
	if (cf_db_uint(&c->db, "smtpd", "", "idle-timeout", &idle) < 0 ||
	    cf_db_uint(&c->db, "smtpd", "", "session-timeout", &session) < 0 ||
	    cf_db_uint(&c->db, "smtpd", "", "max-recipients", &rcpt) < 0 ||
	    cf_db_uint(&c->db, "smtpd", "", "max-errors", &errors) < 0 ||
	    cf_db_uint(&c->db, "smtpd", "", "max-line-length", &line) < 0 ||
	    cf_db_uint(&c->db, "core", "", "max-hops", &hops) < 0) {
		snprintf(why, cap, "-bs: unable to read the [smtpd] limits");
		return EX_TEMPFAIL;
	}
	memset(&b, 0, sizeof b);
	b.c = c;
	memset(&cfg, 0, sizeof cfg);
	cfg.hostname = c->hostname;
	cfg.accept_mail = 1;
	cfg.size_max = c->max_size;
	cfg.ext = SMTP_EXT_SIZE | SMTP_EXT_8BITMIME;
	cfg.max_rcpt = (unsigned)rcpt;
	cfg.max_errors = (unsigned)errors;
	cfg.line_max = (size_t)line;
	cfg.max_received = (unsigned)hops;
	buf_init(&b.data, (size_t)c->max_size + 65536);
	if ((s = smtp_session_new(&cfg, &ops, &b)) == NULL) {
		buf_free(&b.data);
		snprintf(why, cap, "out of memory");
		return EX_TEMPFAIL;
	}
	memset(&drive, 0, sizeof drive);
	drive.in = in;
	drive.out = out;
	drive.idle_ms = idle * minute_ms / 60;
	drive.deadline_ms = session * minute_ms / 60;
	rc = net_drive_run(s, &drive);
	if (rc == NET_DRIVE_WRITE_IDLE || rc == NET_DRIVE_WRITE_DEADLINE) {
		fmt_limit(rc == NET_DRIVE_WRITE_IDLE ? idle : session, limit,
		    sizeof limit);
		snprintf(why, cap,
		    "-bs: the client did not read its replies "
		    "within the %s (%s)",
		    rc == NET_DRIVE_WRITE_IDLE ? "idle timeout" :
		                                 "session time limit",
		    limit);
	}
	smtp_session_free(s);
	bs_reset(&b);
	buf_free(&b.data);
	return rc == NET_DRIVE_DONE ? 0 : EX_IOERR;
}
