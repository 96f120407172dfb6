/*
 * inject_drop: the maildrop, where postmaster-inject leaves messages for
 * the queue runner's pickup (inject_pickup.h). See doc/THREATS.md.
 *
 *   SPOOL/maildrop/   mode 1730, owner the postmaster user, group postdrop
 *     t.ID            being written by postmaster-inject (setgid postdrop)
 *     m.ID            complete: envelope (spool_env, instance "inject",
 *                     targets "inject:") then the CRLF message; mode 0444
 *                     whatever the umask (fchmod), owned by the
 *                     submitting user
 *     c.QID           claimed by pickup for queue id QID (crash recovery)
 *
 * The group may create and rename files but not list the directory; the
 * sticky bit keeps users from removing each other's files. ID is a spool
 * id (spool_id.h), so names are unguessable and sort by time.
 *
 * inject_drop_open() creates t.ID with O_EXCL|O_NOFOLLOW; write appends;
 * commit fsyncs the file, renames it to m.ID and syncfs()es the file
 * system (the group cannot open the directory to fsync it: no read bit);
 * abort unlinks t.ID. All return 0 or -1 with errno (ENOSPC/EDQUOT: full).
 */
#ifndef PM_INJECT_DROP_H
#define PM_INJECT_DROP_H

#include <stddef.h>

#include "spool/spool_id.h"

#define INJECT_MAILDROP "maildrop"

struct inject_drop {
	int dir;		/* the maildrop directory (O_PATH is enough) */
	int fd;
	char id[SPOOL_ID_SIZE];
	char tmp[SPOOL_ID_SIZE + 2];
	char name[SPOOL_ID_SIZE + 2];
};

int inject_drop_open(struct inject_drop *dr, int dirfd);
int inject_drop_write(struct inject_drop *dr, const void *p, size_t n);
int inject_drop_commit(struct inject_drop *dr);
void inject_drop_abort(struct inject_drop *dr);

#endif
