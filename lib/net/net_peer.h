/*
 * net_peer: the client's address for logs and the Received field: from the
 * socket itself (getpeername), and only when the connection is not a
 * socket (a pipe from inetd wrappers or tests) from the UCSPI
 * TCPREMOTEIP or systemd REMOTE_ADDR environment.
 */
#ifndef PM_NET_PEER_H
#define PM_NET_PEER_H

#include <stddef.h>

void net_peer_address(int fd, char *out, size_t cap);

/*
 * systemd socket activation (sd_listen_fds(3) protocol, done here so a
 * per-connection program need not load libsystemd): the number of fds
 * passed from 3 on when LISTEN_PID is ours, else 0. The variables are
 * unset so children do not inherit them, and the fds get FD_CLOEXEC.
 */
int net_listen_fds(void);

#endif
