/*
 * io: the blocking write of a whole buffer to a file, pipe or socket,
 * across EINTR and short writes. For writes without a deadline only (spool
 * files, Maildir files, a child's report); the network writes that must
 * honour one use net_write_until (lib/net/net_drive.h).
 */
#ifndef PM_IO_H
#define PM_IO_H

#include <stddef.h>

/* 0 when all of p[0..n) is written; -1 with errno (EIO: write returned 0). */
int io_write_all(int fd, const void *p, size_t n);

#endif
