#define _DEFAULT_SOURCE /* fgetpwent_r */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "deliver/deliver_account.h"

/* The entry for name in a passwd(5) file: 0 and *pw (NULL: none), -1. */
static int
lookup_file(const char *file, const char *name, struct passwd *pwbuf,
    char *sbuf, size_t slen, struct passwd **pw)
{
	FILE *f;
	int e = 0;

	*pw = NULL;
	if ((f = fopen(file, "re")) == NULL)
		return -1;
	while ((e = fgetpwent_r(f, pwbuf, sbuf, slen, pw)) == 0 &&
	    strcmp((*pw)->pw_name, name) != 0)
		;
	fclose(f);
	if (e == 0)
		return 0;
	*pw = NULL;
	return e == ENOENT ? 0 : -1;
}

/* getpwnam_r: 0 and *pw set, 0 and NULL for no entry, -1 on failure. */
static int
lookup(const char *file, const char *name, struct passwd *pwbuf,
    char *sbuf, size_t slen, struct passwd **pw)
{
	int e;

	if (file != NULL)
		return lookup_file(file, name, pwbuf, sbuf, slen, pw);
	*pw = NULL;
	e = getpwnam_r(name, pwbuf, sbuf, slen, pw);
	/* glibc and others report "no entry" as one of these (getpwnam(3)). */
	if (e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM)
		return 0;
	*pw = NULL;
	return -1;
}

enum deliver_account
deliver_account_find(const char *local, size_t len, uint64_t first_uid,
    struct passwd *pwbuf, char *sbuf, size_t slen, struct passwd **pw)
{
	return deliver_account_find_in(NULL, local, len, first_uid, pwbuf,
	    sbuf, slen, pw);
}

enum deliver_account
deliver_account_find_in(const char *file, const char *local, size_t len,
    uint64_t first_uid, struct passwd *pwbuf, char *sbuf, size_t slen,
    struct passwd **pw)
{
	char name[256];

	*pw = NULL;
	if (len == 0 || len >= sizeof name || memchr(local, '\0', len))
		return DELIVER_ACCOUNT_UNKNOWN;
	memcpy(name, local, len);
	name[len] = '\0';
	if (lookup(file, name, pwbuf, sbuf, slen, pw) < 0)
		return DELIVER_ACCOUNT_ERROR;
	if (*pw == NULL) {
		str_lower(name, len);
		if (lookup(file, name, pwbuf, sbuf, slen, pw) < 0)
			return DELIVER_ACCOUNT_ERROR;
		if (*pw == NULL)
			return DELIVER_ACCOUNT_UNKNOWN;
	}
	if ((*pw)->pw_uid == 0)
		return DELIVER_ACCOUNT_ROOT;
	if ((uint64_t)(*pw)->pw_uid < first_uid ||
	    (*pw)->pw_uid == DELIVER_ACCOUNT_OVERFLOW_UID)
		return DELIVER_ACCOUNT_SYSTEM;
	return DELIVER_ACCOUNT_OK;
}

/* One source name of an nsswitch.conf line: is it one whose users are
 * all in /etc/passwd? systemd adds only root, nobody and DynamicUser
 * service accounts, none of which gets mail. */
static int
file_source(const char *w, size_t n)
{
	return (n == 5 && memcmp(w, "files", 5) == 0) ||
	    (n == 7 && memcmp(w, "systemd", 7) == 0);
}

int
deliver_account_files_only(const char *nsswitch)
{
	char line[1024], *p, *w;
	FILE *f;
	int found = 0, only = 1;
	size_t n;

	if ((f = fopen(nsswitch, "re")) == NULL)
		return errno == ENOENT; /* glibc's default is files */
	while (fgets(line, sizeof line, f) != NULL) {
		p = line + strspn(line, " \t");
		if (strncmp(p, "passwd:", 7) != 0)
			continue;
		found = 1;
		for (p += 7; *p != '\0' && *p != '#';) {
			p += strspn(p, " \t\r\n");
			if (*p == '\0' || *p == '#')
				break;
			w = p;
			n = strcspn(p, " \t\r\n#");
			p += n;
			/* [NOTFOUND=return] and the like qualify a source */
			if (w[0] != '[' && !file_source(w, n))
				only = 0;
		}
	}
	fclose(f);
	return found ? only : 1;
}
