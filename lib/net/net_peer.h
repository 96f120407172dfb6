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

#endif
