/* renameat2(RENAME_NOREPLACE) is Linux (glibc 2.28). */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/types.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/date.h"
#include "base/log.h"
#include "inject/inject_drop.h"
#include "inject/inject_env.h"
#include "inject/inject_pickup.h"
#include "route/route_db.h"
#include "spool/spool_env.h"
#include "spool/spool_id.h"
#include "spool/spool_write.h"

/* Names sorted and handled at a time; the rest of maildrop/ follows. */
#define PICKUP_BATCH 10000
#define COPY_CHUNK 65536

/* One routed delivery, built before the spool transaction starts. */
struct pdlv {
	size_t rcpt;
	char orig[ROUTE_ADDR_MAX + 1];
	char addr[ROUTE_ADDR_MAX + 1];
	char target[1200];
};

struct pickup {
	struct cf_db *db;
	struct spool_dir *sp;
	struct route_ops ops;
	struct route_instance inst;
	uint64_t max_size;
	char hostname[256];
	int md;
	int corrupt;		/* ROOT/corrupt, opened when first needed */
	int temp_err;		/* errno of the last temporary failure */
};

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
drop_file(struct pickup *pk, const char *name)
{
	if (unlinkat(pk->md, name, 0) < 0 && errno != ENOENT)
		return -1;
	return fsync(pk->md);
}

/*
 * Moves a maildrop entry that pickup will never queue into ROOT/corrupt/
 * (doc/spool.5), so it is looked at once, logged once, and kept for the
 * administrator. A well-formed name is kept (ids are unique); any other
 * becomes x.NEWID, never replacing an earlier entry. Returns 0, or -1 with
 * errno (the entry stays for the next run).
 */
static int
quarantine(struct pickup *pk, const char *name, long uid, const char *from,
    size_t fromlen, const char *why)
{
	struct buf esc = BUF_INIT(0), fesc = BUF_INIT(0);
	struct timespec now;
	char to[SPOOL_ID_SIZE + 2], id[SPOOL_ID_SIZE];
	size_t len = strlen(name);
	int tries;

	if (pk->corrupt < 0) {
		struct stat st;

		if (mkdirat(pk->sp->root, INJECT_PICKUP_CORRUPT, 0700) < 0 &&
		    errno != EEXIST)
			return -1;
		pk->corrupt = openat(pk->sp->root, INJECT_PICKUP_CORRUPT,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (pk->corrupt < 0)
			return -1;
		if (fstat(pk->corrupt, &st) < 0 || st.st_uid != geteuid() ||
		    (st.st_mode & 077) != 0) {
			close(pk->corrupt);
			pk->corrupt = -1;
			errno = EPERM;
			return -1;
		}
	}
	snprintf(to, sizeof to, "%s", name);
	for (tries = 0;; tries++) {
		if ((len != SPOOL_ID_LEN + 2 || tries > 0 || name[1] != '.' ||
		    !spool_id_valid(name + 2, SPOOL_ID_LEN))) {
			clock_gettime(CLOCK_REALTIME, &now);
			if (tries > 8 || spool_id_new(id, &now) < 0)
				return -1;
			snprintf(to, sizeof to, "x.%s", id);
		}
		if (renameat2(pk->md, name, pk->corrupt, to,
		    RENAME_NOREPLACE) == 0)
			break;
		if (errno == ENOENT)
			return 0;	/* gone meanwhile: nothing to keep */
		if (errno != EEXIST)
			return -1;
	}
	log_escape(&esc, name, len, 200);
	log_escape(&fesc, from, fromlen, 200);
	log_err("pickup: maildrop/%s uid=%ld from=<%s>: %s: moved to "
	    "%s/%s", esc.p ? esc.p : "", uid, fesc.p ? fesc.p : "", why,
	    INJECT_PICKUP_CORRUPT, to);
	buf_free(&esc);
	buf_free(&fesc);
	return 0;
}

static int
add_pdlv(struct pdlv **v, size_t *n, size_t *cap, size_t rcpt,
    const char *orig, const char *addr, const char *target)
{
	struct pdlv *p;

	if (*n >= INJECT_PICKUP_MAX_RCPT * 4) {
		errno = E2BIG;
		return -1;
	}
	if ((p = array_grow(*v, cap, *n + 1, sizeof *p)) == NULL)
		return -1;
	*v = p;
	(*v)[*n].rcpt = rcpt;
	snprintf((*v)[*n].orig, sizeof (*v)[*n].orig, "%s", orig);
	snprintf((*v)[*n].addr, sizeof (*v)[*n].addr, "%s", addr);
	snprintf((*v)[*n].target, sizeof (*v)[*n].target, "%s", target);
	(*n)++;
	return 0;
}

static void
reject_text(struct pickup *pk, const char *name, const char *addr, char *out,
    size_t cap)
{
	char status[16], text[512];
	uint64_t c = 550;

	cf_db_uint(pk->db, "reject", name, "code", &c);
	cf_db_str(pk->db, "reject", name, "status", status, sizeof status);
	cf_db_str(pk->db, "reject", name, "text", text, sizeof text);
	if (status[0] == '\0')
		snprintf(status, sizeof status, "%s",
		    c == 521 ? "5.1.2" : c == 554 ? "5.7.1" :
		    c >= 500 ? "5.1.1" : "4.3.2");
	if (text[0] == '\0')
		snprintf(text, sizeof text, "<%s>: recipient rejected", addr);
	snprintf(out, cap, "error:%llu %s %s", (unsigned long long)c, status,
	    text);
}

/*
 * Routes one original recipient into v. Returns 0, or -1 for a temporary
 * failure (the file waits for the next run).
 */
static int
route_one(struct pickup *pk, size_t idx, const char *orig, struct pdlv **v,
    size_t *n, size_t *cap)
{
	struct route_result res;
	char t[1200];
	const char *at = strchr(orig, '@');
	size_t i;
	int rc = 0;

	route_result_init(&res, NULL);
	switch (route_resolve(&pk->ops, &pk->inst.q, orig, strlen(orig),
	    &res)) {
	case ROUTE_OK:
		for (i = 0; i < res.n && rc == 0; i++) {
			if (res.t[i].kind == ROUTE_REJECT)
				reject_text(pk, res.t[i].value, orig, t,
				    sizeof t);
			else if (route_target_format(&res.t[i], t,
			    sizeof t) < 0) {
				errno = ENAMETOOLONG;
				rc = -1;
				break;
			}
			rc = add_pdlv(v, n, cap, idx, orig, res.t[i].rcpt, t);
		}
		break;
	case ROUTE_NO_ROUTE:
		if (at && !route_is_our_domain(&pk->ops, &pk->inst.q, at + 1,
		    strlen(at + 1))) {
			/* A local user may send anywhere: by MX. */
			snprintf(t, sizeof t, "mx:%s", at + 1);
		} else {
			snprintf(t, sizeof t, "error:550 5.1.1 <%s>: Recipient "
			    "address rejected: User unknown", orig);
		}
		rc = add_pdlv(v, n, cap, idx, orig, orig, t);
		break;
	case ROUTE_LOCAL_DENIED:
		snprintf(t, sizeof t, "error:550 5.1.1 <%s>: User unknown",
		    orig);
		rc = add_pdlv(v, n, cap, idx, orig, orig, t);
		break;
	case ROUTE_BAD_ADDRESS:
		snprintf(t, sizeof t, "error:553 5.1.3 <%s>: bad recipient "
		    "address", orig);
		rc = add_pdlv(v, n, cap, idx, orig, orig, t);
		break;
	case ROUTE_LOOP:
	case ROUTE_TOO_MANY:
		snprintf(t, sizeof t, "error:554 5.4.6 <%s>: %s", orig,
		    res.why);
		rc = add_pdlv(v, n, cap, idx, orig, orig, t);
		break;
	case ROUTE_ERROR:
		errno = EAGAIN;
		rc = -1;
		break;
	}
	route_result_free(&res);
	return rc;
}

/* Reads up to n bytes at off; returns the count or -1. */
static ssize_t
read_at(int fd, char *p, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, off + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/*
 * The body must be what inject writes: CRLF lines only, no NUL; a bare CR
 * or LF would be an SMTP smuggling vector once relayed. Sets *eightbit.
 */
static int
check_body(int fd, off_t off, off_t end, int *eightbit)
{
	char b[COPY_CHUNK];
	int cr = 0;

	*eightbit = 0;
	while (off < end) {
		size_t want = (size_t)(end - off) < sizeof b ?
		    (size_t)(end - off) : sizeof b;
		ssize_t r = read_at(fd, b, want, off);
		size_t i;

		if (r <= 0)
			return r < 0 ? -1 : 1;
		for (i = 0; i < (size_t)r; i++) {
			unsigned char c = (unsigned char)b[i];

			if (cr != (c == '\n'))
				return 1;
			cr = c == '\r';
			if (c == '\0')
				return 1;
			if (c >= 0x80)
				*eightbit = 1;
		}
		off += r;
	}
	return cr ? 1 : 0;
}

/*
 * Picks up one file. Returns 1 when committed, 0 when the file was bad
 * and removed (or already queued), -1 on a temporary failure.
 */
static int
pickup_one(struct pickup *pk, const char *name)
{
	struct spool_env_limits lim = { SPOOL_ENV_MAX_FIELD,
		INJECT_PICKUP_MAX_RCPT, INJECT_PICKUP_MAX_ENV };
	struct spool_env_limits wlim = SPOOL_ENV_LIMITS_DEFAULT;
	struct spool_env env, out;
	struct spool_dlv *dv = NULL;
	struct pdlv *v = NULL;
	struct spool_tx tx;
	struct stat st;
	struct buf hdr = BUF_INIT(0);
	char *head = NULL, claimed[SPOOL_ID_SIZE + 2];
	char helo[INJECT_ENV_HELO_SIZE];
	char date[DATE_RFC5322_SIZE];
	const char *why = NULL;
	size_t used = 0, nv = 0, capv = 0, i, headlen;
	off_t off, end;
	ssize_t r;
	int fd, e, eightbit = 0, tx_open = 0, rc = -1, ok;

	memset(&env, 0, sizeof env);
	memset(&tx, 0, sizeof tx);
	fd = openat(pk->md, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP) {
			why = "a symbolic link";
			goto bad;
		}
		/* Not for us to read (an old inject under umask 077, or
		 * hostile): no later pass can read it either. */
		if (errno == EACCES || errno == EPERM) {
			why = "unreadable";
			goto bad;
		}
		goto temp;
	}
	if (fstat(fd, &st) < 0)
		goto temp;
	if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
		goto bad;
	}
	if (st.st_nlink != 1) {
		why = "has more than one link";
		goto bad;
	}
	if ((uint64_t)st.st_size > pk->max_size + INJECT_PICKUP_MAX_ENV) {
		why = "too large";
		goto bad;
	}
	headlen = (size_t)st.st_size < INJECT_PICKUP_MAX_ENV ?
	    (size_t)st.st_size : INJECT_PICKUP_MAX_ENV;
	if ((head = malloc(headlen + 1)) == NULL)
		goto temp;
	if ((r = read_at(fd, head, headlen, 0)) < 0)
		goto temp;
	e = spool_env_decode(&env, head, (size_t)r, &lim, &used);
	if (e != SPOOL_ENV_OK) {
		why = spool_env_strerror(e);
		goto bad;
	}
	if (!inject_env_is_local(&env)) {
		why = "envelope does not come from postmaster-inject";
		goto bad;
	}
	for (i = 0; i < env.ndlv; i++)
		if (env.dlv[i].status != SPOOL_ST_PENDING) {
			why = "envelope claims finished deliveries";
			goto bad;
		}
	off = (off_t)used;
	end = st.st_size;
	if ((uint64_t)(end - off) > pk->max_size) {
		why = "message too large";
		goto bad;
	}
	if ((e = check_body(fd, off, end, &eightbit)) != 0) {
		if (e < 0)
			goto temp;
		why = "body is not CRLF text";
		goto bad;
	}
	/* Route each original recipient once: deliveries of one are adjacent. */
	for (i = 0; i < env.ndlv; i++) {
		if (i > 0 && env.dlv[i].rcpt == env.dlv[i - 1].rcpt)
			continue;
		if (env.dlv[i].orig.len > ROUTE_ADDR_MAX) {
			why = "recipient address too long";
			goto bad;
		}
		if (route_one(pk, env.dlv[i].rcpt, env.dlv[i].orig.p, &v, &nv,
		    &capv) < 0)
			goto temp;
	}
	if ((dv = calloc(nv, sizeof *dv)) == NULL)
		goto temp;
	for (i = 0; i < nv; i++) {
		dv[i].rcpt = v[i].rcpt;
		dv[i].orig = spool_str_c(v[i].orig);
		dv[i].addr = spool_str_c(v[i].addr);
		dv[i].target = spool_str_c(v[i].target);
		dv[i].status = SPOOL_ST_PENDING;
	}

	if (spool_write_open(&tx, pk->sp, NULL) != SPOOL_WR_OK)
		goto temp;
	tx_open = 1;
	/* Claim: from now on this file is known as the queue id's source. */
	snprintf(claimed, sizeof claimed, "c.%s", tx.id);
	if (strcmp(name, claimed) != 0 &&
	    (renameat(pk->md, name, pk->md, claimed) < 0 || fsync(pk->md) < 0))
		goto temp;
	inject_env_local(&out, helo, (unsigned long)st.st_uid, env.sender,
	    eightbit, env.smtputf8);
	out.dlv = dv;
	out.ndlv = nv;
	e = spool_write_envelope(&tx, &out, &wlim);
	if (e == SPOOL_WR_ENV) {
		why = spool_env_strerror(tx.env_err);
		spool_write_abort(&tx);
		tx_open = 0;
		name = claimed;
		goto bad;
	}
	if (e != SPOOL_WR_OK)
		goto temp;
	date_rfc5322_utc(time(NULL), date);
	/* Postfix's form for locally submitted mail. */
	if (buf_printf(&hdr, "Received: by %s (Postmaster, from userid %lu)"
	    "\r\n\tid %s; %s\r\n", pk->hostname, (unsigned long)st.st_uid,
	    tx.id, date) < 0 || spool_write_body(&tx, hdr.p, hdr.len) != 0)
		goto temp;
	while (off < end) {
		char b[COPY_CHUNK];
		size_t want = (size_t)(end - off) < sizeof b ?
		    (size_t)(end - off) : sizeof b;

		if ((r = read_at(fd, b, want, off)) <= 0) {
			if (r == 0)
				errno = EIO;
			goto temp;
		}
		if (spool_write_body(&tx, b, (size_t)r) != 0)
			goto temp;
		off += r;
	}
	if (spool_write_commit(&tx) != SPOOL_WR_OK) {
		tx_open = 0;
		goto temp;
	}
	tx_open = 0;
	log_info("pickup: id=%s uid=%lu from=<%s> nrcpt=%zu size=%llu",
	    tx.id, (unsigned long)st.st_uid, env.sender.p, env.nrcpt,
	    (unsigned long long)(end - (off_t)used));
	/* A crash before this leaves c.ID: recovery sees queue/ID, drops it. */
	if (drop_file(pk, claimed) < 0)
		log_warn("pickup: unable to remove maildrop/%s: %s", claimed,
		    strerror(errno));
	rc = 1;
	goto out;
bad:
	ok = env.sender.p != NULL;
	if (fd < 0 && fstatat(pk->md, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		st.st_uid = (uid_t)-1;
	if (quarantine(pk, name, st.st_uid == (uid_t)-1 ? -1L : (long)st.st_uid,
	    ok ? env.sender.p : "", ok ? env.sender.len : 0, why) < 0)
		goto temp;
	rc = 0;
	goto out;
temp:
	pk->temp_err = errno ? errno : EIO;
	log_warn("pickup: maildrop/%s: %s: will retry", name,
	    strerror(pk->temp_err));
	rc = -1;
out:
	if (tx_open)
		spool_write_abort(&tx);
	if (fd >= 0)
		close(fd);
	spool_env_free(&env);
	buf_free(&hdr);
	free(head);
	free(dv);
	free(v);
	return rc;
}

/* What to do with a directory entry; see inject_drop.h for the names. */
static int
handle(struct pickup *pk, const char *name, unsigned *moved)
{
	struct stat st;
	size_t len = strlen(name);
	int r;

	if (len == SPOOL_ID_LEN + 2 && name[1] == '.' &&
	    spool_id_valid(name + 2, SPOOL_ID_LEN)) {
		if (name[0] == 'c') {
			/* A pickup crashed: was it committed? */
			if (fstatat(pk->sp->queue, name + 2, &st,
			    AT_SYMLINK_NOFOLLOW) == 0) {
				log_info("pickup: maildrop/%s already queued",
				    name);
				return drop_file(pk, name) < 0 ? -1 : 0;
			}
			if (errno != ENOENT)
				return -1;
		}
		if (name[0] == 'c' || name[0] == 'm') {
			r = pickup_one(pk, name);
			if (r > 0)
				(*moved)++;
			return r < 0 ? -1 : 0;
		}
		if (name[0] == 't') {
			if (fstatat(pk->md, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return errno == ENOENT ? 0 : -1;
			if (time(NULL) - st.st_mtime > INJECT_PICKUP_TMP_AGE) {
				log_info("pickup: removing stale maildrop/%s",
				    name);
				return drop_file(pk, name);
			}
			return 0;
		}
	}
	/* Nothing else belongs here; only the postdrop group can write. */
	if (fstatat(pk->md, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (quarantine(pk, name, (long)st.st_uid, "", 0,
	    "unexpected entry") == 0)
		return 0;
	/*
	 * Moving another user's directory needs write permission on it
	 * (its ".." changes). Only root or a member of group postdrop
	 * outside inject can make one; an empty one goes, any other stays
	 * (it holds up nothing: every run goes past it).
	 */
	if (S_ISDIR(st.st_mode) && (errno == EACCES || errno == EPERM)) {
		if (unlinkat(pk->md, name, AT_REMOVEDIR) == 0) {
			struct buf esc = BUF_INIT(0);

			log_escape(&esc, name, len, 200);
			log_err("pickup: maildrop/%s uid=%ld: unexpected "
			    "directory: removed", esc.p ? esc.p : "",
			    (long)st.st_uid);
			buf_free(&esc);
		}
		return 0;
	}
	return -1;
}

int
inject_pickup_run(struct cf_db *db, struct spool_dir *sp, unsigned *moved)
{
	struct pickup pk;
	struct stat st;
	struct dirent *de;
	DIR *dir;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int dfd, rc = 0, saved;

	*moved = 0;
	memset(&pk, 0, sizeof pk);
	pk.corrupt = -1;
	pk.db = db;
	pk.sp = sp;
	pk.md = openat(sp->root, INJECT_MAILDROP,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pk.md < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(pk.md, &st) < 0)
		goto fail;
	/* Ours, and not open to everybody (1730 with group postdrop). */
	if (st.st_uid != geteuid() || (st.st_mode & 0007) != 0) {
		errno = EPERM;
		goto fail;
	}
	route_db_ops(&pk.ops, db);
	if (route_db_instance(db, NULL, &pk.inst) < 0) {
		errno = EIO;
		goto fail;
	}
	pk.inst.q.local_names_ok = 1;
	snprintf(pk.hostname, sizeof pk.hostname, "%s", pk.inst.hostname);
	if (pk.hostname[0] == '\0')
		snprintf(pk.hostname, sizeof pk.hostname, "localhost");
	pk.max_size = 35u << 20;
	cf_db_uint(db, "core", "", "max-message-size", &pk.max_size);

	if ((dfd = dup(pk.md)) < 0 || (dir = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		goto fail;
	}
	/*
	 * A batch at a time, each sorted (ids sort by time: oldest first),
	 * then on with the same directory stream: every entry present for
	 * the whole run is seen once, so no number of bad or waiting files
	 * before a good one keeps it out of the queue (POSIX readdir: the
	 * entries we rename or remove meanwhile do not disturb the others).
	 */
	for (;;) {
		int more = 1, stop = 0;

		n = 0;
		while (n < PICKUP_BATCH) {
			char **p;

			if ((de = readdir(dir)) == NULL) {
				more = 0;
				break;
			}
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if ((p = array_grow(names, &cap, n + 1, sizeof *p)) ==
			    NULL)
				break;
			names = p;
			if ((names[n] = strdup(de->d_name)) == NULL)
				break;
			n++;
		}
		if (n > 1)
			qsort(names, n, sizeof *names, cmp_names);
		for (i = 0; i < n && !stop; i++) {
			if (handle(&pk, names[i], moved) < 0) {
				rc = -1;
				if (pk.temp_err == 0)
					pk.temp_err = errno;
				/* A full disk stays full for the rest of this
				 * run, and a failed route lookup fails all. */
				stop = spool_err_full(pk.temp_err) ||
				    pk.temp_err == EAGAIN;
			}
		}
		for (i = 0; i < n; i++)
			free(names[i]);
		if (!more || stop || n == 0)
			break;
	}
	closedir(dir);
	free(names);
	if (pk.corrupt >= 0)
		close(pk.corrupt);
	close(pk.md);
	if (rc < 0)
		errno = pk.temp_err ? pk.temp_err : EIO;
	return rc;
fail:
	saved = errno;
	close(pk.md);
	errno = saved;
	return -1;
}
