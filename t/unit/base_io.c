#include <sys/resource.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/io.h"
#include "tap.h"

static int
tmpfile_fd(char *path)
{
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

int
main(void)
{
	static char big[300000];
	char got[16];
	char path[] = "/tmp/pm-io-test.XXXXXX";
	int fd = tmpfile_fd(path), p[2];
	pid_t pid;

	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	ok(fd >= 0, "a temporary file");
	is_int(io_write_all(fd, "hello", 5), 0,
	    "io_write_all: a short buffer");
	is_int(io_write_all(fd, "", 0), 0, "io_write_all: nothing to write");
	is_int(pread(fd, got, sizeof got, 0), 5, "  the file holds 5 bytes");
	is_mem(got, 5, "hello", 5, "  and they are the buffer");

	/* More than a pipe holds: the reader drains it in parts, so the
	 * writer sees short writes or blocks, and must still write it all. */
	ok(pipe(p) == 0, "a pipe");
	pid = fork();
	if (pid == 0) {
		size_t total = 0;
		ssize_t r;
		char rb[4096];

		close(p[1]);
		while ((r = read(p[0], rb, sizeof rb)) > 0) {
			if (memcmp(rb, big + total, (size_t)r) != 0)
				_exit(2);
			total += (size_t)r;
		}
		_exit(total == sizeof big ? 0 : 1);
	}
	close(p[0]);
	is_int(io_write_all(p[1], big, sizeof big), 0,
	    "io_write_all: 300000 bytes through a pipe");
	close(p[1]);
	{
		int st = -1;

		waitpid(pid, &st, 0);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "  the reader got every byte in order");
	}

	/* RLIMIT_FSIZE: the first write is cut short at the limit, the
	 * next fails with EFBIG; the loop must go on after the short one
	 * and report the failure. In a child: the limit would also cut
	 * this test's output when it goes to a file. */
	ok(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0,
	    "file emptied");
	pid = fork();
	if (pid == 0) {
		struct rlimit lim = { 100, 100 };
		int rc;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
			_exit(9);
		errno = 0;
		rc = io_write_all(fd, big, 200);
		if (rc != -1)
			_exit(1);
		if (errno != EFBIG)
			_exit(2);
		_exit(lseek(fd, 0, SEEK_END) == 100 ? 0 : 3);
	}
	{
		int st = -1;

		waitpid(pid, &st, 0);
		is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0,
		    "io_write_all past RLIMIT_FSIZE: -1 with EFBIG after "
		    "writing the 100 bytes that fit (child exit 0)");
	}
	close(fd);

	errno = 0;
	is_int(io_write_all(fd, "x", 1), -1, "io_write_all: a closed fd");
	is_int(errno, EBADF, "  EBADF");

	signal(SIGPIPE, SIG_IGN);
	ok(pipe(p) == 0, "a pipe without reader");
	close(p[0]);
	errno = 0;
	is_int(io_write_all(p[1], "x", 1), -1, "io_write_all: no reader");
	is_int(errno, EPIPE, "  EPIPE");
	close(p[1]);
	return done_testing();
}
