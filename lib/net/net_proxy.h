/*
 * net_proxy: the HAProxy PROXY protocol header (haproxy doc/proxy-protocol.txt,
 * versions 1 and 2) that a load balancer sends before any byte of the
 * client's, so that smtpd learns the client's address. Pure: bytes in, a
 * result out; no I/O, no allocation.
 *
 * net_proxy_parse() looks at the first n octets of a connection. It
 * returns NET_PROXY_OK when they start with a whole valid header (h->len
 * octets, and nothing after them is looked at), NET_PROXY_MORE when they
 * are a valid beginning of one, or a NET_PROXY_E_* code. With MORE, h->len
 * is a lower bound on the header's whole length that is always greater
 * than n: a reader that reads exactly h->len - n octets at a time never
 * consumes a byte past the header, so the SMTP client's first bytes stay
 * in the socket for the session.
 *
 * Limits: a version 1 line is at most NET_PROXY_V1_MAX octets with its
 * CRLF (spec 2.1); a version 2 header at most NET_PROXY_V2_MAX octets in
 * all (the spec allows 16 + 65535; the largest address block is 216
 * octets, and the rest is TLVs that we skip).
 */
#ifndef PM_NET_PROXY_H
#define PM_NET_PROXY_H

#include <stddef.h>
#include <stdint.h>

#define NET_PROXY_V1_MAX 107
#define NET_PROXY_V2_MAX 1024
#define NET_PROXY_V2_FIXED 16

enum net_proxy_status {
	NET_PROXY_OK = 0,
	NET_PROXY_MORE = 1,
	NET_PROXY_E_SIGNATURE = -1,  /* neither "PROXY " nor the v2 signature */
	NET_PROXY_E_V1_TOOLONG = -2, /* no CRLF within NET_PROXY_V1_MAX */
	NET_PROXY_E_V1_EOL = -3,     /* a CR or LF that is not CRLF */
	NET_PROXY_E_V1_SYNTAX = -4,  /* field count, spaces, characters */
	NET_PROXY_E_V1_FAMILY = -5,  /* not TCP4, TCP6 or UNKNOWN */
	NET_PROXY_E_V1_ADDRESS = -6, /* not a canonical address of the family */
	NET_PROXY_E_V1_PORT = -7,    /* not 0..65535 without leading zeros */
	NET_PROXY_E_V2_VERSION = -8, /* version nibble other than 2 */
	NET_PROXY_E_V2_COMMAND = -9, /* command other than LOCAL or PROXY */
	NET_PROXY_E_V2_FAMILY = -10, /* unassigned family or transport */
	NET_PROXY_E_V2_TOOLONG = -11, /* over NET_PROXY_V2_MAX */
	NET_PROXY_E_V2_SHORT = -12,  /* address block shorter than its family */
	NET_PROXY_E_V2_TLV = -13,    /* a TLV runs past the header */
	/* net_proxy_read() only */
	NET_PROXY_R_TIMEOUT = -20,
	NET_PROXY_R_EOF = -21,
	NET_PROXY_R_IO = -22,
};

struct net_proxy_hdr {
	size_t len;	/* octets of the header (with MORE: a lower bound) */
	int version;	/* 1 or 2; 0 while unknown */
	/* AF_INET or AF_INET6 with the addresses below; 0 when the header
	 * carries none the receiver may use (v2 LOCAL, the health checks;
	 * v1 UNKNOWN; v2 UNSPEC, UNIX or DGRAM): use the real peer then. */
	int family;
	int local;	/* v2 LOCAL command */
	unsigned char src[16], dst[16];	/* network order; 4 used for IPv4 */
	uint16_t src_port, dst_port;
};

int net_proxy_parse(const void *buf, size_t n, struct net_proxy_hdr *h);

/* A short reason for a status, for the log line. */
const char *net_proxy_strerror(int status);

/* The source address in text (inet_ntop) into out; -1 when h has none. */
int net_proxy_source(const struct net_proxy_hdr *h, char *out, size_t cap);

#endif
