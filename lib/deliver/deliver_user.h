/*
 * deliver_user: Maildir delivery as a system user ("~/Maildir").
 *
 * The caller (root) looks the user up, expands the path against pw_dir with
 * deliver_path_expand, and calls deliver_user_put. It forks; the child
 * takes the user's supplementary groups (initgroups), gid and uid, checks
 * that they stuck and that root cannot be regained, marks itself
 * non-dumpable (it still holds the parent's fds), then runs
 * deliver_maildir_put and reports the result, errno and file name to the
 * parent over a pipe. So the files are the user's own, and permission
 * checks and quotas are the kernel's, applied to that user.
 *
 * Refusals: uid 0 gives DELIVER_E_ROOT without forking (mail for root
 * belongs to an alias). A caller that is not root can deliver only as its
 * own uid (useful for `make run` and tests); any other uid fails with
 * DELIVER_E_TEMP and errno EPERM.
 *
 * The parent blocks until the child exits; the child only touches the
 * local file system. If the child dies without a report the result is
 * DELIVER_E_TEMP with errno EIO. msg->fd is shared with the child, which
 * reads it with pread, so its offset is untouched.
 */
#ifndef PM_DELIVER_USER_H
#define PM_DELIVER_USER_H

#include <stddef.h>
#include <pwd.h>

#include "deliver/deliver_maildir.h"

/*
 * Delivers msg into the Maildir at path as user pw. name/namesize as for
 * deliver_maildir_put. dm->count advances so the next child's names
 * differ even if a pid is reused. Returns an enum deliver_result.
 */
int deliver_user_put(struct deliver_maildir *dm, const struct passwd *pw,
    const char *path, const struct deliver_msg *msg, char *name,
    size_t namesize);

#endif
