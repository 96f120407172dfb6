/*
 * sibling: the path of another Postmaster program installed beside the
 * running one (/proc/self/exe's directory), so a build tree, a package
 * and `make install` all find their own postmaster-lmtpd, -tlsd or -spf
 * without a configured path.
 */
#ifndef PM_SIBLING_H
#define PM_SIBLING_H

#include <stddef.h>

/* out = "DIR/name": 0, or -1 (errno; ENAMETOOLONG when out is short). */
int sibling_path(const char *name, char *out, size_t cap);

#endif
