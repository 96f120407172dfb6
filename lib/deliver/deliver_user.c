/* initgroups(3), pipe2(2) and prctl(2) are not in POSIX. */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "base/io.h"
#include "deliver/deliver_maildir.h"
#include "deliver/deliver_user.h"

/* Child to parent, one write: well under PIPE_BUF, so it is atomic. */
struct report {
	int res;
	int err;
	char name[DELIVER_MAILDIR_NAMEMAX];
};

/* Takes on pw's identity for good, or fails; never half-way. */
static int
become(const struct passwd *pw)
{
	uid_t uid;
	gid_t gid;

	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (geteuid() != 0) {
		/* Unprivileged: only "deliver as myself" is possible. */
		if (getuid() == uid && geteuid() == uid)
			return 0;
		errno = EPERM;
		return -1;
	}
	/* Groups first: after setuid we may no longer change them. */
	if (pw->pw_name != NULL) {
		if (initgroups(pw->pw_name, gid) < 0)
			return -1;
	} else if (setgroups(1, &gid) < 0) {
		return -1;
	}
	if (setgid(gid) < 0 || setuid(uid) < 0)
		return -1;
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid) {
		errno = EPERM;
		return -1;
	}
	/* Had any saved id stayed 0, this would succeed. */
	if (setuid(0) == 0 || seteuid(0) == 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static void
child(struct deliver_maildir *dm, const struct passwd *pw, const char *path,
    const struct deliver_msg *msg, int wfd)
{
	struct report rep;

	memset(&rep, 0, sizeof(rep));
	if (become(pw) < 0) {
		rep.res = DELIVER_E_TEMP;
		rep.err = errno;
	} else {
#ifdef __linux__
		/*
		 * The kernel already drops dumpability on the uid change unless
		 * suid_dumpable says otherwise; the user must not ptrace a
		 * process holding the daemon's sockets and other mail.
		 */
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
		rep.res = deliver_maildir_put(dm, path, msg, rep.name,
		    sizeof(rep.name));
		rep.err = rep.res == DELIVER_OK ? 0 : errno;
	}
	/* _exit: the parent's stdio buffers and atexit work are not ours. */
	_exit(io_write_all(wfd, &rep, sizeof(rep)) == 0 ? 0 : 1);
}

int
deliver_user_put(struct deliver_maildir *dm, const struct passwd *pw,
    const char *path, const struct deliver_msg *msg, char *name,
    size_t namesize)
{
	struct report rep;
	size_t got;
	ssize_t r;
	pid_t pid;
	int fds[2], status;

	if (name != NULL && namesize > 0)
		name[0] = '\0';
	if (dm == NULL || pw == NULL || path == NULL || msg == NULL) {
		errno = EINVAL;
		return DELIVER_E_TEMP;
	}
	/*
	 * Root's mail goes to an alias; root-owned files in a Maildir that
	 * a user may later own are the classic local-delivery hole.
	 */
	if (pw->pw_uid == 0) {
		errno = EPERM;
		return DELIVER_E_ROOT;
	}
	if (pipe2(fds, O_CLOEXEC) < 0)
		return deliver_maildir_errno_result(errno);
	pid = fork();
	if (pid < 0) {
		status = errno;
		(void)close(fds[0]);
		(void)close(fds[1]);
		errno = status;
		return DELIVER_E_TEMP;
	}
	if (pid == 0) {
		(void)close(fds[0]);
		child(dm, pw, path, msg, fds[1]);
	}
	(void)close(fds[1]);
	/* The child used count + 1 in its own copy; keep ours in step. */
	dm->count++;
	got = 0;
	while (got < sizeof(rep)) {
		r = read(fds[0], (char *)&rep + got, sizeof(rep) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	(void)close(fds[0]);
	/* ECHILD (SIGCHLD ignored by the caller) is fine: the pipe spoke. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != sizeof(rep) || rep.res > DELIVER_OK ||
	    rep.res < DELIVER_E_LOOP) {
		errno = EIO;
		return DELIVER_E_TEMP;
	}
	rep.name[sizeof(rep.name) - 1] = '\0';
	if (name != NULL && namesize > strlen(rep.name))
		memcpy(name, rep.name, strlen(rep.name) + 1);
	errno = rep.err;
	return rep.res;
}
