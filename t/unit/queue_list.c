/*
 * The queue listing of postmaster-queue --list and mailq: the exact
 * lines for an empty queue and for a message whose envelope and state
 * hold what a hostile sender or server could put there (escaped), order
 * by id, the count, unreadable files, and a write failure.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "queue/queue_list.h"
#include "spool/spool_dir.h"
#include "spool/spool_env.h"
#include "spool/spool_queue.h"
#include "spool/spool_state.h"
#include "spool/spool_write.h"
#include "tap.h"

static const struct spool_env_limits lim = SPOOL_ENV_LIMITS_DEFAULT;

/* Commits a message that arrived at `when`; its id into id. */
static int
commit(struct spool_dir *sp, time_t when, const char *sender,
    char id[SPOOL_ID_SIZE])
{
	struct timespec ts = { when, 0 };
	struct spool_dlv dlv[2];
	struct spool_env e;
	struct spool_tx tx;
	static const char body[] = "Subject: x\r\n\r\nbody\r\n";

	memset(&e, 0, sizeof e);
	e.helo = spool_str_c("c.example.com");
	e.client = spool_str_c("192.0.2.1");
	e.proto = spool_str_c("ESMTP");
	e.instance = spool_str_c("mx");
	e.sender = spool_str_c(sender);
	memset(dlv, 0, sizeof dlv);
	dlv[0].orig = spool_str_c("List@example.net");
	dlv[0].addr = spool_str_c("b@example.net");
	dlv[0].target = spool_str_c("local:b");
	dlv[1].rcpt = 1;
	dlv[1].orig = spool_str_c("c@example.org");
	dlv[1].addr = spool_str_c("c@example.org");
	dlv[1].target = spool_str_c("mx:example.org");
	e.dlv = dlv;
	e.ndlv = 2;
	if (spool_write_open(&tx, sp, &ts) != SPOOL_WR_OK ||
	    spool_write_envelope(&tx, &e, &lim) != SPOOL_WR_OK ||
	    spool_write_body(&tx, body, sizeof body - 1) != SPOOL_WR_OK)
		return -1;
	memcpy(id, tx.id, SPOOL_ID_SIZE);
	return spool_write_commit(&tx) == SPOOL_WR_OK ? 0 : -1;
}

/* queue_list() into a string, through a pipe. */
static int
list(struct spool_dir *sp, char *out, size_t cap)
{
	int p[2], r;
	ssize_t n;
	size_t got = 0;

	if (pipe(p) < 0)
		return -99;
	r = queue_list(sp, p[1]);
	close(p[1]);
	while (got + 1 < cap && (n = read(p[0], out + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	return r;
}

int
main(void)
{
	char root[] = "/tmp/pm-queue-list.XXXXXX", id1[SPOOL_ID_SIZE],
	     id2[SPOOL_ID_SIZE], got[4096], want[4096], path[200];
	struct spool_dir sp;
	struct spool_msg m;
	struct spool_state st;
	struct buf b = BUF_INIT(0);
	const char *reply = "451 4.7.1 \x1b]0;owned\x07 try\\later";
	int err = 0, devfull;

	if (mkdtemp(root) == NULL ||
	    spool_dir_open(&sp, root, SPOOL_DIR_CREATE) < 0) {
		plan(0);
		diag("no spool: %s", strerror(errno));
		return 1;
	}
	is_int(list(&sp, got, sizeof got), QUEUE_LIST_OK, "empty: ok");
	is_str(got, "Mail queue is empty\n", "empty: mailq's words");

	/* The later message first on disk: the listing sorts by id. */
	ok(commit(&sp, 1796003600, "z@example.org", id2) == 0, "commit 2");
	ok(commit(&sp, 1796000000, "a\x1b[2J@example.org", id1) == 0,
	    "commit 1 (a sender with an escape sequence)");
	/* A server's reply may hold any byte but CR, LF, NUL. */
	ok(spool_queue_open(&sp, id2, &lim, &m, &err) == 0 &&
	        spool_queue_state_load(&sp, &m, &st, &err) == 0,
	    "open 2");
	spool_state_note(&st, 1, SPOOL_ST_PENDING, 1796007200, "mx", 2, reply,
	    strlen(reply));
	spool_state_note(&st, 0, SPOOL_ST_SENT, 0, "", 0, "250 ok", 6);
	ok(spool_queue_state_save(&sp, id2, &st) == 0, "state 2 saved");
	spool_state_free(&st);
	spool_queue_close(&m);

	snprintf(want, sizeof want,
	    "%s         20 2026-11-30T00:53:20Z  <a\\x1b[2J@example.org>\n"
	    "    <b@example.net> orig_to=<List@example.net> target=local:b "
	    "status=pending attempts=0 next=now\n"
	    "    <c@example.org> target=mx:example.org status=pending "
	    "attempts=0 next=now\n"
	    "%s         20 2026-11-30T01:53:20Z  <z@example.org>\n"
	    "    <b@example.net> orig_to=<List@example.net> target=local:b "
	    "status=sent attempts=1\n"
	    "        (250 ok)\n"
	    "    <c@example.org> target=mx:example.org status=pending "
	    "attempts=1 next=2026-11-30T02:53:20Z\n"
	    "        (451 4.7.1 \\x1b]0;owned\\x07 try\\x5clater)\n"
	    "-- 2 messages in the queue\n",
	    id1, id2);
	is_int(list(&sp, got, sizeof got), QUEUE_LIST_OK, "two: ok");
	is_str(got, want, "two: oldest first, every value escaped, the count");

	/* One message alone, as queue_list_message() appends it. */
	buf_append_str(&b, "x\n");
	queue_list_message(&sp, "06B15A6CBCA1D9FE5A3D59FD33AFDF", &b);
	is_str(b.p, "x\n", "a message gone meanwhile adds nothing");
	snprintf(path, sizeof path, "%s/state/%s", root, id1);
	ok(symlink("/nonexistent", path) == 0, "state 1 made unreadable");
	buf_reset(&b);
	queue_list_message(&sp, id1, &b);
	snprintf(want, sizeof want, "%s  (state unreadable: %s)\n", id1,
	    strerror(ELOOP));
	is_str(b.p, want, "unreadable state: one line says so");
	buf_free(&b);

	devfull = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (devfull >= 0) {
		is_int(queue_list(&sp, devfull), QUEUE_LIST_E_WRITE,
		    "a failed write is E_WRITE");
		close(devfull);
	} else {
		skip(1, "no /dev/full");
	}
	spool_dir_close(&sp);
	snprintf(path, sizeof path, "rm -rf '%s'", root);
	if (system(path) != 0)
		diag("could not remove %s", root);
	return done_testing();
}
