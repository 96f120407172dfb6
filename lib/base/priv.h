/*
 * priv: drop root for good (setgroups, setgid, setuid, then prove that
 * setuid(0) fails). -1 with errno ENOENT when the user or group does not
 * exist, or the failing call's errno.
 */
#ifndef PM_PRIV_H
#define PM_PRIV_H

int priv_drop(const char *user, const char *group);

#endif
