#define _DEFAULT_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "base/priv.h"

int
priv_drop(const char *user, const char *group)
{
	struct passwd *pw;
	struct group *gr;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL || (gr = getgrnam(group)) == NULL) {
		if (errno == 0)
			errno = ENOENT;
		return -1;
	}
	if (setgroups(1, &gr->gr_gid) < 0 || setgid(gr->gr_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return -1;
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}
