/* nftw, unshare, mount: test-only conveniences, Linux. */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "deliver/deliver_maildir.h"
#include "deliver/deliver_path.h"
#include "deliver/deliver_user.h"
#include "tap.h"

#define MANY 2000

static char base[64];

static int
rm_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static void
rm_rf(const char *p)
{
	(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *
at(const char *rel)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	return p;
}

/* Entries in a directory, not counting . and ..; -1 if unreadable. */
static int
count_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	int n;

	if ((d = opendir(dir)) == NULL)
		return -1;
	n = 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Whole file into b (reset first); -1 on error. */
static int
slurp(const char *path, struct buf *b)
{
	char tmp[4096];
	ssize_t r;
	int fd;

	buf_reset(b);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		buf_append(b, tmp, (size_t)r);
	close(fd);
	return r < 0 ? -1 : 0;
}

static int
mode_of(const char *p)
{
	struct stat st;

	if (lstat(p, &st) < 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

/* new/NAME of maildir md has exactly want[0..n). */
static void
is_file(const char *md, const char *name, const char *want, size_t n,
    const char *what)
{
	char p[PATH_MAX];
	struct buf b = BUF_INIT(0);

	snprintf(p, sizeof(p), "%s/new/%s", md, name);
	if (!ok(slurp(p, &b) == 0, "%s: readable", what))
		diag("%s: %s", p, strerror(errno));
	is_mem(b.p ? b.p : "", b.len, want, n, what);
	buf_free(&b);
}

/* Every character class of the Maildir name, and the host escaped. */
static int
name_ok(const char *name, const char *host)
{
	const char *p;
	char *e;

	p = name;
	strtoull(p, &e, 10);
	if (e == p || *e != '.' || e[1] != 'M')
		return 0;
	p = e + 2;
	strtoul(p, &e, 10);
	if (e - p != 6 || *e != 'P')
		return 0;
	p = e + 1;
	if (strtol(p, &e, 10) != (long)getpid() || *e != 'Q')
		return 0;
	p = e + 1;
	strtoull(p, &e, 10);
	if (e == p || *e != 'R')
		return 0;
	p = e + 1;
	strtoull(p, &e, 16);
	if (e - p != 16 || *e != '.')
		return 0;
	return strcmp(e + 1, host) == 0;
}

static void
init_and_headers(void)
{
	struct deliver_maildir dm;
	struct buf b = BUF_INIT(0);
	char longhost[400];

	ok(deliver_maildir_init(&dm, "mx/1:2.example") == 0, "init");
	is_str(dm.host, "mx\\0571\\0722.example", "host / and : escaped");
	memset(longhost, ':', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	deliver_maildir_init(&dm, longhost);
	ok(strlen(dm.host) <= DELIVER_MAILDIR_HOSTMAX &&
	    strlen(dm.host) % 4 == 0, "long host shortened whole escapes (%zu)",
	    strlen(dm.host));
	ok(deliver_maildir_init(&dm, NULL) == 0 && dm.host[0] != '\0',
	    "init from gethostname");
	ok(strchr(dm.host, '/') == NULL && strchr(dm.host, ':') == NULL,
	    "no / or : in host part");

	ok(deliver_maildir_hdr_return_path(&b, "", 0) == 0, "null sender");
	is_str(b.p, "Return-Path: <>\n", "Return-Path <>");
	buf_reset(&b);
	deliver_maildir_hdr_return_path(&b, "a@b.example", 11);
	deliver_maildir_hdr_delivered_to(&b, "c@d.example", 11);
	is_str(b.p, "Return-Path: <a@b.example>\nDelivered-To: c@d.example\n",
	    "both header lines");
	errno = 0;
	ok(deliver_maildir_hdr_delivered_to(&b, "x@y\r\nBcc: z", 11) < 0 &&
	    errno == EINVAL, "CRLF in address refused");
	ok(deliver_maildir_hdr_return_path(&b, "x\ny", 3) < 0, "LF refused");
	ok(deliver_maildir_hdr_return_path(&b, "x\0y", 3) < 0, "NUL refused");
	ok(deliver_maildir_hdr_delivered_to(&b, "", 0) < 0,
	    "empty Delivered-To refused");
	is_str(b.p, "Return-Path: <a@b.example>\nDelivered-To: c@d.example\n",
	    "buffer unchanged by refusals");
	buf_free(&b);
	b.max = 20;
	ok(deliver_maildir_hdr_delivered_to(&b, "c@d.example", 11) < 0 &&
	    b.len == 0, "over the buffer cap: nothing appended");
	buf_free(&b);
}

static void
replies(void)
{
	is_int(deliver_maildir_errno_result(EDQUOT), DELIVER_E_QUOTA, "EDQUOT");
	is_int(deliver_maildir_errno_result(ENOSPC), DELIVER_E_NOSPACE,
	    "ENOSPC");
	is_int(deliver_maildir_errno_result(EIO), DELIVER_E_TEMP, "EIO");
	is_int(deliver_maildir_errno_result(ELOOP), DELIVER_E_TEMP, "ELOOP");
	ok(strncmp(deliver_maildir_reply(DELIVER_OK), "250 2.0.0 ", 10) == 0,
	    "reply ok");
	ok(strncmp(deliver_maildir_reply(DELIVER_E_QUOTA), "452 4.2.2 ", 10)
	    == 0, "reply quota");
	ok(strncmp(deliver_maildir_reply(DELIVER_E_NOSPACE), "452 4.3.1 ",
	    10) == 0, "reply disk full");
	ok(strncmp(deliver_maildir_reply(DELIVER_E_TEMP), "451 4.3.0 ", 10)
	    == 0, "reply temp");
	ok(strncmp(deliver_maildir_reply(DELIVER_E_LOOP), "554 5.4.6 ", 10)
	    == 0, "reply loop");
	ok(strncmp(deliver_maildir_reply(DELIVER_E_ROOT), "550 5.7.1 ", 10)
	    == 0, "reply root");
	ok(strncmp(deliver_maildir_reply(DELIVER_E_MAILBOX), "550 5.1.3 ",
	    10) == 0, "reply mailbox");
	ok(strncmp(deliver_maildir_reply(99), "451 ", 4) == 0,
	    "reply unknown is temporary");
}

/* Creation of a virtual path, exact bytes, modes, empty tmp/. */
static void
basic(struct deliver_maildir *dm)
{
	static const char body[] = "Subject: hi\n\nhello\n";
	static const char hdr[] = "Return-Path: <a@b>\nDelivered-To: c@d\n";
	struct deliver_msg m;
	char path[PATH_MAX], name[DELIVER_MAILDIR_NAMEMAX], want[512];
	int r;

	/* The lmtpd pipeline: template, then delivery. */
	snprintf(want, sizeof(want), "%s/virt/%%d/%%u/Maildir", base);
	r = deliver_path_expand(path, sizeof(path), want, "alice", 5,
	    "Example.ORG", 11, NULL);
	is_int(r, DELIVER_PATH_OK, "virtual template expanded");
	memset(&m, 0, sizeof(m));
	m.fd = -1;
	m.hdr = hdr;
	m.hdrlen = strlen(hdr);
	m.data = body;
	m.datalen = strlen(body);
	r = deliver_maildir_put(dm, path, &m, name, sizeof(name));
	if (!is_int(r, DELIVER_OK, "deliver into a missing virtual path"))
		diag("errno %s", strerror(errno));
	ok(name_ok(name, dm->host), "name format: %s", name);
	snprintf(want, sizeof(want), "%s%s", hdr, body);
	is_file(path, name, want, strlen(want), "header lines + message");
	is_int(count_dir(at("virt/example.org/alice/Maildir/new")), 1,
	    "one file in new/");
	is_int(count_dir(at("virt/example.org/alice/Maildir/tmp")), 0,
	    "tmp/ empty");
	is_int(count_dir(at("virt/example.org/alice/Maildir/cur")), 0,
	    "cur/ created");
	is_int(mode_of(at("virt")), 0700, "parent mode 0700");
	is_int(mode_of(at("virt/example.org/alice")), 0700,
	    "parent mode 0700");
	is_int(mode_of(at("virt/example.org/alice/Maildir")), 0700,
	    "maildir 0700");
	is_int(mode_of(at("virt/example.org/alice/Maildir/new")), 0700,
	    "new/ 0700");
	snprintf(want, sizeof(want), "virt/example.org/alice/Maildir/new/%s",
	    name);
	is_int(mode_of(at(want)), 0600, "message 0600");

	/* A trailing slash names the same Maildir. */
	strcat(path, "/");
	m.hdr = NULL;
	m.hdrlen = 0;
	r = deliver_maildir_put(dm, path, &m, name, sizeof(name));
	is_int(r, DELIVER_OK, "second delivery, trailing slash");
	is_int(count_dir(at("virt/example.org/alice/Maildir/new")), 2,
	    "two files in new/");
	is_file(path, name, body, strlen(body), "no header lines");

	/* An empty message is still a delivery. */
	m.datalen = 0;
	r = deliver_maildir_put(dm, path, &m, name, sizeof(name));
	is_int(r, DELIVER_OK, "empty message");
	is_file(path, name, "", 0, "empty file");

	r = deliver_maildir_put(dm, "relative/Maildir", &m, NULL, 0);
	ok(r == DELIVER_E_TEMP && errno == EINVAL, "relative path refused");
	r = deliver_maildir_put(dm, "/", &m, NULL, 0);
	ok(r == DELIVER_E_TEMP && errno == EINVAL, "/ refused");
}

/* CRLF to LF, across read and conversion chunk boundaries. */
static void
crlf(struct deliver_maildir *dm)
{
	static const char in[] = "Subject: x\r\n\r\nline\r\nbare\rcr\r\n.\r\n\r";
	static const char out[] = "Subject: x\n\nline\nbare\rcr\n.\n\r";
	struct buf big = BUF_INIT(0), want = BUF_INIT(0);
	struct deliver_msg m;
	char path[PATH_MAX], name[DELIVER_MAILDIR_NAMEMAX];
	int fd, p[2], i, r;
	pid_t pid;
	off_t pos;

	snprintf(path, sizeof(path), "%s/crlf", base);
	memset(&m, 0, sizeof(m));
	m.fd = -1;
	m.data = in;
	m.datalen = strlen(in);
	m.flags = DELIVER_MSG_CRLF;
	r = deliver_maildir_put(dm, path, &m, name, sizeof(name));
	is_int(r, DELIVER_OK, "CRLF from memory");
	is_file(path, name, out, strlen(out), "CRLF -> LF, bare CR kept");

	/* CRs at every offset around the 16 KiB chunk edge. */
	buf_append_str(&big, "X-Pad: ");
	buf_append_str(&want, "X-Pad: ");
	while (big.len < 16384 - 3) {
		buf_append_byte(&big, 'a');
		buf_append_byte(&want, 'a');
	}
	/* CR at 16381, 16383 (last byte of the first chunk), ... 16395. */
	for (i = 0; i < 8; i++) {
		buf_append(&big, "\r\n", 2);
		buf_append_byte(&want, '\n');
	}
	for (i = 0; i < 40000; i++) {
		buf_append(&big, i % 7 ? "xy\r\n" : "z\r\r\n", 4);
		buf_append(&want, i % 7 ? "xy\n" : "z\r\n", 3);
	}
	m.data = big.p;
	m.datalen = big.len;
	r = deliver_maildir_put(dm, path, &m, name, sizeof(name));
	is_int(r, DELIVER_OK, "big CRLF from memory");
	is_file(path, name, want.p, want.len, "big CRLF -> LF");

	/* From a file, starting at an offset, offset left alone. */
	fd = open(at("spoolfile"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok(write(fd, "ENV\n", 4) == 4, "spool envelope");
	ok(write(fd, big.p, big.len) == (ssize_t)big.len, "spool body");
	pos = lseek(fd, 2, SEEK_SET);
	m.fd = fd;
	m.off = 4;
	m.data = NULL;
	m.datalen = 0;
	r = deliver_maildir_put(dm, path, &m, name, sizeof(name));
	is_int(r, DELIVER_OK, "big CRLF from fd at offset");
	is_file(path, name, want.p, want.len, "fd: CRLF -> LF");
	is_int(lseek(fd, 0, SEEK_CUR), pos, "fd offset untouched");
	m.flags = 0;
	m.off = 0;
	r = deliver_maildir_put(dm, path, &m, name, sizeof(name));
	is_int(r, DELIVER_OK, "verbatim from fd");
	buf_reset(&want);
	buf_append(&want, "ENV\n", 4);
	buf_append(&want, big.p, big.len);
	is_file(path, name, want.p, want.len, "fd: verbatim bytes");
	close(fd);

	/* From a pipe: pread fails with ESPIPE, read takes over. */
	if (pipe(p) == 0) {
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			(void)!write(p[1], in, strlen(in));
			_exit(0);
		}
		close(p[1]);
		m.fd = p[0];
		m.flags = DELIVER_MSG_CRLF;
		r = deliver_maildir_put(dm, path, &m, name, sizeof(name));
		close(p[0]);
		waitpid(pid, NULL, 0);
		is_int(r, DELIVER_OK, "from a pipe");
		is_file(path, name, out, strlen(out), "pipe: CRLF -> LF");
	}
	is_int(count_dir(at("crlf/tmp")), 0, "tmp/ empty");
	buf_free(&big);
	buf_free(&want);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
many(struct deliver_maildir *dm)
{
	char path[PATH_MAX], name[DELIVER_MAILDIR_NAMEMAX];
	char **names;
	struct deliver_msg m;
	int i, fails, dups, bad;

	snprintf(path, sizeof(path), "%s/many", base);
	memset(&m, 0, sizeof(m));
	m.fd = -1;
	m.data = "x\n";
	m.datalen = 2;
	names = calloc(MANY, sizeof(*names));
	fails = bad = 0;
	for (i = 0; i < MANY; i++) {
		if (deliver_maildir_put(dm, path, &m, name, sizeof(name)) != 0)
			fails++;
		if (!name_ok(name, dm->host))
			bad++;
		names[i] = strdup(name);
	}
	is_int(fails, 0, "many deliveries succeed");
	is_int(bad, 0, "every name well-formed");
	qsort(names, MANY, sizeof(*names), cmp_str);
	dups = 0;
	for (i = 1; i < MANY; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			dups++;
	is_int(dups, 0, "names unique in one process");
	is_int(count_dir(at("many/new")), MANY, "all files in new/");
	is_int(count_dir(at("many/tmp")), 0, "tmp/ empty");
	for (i = 0; i < MANY; i++)
		free(names[i]);
	free(names);
}

static void
symlinks(struct deliver_maildir *dm)
{
	struct deliver_msg m;
	char path[PATH_MAX], target[PATH_MAX];
	int r;

	memset(&m, 0, sizeof(m));
	m.fd = -1;
	m.data = "evil\n";
	m.datalen = 5;
	snprintf(target, sizeof(target), "%s/victim", base);
	r = deliver_maildir_put(dm, target, &m, NULL, 0);
	is_int(r, DELIVER_OK, "victim maildir made");

	/* The Maildir itself a symlink to someone else's Maildir. */
	snprintf(path, sizeof(path), "%s/link1", base);
	ok(symlink(target, path) == 0, "symlink Maildir");
	errno = 0;
	r = deliver_maildir_put(dm, path, &m, NULL, 0);
	ok(r == DELIVER_E_TEMP && errno == ELOOP,
	    "Maildir symlink refused (%s)", strerror(errno));
	is_int(count_dir(at("victim/new")), 1, "victim untouched");

	/* A dangling symlink is not "missing": nothing is created. */
	snprintf(path, sizeof(path), "%s/link2", base);
	snprintf(target, sizeof(target), "%s/created-by-link", base);
	ok(symlink(target, path) == 0, "dangling symlink");
	r = deliver_maildir_put(dm, path, &m, NULL, 0);
	ok(r == DELIVER_E_TEMP && errno == ELOOP,
	    "dangling Maildir symlink refused");
	ok(access(target, F_OK) < 0, "symlink target not created");

	/* new/ or tmp/ symlinked inside a real Maildir. */
	snprintf(path, sizeof(path), "%s/link3", base);
	ok(mkdir(path, 0700) == 0 && mkdir(at("link3/tmp"), 0700) == 0 &&
	    mkdir(at("link3/cur"), 0700) == 0, "maildir with links");
	snprintf(target, sizeof(target), "%s/victim/new", base);
	ok(symlink(target, at("link3/new")) == 0, "new/ -> victim/new");
	r = deliver_maildir_put(dm, path, &m, NULL, 0);
	ok(r == DELIVER_E_TEMP && errno == ELOOP, "new/ symlink refused");
	is_int(count_dir(at("victim/new")), 1, "victim untouched");
	is_int(count_dir(at("link3/tmp")), 0, "tmp/ empty");
	snprintf(path, sizeof(path), "%s/link4", base);
	ok(mkdir(path, 0700) == 0 && mkdir(at("link4/new"), 0700) == 0,
	    "maildir with tmp link");
	snprintf(target, sizeof(target), "%s/victim/tmp", base);
	ok(symlink(target, at("link4/tmp")) == 0, "tmp/ -> victim/tmp");
	r = deliver_maildir_put(dm, path, &m, NULL, 0);
	ok(r == DELIVER_E_TEMP && errno == ELOOP, "tmp/ symlink refused");
	is_int(count_dir(at("victim/tmp")), 0, "victim tmp/ untouched");

	/* new/ is a file: fails before anything is written. */
	snprintf(path, sizeof(path), "%s/badnew", base);
	ok(mkdir(path, 0700) == 0 && close(open(at("badnew/new"),
	    O_CREAT | O_WRONLY, 0600)) == 0, "new is a file");
	r = deliver_maildir_put(dm, path, &m, NULL, 0);
	ok(r == DELIVER_E_TEMP && errno == ENOTDIR, "new/ not a directory");
	is_int(count_dir(at("badnew/tmp")), 0, "tmp/ empty");
}

/* A read error mid-copy: the half-written tmp/ file goes away. */
static void
read_failure(struct deliver_maildir *dm)
{
	struct deliver_msg m;
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/rfail", base);
	memset(&m, 0, sizeof(m));
	m.hdr = "Delivered-To: x\n";
	m.hdrlen = 16;
	m.fd = open(base, O_RDONLY | O_DIRECTORY);
	r = deliver_maildir_put(dm, path, &m, NULL, 0);
	ok(r == DELIVER_E_TEMP && errno == EISDIR, "unreadable source: temp");
	is_int(count_dir(at("rfail/tmp")), 0, "tmp/ empty after failure");
	is_int(count_dir(at("rfail/new")), 0, "new/ empty after failure");
	close(m.fd);
	m.fd = -1;
	m.data = NULL;
	m.datalen = 3;
	r = deliver_maildir_put(dm, path, &m, NULL, 0);
	ok(r == DELIVER_E_TEMP && errno == EINVAL, "NULL data refused");
	is_int(count_dir(at("rfail/tmp")), 0, "tmp/ still empty");
}

/*
 * ENOSPC for real: a 64 KiB tmpfs in a private mount namespace (root
 * only). Exit status bits: 1 wrong result, 2 leftovers, 4 small
 * message not delivered afterwards.
 */
static void
disk_full(struct deliver_maildir *dm)
{
	struct deliver_msg m;
	struct buf big = BUF_INIT(0);
	char path[PATH_MAX];
	pid_t pid;
	int st, bits, r;

	if (geteuid() != 0) {
		skip(3, "ENOSPC test needs root for a tmpfs");
		return;
	}
	snprintf(path, sizeof(path), "%s/full", base);
	mkdir(path, 0700);
	while (big.len < 256 * 1024)
		buf_append_str(&big, "0123456789abcdef\n");
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", path, "tmpfs", 0, "size=64k,mode=0700") < 0)
			_exit(100);
		memset(&m, 0, sizeof(m));
		m.fd = -1;
		m.data = big.p;
		m.datalen = big.len;
		bits = 0;
		r = deliver_maildir_put(dm, path, &m, NULL, 0);
		if (r != DELIVER_E_NOSPACE || errno != ENOSPC)
			bits |= 1;
		if (count_dir(at("full/tmp")) != 0 ||
		    count_dir(at("full/new")) != 0)
			bits |= 2;
		m.datalen = 100;
		if (deliver_maildir_put(dm, path, &m, NULL, 0) != DELIVER_OK ||
		    count_dir(at("full/new")) != 1)
			bits |= 4;
		_exit(bits);
	}
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 100) {
		skip(3, "cannot mount a tmpfs here");
	} else {
		ok(WIFEXITED(st) && !(WEXITSTATUS(st) & 1),
		    "disk full: DELIVER_E_NOSPACE");
		ok(WIFEXITED(st) && !(WEXITSTATUS(st) & 2),
		    "disk full: no partial file");
		ok(WIFEXITED(st) && !(WEXITSTATUS(st) & 4),
		    "disk full: space freed, next delivery works");
	}
	buf_free(&big);
}

static void
as_user(struct deliver_maildir *dm)
{
	static const char body[] = "Subject: u\n\nfor a user\n";
	struct deliver_msg m;
	struct passwd pw, *nobody, *me;
	struct stat st;
	char home[256], path[PATH_MAX], name[DELIVER_MAILDIR_NAMEMAX];
	unsigned long long before;
	int r, fd;

	memset(&m, 0, sizeof(m));
	m.fd = -1;
	m.data = body;
	m.datalen = strlen(body);

	/* uid 0 is refused before anything happens. */
	memset(&pw, 0, sizeof(pw));
	pw.pw_name = "root";
	pw.pw_dir = home;
	snprintf(home, sizeof(home), "%s/roothome", base);
	deliver_path_expand(path, sizeof(path), "~/Maildir", NULL, 0, NULL,
	    0, home);
	r = deliver_user_put(dm, &pw, path, &m, NULL, 0);
	is_int(r, DELIVER_E_ROOT, "refuses to deliver as root");
	ok(access(home, F_OK) < 0, "nothing created for root");

	if (geteuid() != 0) {
		me = getpwuid(getuid());
		if (me == NULL) {
			skip(4, "no passwd entry for our uid");
			return;
		}
		pw = *me;
		snprintf(home, sizeof(home), "%s/myhome", base);
		pw.pw_dir = home;
		deliver_path_expand(path, sizeof(path), "~/Maildir", NULL, 0,
		    NULL, 0, home);
		r = deliver_user_put(dm, &pw, path, &m, name, sizeof(name));
		is_int(r, DELIVER_OK, "unprivileged: deliver as self");
		is_file(path, name, body, strlen(body), "as self: content");
		pw.pw_uid = getuid() + 1;
		r = deliver_user_put(dm, &pw, path, &m, name, sizeof(name));
		ok(r == DELIVER_E_TEMP && errno == EPERM,
		    "unprivileged: another uid is EPERM");
		return;
	}

	nobody = getpwnam("nobody");
	if (nobody == NULL) {
		skip(10, "no user nobody");
		return;
	}
	pw = *nobody;
	snprintf(home, sizeof(home), "%s/nobodyhome", base);
	pw.pw_dir = home;
	mkdir(home, 0755);
	ok(chown(home, pw.pw_uid, pw.pw_gid) == 0, "home owned by nobody");
	deliver_path_expand(path, sizeof(path), "~/Maildir", NULL, 0, NULL, 0,
	    pw.pw_dir);

	/* The message is in a root-only file: the fd is what we pass. */
	fd = open(at("rootonly"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok(write(fd, body, strlen(body)) == (ssize_t)strlen(body),
	    "root-only spool file");
	m.fd = fd;
	before = dm->count;
	r = deliver_user_put(dm, &pw, path, &m, name, sizeof(name));
	if (!is_int(r, DELIVER_OK, "deliver as nobody"))
		diag("errno %s", strerror(errno));
	ok(dm->count == before + 1, "parent counter advanced");
	is_file(path, name, body, strlen(body), "as nobody: content");
	snprintf(path, sizeof(path), "%s/Maildir/new/%s", home, name);
	ok(stat(path, &st) == 0 && st.st_uid == pw.pw_uid &&
	    st.st_gid == pw.pw_gid, "file owned by nobody");
	snprintf(path, sizeof(path), "%s/Maildir/tmp", home);
	ok(stat(path, &st) == 0 && st.st_uid == pw.pw_uid,
	    "tmp/ owned by nobody");
	is_int(count_dir(path), 0, "tmp/ empty");
	close(fd);

	/* Into a root-owned 0700 directory: proves the uid really changed. */
	m.fd = -1;
	snprintf(home, sizeof(home), "%s/rootowned", base);
	mkdir(home, 0700);
	deliver_path_expand(path, sizeof(path), "~/Maildir", NULL, 0, NULL, 0,
	    home);
	r = deliver_user_put(dm, &pw, path, &m, name, sizeof(name));
	ok(r == DELIVER_E_TEMP && errno == EACCES,
	    "nobody cannot write a root directory (%s)", strerror(errno));
	ok(access(path, F_OK) < 0, "nothing created there");

	/* A symlinked ~/Maildir in a user's home is refused as the user. */
	snprintf(home, sizeof(home), "%s/nobodyhome/Maildir", base);
	snprintf(path, sizeof(path), "%s/nobodyhome/Linked", base);
	ok(symlink(home, path) == 0, "user symlink");
	r = deliver_user_put(dm, &pw, path, &m, name, sizeof(name));
	ok(r == DELIVER_E_TEMP && errno == ELOOP,
	    "symlinked Maildir refused as user (%d %s)", r, strerror(errno));
}

int
main(void)
{
	struct deliver_maildir dm;

	umask(022);
	snprintf(base, sizeof(base), "%s", "/tmp/pm-deliver.XXXXXX");
	if (mkdtemp(base) == NULL) {
		diag("mkdtemp: %s", strerror(errno));
		return 1;
	}
	/* Others (nobody) must be able to reach their home below base. */
	chmod(base, 0711);
	deliver_maildir_init(&dm, "test.example");

	init_and_headers();
	replies();
	basic(&dm);
	crlf(&dm);
	many(&dm);
	symlinks(&dm);
	read_failure(&dm);
	disk_full(&dm);
	as_user(&dm);

	rm_rf(base);
	return done_testing();
}
