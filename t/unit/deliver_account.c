/*
 * deliver_account: the uid rules over a private passwd(5) file, and when
 * /etc/passwd answers for every user (nsswitch.conf's passwd sources).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver/deliver_account.h"
#include "tap.h"

static char dir[] = "/tmp/pm-account.XXXXXX";

static const char *
put(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) < 0 ||
	    fclose(f) != 0)
		abort();
	return path;
}

static enum deliver_account
find(const char *file, const char *local)
{
	struct passwd pwbuf, *pw;
	char sbuf[1024];

	return deliver_account_find_in(file, local, strlen(local), 1000,
	    &pwbuf, sbuf, sizeof sbuf, &pw);
}

int
main(void)
{
	const char *pwf, *ns;
	char path[256];

	if (mkdtemp(dir) == NULL)
		return 1;
	pwf = put("passwd",
	    "root:x:0:0:root:/root:/bin/sh\n"
	    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
	    "joe:x:1001:1001:Joe:/home/joe:/bin/sh\n"
	    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
	is_int(find(pwf, "joe"), DELIVER_ACCOUNT_OK, "a person");
	is_int(find(pwf, "Joe"), DELIVER_ACCOUNT_OK, "found in lower case");
	is_int(find(pwf, "daemon"), DELIVER_ACCOUNT_SYSTEM, "uid 1: system");
	is_int(find(pwf, "nobody"), DELIVER_ACCOUNT_SYSTEM,
	    "the overflow uid: system");
	is_int(find(pwf, "root"), DELIVER_ACCOUNT_ROOT, "root");
	is_int(find(pwf, "jo"), DELIVER_ACCOUNT_UNKNOWN, "a prefix is no name");
	is_int(find(pwf, "ann"), DELIVER_ACCOUNT_UNKNOWN, "unknown");
	snprintf(path, sizeof path, "%s/none", dir);
	is_int(find(path, "joe"), DELIVER_ACCOUNT_ERROR,
	    "an unreadable passwd file is a temporary error");

	ns = put("ns1", "# comment\npasswd:         files systemd\n"
			"group: files ldap\n");
	is_int(deliver_account_files_only(ns), 1, "files systemd: only files");
	ns = put("ns2", "passwd: files [NOTFOUND=return] systemd # x ldap\n");
	is_int(deliver_account_files_only(ns), 1,
	    "actions and comments are no sources");
	ns = put("ns3", "passwd: files sss\n");
	is_int(deliver_account_files_only(ns), 0, "sss: not only files");
	ns = put("ns4", "passwd:compat\n");
	is_int(deliver_account_files_only(ns), 0, "compat (NIS): not only files");
	ns = put("ns5", "hosts: files dns\n");
	is_int(deliver_account_files_only(ns), 1, "no passwd line: files");
	is_int(deliver_account_files_only(path), 1,
	    "no nsswitch.conf: glibc's default, files");

	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
