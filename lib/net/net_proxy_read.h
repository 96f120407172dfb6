/*
 * net_proxy_read: reads the PROXY protocol header (net_proxy.h) off a
 * connection before the greeting, and not one byte more: it reads only
 * as many octets as the header is known to still need, so whatever the
 * client sent after it stays in the socket for the SMTP session (where a
 * client that spoke early is caught as pregreeting).
 *
 * Waits at most secs seconds in all (monotonic clock; 0 means 300).
 * Returns NET_PROXY_OK with *h filled, a NET_PROXY_E_* code for a
 * malformed header, or NET_PROXY_R_TIMEOUT, NET_PROXY_R_EOF or
 * NET_PROXY_R_IO; after a failure h->len is the number of octets read.
 */
#ifndef PM_NET_PROXY_READ_H
#define PM_NET_PROXY_READ_H

#include <stdint.h>

#include "net/net_proxy.h"

int net_proxy_read(int fd, uint64_t secs, struct net_proxy_hdr *h);

#endif
