/*
 * proxy_conn: postmaster-smtpd's side of one proxied connection -- the
 * SMTP or LMTP client that replays a transaction to its target
 * (postmaster-smtpd(8) FULL PIPELINING). Built on lib/client: client_conn
 * for connects, whole replies and writes with deadlines, client_wire and
 * client_dot for what goes out.
 *
 * Every wait (connect, each reply, each write) lasts at most timeout_ms,
 * the instance's proxy-timeout. A failed connect, a non-220 greeting, a
 * refused EHLO/LHLO, a timeout, a lost connection or a 421 is "lost"
 * (-1, c.err says why): not the target's word on the message, so smtpd
 * keeps the message itself. Any other reply is the target's answer and
 * is handed back as it is.
 *
 * The message goes out as DATA from the uncommitted spool file (pread,
 * the file offset is not used): canonical CRLF lines of at most 998
 * octets (client_wire), dot-stuffed, whatever the client used (DATA or
 * BDAT). LMTP: one reply per accepted recipient (RFC 2033 4.2).
 */
#ifndef PM_PROXY_CONN_H
#define PM_PROXY_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client/client_conn.h"
#include "proxy/proxy_dest.h"
#include "smtp/smtp_addr.h"

struct proxy_conn {
	struct client_conn c;
	int open;              /* greeted: EHLO/LHLO accepted */
	char key[300];         /* proxy_dest key of the open connection */
	pid_t pid;             /* the postmaster-lmtpd we started, or -1 */
	unsigned timeout_ms;   /* every wait */
	const char *helo;      /* our name */
	const char *cdb;       /* for postmaster-lmtpd -C */
	const char *lmtpd;     /* its path */
	unsigned transactions; /* MAILs sent on this connection */
};

void proxy_conn_init(struct proxy_conn *p, const char *helo, const char *cdb,
    const char *lmtpd, unsigned timeout_ms);

/* Connects to d (each address in turn) and says EHLO or LHLO. An open
 * connection to the same key is kept. 0, or -1 lost. */
int proxy_conn_open(struct proxy_conn *p, const struct proxy_dest *d);

/* Extensions the target offered (CLIENT_EXT_*). */
unsigned proxy_conn_ext(const struct proxy_conn *p);

/* MAIL FROM and its parameters; RCPT TO. 0 with *r the target's reply,
 * or -1 lost. */
int proxy_conn_mail(struct proxy_conn *p, const char *sender,
    const struct smtp_params *par, struct client_reply *r);
int proxy_conn_rcpt(struct proxy_conn *p, const char *addr,
    struct client_reply *r);

/*
 * DATA, the message at fd[off .. off+len), the final dot, then nreply
 * replies (1 for SMTP, one per accepted recipient for LMTP) into r[].
 * *got counts the final replies read. 0 when all came (a refused DATA
 * fills every r[] with its reply), -1 lost after *got of them.
 */
int proxy_conn_data(struct proxy_conn *p, int fd, uint64_t off, uint64_t len,
    struct client_reply *r, size_t nreply, size_t *got);

/* RSET: the transaction at the target ends. -1 (and closed) if lost. */
int proxy_conn_rset(struct proxy_conn *p);

/* QUIT (when quit and the connection works), close, reap lmtpd. */
void proxy_conn_close(struct proxy_conn *p, int quit);

#endif
