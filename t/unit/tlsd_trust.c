/* tlsd_trust: which CDB a setgid postmaster-tlsd opens (run as root, to
 * make files that are not root's). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "tlsd/tlsd_trust.h"

#define NOBODY 65534

static char dir[] = "/tmp/pm-unit-trust.XXXXXX";

static const char *
at(const char *name)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

static void
make(const char *name, mode_t mode, uid_t uid)
{
	int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, "x", 1) != 1 || fchmod(fd, mode) < 0 ||
	    fchown(fd, uid, (gid_t)-1) < 0 || close(fd) < 0)
		diag("unable to make %s", name);
}

/* tlsd_trust_open's answer: "ok" or its reason. */
static const char *
trust(const char *path)
{
	static char why[1024];
	int fd = tlsd_trust_open(path, why, sizeof why);

	if (fd < 0)
		return why;
	close(fd);
	return "ok";
}

/* name (in dir) is refused for why. */
static void
refused(const char *name, const char *why, const char *test)
{
	char want[1024];

	snprintf(want, sizeof want,
	    "refusing %s: %s (a setgid postmaster-tlsd reads only a "
	    "configuration root alone can change)",
	    at(name), why);
	is_str(trust(at(name)), want, test);
}

int
main(void)
{
	char want[1024], why[512], cwd[4096];

	if (geteuid() != 0) {
		skip(1, "needs root (files owned by others)");
		return done_testing();
	}
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) < 0 ||
	    getcwd(cwd, sizeof cwd) == NULL)
		return 1;
	make("root.cdb", 0644, 0);
	make("nobody.cdb", 0644, NOBODY);
	make("groupw.cdb", 0664, 0);
	make("otherw.cdb", 0646, 0);
	if (symlink(at("root.cdb"), at("link.cdb")) < 0 ||
	    mkdir(at("sub"), 0755) < 0 || mkdir(at("nobodys"), 0755) < 0 ||
	    chown(at("nobodys"), NOBODY, (gid_t)-1) < 0 ||
	    mkdir(at("groupw"), 0755) < 0 || chmod(at("groupw"), 0775) < 0)
		diag("unable to make the directories");
	make("nobodys/root.cdb", 0644, 0);
	make("groupw/root.cdb", 0644, 0);

	is_str(trust(at("root.cdb")), "ok",
	    "root's 0644 file, root's 0755 dir");
	refused("nobody.cdb", "it is not owned by root",
	    "another user's file: refused");
	refused("groupw.cdb", "it is writable by its group or others",
	    "group-writable: refused");
	refused("otherw.cdb", "it is writable by its group or others",
	    "world-writable: refused");
	refused("link.cdb", "it is a symbolic link",
	    "a symbolic link (even to root's file): refused");
	refused("sub", "it is not a regular file", "a directory: refused");
	snprintf(why, sizeof why, "its directory %s is not owned by root",
	    at("nobodys"));
	refused("nobodys/root.cdb", why,
	    "root's file in another user's directory: refused");
	snprintf(why, sizeof why,
	    "its directory %s is writable by its group or others",
	    at("groupw"));
	refused("groupw/root.cdb", why,
	    "in a group-writable directory: refused");
	snprintf(want, sizeof want,
	    "unable to open %s: No such file or directory", at("none.cdb"));
	is_str(trust(at("none.cdb")), want, "a missing file: errno's text");
	if (chdir(dir) == 0) {
		is_str(trust("root.cdb"), "ok", "a name without '/': in .");
		is_str(trust("./root.cdb"), "ok", "./name");
		if (chdir(cwd) < 0)
			diag("unable to go back to %s", cwd);
	}
	is_str(trust("/"), "unable to open /: No such file or directory",
	    "\"/\" names no file in /");

	unlink(at("groupw/root.cdb"));
	unlink(at("nobodys/root.cdb"));
	rmdir(at("groupw"));
	rmdir(at("nobodys"));
	rmdir(at("sub"));
	unlink(at("link.cdb"));
	unlink(at("otherw.cdb"));
	unlink(at("groupw.cdb"));
	unlink(at("nobody.cdb"));
	unlink(at("root.cdb"));
	rmdir(dir);
	return done_testing();
}
