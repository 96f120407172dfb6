/*
 * net_drive against a peer in this process: a client that pipelines
 * commands and never reads its replies must not hold the server in
 * write() past its idle timeout or its session deadline (on a socket and
 * on a pipe, as inject -bs has); an ordinary dialogue still works; a
 * peer that is gone ends the session; after STARTTLS the session goes
 * on over the fd the hook puts in place, and the old one is never read.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "net/net_drive.h"
#include "smtp/smtp_session.h"
#include "tap.h"

#define WAIT_MS 20000	/* generous: the machine is shared */

/* The server: one session on in/out in a child; its exit status is the
 * negated net_drive_run() result. */
static pid_t
serve(int in, int out, uint64_t idle_ms, uint64_t deadline_ms,
    int close1, int close2)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct smtp_session_cfg cfg;
		struct smtp_session_ops ops;
		struct smtp_session *s;
		struct net_drive d;

		if (close1 >= 0)
			close(close1);
		if (close2 >= 0)
			close(close2);
		memset(&cfg, 0, sizeof cfg);
		cfg.hostname = "drive.test";
		cfg.accept_mail = 1;
		memset(&ops, 0, sizeof ops);
		if ((s = smtp_session_new(&cfg, &ops, NULL)) == NULL)
			_exit(99);
		memset(&d, 0, sizeof d);
		d.in = in;
		d.out = out;
		d.idle_ms = idle_ms;
		d.deadline_ms = deadline_ms;
		_exit(-net_drive_run(s, &d));
	}
	return pid;
}

/* The child's result and the milliseconds it took from t0, or -100 when
 * it was still running after WAIT_MS (then it is killed). */
static int
reap(pid_t pid, int64_t t0, int64_t *took)
{
	int st;

	while (clock_now_ms() - t0 < WAIT_MS) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		if (waitpid(pid, &st, WNOHANG) == pid) {
			*took = clock_now_ms() - t0;
			return WIFEXITED(st) ? -WEXITSTATUS(st) : -200;
		}
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	*took = clock_now_ms() - t0;
	return -100;
}

/* Reads the greeting line (a client waits for it, RFC 5321 4.3.1). */
static int
greeting(int fd, char *line, size_t cap)
{
	size_t n = 0;
	struct pollfd p = { fd, POLLIN, 0 };

	while (n + 1 < cap && poll(&p, 1, WAIT_MS) == 1) {
		ssize_t r = read(fd, line + n, 1);

		if (r <= 0)
			break;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	return (int)n;
}

/* Pipelines NOOPs until the server stops taking them: it is then stuck
 * writing replies nobody reads. */
static size_t
flood(int fd)
{
	static const char noops[] = "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n";
	size_t sent = 0;
	int64_t end = clock_now_ms() + WAIT_MS;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (clock_now_ms() < end) {
		struct pollfd p = { fd, POLLOUT, 0 };
		ssize_t w = write(fd, noops, sizeof noops - 1);

		if (w > 0) {
			sent += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN)
			break;
		/* Full: wait a little for the server to take more; when
		 * nothing moves for 500 ms, it has stopped reading. */
		if (poll(&p, 1, 500) == 0)
			break;
	}
	return sent;
}

static void
test_socket(uint64_t idle_ms, uint64_t deadline_ms, int want,
    int64_t max_ms, const char *name)
{
	int sv[2];
	char line[256];
	pid_t pid;
	int64_t t0, took;
	size_t sent;
	int r;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		ok(0, "socketpair: %s", strerror(errno));
		return;
	}
	t0 = clock_now_ms();
	pid = serve(sv[1], sv[1], idle_ms, deadline_ms, sv[0], -1);
	close(sv[1]);
	greeting(sv[0], line, sizeof line);
	ok(strcmp(line, "220 drive.test ESMTP Postmaster\r\n") == 0,
	    "%s: the greeting", name);
	sent = flood(sv[0]);
	ok(sent > 30000, "%s: the client pipelined %zu octets", name, sent);
	r = reap(pid, t0, &took);
	is_int(r, want, name);
	ok(took < max_ms, "%s: ended after %lld ms (limit %lld)", name,
	    (long long)took, (long long)max_ms);
	close(sv[0]);
}

static void
test_pipe(void)
{
	int in[2], out[2];
	char line[256];
	pid_t pid;
	int64_t t0, took;
	int r;

	if (pipe(in) < 0 || pipe(out) < 0) {
		ok(0, "pipe: %s", strerror(errno));
		return;
	}
	t0 = clock_now_ms();
	pid = serve(in[0], out[1], 300, 60000, in[1], out[0]);
	close(in[0]);
	close(out[1]);
	greeting(out[0], line, sizeof line);
	is_str(line, "220 drive.test ESMTP Postmaster\r\n",
	    "pipe: the greeting");
	ok(flood(in[1]) > 50000, "pipe: the client pipelined");
	r = reap(pid, t0, &took);
	is_int(r, NET_DRIVE_WRITE_IDLE, "pipe: replies unread: write idle "
	    "timeout");
	ok(took < 10000, "pipe: ended after %lld ms", (long long)took);
	close(in[1]);
	close(out[0]);
}

static void
test_dialogue(void)
{
	static const char want[] = "220 drive.test ESMTP Postmaster\r\n"
	    "250 2.0.0 Ok\r\n221 2.0.0 drive.test Bye\r\n";
	int sv[2];
	char got[512];
	size_t n = 0;
	pid_t pid;
	int64_t t0, took;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	t0 = clock_now_ms();
	pid = serve(sv[1], sv[1], 5000, 60000, sv[0], -1);
	close(sv[1]);
	n = (size_t)greeting(sv[0], got, sizeof got);
	if (write(sv[0], "NOOP\r\nQUIT\r\n", 12) != 12)
		diag("short write");
	for (;;) {
		struct pollfd p = { sv[0], POLLIN, 0 };
		ssize_t r;

		if (n + 1 >= sizeof got || poll(&p, 1, WAIT_MS) != 1 ||
		    (r = read(sv[0], got + n, sizeof got - 1 - n)) <= 0)
			break;
		n += (size_t)r;
	}
	got[n] = '\0';
	is_str(got, want, "dialogue: the replies, then the close");
	is_int(reap(pid, t0, &took), NET_DRIVE_DONE, "dialogue: DONE");
	close(sv[0]);
}

/* STARTTLS: the hook puts the "TLS" socket over the server's fds. */
static int tls_fd = -1, tls_in = -1;

static int
accept_starttls(void *ctx, struct buf *reply)
{
	(void)ctx;
	(void)reply;
	return 0;
}

static int
switch_to_tls(void *arg)
{
	(void)arg;
	return dup2(tls_fd, tls_in) < 0 ? -1 : 0;
}

/* Reads from fd until got holds needle (or the peer closes). */
static size_t
read_until(int fd, char *got, size_t cap, size_t n, const char *needle)
{
	got[n] = '\0';
	while (strstr(got, needle) == NULL) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		if (n + 1 >= cap || poll(&p, 1, WAIT_MS) != 1 ||
		    (r = read(fd, got + n, cap - 1 - n)) <= 0)
			break;
		n += (size_t)r;
		got[n] = '\0';
	}
	return n;
}

/*
 * After STARTTLS's 220 the driver hands over to on_starttls and reads
 * only the new fd: plaintext sent on the old connection after the 220 is
 * never answered (CVE-2011-0411), the session goes on over the new one
 * with HELO forgotten and STARTTLS no longer offered.
 */
static void
test_starttls(void)
{
	int sv[2], tp[2];
	char got[2048];
	size_t n;
	pid_t pid;
	int64_t t0, took;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, tp) < 0)
		return;
	t0 = clock_now_ms();
	if ((pid = fork()) == 0) {
		struct smtp_session_cfg cfg;
		struct smtp_session_ops ops;
		struct smtp_session *s;
		struct net_drive d;

		close(sv[0]);
		close(tp[1]);
		memset(&cfg, 0, sizeof cfg);
		cfg.hostname = "drive.test";
		cfg.accept_mail = 1;
		cfg.starttls = 1;
		memset(&ops, 0, sizeof ops);
		ops.starttls = accept_starttls;
		if ((s = smtp_session_new(&cfg, &ops, NULL)) == NULL)
			_exit(99);
		tls_fd = tp[0];
		tls_in = sv[1];
		memset(&d, 0, sizeof d);
		d.in = d.out = sv[1];
		d.idle_ms = 5000;
		d.deadline_ms = 60000;
		d.on_starttls = switch_to_tls;
		_exit(-net_drive_run(s, &d));
	}
	close(sv[1]);
	close(tp[0]);
	n = (size_t)greeting(sv[0], got, sizeof got);
	if (write(sv[0], "EHLO c\r\n", 8) != 8)
		diag("short write");
	n = read_until(sv[0], got, sizeof got, n, "250 CHUNKING\r\n");
	ok(strstr(got, "250-STARTTLS\r\n") != NULL, "starttls: offered");
	if (write(sv[0], "STARTTLS\r\n", 10) != 10)
		diag("short write");
	n = read_until(sv[0], got, sizeof got, n, "220 2.0.0");
	ok(strstr(got, "220 2.0.0 Ready to start TLS\r\n") != NULL,
	    "starttls: 220 on the old connection");
	if (write(sv[0], "MAIL FROM:<evil@x.test>\r\n", 25) != 25)
		diag("short write");
	if (write(tp[1], "EHLO c\r\n", 8) != 8)
		diag("short write");
	n = read_until(tp[1], got, sizeof got, 0, "250 CHUNKING\r\n");
	ok(strncmp(got, "250-drive.test\r\n", 16) == 0 &&
	    strstr(got, "STARTTLS") == NULL,
	    "starttls: EHLO answered on the new fd, STARTTLS not offered");
	if (write(tp[1], "QUIT\r\n", 6) != 6)
		diag("short write");
	n = read_until(tp[1], got, sizeof got, 0, "Bye\r\n");
	is_str(got, "221 2.0.0 drive.test Bye\r\n",
	    "starttls: QUIT on the new fd; MAIL sent in the clear got nothing");
	n = read_until(sv[0], got, sizeof got, 0, "\n");
	is_int((long long)n, 0, "starttls: the old connection closed unanswered");
	is_int(reap(pid, t0, &took), NET_DRIVE_DONE, "starttls: DONE");
	close(sv[0]);
	close(tp[1]);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* idle 300 ms, session 60 s: cut off at the idle timeout */
	test_socket(300, 60000, NET_DRIVE_WRITE_IDLE, 10000,
	    "socket: replies unread: write idle timeout");
	/* idle 60 s, session 1 s: the session deadline wins */
	test_socket(60000, 1000, NET_DRIVE_WRITE_DEADLINE, 10000,
	    "socket: replies unread: session deadline");
	test_pipe();
	test_dialogue();
	test_starttls();
	return done_testing();
}
