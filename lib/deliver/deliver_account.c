#include <errno.h>
#include <string.h>

#include "deliver/deliver_account.h"

/* getpwnam_r: 0 and *pw set, 0 and NULL for no entry, -1 on failure. */
static int
lookup(const char *name, struct passwd *pwbuf, char *sbuf, size_t slen,
    struct passwd **pw)
{
	int e;

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
	char name[256];
	size_t i;

	*pw = NULL;
	if (len == 0 || len >= sizeof name || memchr(local, '\0', len))
		return DELIVER_ACCOUNT_UNKNOWN;
	memcpy(name, local, len);
	name[len] = '\0';
	if (lookup(name, pwbuf, sbuf, slen, pw) < 0)
		return DELIVER_ACCOUNT_ERROR;
	if (*pw == NULL) {
		for (i = 0; i < len; i++)
			if (name[i] >= 'A' && name[i] <= 'Z')
				name[i] = (char)(name[i] - 'A' + 'a');
		if (lookup(name, pwbuf, sbuf, slen, pw) < 0)
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
