/*
 * client_deliver: deliver one spooled message to n recipients at one
 * destination over SMTP (RFC 5321) or LMTP (RFC 2033). Blocking, with a
 * deadline on each whole reply and each whole send, and a cap on reply
 * size (client_conn.h); called by postmaster-queue.
 *
 * Destination: an already connected fd, an absolute unix socket path, an
 * IP literal, a host name (A/AAAA), or with use_mx a mail domain (MX per
 * RFC 5321 5.1, implicit MX, null MX RFC 7505 = permanent). Hosts are tried
 * in preference order and each host's addresses in turn; the next one is
 * tried on a failed connect, a non-220 greeting, a failed EHLO/HELO/LHLO,
 * 421, or a dropped connection -- but only while no recipient has an
 * outcome, so a message is never sent twice through two hosts.
 *
 * Session: EHLO, falling back to HELO when EHLO is refused (RFC 5321
 * 3.2); LHLO for LMTP. PIPELINING (RFC 2920): MAIL, every RCPT and DATA in
 * one write. SIZE= declared (RFC 1870); a message over the server's SIZE
 * fails 552 5.3.4 without being sent. BODY=8BITMIME (RFC 6152) and
 * BODY=BINARYMIME with BDAT (RFC 3030) when both sides have them; BDAT is
 * used whenever CHUNKING is offered. Missing 8BITMIME/BINARYMIME:
 * the message is downgraded to 7 bit (see client_deliver.c). What goes
 * out is canonical CRLF text with lines of at most 998 octets, SIZE=
 * counting it (client_wire.h; a BINARYMIME body excepted). SMTPUTF8 only
 * when offered, else 553 5.6.7 (RFC 6531 3.2). At most max_rcpt RCPTs per
 * transaction; the rest go in further transactions on the same connection.
 * LMTP: one reply per accepted recipient after the data (RFC 2033 4.2).
 * Timeouts per RFC 5321 4.5.3.2, each scaled by timeout_scale_ms.
 *
 * Outcomes: a 2xx means delivered (CLIENT_OK), 4xx CLIENT_TEMP, 5xx
 * CLIENT_PERM, per recipient. 421 at any point and every local failure
 * (DNS, connect, timeout, lost connection) are temporary for every
 * recipient still without an outcome. reply[] holds the remote reply or
 * our own diagnostic in the same "NNN X.Y.Z text" shape for the DSN.
 *
 * The library never prints; errors travel in r[] and res.
 */
#ifndef PM_CLIENT_DELIVER_H
#define PM_CLIENT_DELIVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum client_proto { CLIENT_SMTP, CLIENT_LMTP };
enum client_status { CLIENT_OK, CLIENT_TEMP, CLIENT_PERM };

struct client_dest {
	enum client_proto proto;
	/* host name, IPv4/IPv6 literal (no brackets), or absolute unix
	 * socket path; ignored when fd >= 0 (then used only as the name
	 * in relay, if set) */
	const char *host;
	unsigned port;		/* 0 = 25 for SMTP, 24 for LMTP */
	/* 1: host is a mail domain: MX lookup (RFC 5321 5.1), implicit
	 * MX, null MX (RFC 7505) = CLIENT_PERM; 0: A/AAAA of host only */
	int use_mx;
	/* >= 0: an already connected stream (e.g. a socketpair to
	 * postmaster-lmtpd); QUIT is sent at the end but the client never
	 * closes it */
	int fd;
	const char *helo;	/* our name for EHLO/LHLO */
	const char *dns_server;	/* "ip" or "ip:port" or NULL = resolv.conf */
	/* 0 = RFC 5321 4.5.3.2 timeouts; else each minute of those
	 * timeouts lasts this many milliseconds (tests shrink them) */
	unsigned timeout_scale_ms;
	/* additions */
	unsigned max_rcpt;	/* RCPTs per transaction; 0 = 100 */
	/* With fd < 0: a fresh connection is this call's stream (e.g. a
	 * program started on a socketpair) instead of a connect to host,
	 * which then only names it; the client owns and closes the fd.
	 * Cached like any destination, keyed by host. -1 with errno:
	 * the delivery is deferred. */
	int (*open_fd)(void *arg);
	void *open_arg;
	/*
	 * STARTTLS (RFC 3207), an enum client_tls_level (client_tls.h):
	 * 0 none; may: when offered, a failed handshake going in the
	 * clear on a new connection (and so for an hour, client_tls_memo.h),
	 * never on unix sockets or fds; encrypt, verify: required, else
	 * the next host, and the recipients deferred 4.7.x.
	 */
	int tls;
	const char *tls_name;	/* verify and SNI; NULL: the host dialled */
	const char *tls_ca_file;	/* verify's anchors; NULL: system */
	/* AUTH PLAIN or LOGIN (RFC 4954) as this user, only inside TLS;
	 * the password is the first line of auth_password_file, read at
	 * each AUTH. A 5xx to AUTH fails the recipients, a 4xx defers
	 * them. NULL or "": no AUTH. */
	const char *auth_user;
	const char *auth_password_file;
};

struct client_msg {
	/* the message as spooled: header+body, CRLF lines, NOT
	 * dot-stuffed; read with pread, the offset of fd is not used */
	int fd;
	off_t off;
	uint64_t len;
	const char *sender;	/* "" for the null sender */
	int body;		/* 0 7BIT, 1 8BITMIME, 2 BINARYMIME */
	int smtputf8;
	int wire;	/* canonical text, client_wire changes nothing */
};

struct client_rcpt {
	const char *addr;		/* in */
	enum client_status status;	/* out */
	char reply[512];		/* out */
};

#define CLIENT_RESULT_WHY_MAX 512

struct client_result {
	char relay[300];	/* "host[ip]:port" actually used */
	char reply[512];	/* last reply when the transaction failed */
	/* messages the connection has carried, this one included: 1 on a
	 * fresh connection, more on one reused from the cache (Postfix's
	 * conn_use) */
	unsigned conn_use;
	/* The connection's TLS (client_tls_describe), "" in the clear;
	 * verified: the peer passed CLIENT_TLS_VERIFY. */
	char tls[160];
	int tls_verified;
	/* With tls = may: the TLS failure this delivery went around by
	 * going in the clear ("" none), for the log. */
	char tls_fallback[CLIENT_RESULT_WHY_MAX];
};

struct client_cache;

/*
 * Delivers one message to n recipients at one destination. Per-recipient
 * outcomes in r[]; returns 0 if the transaction happened (some may still
 * have failed), -1 when no recipient was attempted (all r[] set TEMP or
 * PERM with a reason).
 */
int client_deliver(const struct client_dest *d, const struct client_msg *m,
    struct client_rcpt *r, size_t n, struct client_result *res);

/*
 * The same, reusing a connection cached for this destination (checked
 * with RSET first) and leaving the connection in the cache afterwards
 * instead of QUIT. cache may be NULL. See client_cache.h.
 */
int client_deliver_cached(struct client_cache *cache,
    const struct client_dest *d, const struct client_msg *m,
    struct client_rcpt *r, size_t n, struct client_result *res);

const char *client_status_name(enum client_status s);

#endif
