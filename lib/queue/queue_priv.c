#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "deliver/deliver_account.h"
#include "queue/queue_lmtpd.h"
#include "queue/queue_priv.h"

/* Which user a program runs as (see postmaster-queue(8) PRIVILEGES):
 * 0, -1 and why (temporary), or QUEUE_PRIV_REFUSED and why (permanent). */
int
queue_priv_pipe_user(const struct queue_cfg *c, const struct queue_target *d,
    const struct spool_dlv *first, struct passwd *pwbuf, char *sbuf,
    size_t slen, struct queue_pipe_req *req, char *why, size_t wcap)
{
	char user[128] = "";
	struct passwd *pw = NULL;
	uint64_t first_uid;

	if (d->k == QUEUE_T_PIPE)
		queue_cfg_str(c->db, "pipe", d->name, "user", user,
		    sizeof user);
	if (user[0] == '\0' && d->k == QUEUE_T_PIPE &&
	    queue_target_is_local(first) &&
	    strcmp(c->local_kind, "pipe") == 0) {
		/*
		 * A local name with an account runs as that account; one
		 * without is a name the program knows (as user-id). Root and
		 * system accounts get no mail, as from postmaster-lmtpd: the
		 * program must not run as daemon, bin, nobody...
		 */
		if (cf_db_uint(c->db, "core", "", "first-valid-uid",
		        &first_uid) < 0) {
			snprintf(why, wcap,
			    "x-unix; 4.3.5 cannot read [core] first-valid-uid");
			return -1;
		}
		switch (deliver_account_find(d->rcpt, strlen(d->rcpt),
		    first_uid, pwbuf, sbuf, slen, &pw)) {
		case DELIVER_ACCOUNT_OK:
			snprintf(user, sizeof user, "%s", pw->pw_name);
			break;
		case DELIVER_ACCOUNT_UNKNOWN:
			break;
		case DELIVER_ACCOUNT_ROOT:
			snprintf(why, wcap,
			    "x-unix; 5.7.1 <%s>: refusing to "
			    "deliver as root (route root's mail to a person)",
			    d->rcpt);
			return QUEUE_PRIV_REFUSED;
		case DELIVER_ACCOUNT_SYSTEM:
			snprintf(why, wcap,
			    "x-unix; 5.1.1 <%s>: system account "
			    "uid %lu gets no mail ([core] first-valid-uid %llu)",
			    d->rcpt, (unsigned long)pw->pw_uid,
			    (unsigned long long)first_uid);
			return QUEUE_PRIV_REFUSED;
		case DELIVER_ACCOUNT_ERROR:
			snprintf(why, wcap,
			    "x-unix; 4.3.0 user lookup failed "
			    "for %s",
			    d->rcpt);
			return -1;
		}
		pw = NULL;
	}
	if (user[0] == '\0') {
		req->setuser = 0;
		return 0;
	}
	if (getpwnam_r(user, pwbuf, sbuf, slen, &pw) != 0 || pw == NULL) {
		snprintf(why, wcap, "x-unix; 4.3.5 no such user: %s", user);
		return -1;
	}
	if (pw->pw_uid == (c->root ? c->uid : getuid())) {
		req->setuser = 0;
		req->dir = pw->pw_dir;
		return 0;
	}
	if (!c->root) {
		snprintf(why, wcap,
		    "x-unix; 4.3.5 cannot run as %s: the queue "
		    "runner was not started as root",
		    user);
		return -1;
	}
	req->setuser = 1;
	req->user = pw->pw_name;
	req->uid = pw->pw_uid;
	req->gid = pw->pw_gid;
	req->dir = pw->pw_dir;
	return 0;
}

int
queue_priv_held(const struct queue_cfg *c)
{
	uid_t ru, eu, su;

	if (!c->root)
		return 1;
	return getresuid(&ru, &eu, &su) == 0 && (eu == 0 || su == 0);
}

/* A due delivery runs a program as another user ([pipe] user, a local
 * name's own account, lmtpd for ~/Maildir): only a process that kept
 * root as saved id can start it. */
int
queue_priv_wanted(const struct queue_job *j)
{
	struct queue_pipe_req req;
	struct passwd pwbuf;
	struct queue_target d;
	char sbuf[4096], why[300];
	size_t i;

	for (i = 0; i < j->m.env.ndlv; i++) {
		if (!queue_job_due_now(j, i))
			continue;
		queue_target_of(j->c, &j->m.env.dlv[i], &d);
		if (d.k == QUEUE_T_LMTPD && queue_lmtpd_as_users(j->c))
			return 1;
		memset(&req, 0, sizeof req);
		if (d.k == QUEUE_T_PIPE &&
		    queue_priv_pipe_user(j->c, &d, &j->m.env.dlv[i], &pwbuf,
		        sbuf, sizeof sbuf, &req, why, sizeof why) == 0 &&
		    req.setuser)
			return 1;
	}
	return 0;
}

/*
 * Gives up the saved root for good. A cached postmaster-lmtpd started
 * as root (~/Maildir) goes first: a process that parses what remote
 * peers send keeps no channel to one.
 */
int
queue_priv_drop(const struct queue_cfg *c, const char *id)
{
	if (c->cache && queue_lmtpd_as_users(c))
		queue_lmtpd_close_cached(c);
	if (setresgid(c->gid, c->gid, c->gid) < 0 ||
	    setresuid(c->uid, c->uid, c->uid) < 0) {
		log_err("%s: cannot drop privileges: %s", id, strerror(errno));
		return -1;
	}
	return 0;
}
