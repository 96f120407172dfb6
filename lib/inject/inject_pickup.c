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
#include "route/route_reject.h"
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

/* A [reject] target: an error target with its reply, for the runner. */
static int
reject_target(struct pickup *pk, const char *name, const char *addr,
    char *out, size_t cap)
{
	struct route_reject rj;

	if (route_reject_reply(pk->db, name, addr, &rj) < 0) {
		errno = EIO;
		return -1;
	}
	snprintf(out, cap, "error:%u %s %s", rj.code, rj.status, rj.text);
	return 0;
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
			if (res.t[i].kind == ROUTE_REJECT) {
				if ((rc = reject_target(pk, res.t[i].value,
				    orig, t, sizeof t)) < 0)
					break;
			} else if (route_target_format(&res.t[i], t,
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

/* What a phase of pickup_one() found. */
enum pk_step {
	PK_GO = 0,	/* on to the next phase */
	PK_BAD = 1,	/* the file is bad: quarantine it (why says why) */
	PK_TEMP = -1	/* a temporary failure (errno): leave it for later */
};

/* One maildrop file on its way to the queue. */
struct pfile {
	const char *name;	/* in maildrop/: m.ID, c.QID once claimed */
	int fd;
	struct stat st;
	const char *why;	/* PK_BAD: what is wrong */
	char *head;
	struct spool_env env;	/* as dropped, decoded from head */
	size_t used;		/* envelope bytes; the message follows */
	off_t end;
	int eightbit;
	struct pdlv *v;		/* routed deliveries */
	size_t nv, capv;
	struct spool_dlv *dv;	/* the same, for the queue envelope */
	struct spool_tx tx;
	int tx_open;
	char claimed[SPOOL_ID_SIZE + 2];
};

/* Opens the file: a regular file with one link, not too large. */
static enum pk_step
pf_open(struct pickup *pk, struct pfile *f)
{
	f->fd = openat(pk->md, f->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (f->fd < 0) {
		if (errno == ELOOP)
			f->why = "a symbolic link";
		/* Not for us to read (an old inject under umask 077, or
		 * hostile): no later pass can read it either. */
		else if (errno == EACCES || errno == EPERM)
			f->why = "unreadable";
		else
			return PK_TEMP;
		return PK_BAD;
	}
	if (fstat(f->fd, &f->st) < 0)
		return PK_TEMP;
	if (!S_ISREG(f->st.st_mode))
		f->why = "not a regular file";
	else if (f->st.st_nlink != 1)
		f->why = "has more than one link";
	else if ((uint64_t)f->st.st_size > pk->max_size + INJECT_PICKUP_MAX_ENV)
		f->why = "too large";
	return f->why ? PK_BAD : PK_GO;
}

/*
 * The envelope, under tight limits, must be inject's with only pending
 * deliveries; the message after it must be CRLF text of a size we take.
 */
static enum pk_step
pf_read(struct pickup *pk, struct pfile *f)
{
	struct spool_env_limits lim = { SPOOL_ENV_MAX_FIELD,
		INJECT_PICKUP_MAX_RCPT, INJECT_PICKUP_MAX_ENV };
	size_t headlen, i;
	ssize_t r;
	int e;

	headlen = (size_t)f->st.st_size < INJECT_PICKUP_MAX_ENV ?
	    (size_t)f->st.st_size : INJECT_PICKUP_MAX_ENV;
	if ((f->head = malloc(headlen + 1)) == NULL ||
	    (r = read_at(f->fd, f->head, headlen, 0)) < 0)
		return PK_TEMP;
	e = spool_env_decode(&f->env, f->head, (size_t)r, &lim, &f->used);
	if (e != SPOOL_ENV_OK) {
		f->why = spool_env_strerror(e);
		return PK_BAD;
	}
	if (!inject_env_is_local(&f->env)) {
		f->why = "envelope does not come from postmaster-inject";
		return PK_BAD;
	}
	for (i = 0; i < f->env.ndlv; i++)
		if (f->env.dlv[i].status != SPOOL_ST_PENDING) {
			f->why = "envelope claims finished deliveries";
			return PK_BAD;
		}
	f->end = f->st.st_size;
	if ((uint64_t)(f->end - (off_t)f->used) > pk->max_size) {
		f->why = "message too large";
		return PK_BAD;
	}
	if ((e = check_body(f->fd, (off_t)f->used, f->end, &f->eightbit)) != 0) {
		f->why = "body is not CRLF text";
		return e < 0 ? PK_TEMP : PK_BAD;
	}
	return PK_GO;
}

/* Routes each original recipient once: deliveries of one are adjacent. */
static enum pk_step
pf_route(struct pickup *pk, struct pfile *f)
{
	const struct spool_dlv *d = f->env.dlv;
	size_t i;

	for (i = 0; i < f->env.ndlv; i++) {
		if (i > 0 && d[i].rcpt == d[i - 1].rcpt)
			continue;
		if (d[i].orig.len > ROUTE_ADDR_MAX) {
			f->why = "recipient address too long";
			return PK_BAD;
		}
		if (route_one(pk, d[i].rcpt, d[i].orig.p, &f->v, &f->nv,
		    &f->capv) < 0)
			return PK_TEMP;
	}
	if ((f->dv = calloc(f->nv, sizeof *f->dv)) == NULL)
		return PK_TEMP;
	for (i = 0; i < f->nv; i++) {
		f->dv[i].rcpt = f->v[i].rcpt;
		f->dv[i].orig = spool_str_c(f->v[i].orig);
		f->dv[i].addr = spool_str_c(f->v[i].addr);
		f->dv[i].target = spool_str_c(f->v[i].target);
		f->dv[i].status = SPOOL_ST_PENDING;
	}
	return PK_GO;
}

/* The Received: field (Postfix's form for local mail), then the body. */
static enum pk_step
pf_copy(struct pickup *pk, struct pfile *f)
{
	struct buf hdr = BUF_INIT(0);
	char date[DATE_RFC5322_SIZE], b[COPY_CHUNK];
	off_t off = (off_t)f->used;
	ssize_t r;
	int e;

	date_rfc5322_utc(time(NULL), date);
	e = buf_printf(&hdr, "Received: by %s (Postmaster, from userid %lu)"
	    "\r\n\tid %s; %s\r\n", pk->hostname, (unsigned long)f->st.st_uid,
	    f->tx.id, date) < 0 || spool_write_body(&f->tx, hdr.p, hdr.len) != 0;
	buf_free(&hdr);
	if (e)
		return PK_TEMP;
	while (off < f->end) {
		size_t want = (size_t)(f->end - off) < sizeof b ?
		    (size_t)(f->end - off) : sizeof b;

		if ((r = read_at(f->fd, b, want, off)) <= 0) {
			if (r == 0)
				errno = EIO;
			return PK_TEMP;
		}
		if (spool_write_body(&f->tx, b, (size_t)r) != 0)
			return PK_TEMP;
		off += r;
	}
	return PK_GO;
}

/*
 * Claims the file for a new queue id, writes the queue file and commits
 * it. A crash after the claim leaves c.QID: handle() finds out whether
 * queue/QID was committed.
 */
static enum pk_step
pf_queue(struct pickup *pk, struct pfile *f)
{
	struct spool_env_limits wlim = SPOOL_ENV_LIMITS_DEFAULT;
	struct spool_env out;
	char helo[INJECT_ENV_HELO_SIZE];
	int e;

	if (spool_write_open(&f->tx, pk->sp, NULL) != SPOOL_WR_OK)
		return PK_TEMP;
	f->tx_open = 1;
	/* Claim: from now on this file is known as the queue id's source. */
	snprintf(f->claimed, sizeof f->claimed, "c.%s", f->tx.id);
	if (strcmp(f->name, f->claimed) != 0 &&
	    (renameat(pk->md, f->name, pk->md, f->claimed) < 0 ||
	    fsync(pk->md) < 0))
		return PK_TEMP;
	f->name = f->claimed;
	inject_env_local(&out, helo, (unsigned long)f->st.st_uid,
	    f->env.sender, f->eightbit, f->env.smtputf8);
	out.dlv = f->dv;
	out.ndlv = f->nv;
	e = spool_write_envelope(&f->tx, &out, &wlim);
	if (e == SPOOL_WR_ENV) {
		f->why = spool_env_strerror(f->tx.env_err);
		return PK_BAD;
	}
	if (e != SPOOL_WR_OK || pf_copy(pk, f) != PK_GO)
		return PK_TEMP;
	f->tx_open = 0;
	return spool_write_commit(&f->tx) == SPOOL_WR_OK ? PK_GO : PK_TEMP;
}

/*
 * Picks up one file. Returns 1 when committed, 0 when the file was bad
 * and removed (or already queued), -1 on a temporary failure.
 */
static int
pickup_one(struct pickup *pk, const char *name)
{
	struct pfile f;
	enum pk_step r;
	int ok, rc, err;

	memset(&f, 0, sizeof f);
	f.name = name;
	r = pf_open(pk, &f);
	if (r == PK_TEMP && f.fd < 0 && errno == ENOENT)
		return 0;	/* gone meanwhile */
	if (r == PK_GO)
		r = pf_read(pk, &f);
	if (r == PK_GO)
		r = pf_route(pk, &f);
	if (r == PK_GO)
		r = pf_queue(pk, &f);
	err = errno;
	if (f.tx_open)
		spool_write_abort(&f.tx);
	errno = err;
	rc = r == PK_GO ? 1 : 0;
	if (r == PK_GO) {
		log_info("pickup: id=%s uid=%lu from=<%s> nrcpt=%zu size=%llu",
		    f.tx.id, (unsigned long)f.st.st_uid, f.env.sender.p,
		    f.env.nrcpt, (unsigned long long)(f.end - (off_t)f.used));
		/* A crash before this leaves c.ID: recovery sees queue/ID. */
		if (drop_file(pk, f.claimed) < 0)
			log_warn("pickup: unable to remove maildrop/%s: %s",
			    f.claimed, strerror(errno));
	} else if (r == PK_BAD) {
		ok = f.env.sender.p != NULL;
		if (f.fd < 0 && fstatat(pk->md, f.name, &f.st,
		    AT_SYMLINK_NOFOLLOW) < 0)
			f.st.st_uid = (uid_t)-1;
		if (quarantine(pk, f.name, f.st.st_uid == (uid_t)-1 ? -1L :
		    (long)f.st.st_uid, ok ? f.env.sender.p : "",
		    ok ? f.env.sender.len : 0, f.why) < 0)
			r = PK_TEMP;
	}
	if (r == PK_TEMP) {
		pk->temp_err = errno ? errno : EIO;
		log_warn("pickup: maildrop/%s: %s: will retry", f.name,
		    strerror(pk->temp_err));
		rc = -1;
	}
	if (f.fd >= 0)
		close(f.fd);
	spool_env_free(&f.env);
	free(f.head);
	free(f.dv);
	free(f.v);
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
	if (cf_db_uint(db, "core", "", "max-message-size", &pk.max_size) < 0) {
		errno = EIO;
		goto fail;
	}

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
