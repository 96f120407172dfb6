#define _GNU_SOURCE /* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "base/date.h"
#include "inject/inject_drop.h"
#include "inject/inject_env.h"
#include "inject/inject_route.h"
#include "inject/inject_submit.h"
#include "spool/spool_dir.h"
#include "spool/spool_env.h"
#include "spool/spool_nudge.h"
#include "spool/spool_write.h"

/* Any octet >= 0x80 in a recipient: the message needs SMTPUTF8. */
static int
needs_smtputf8(const struct inject_rcpts *rc)
{
	const unsigned char *p;
	size_t i;

	for (i = 0; i < rc->n; i++)
		for (p = (const unsigned char *)rc->a[i]; *p; p++)
			if (*p >= 0x80)
				return 1;
	return 0;
}

/* The envelope of the maildrop file, encoded into e. */
static int
encode_env(const char *sender, const struct inject_rcpts *rc, int eightbit,
    const char id[SPOOL_ID_SIZE], struct buf *e, char *why, size_t cap)
{
	struct spool_env_limits lim = SPOOL_ENV_LIMITS_DEFAULT;
	struct spool_env env;
	struct spool_dlv *dv;
	char helo[INJECT_ENV_HELO_SIZE];
	size_t i;
	int r;

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
	inject_env_local(&env, helo, (unsigned long)getuid(),
	    spool_str_c(sender), eightbit, needs_smtputf8(rc));
	memcpy(env.id, id, SPOOL_ID_SIZE);
	env.arrival = (int64_t)time(NULL);
	env.dlv = dv;
	env.ndlv = rc->n;
	r = spool_env_encode(e, &env, &lim);
	free(dv);
	if (r != SPOOL_ENV_OK) {
		snprintf(why, cap, "envelope refused: %s",
		    spool_env_strerror(r));
		return EX_DATAERR;
	}
	return 0;
}

/*
 * Wakes the runner through the public FIFO SPOOL/pickup, which group
 * postdrop may write (Postfix's public/pickup); without it, only root
 * and the postmaster user reach SPOOL/nudge, and other users' mail waits
 * for the runner's periodic pass.
 */
static void
wake_pickup(const char *spooldir)
{
	struct spool_dir sd;

	memset(&sd, 0, sizeof sd);
	sd.tmp = sd.queue = sd.state = -1;
	if ((sd.root = open(spooldir, O_PATH | O_DIRECTORY | O_CLOEXEC)) >=
	    0) {
		(void)spool_nudge_send_pickup(&sd);
		close(sd.root);
	}
}

/* Writes envelope and message into the maildrop; 0 or an exit code. */
static int
drop(struct inject_cfg *c, const char *sender, const struct inject_rcpts *rc,
    const struct buf *msg, int eightbit, char id[SPOOL_ID_SIZE], char *why,
    size_t cap)
{
	struct inject_drop dr;
	struct buf e = BUF_INIT(0);
	char path[1100];
	int md, r, err;

	snprintf(path, sizeof path, "%s/%s", c->spooldir, INJECT_MAILDROP);
	/* O_PATH: the directory is 1730, the group may not read it. */
	md = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (md < 0) {
		snprintf(why, cap,
		    "maildrop directory %.200s is missing or "
		    "unusable (it must exist, mode 1730, group postdrop): %s",
		    path, strerror(errno));
		return EX_TEMPFAIL;
	}
	if (inject_drop_open(&dr, md) < 0) {
		snprintf(why, cap, "unable to create a file in %.200s: %s%s",
		    path, strerror(errno),
		    spool_err_full(errno) ?
		        "" :
		        " (is postmaster-inject setgid postdrop?)");
		close(md);
		return EX_TEMPFAIL;
	}
	if ((r = encode_env(sender, rc, eightbit, dr.id, &e, why, cap)) != 0) {
		inject_drop_abort(&dr);
		goto out;
	}
	if (inject_drop_write(&dr, e.p, e.len) < 0 ||
	    inject_drop_write(&dr, msg->p, msg->len) < 0 ||
	    inject_drop_commit(&dr) < 0) {
		err = errno;
		inject_drop_abort(&dr);
		snprintf(why, cap, "unable to write the message: %s%s",
		    strerror(err),
		    spool_err_full(err) ? " (nothing was queued)" : "");
		r = EX_TEMPFAIL;
		goto out;
	}
	memcpy(id, dr.id, SPOOL_ID_SIZE);
	wake_pickup(c->spooldir);
out:
	buf_free(&e);
	close(md);
	return r;
}

/* Date:, Message-ID: and From: for a message that lacks them. */
static void
header_values(const struct inject_cfg *c, const char *sender,
    char date[DATE_RFC5322_SIZE], char *msgid, size_t mcap, struct buf *from)
{
	char id[SPOOL_ID_SIZE];
	struct timespec ts;

	date_rfc5322_local(time(NULL), date);
	clock_gettime(CLOCK_REALTIME, &ts);
	if (spool_id_new(id, &ts) < 0)
		snprintf(id, sizeof id, "%lld%09ld", (long long)ts.tv_sec,
		    ts.tv_nsec);
	snprintf(msgid, mcap, "<%s.inject@%s>", id, c->hostname);
	inject_cfg_from(c, sender, from);
}

int
inject_submit(struct inject_cfg *c, const char *sender, const char *in,
    size_t n, int flags, struct inject_rcpts *rc, char id[SPOOL_ID_SIZE],
    char *why, size_t cap)
{
	struct inject_msg_opts o;
	struct inject_msg_info info;
	struct buf msg = BUF_INIT(0), from = BUF_INIT(0);
	char date[DATE_RFC5322_SIZE], msgid[SPOOL_ID_SIZE + 300];
	size_t i;
	int r;

	header_values(c, sender, date, msgid, sizeof msgid, &from);
	memset(&o, 0, sizeof o);
	o.flags = flags;
	o.max_size = (size_t)c->max_size;
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
		return r == INJECT_MSG_E_NOMEM ? EX_TEMPFAIL : EX_DATAERR;
	}
	if (rc->n == 0) {
		snprintf(why, cap, "%s",
		    flags & INJECT_MSG_EXTRACT ?
		        "no recipient addresses found in the message header" :
		        "no recipients given");
		buf_free(&msg);
		return EX_USAGE;
	}
	for (i = 0; i < rc->n; i++)
		if ((r = inject_route_check(c, rc->a[i], why, cap)) != 0) {
			buf_free(&msg);
			return r;
		}
	r = drop(c, sender, rc, &msg, info.eightbit, id, why, cap);
	buf_free(&msg);
	return r;
}
