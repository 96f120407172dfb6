/*
 * tlsd_trust: the configuration a setgid postmaster-tlsd may read.
 *
 * Installed setgid to a group that alone may read the TLS keys, tlsd reads
 * those keys for whoever can run it; the CDB says which files those are.
 * A CDB its caller could have written would let any local user read the
 * group's files through it, so a setgid tlsd opens only a CDB that root
 * alone can have written: a regular file (not a symbolic link) owned by
 * root and writable by no group or other, in a directory likewise owned by
 * root and writable by no group or other. The checks are fstat(2)s of the
 * descriptors then read (no window between check and use). Being root's,
 * postmaster-cfcompile's output in /etc passes; a test's CDB in a 0755
 * directory root made passes too; anything smtpd's user made does not.
 */
#ifndef PM_TLSD_TRUST_H
#define PM_TLSD_TRUST_H

#include <stddef.h>

/* A read-only descriptor of path, or -1 and why (one line, path named). */
int tlsd_trust_open(const char *path, char *why, size_t cap);

#endif
