/*
 * inject_pickup: the queue runner's side of the maildrop, against files
 * crafted in a private spool. A valid file is committed with its
 * recipients routed afresh; everything a hostile or broken writer could
 * leave (truncated envelope, NUL or bare LF/CR in the body, a symbolic or
 * hard link, a foreign envelope, finished deliveries, an oversized body,
 * stray names) is refused and moved to corrupt/; c.QID recovery, stale
 * t.ID files,
 * and a maildrop directory open to others.
 */
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

#include "base/buf.h"
#include "base/log.h"
#include "cf/cf_check.h"
#include "cf/cf_db.h"
#include "cf/cf_diag.h"
#include "cf/cf_parse.h"
#include "inject/inject_drop.h"
#include "inject/inject_pickup.h"
#include "spool/spool_dir.h"
#include "spool/spool_env.h"
#include "spool/spool_id.h"
#include "tap.h"

static const char config[] =
    "[core]\n"
    "hostname = mail.example.test\n"
    "max-message-size = 10000\n"
    "[route]\n"
    "@example.test = joe\n"
    "a@example.net = joe\n";

static char root[64];
static struct cf_db db;
static struct spool_dir sp;

static int
count(const char *sub)
{
	char path[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof path, "%s/%s", root, sub);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
empty(const char *sub)
{
	char path[600];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof path, "%s/%s", root, sub);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s/%s", root, sub, de->d_name);
		if (unlink(path) < 0 && errno == EISDIR)
			rmdir(path);
	}
	closedir(d);
}

/* The only queue file's contents into b; 0 or -1. */
static int
queue_file(struct buf *b)
{
	char path[600];
	struct dirent *de;
	DIR *d;
	char chunk[4096];
	ssize_t r;
	int fd = -1;

	snprintf(path, sizeof path, "%s/queue", root);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof path, "%s/queue/%s", root,
			    de->d_name);
			fd = open(path, O_RDONLY);
			break;
		}
	closedir(d);
	if (fd < 0)
		return -1;
	while ((r = read(fd, chunk, sizeof chunk)) > 0)
		buf_append(b, chunk, (size_t)r);
	close(fd);
	return 0;
}

struct craft {
	const char *instance;	/* default "inject" */
	const char *proto;	/* default "local" */
	int sent;		/* claim a finished delivery */
};

/* An envelope as postmaster-inject writes it, then body. */
static void
envelope(struct buf *out, const struct craft *c, const char *id)
{
	static const struct spool_env_limits lim = SPOOL_ENV_LIMITS_DEFAULT;
	static const char *def[] = { "x@example.test", "far@example.org",
		"other@example.net", "nosuch", NULL };
	struct spool_dlv dv[4];
	struct spool_env env;
	const char *const *r = def;
	size_t n;

	memset(&env, 0, sizeof env);
	memset(dv, 0, sizeof dv);
	memcpy(env.id, id, SPOOL_ID_SIZE);
	env.arrival = (int64_t)time(NULL);
	env.helo = spool_str_c("uid=12345");	/* what the file says */
	env.client = spool_str_c("local");
	env.proto = spool_str_c(c && c->proto ? c->proto : "local");
	env.instance = spool_str_c(c && c->instance ? c->instance : "inject");
	env.auth = spool_str_c("");
	env.sender = spool_str_c("user@mail.example.test");
	env.body = SPOOL_BODY_7BIT;
	for (n = 0; r[n] != NULL; n++) {
		dv[n].rcpt = n;
		dv[n].orig = dv[n].addr = spool_str_c(r[n]);
		dv[n].target = spool_str_c("inject:");
		dv[n].status = SPOOL_ST_PENDING;
	}
	if (c && c->sent) {
		dv[0].status = SPOOL_ST_SENT;
		dv[0].reply = spool_str_c("250 ok");
	}
	env.dlv = dv;
	env.ndlv = n;
	if (spool_env_encode(out, &env, &lim) != SPOOL_ENV_OK)
		diag("envelope encoding failed");
}

static const char body[] =
    "From: user@mail.example.test\r\nSubject: s\r\n\r\nhello\r\n";

/* Writes maildrop/PREFIX.ID with envelope + msg; returns the name. */
static const char *
drop_file(char prefix, const struct craft *c, const char *msg, size_t n,
    long cut)
{
	static char name[SPOOL_ID_SIZE + 2];
	char id[SPOOL_ID_SIZE], path[600];
	struct buf b = BUF_INIT(0);
	struct timespec now;
	int fd;

	clock_gettime(CLOCK_REALTIME, &now);
	spool_id_new(id, &now);
	snprintf(name, sizeof name, "%c.%s", prefix, id);
	envelope(&b, c, id);
	buf_append(&b, msg, n);
	if (cut > 0)
		b.len = (size_t)cut;
	else if (cut < 0)
		b.len -= (size_t)-cut;
	snprintf(path, sizeof path, "%s/%s/%s", root, INJECT_MAILDROP, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0444);
	if (fd < 0 || write(fd, b.p, b.len) != (ssize_t)b.len)
		diag("writing %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return name;
}

/* Runs one pickup; checks rc, moved and what is left where. */
static void
run(const char *what, int want_rc, unsigned want_moved, int want_queue,
    int want_md)
{
	unsigned moved = 99;
	int r = inject_pickup_run(&db, &sp, &moved);
	char name[300];

	snprintf(name, sizeof name, "%s: pickup result", what);
	is_int(r, want_rc, name);
	snprintf(name, sizeof name, "%s: messages moved", what);
	is_int(moved, want_moved, name);
	snprintf(name, sizeof name, "%s: files in queue/", what);
	is_int(count("queue"), want_queue, name);
	snprintf(name, sizeof name, "%s: files left in maildrop/", what);
	is_int(count(INJECT_MAILDROP), want_md, name);
	empty("queue");
	empty(INJECT_MAILDROP);
}

static void
test_valid(void)
{
	struct buf q = BUF_INIT(0);
	char want[128];

	drop_file('m', NULL, body, sizeof body - 1, 0);
	run("valid", 0, 1, 1, 0);
	/* run() emptied queue/: do it again and look at the file. */
	drop_file('m', NULL, body, sizeof body - 1, 0);
	ok(inject_pickup_run(&db, &sp, &(unsigned){ 0 }) == 0, "valid again");
	ok(queue_file(&q) == 0, "the queue file is there");
	buf_append_byte(&q, '\0');
	ok(strstr(q.p, "\ninstance inject\n") != NULL, "instance inject");
	ok(strstr(q.p, "\nproto local\n") != NULL, "proto local");
	snprintf(want, sizeof want, "\nhelo uid=%lu\n",
	    (unsigned long)geteuid());
	ok(strstr(q.p, want) != NULL,
	    "helo names the file's owner, not what the file claims");
	ok(strstr(q.p, "uid=12345") == NULL, "the claimed uid is gone");
	ok(strstr(q.p, "\nsender user@mail.example.test\n") != NULL,
	    "the sender is kept");
	ok(strstr(q.p, "rcpt x@example.test\ndeliver joe\ntarget local:joe\n")
	    != NULL, "x@example.test routed afresh to local:joe");
	ok(strstr(q.p, "rcpt far@example.org\ndeliver far@example.org\n"
	    "target mx:example.org\n") != NULL,
	    "a foreign domain goes to its MX");
	ok(strstr(q.p, "rcpt other@example.net\ndeliver other@example.net\n"
	    "target error:550 5.1.1 <other@example.net>") != NULL,
	    "an unroutable address of our domain becomes an error target "
	    "for a bounce");
	ok(strstr(q.p, "rcpt nosuch\ndeliver nosuch\ntarget local:nosuch\n")
	    != NULL, "a bare local name is a local user");
	ok(strstr(q.p, "target inject:") == NULL,
	    "no inject: target left");
	ok(strstr(q.p, "Received: by mail.example.test (Postmaster, from "
	    "userid ") != NULL, "a Received field is added");
	ok(strstr(q.p, body) != NULL, "the message follows unchanged");
	if (!ok(q.len > 0, "queue file read"))
		diag("%s", q.p);
	buf_free(&q);
	empty("queue");
}

static void
test_refused(void)
{
	static const char nul[] = "Subject: s\r\n\r\na\0b\r\n";
	static const char lf[] = "Subject: s\r\n\r\nbare\nlf\r\n";
	static const char cr[] = "Subject: s\r\n\r\nbare\rcr\r\n";
	static const char endcr[] = "Subject: s\r\n\r\nends in CR\r";
	static const char nocrlf[] = "Subject: s\r\n\r\nno line end";
	struct craft c;
	struct buf big = BUF_INIT(0);
	char path[600], target[600];
	const char *n;
	int fd;

	drop_file('m', NULL, body, sizeof body - 1, 40);
	run("envelope truncated", 0, 0, 0, 0);
	drop_file('m', NULL, "", 0, -5);
	run("envelope truncated at its end", 0, 0, 0, 0);
	drop_file('m', NULL, nul, sizeof nul - 1, 0);
	run("NUL in the body", 0, 0, 0, 0);
	drop_file('m', NULL, lf, sizeof lf - 1, 0);
	run("bare LF in the body", 0, 0, 0, 0);
	drop_file('m', NULL, cr, sizeof cr - 1, 0);
	run("bare CR in the body", 0, 0, 0, 0);
	drop_file('m', NULL, endcr, sizeof endcr - 1, 0);
	run("body ending in CR", 0, 0, 0, 0);
	drop_file('m', NULL, nocrlf, sizeof nocrlf - 1, 0);
	/* A body without a final CRLF is no smuggling vector: accepted. */
	run("body without a final line end", 0, 1, 1, 0);

	memset(&c, 0, sizeof c);
	c.instance = "mx";
	drop_file('m', &c, body, sizeof body - 1, 0);
	run("envelope of another instance", 0, 0, 0, 0);
	memset(&c, 0, sizeof c);
	c.proto = "ESMTP";
	drop_file('m', &c, body, sizeof body - 1, 0);
	run("envelope of another protocol", 0, 0, 0, 0);
	memset(&c, 0, sizeof c);
	c.sent = 1;
	drop_file('m', &c, body, sizeof body - 1, 0);
	run("envelope claiming a finished delivery", 0, 0, 0, 0);

	/* max-message-size = 10000: exactly that is fine, one more is not. */
	buf_append_str(&big, "Subject: s\r\n\r\n");
	while (big.len < 10000 - 2)
		buf_append_byte(&big, 'x');
	buf_append_str(&big, "\r\n");
	drop_file('m', NULL, big.p, big.len, 0);
	run("body of max-message-size", 0, 1, 1, 0);
	buf_append_str(&big, "x\r\n");
	drop_file('m', NULL, big.p, big.len - 2, 0);	/* 10001 */
	run("body of max-message-size + 1", 0, 0, 0, 0);
	buf_free(&big);

	/* A symbolic link to a valid file elsewhere. */
	snprintf(target, sizeof target, "%s/elsewhere", root);
	n = drop_file('m', NULL, body, sizeof body - 1, 0);
	snprintf(path, sizeof path, "%s/%s/%s", root, INJECT_MAILDROP, n);
	ok(rename(path, target) == 0 && symlink(target, path) == 0,
	    "symlink planted");
	run("a symbolic link", 0, 0, 0, 0);
	ok(access(target, F_OK) == 0, "the link's target is left alone");
	{
		char kept[700];
		struct stat st;

		snprintf(kept, sizeof kept, "%s/%s/%s", root,
		    INJECT_PICKUP_CORRUPT, strrchr(path, '/') + 1);
		ok(lstat(kept, &st) == 0 && S_ISLNK(st.st_mode),
		    "the link is kept in corrupt/ under its own name");
	}
	unlink(target);

	/* A hard link to a file elsewhere (one the user could not remove). */
	n = drop_file('m', NULL, body, sizeof body - 1, 0);
	snprintf(path, sizeof path, "%s/%s/%s", root, INJECT_MAILDROP, n);
	ok(link(path, target) == 0, "hard link planted");
	run("a file with two links", 0, 0, 0, 0);
	unlink(target);

	/* A FIFO would block a reader without O_NONBLOCK. */
	n = drop_file('m', NULL, body, sizeof body - 1, 0);
	snprintf(path, sizeof path, "%s/%s/%s", root, INJECT_MAILDROP, n);
	unlink(path);
	ok(mkfifo(path, 0644) == 0, "FIFO planted");
	run("a FIFO", 0, 0, 0, 0);

	/* Names that do not belong in the maildrop. */
	snprintf(path, sizeof path, "%s/%s/junk", root, INJECT_MAILDROP);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof path, "%s/%s/m.notanid", root, INJECT_MAILDROP);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	run("stray names", 0, 0, 0, 0);
}

static void
test_recovery(void)
{
	char path[600];
	const char *n;
	struct timespec old[2];
	int fd;

	/* c.QID whose queue/QID exists: already committed, only removed. */
	n = drop_file('c', NULL, body, sizeof body - 1, 0);
	snprintf(path, sizeof path, "%s/queue/%s", root, n + 2);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	run("c.QID already queued", 0, 0, 1, 0);

	/* c.QID without its queue file: picked up again. */
	drop_file('c', NULL, body, sizeof body - 1, 0);
	run("c.QID not queued", 0, 1, 1, 0);

	/* t.ID: being written, left alone; a day old, removed. */
	n = drop_file('t', NULL, body, sizeof body - 1, 0);
	run("a fresh t.ID", 0, 0, 0, 1);
	n = drop_file('t', NULL, body, sizeof body - 1, 0);
	snprintf(path, sizeof path, "%s/%s/%s", root, INJECT_MAILDROP, n);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - INJECT_PICKUP_TMP_AGE -
	    60;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	ok(utimensat(AT_FDCWD, path, old, 0) == 0, "t.ID aged");
	{
		unsigned moved = 0;

		is_int(inject_pickup_run(&db, &sp, &moved), 0, "stale t.ID run");
		ok(access(path, F_OK) < 0, "a stale t.ID is removed");
	}
	empty(INJECT_MAILDROP);
}

static void
test_maildrop_dir(void)
{
	char path[600];
	unsigned moved = 0;
	int r;

	snprintf(path, sizeof path, "%s/%s", root, INJECT_MAILDROP);
	drop_file('m', NULL, body, sizeof body - 1, 0);
	chmod(path, 01733);
	errno = 0;
	r = inject_pickup_run(&db, &sp, &moved);
	ok(r == -1 && errno == EPERM, "a maildrop open to others is refused "
	    "(EPERM)");
	is_int(count(INJECT_MAILDROP), 1, "and its files are not touched");
	is_int(count("queue"), 0, "nor queued");
	chmod(path, 01730);
	if (geteuid() == 0) {
		ok(chown(path, 65534, 0) == 0, "maildrop given away");
		errno = 0;
		r = inject_pickup_run(&db, &sp, &moved);
		ok(r == -1 && errno == EPERM, "a maildrop owned by another "
		    "user is refused (EPERM)");
		ok(chown(path, 0, 0) == 0, "maildrop back");
	} else {
		skip(3, "not root");
	}
	run("after the directory is fixed", 0, 1, 1, 0);
	rmdir(path);
	r = inject_pickup_run(&db, &sp, &moved);
	ok(r == 0 && moved == 0, "no maildrop directory: nothing to do");
}

int
main(void)
{
	struct cf cf;
	struct cf_diag d;
	char path[600], cdb[] = "/tmp/pickup-test.XXXXXX";
	const char *why;
	int fd;

	log_init("inject_pickup-test");
	snprintf(root, sizeof root, "/tmp/pickup-spool.XXXXXX");
	if (mkdtemp(root) == NULL) {
		diag("mkdtemp: %s", strerror(errno));
		return 1;
	}
	cf_init(&cf);
	cf_diag_init(&d);
	cf_parse_text(&cf, "t.cf", config, sizeof config - 1, &d);
	cf_check(&cf, &d);
	is_str(d.out.p ? d.out.p : "", "", "test configuration is valid");
	fd = mkstemp(cdb);
	unlink(cdb);
	ok(fd >= 0 && cf_emit(&cf, fd) == 0, "compiled");
	ok(cf_db_open_fd(&db, fd, &why) == 0, "opened");
	ok(spool_dir_open(&sp, root, SPOOL_DIR_CREATE) == 0, "spool opened");
	snprintf(path, sizeof path, "%s/%s", root, INJECT_MAILDROP);
	ok(mkdir(path, 0700) == 0 && chmod(path, 01730) == 0,
	    "maildrop made, mode 1730");

	test_valid();
	test_refused();
	test_recovery();
	test_maildrop_dir();

	spool_dir_close(&sp);
	cf_db_close(&db);
	cf_free(&cf);
	cf_diag_free(&d);
	empty("queue");
	empty("tmp");
	empty("state");
	snprintf(path, sizeof path, "rm -rf '%s'", root);
	if (system(path) != 0)
		diag("could not remove %s", root);
	return done_testing();
}
