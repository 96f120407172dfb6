/*
 * Spool writer and runner side in a private temp dir: commit, abort, the
 * crash hook at every step (what doc/INTERNALS.md promises), state
 * replacement, finish, cleanup, nudge, space check.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "spool/spool_dir.h"
#include "spool/spool_env.h"
#include "spool/spool_nudge.h"
#include "spool/spool_queue.h"
#include "spool/spool_state.h"
#include "spool/spool_write.h"
#include "tap.h"

static char root[64];
static const struct spool_env_limits lim = SPOOL_ENV_LIMITS_DEFAULT;
static struct spool_dlv dlv[2];

static void
sample(struct spool_env *e)
{
	memset(e, 0, sizeof *e);
	e->helo = spool_str_c("c.example.com");
	e->client = spool_str_c("192.0.2.1");
	e->proto = spool_str_c("ESMTP");
	e->instance = spool_str_c("mx");
	e->sender = spool_str_c("a@example.org");
	memset(dlv, 0, sizeof dlv);
	dlv[0].orig = spool_str_c("b@example.net");
	dlv[0].addr = spool_str_c("b@example.net");
	dlv[0].target = spool_str_c("local:b");
	dlv[1].rcpt = 1;
	dlv[1].orig = spool_str_c("c@example.net");
	dlv[1].addr = spool_str_c("c@example.net");
	dlv[1].target = spool_str_c("relay:r");
	dlv[1].status = SPOOL_ST_SENT;
	dlv[1].reply = spool_str_c("250 ok");
	e->dlv = dlv;
	e->ndlv = 2;
}

/* Number of entries in root/sub, not counting dot files. */
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
rmrf_sub(const char *sub)
{
	char path[600];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof path, "%s/%s", root, sub);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s/%s", root, sub, de->d_name);
		unlink(path);
	}
	closedir(d);
}

static int
write_msg(const struct spool_dir *sp, const char *body, size_t n,
    char id[SPOOL_ID_SIZE], struct buf *expect)
{
	struct spool_tx tx;
	struct spool_env e;
	int r;

	if ((r = spool_write_open(&tx, sp, NULL)) != SPOOL_WR_OK)
		return r;
	sample(&e);
	if ((r = spool_write_envelope(&tx, &e, &lim)) != SPOOL_WR_OK)
		return r;
	if (expect) {
		buf_reset(expect);
		spool_env_encode(expect, &e, &lim);
		buf_append(expect, body, n);
	}
	/* Two pieces, to exercise buffering across calls. */
	if ((r = spool_write_body(&tx, body, n / 2)) != SPOOL_WR_OK ||
	    (r = spool_write_body(&tx, body + n / 2, n - n / 2)) != SPOOL_WR_OK)
		return r;
	memcpy(id, tx.id, SPOOL_ID_SIZE);
	return spool_write_commit(&tx);
}

static int
first_id(const char *id, void *arg)
{
	memcpy(arg, id, SPOOL_ID_SIZE);
	return 1;
}

static int
count_id(const char *id, void *arg)
{
	(void)id;
	(*(int *)arg)++;
	return 0;
}

static void
test_layout(struct spool_dir *sp)
{
	struct spool_dir sp2;
	char path[128];
	struct stat st;

	ok(spool_dir_open(sp, root, SPOOL_DIR_CREATE) == 0, "create layout");
	snprintf(path, sizeof path, "%s/tmp", root);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700, "tmp 0700");
	snprintf(path, sizeof path, "%s/nudge", root);
	ok(stat(path, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    (st.st_mode & 0777) == 0600, "nudge FIFO 0600");
	ok(spool_dir_open(&sp2, root, 0) == 0, "reopen without create");
	spool_dir_close(&sp2);

	snprintf(path, sizeof path, "%s/state", root);
	chmod(path, 0755);
	errno = 0;
	ok(spool_dir_open(&sp2, root, 0) < 0 && errno == EPERM,
	    "group-readable state/ refused EPERM");
	chmod(path, 0700);
	snprintf(path, sizeof path, "%s/nudge", root);
	unlink(path);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	errno = 0;
	ok(spool_dir_open(&sp2, root, SPOOL_DIR_CREATE) < 0 && errno == ENOTDIR,
	    "regular file as nudge refused");
	unlink(path);
	ok(spool_dir_open(&sp2, root, SPOOL_DIR_CREATE) == 0, "nudge recreated");
	spool_dir_close(&sp2);
	errno = 0;
	ok(spool_dir_open(&sp2, "/nonexistent/pm-spool", 0) < 0 &&
	    errno == ENOENT, "missing root: ENOENT");
}

static void
test_commit(const struct spool_dir *sp)
{
	struct buf want = BUF_INIT(0);
	char id[SPOOL_ID_SIZE], got_id[SPOOL_ID_SIZE] = "";
	char path[128], *body, *rd;
	struct spool_msg m;
	struct stat st;
	size_t n = 200000, i;
	int fd, env_err, cnt = 0;

	body = malloc(n);
	for (i = 0; i < n; i++)
		body[i] = (char)("Received: x\r\n"[i % 13]);
	is_int(write_msg(sp, body, n, id, &want), SPOOL_WR_OK, "commit");
	is_int(count("queue"), 1, "exactly one queue file");
	is_int(count("tmp"), 0, "tmp empty after commit");
	snprintf(path, sizeof path, "%s/queue/%s", root, id);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "file 0600");
	rd = malloc(want.len + 1);
	fd = open(path, O_RDONLY);
	ok(fd >= 0 && read(fd, rd, want.len + 1) == (ssize_t)want.len,
	    "file size");
	close(fd);
	is_mem(rd, want.len, want.p, want.len, "file bytes = envelope + body");
	free(rd);

	spool_queue_scan(sp, first_id, got_id);
	is_str(got_id, id, "scan finds the id");
	spool_queue_scan(sp, count_id, &cnt);
	is_int(cnt, 1, "scan counts one");
	ok(spool_queue_open(sp, id, &lim, &m, &env_err) == 0, "queue open");
	is_str(m.env.id, id, "envelope id");
	is_int((long long)(m.file_size - m.body_off), (long long)n, "body size");
	rd = malloc(n);
	ok(pread(m.fd, rd, n, m.body_off) == (ssize_t)n &&
	    memcmp(rd, body, n) == 0, "body via fd and offset");
	free(rd);
	spool_queue_close(&m);
	free(body);
	buf_free(&want);
	rmrf_sub("queue");
}

static void
test_abort_and_errors(const struct spool_dir *sp)
{
	struct spool_tx tx;
	struct spool_env e;

	ok(spool_write_open(&tx, sp, NULL) == SPOOL_WR_OK, "open");
	is_int(count("tmp"), 1, "tmp file exists");
	is_int(spool_write_body(&tx, "x", 1), SPOOL_WR_STATE,
	    "body before envelope refused");
	sample(&e);
	is_int(spool_write_envelope(&tx, &e, &lim), SPOOL_WR_OK, "envelope");
	is_int(spool_write_body(&tx, "hello", 5), SPOOL_WR_OK, "body");
	spool_write_abort(&tx);
	is_int(count("tmp"), 0, "abort: tmp empty");
	is_int(count("queue"), 0, "abort: queue empty");
	spool_write_abort(&tx);
	is_int(count("tmp") + count("queue"), 0,
	    "double abort harmless: nothing made, nothing left");

	ok(spool_write_open(&tx, sp, NULL) == SPOOL_WR_OK, "open again");
	sample(&e);
	e.sender = (struct spool_str){ "a@b\nrcpt evil@x", 15 };
	is_int(spool_write_envelope(&tx, &e, &lim), SPOOL_WR_ENV,
	    "injection refused");
	is_int(tx.env_err, SPOOL_ENV_E_CHAR, "env_err says why");
	is_int(count("tmp"), 0, "refused envelope: tmp cleaned");
	is_int(spool_write_commit(&tx), SPOOL_WR_STATE, "commit after failure");
	is_int(count("queue"), 0, "nothing queued");
	spool_write_abort(&tx);
}

struct crash_case {
	const char *step;
	int tmp, queue;
};

static void
test_crash(const struct spool_dir *sp)
{
	/* doc/INTERNALS.md, "Crash at each step". */
	static const struct crash_case cases[] = {
		{ "after-create", 1, 0 },
		{ "after-write", 1, 0 },
		{ "after-fsync", 1, 0 },
		{ "after-rename", 0, 1 },
		{ "after-dirsync", 0, 1 },
	};
	struct spool_clean_stats cs;
	char id[SPOOL_ID_SIZE], qid[SPOOL_ID_SIZE];
	struct spool_msg m;
	size_t i;
	pid_t pid;
	int status, env_err;

#ifndef PM_TEST_KNOBS
	/* Not a test build: the hook is not there; the writer commits. */
	pid = fork();
	if (pid == 0) {
		setenv(SPOOL_CRASH_ENV, "after-create", 1);
		_exit(write_msg(sp, "body\r\n", 6, id, NULL) == SPOOL_WR_OK ?
		    0 : 1);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "without PM_TEST_KNOBS, PM_SPOOL_CRASH_AT is not read");
	is_int(count("queue"), 1, "and the message is committed");
	rmrf_sub("queue");
	return;
#endif
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pid = fork();
		if (pid == 0) {
			setenv(SPOOL_CRASH_ENV, cases[i].step, 1);
			write_msg(sp, "body\r\n", 6, id, NULL);
			_exit(0);
		}
		waitpid(pid, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == SPOOL_CRASH_EXIT,
		    "%s: writer died at the hook", cases[i].step);
		is_int(count("tmp"), cases[i].tmp, cases[i].step);
		is_int(count("queue"), cases[i].queue, cases[i].step);
		if (cases[i].queue) {
			/* Committed: the runner sees a complete message. */
			qid[0] = '\0';
			spool_queue_scan(sp, first_id, qid);
			ok(spool_queue_open(sp, qid, &lim, &m, &env_err) == 0 &&
			    m.file_size - m.body_off == 6,
			    "%s: message complete", cases[i].step);
			spool_queue_close(&m);
			rmrf_sub("queue");
		} else {
			/* Young garbage stays; old garbage goes. */
			spool_queue_clean(sp, time(NULL), SPOOL_TMP_MAX_AGE, &cs);
			is_int((long long)cs.tmp_removed, 0,
			    "fresh tmp file kept (writer may be alive)");
			spool_queue_clean(sp,
			    time(NULL) + SPOOL_TMP_MAX_AGE + 1,
			    SPOOL_TMP_MAX_AGE, &cs);
			is_int((long long)cs.tmp_removed, 1,
			    "stale tmp file removed");
		}
		is_int(count("tmp"), 0, "tmp clean");
	}
}

static void
test_state(const struct spool_dir *sp)
{
	char id[SPOOL_ID_SIZE], path[160];
	struct spool_state st, st2;
	struct spool_clean_stats cs;
	struct spool_msg m;
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	int env_err, fd;

	is_int(write_msg(sp, "x\r\n", 3, id, NULL), SPOOL_WR_OK, "commit");
	ok(spool_queue_open(sp, id, &lim, &m, &env_err) == 0, "open");
	ok(spool_queue_state_load(sp, &m, &st, &env_err) == 0,
	    "load without state file");
	ok(st.n == 2 && st.d[0].status == SPOOL_ST_PENDING &&
	    st.d[0].attempts == 0, "delivery 0 pending");
	ok(st.d[1].status == SPOOL_ST_SENT && st.d[1].attempts == 1 &&
	    strcmp(st.d[1].reply, "250 ok") == 0 &&
	    strcmp(st.d[1].relay, "relay:r") == 0, "proxied delivery sent");
	ok(!spool_state_done(&st), "not done");
	ok(spool_state_note(&st, 0, SPOOL_ST_PENDING, 1700000300,
	    "mx.example.net[192.0.2.9]", 25, "451 4.3.0 try\r\nlater\0x", 22)
	    == 0, "note deferral");
	is_str(st.d[0].reply, "451 4.3.0 try  later x", "reply sanitized");
	ok(spool_queue_state_save(sp, id, &st) == 0, "save");
	is_int(count("state"), 1, "one state file, no tmp left");
	ok(spool_queue_state_load(sp, &m, &st2, &env_err) == 0, "reload");
	spool_state_encode(&a, &st);
	spool_state_encode(&b, &st2);
	is_mem(b.p, b.len, a.p, a.len, "state round trip");
	ok(st2.d[0].attempts == 1 && st2.d[0].next == 1700000300,
	    "attempts and next");
	spool_state_free(&st2);

	/* A crashed save leaves state/ID.tmp: the old state still rules. */
	snprintf(path, sizeof path, "%s/state/%s.tmp", root, id);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ok(write(fd, "POSTMASTER-STATE 1\ndlv 0 se", 27) == 27, "half tmp");
	close(fd);
	ok(spool_queue_state_load(sp, &m, &st2, &env_err) == 0 &&
	    st2.d[0].attempts == 1, "half-written tmp ignored by load");
	spool_state_free(&st2);
	spool_queue_clean(sp, time(NULL), SPOOL_TMP_MAX_AGE, &cs);
	is_int((long long)cs.state_removed, 1, "clean removes state tmp");

	/* A corrupt state file is refused, not guessed at. */
	snprintf(path, sizeof path, "%s/state/%s", root, id);
	fd = open(path, O_WRONLY | O_TRUNC);
	ok(write(fd, "POSTMASTER-STATE 1\nend\n", 23) == 23, "corrupt");
	close(fd);
	errno = 0;
	ok(spool_queue_state_load(sp, &m, &st2, &env_err) < 0 &&
	    errno == EBADMSG && env_err == SPOOL_ENV_E_RECORD,
	    "delivery count mismatch refused");
	ok(spool_queue_state_save(sp, id, &st) == 0, "save again");

	ok(spool_state_note(&st, 0, SPOOL_ST_SENT, 0, "x", 1, "250", 3) == 0,
	    "sent");
	ok(spool_state_done(&st), "done");
	spool_queue_close(&m);
	ok(spool_queue_finish(sp, id) == 0, "finish");
	is_int(count("queue"), 0, "finish: queue empty");
	is_int(count("state"), 0, "finish: state empty");
	ok(spool_queue_finish(sp, id) == 0, "finish twice is harmless");

	/* Crash between finish's unlinks: orphan state, cleaned. */
	is_int(write_msg(sp, "x\r\n", 3, id, NULL), SPOOL_WR_OK, "commit");
	ok(spool_queue_state_save(sp, id, &st) == 0, "save");
	snprintf(path, sizeof path, "%s/queue/%s", root, id);
	unlink(path);
	spool_queue_clean(sp, time(NULL), SPOOL_TMP_MAX_AGE, &cs);
	is_int((long long)cs.state_removed, 1, "orphan state removed");
	is_int(count("state"), 0, "state empty");
	spool_state_free(&st);
	buf_free(&a);
	buf_free(&b);
}

static void
test_tmp_age(const struct spool_dir *sp)
{
	struct spool_clean_stats cs;
	struct timespec ts[2];
	char path[128];
	time_t now = time(NULL);
	int fd;

	snprintf(path, sizeof path, "%s/tmp/0000000000000000000000000000AA", root);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ts[0].tv_sec = ts[1].tv_sec = now - SPOOL_TMP_MAX_AGE + 1;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	futimens(fd, ts);
	close(fd);
	spool_queue_clean(sp, now, SPOOL_TMP_MAX_AGE, &cs);
	is_int((long long)cs.tmp_removed, 0, "age max-1: kept");
	fd = open(path, O_WRONLY);
	ts[0].tv_sec = ts[1].tv_sec = now - SPOOL_TMP_MAX_AGE;
	futimens(fd, ts);
	close(fd);
	spool_queue_clean(sp, now, SPOOL_TMP_MAX_AGE, &cs);
	is_int((long long)cs.tmp_removed, 1, "age max: removed");
}

/* A message finished without ever having a state file (all sent). */
static void
test_finish_no_state(const struct spool_dir *sp)
{
	char id[SPOOL_ID_SIZE];
	struct spool_state st;
	struct spool_msg m;
	int env_err, exists = -1;

	is_int(write_msg(sp, "x\r\n", 3, id, NULL), SPOOL_WR_OK, "commit");
	ok(spool_queue_open(sp, id, &lim, &m, &env_err) == 0, "open");
	ok(spool_queue_state_load_ex(sp, &m, &st, &env_err, &exists) == 0 &&
	    exists == 0, "load_ex: no state file");
	spool_state_free(&st);
	spool_queue_close(&m);
	ok(spool_queue_finish_ex(sp, id, SPOOL_FINISH_NO_STATE) == 0,
	    "finish without state");
	is_int(count("queue"), 0, "finish_ex: queue empty");
	is_int(count("state"), 0, "finish_ex: state empty");
	ok(spool_queue_finish_ex(sp, id, SPOOL_FINISH_NO_STATE) == 0,
	    "finish_ex twice is harmless");

	/* With a state file, load_ex says so. */
	is_int(write_msg(sp, "x\r\n", 3, id, NULL), SPOOL_WR_OK, "commit");
	ok(spool_queue_open(sp, id, &lim, &m, &env_err) == 0, "open");
	ok(spool_queue_state_load(sp, &m, &st, &env_err) == 0, "load");
	ok(spool_queue_state_save(sp, id, &st) == 0, "save");
	spool_state_free(&st);
	ok(spool_queue_state_load_ex(sp, &m, &st, &env_err, &exists) == 0 &&
	    exists == 1, "load_ex: state file there");
	spool_state_free(&st);
	spool_queue_close(&m);
	ok(spool_queue_finish_ex(sp, id, 0) == 0, "finish_ex with state");
	is_int(count("queue"), 0, "queue empty");
	is_int(count("state"), 0, "state empty");
}

struct got {
	char ids[8][SPOOL_ID_SIZE];
	int n;
};

static void
got_id(const char *id, void *arg)
{
	struct got *g = arg;

	if (g->n < 8)
		snprintf(g->ids[g->n++], SPOOL_ID_SIZE, "%s", id);
}

static void
test_nudge(const struct spool_dir *sp)
{
	char id[SPOOL_ID_SIZE];
	struct pollfd pfd;
	int fd;

	is_int(write_msg(sp, "x\r\n", 3, id, NULL), SPOOL_WR_OK,
	    "commit with no runner listening");
	ok(spool_nudge_send(sp) == 0, "nudge without reader is fine");
	fd = spool_nudge_listen(sp);
	ok(fd >= 0, "listen");
	is_int(write_msg(sp, "x\r\n", 3, id, NULL), SPOOL_WR_OK, "commit");
	pfd.fd = fd;
	pfd.events = POLLIN;
	is_int(poll(&pfd, 1, 1000), 1, "runner woken");
	ok(spool_nudge_drain(fd) >= 1, "drained");
	is_int(poll(&pfd, 1, 0), 0, "quiet after drain");

	/* A commit sends its id; the reader hands it over. */
	{
		struct spool_nudge_rd rd;
		struct got g;
		int fl;

		memset(&rd, 0, sizeof rd);
		memset(&g, 0, sizeof g);
		is_int(write_msg(sp, "x\r\n", 3, id, NULL), SPOOL_WR_OK,
		    "commit");
		is_int(poll(&pfd, 1, 1000), 1, "woken by an id");
		fl = spool_nudge_read(fd, &rd, got_id, &g);
		is_int(fl, SPOOL_NUDGE_ANY, "just an id");
		ok(g.n == 1 && strcmp(g.ids[0], id) == 0, "the committed id");
		ok(spool_nudge_send(sp) == 0 && spool_nudge_send_pickup(sp) == 0,
		    "legacy and pickup bytes");
		fl = spool_nudge_read(fd, &rd, got_id, &g);
		is_int(fl, SPOOL_NUDGE_ANY | SPOOL_NUDGE_RESCAN |
		    SPOOL_NUDGE_PICKUP, "legacy byte rescans, p picks up");
		is_int(poll(&pfd, 1, 0), 0, "quiet after read");
	}
	close(fd);
	rmrf_sub("queue");
}

static void
test_nudge_parse(void)
{
	static const char id1[] = "0692B1C2E0001A0123456789ABCDEF0";
	struct spool_nudge_rd rd;
	struct got g;
	char big[200];
	int fl;

	/* id1 has 31 characters: the first 30 are an id. */
	char a[SPOOL_ID_SIZE], b[SPOOL_ID_SIZE], line[80];

	memcpy(a, id1, SPOOL_ID_LEN);
	a[SPOOL_ID_LEN] = '\0';
	memcpy(b, id1 + 1, SPOOL_ID_LEN);
	b[SPOOL_ID_LEN] = '\0';
	b[0] = '0';
	ok(spool_id_valid(a, SPOOL_ID_LEN) && spool_id_valid(b, SPOOL_ID_LEN),
	    "test ids valid");

	memset(&rd, 0, sizeof rd);
	memset(&g, 0, sizeof g);
	is_int(spool_nudge_parse(&rd, "", 0, got_id, &g), 0, "nothing");
	snprintf(line, sizeof line, "%s\n%s\n", a, b);
	is_int(spool_nudge_parse(&rd, line, strlen(line), got_id, &g),
	    SPOOL_NUDGE_ANY, "two ids");
	ok(g.n == 2 && strcmp(g.ids[0], a) == 0 && strcmp(g.ids[1], b) == 0,
	    "in order");

	/* Split across reads. */
	g.n = 0;
	is_int(spool_nudge_parse(&rd, a, 10, got_id, &g), SPOOL_NUDGE_ANY,
	    "first part");
	is_int(g.n, 0, "not yet");
	snprintf(line, sizeof line, "%s\n", a + 10);
	is_int(spool_nudge_parse(&rd, line, strlen(line), got_id, &g),
	    SPOOL_NUDGE_ANY, "rest");
	ok(g.n == 1 && strcmp(g.ids[0], a) == 0, "joined");

	/* Single bytes at a line start, mixed with ids. */
	g.n = 0;
	snprintf(line, sizeof line, "F%s\nnp", a);
	fl = spool_nudge_parse(&rd, line, strlen(line), got_id, &g);
	is_int(fl, SPOOL_NUDGE_ANY | SPOOL_NUDGE_FLUSH | SPOOL_NUDGE_RESCAN |
	    SPOOL_NUDGE_PICKUP, "F, n and p");
	ok(g.n == 1 && strcmp(g.ids[0], a) == 0, "id after F");

	/* Garbage: not an id, too long, a short line; parsing goes on. */
	g.n = 0;
	is_int(spool_nudge_parse(&rd, "hello\n", 6, got_id, &g),
	    SPOOL_NUDGE_ANY | SPOOL_NUDGE_RESCAN, "not an id");
	memset(big, '0', sizeof big);
	big[sizeof big - 1] = '\n';
	is_int(spool_nudge_parse(&rd, big, sizeof big, got_id, &g),
	    SPOOL_NUDGE_ANY | SPOOL_NUDGE_RESCAN, "overlong line");
	is_int(spool_nudge_parse(&rd, "\n", 1, got_id, &g),
	    SPOOL_NUDGE_ANY | SPOOL_NUDGE_RESCAN, "empty line");
	snprintf(line, sizeof line, "%.29s\n", a);
	is_int(spool_nudge_parse(&rd, line, strlen(line), got_id, &g),
	    SPOOL_NUDGE_ANY | SPOOL_NUDGE_RESCAN, "29 digits");
	snprintf(line, sizeof line, "%s\n", a);
	for (fl = 0; line[fl]; fl++)
		if (line[fl] == '0')
			line[fl] = 'a';	/* lower case: not an id */
	is_int(spool_nudge_parse(&rd, line, strlen(line), got_id, &g),
	    SPOOL_NUDGE_ANY | SPOOL_NUDGE_RESCAN, "lower-case hex");
	is_int(g.n, 0, "no id from garbage");
	snprintf(line, sizeof line, "%s\n", b);
	is_int(spool_nudge_parse(&rd, line, strlen(line), got_id, &g),
	    SPOOL_NUDGE_ANY, "an id after garbage");
	ok(g.n == 1 && strcmp(g.ids[0], b) == 0, "recovered");
}

static void
test_space(const struct spool_dir *sp)
{
	ok(spool_dir_space(sp, 1024, 0, 0) == 0, "space for 1 KiB");
	errno = 0;
	ok(spool_dir_space(sp, UINT64_MAX / 2, SPOOL_RESERVE_BYTES,
	    SPOOL_RESERVE_INODES) < 0 && errno == ENOSPC, "too big: ENOSPC");
	ok(spool_err_full(ENOSPC) && spool_err_full(EDQUOT) &&
	    !spool_err_full(EIO), "full-disk errors recognised");
	/*
	 * A real ENOSPC from write(2) needs a small file system (tmpfs or
	 * loop mount, i.e. root); the end-to-end suite does that.
	 */
	skip(1, "write(2) ENOSPC needs a tiny file system (root); see t/e2e");
}

/*
 * spool_write_mark_wire: the envelope written with "wire 0" reads back
 * "wire 1", whether the envelope is still in the write buffer (a small
 * message) or already on disk (a body past SPOOL_WRITE_BUFSIZE).
 */
static void
test_mark_wire(const struct spool_dir *sp)
{
	static const size_t sizes[] = { 10, 3 * SPOOL_WRITE_BUFSIZE };
	size_t k, i;

	for (k = 0; k < 2; k++) {
		size_t n = sizes[k];
		char *body = malloc(n);
		struct spool_tx tx;
		struct spool_env e;
		struct spool_msg m;
		int env_err, r;

		for (i = 0; i < n; i++)
			body[i] = (char)("line\r\n"[i % 6]);
		ok(spool_write_open(&tx, sp, NULL) == SPOOL_WR_OK, "open");
		sample(&e);
		e.wire = 0;
		ok(spool_write_envelope(&tx, &e, &lim) == SPOOL_WR_OK &&
		    spool_write_body(&tx, body, n) == SPOOL_WR_OK, "write");
		r = spool_write_mark_wire(&tx);
		ok(r == SPOOL_WR_OK, "mark wire, body %zu", n);
		ok(spool_write_commit(&tx) == SPOOL_WR_OK, "commit");
		ok(spool_queue_open(sp, tx.id, &lim, &m, &env_err) == 0,
		    "queue open");
		ok(m.env.wire == 1, "wire 1 read back, body %zu", n);
		is_int((long long)(m.file_size - m.body_off), (long long)n,
		    "body intact");
		spool_queue_close(&m);
		free(body);
	}
	/* only between envelope and commit */
	{
		struct spool_tx tx;

		ok(spool_write_open(&tx, sp, NULL) == SPOOL_WR_OK, "open");
		is_int(spool_write_mark_wire(&tx), SPOOL_WR_STATE,
		    "mark before the envelope refused");
		spool_write_abort(&tx);
	}
	rmrf_sub("queue");
}

int
main(void)
{
	struct spool_dir sp;
	char cmd[128];

	snprintf(root, sizeof root, "/tmp/pm-spool-XXXXXX");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv(SPOOL_CRASH_ENV);
	test_layout(&sp);
	test_commit(&sp);
	test_mark_wire(&sp);
	test_abort_and_errors(&sp);
	test_crash(&sp);
	test_state(&sp);
	test_tmp_age(&sp);
	test_finish_no_state(&sp);
	test_nudge(&sp);
	test_nudge_parse();
	test_space(&sp);
	spool_dir_close(&sp);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		diag("could not remove %s", root);
	return done_testing();
}
