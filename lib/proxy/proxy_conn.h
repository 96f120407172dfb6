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
 * The message goes out as DATA, from the uncommitted spool file after the
 * end of data (full) or as it arrives (ultra): canonical CRLF lines of at
 * most 998 octets (client_wire), dot-stuffed, whatever the client used
 * (DATA or BDAT). LMTP: one reply per accepted recipient (RFC 2033 4.2).
 */
#ifndef PM_PROXY_CONN_H
#define PM_PROXY_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client/client_conn.h"
#include "client/client_reply.h"
#include "client/client_wire.h"
#include "proxy/proxy_dest.h"
#include "smtp/smtp_addr.h"

struct proxy_conn {
	struct client_conn c;
	int open;              /* greeted: EHLO/LHLO accepted */
	int early;             /* opening ahead of need (proxy_early.h) */
	char key[300];         /* proxy_dest key of the open connection */
	pid_t pid;             /* the postmaster-lmtpd we started, or -1 */
	unsigned timeout_ms;   /* every wait */
	const char *helo;      /* our name */
	const char *cdb;       /* for postmaster-lmtpd -C */
	const char *lmtpd;     /* its path; NULL: beside this program */
	unsigned transactions; /* MAILs sent on this connection */
	int streaming;         /* between 354 and the final dot */
	struct client_wire wire;
	struct client_dot dot;
	struct buf out; /* encoded, not yet written */
};

void proxy_conn_init(struct proxy_conn *p, const char *helo, const char *cdb,
    const char *lmtpd, unsigned timeout_ms);

/* Connects to d (each address in turn) and says EHLO or LHLO. An open
 * connection to the same key is kept. 0, or -1 lost. */
int proxy_conn_open(struct proxy_conn *p, const struct proxy_dest *d);

/* Extensions the target offered (CLIENT_EXT_*). */
unsigned proxy_conn_ext(const struct proxy_conn *p);

/* MAIL FROM and its parameters, and with rcpt RCPT TO in the same
 * write (the target offers PIPELINING); RCPT TO alone. 0 with each
 * reply from the target, or -1 lost. */
int proxy_conn_mail(struct proxy_conn *p, const char *sender,
    const struct smtp_params *par, const char *rcpt, struct client_reply *rm,
    struct client_reply *rr);
int proxy_conn_rcpt(struct proxy_conn *p, const char *addr,
    struct client_reply *r);
/* "MAIL FROM:<sender> params" CRLF appended to out: 0, or -1 (memory). */
int proxy_conn_mail_line(struct buf *out, const char *sender,
    const struct smtp_params *par);
/* Pipelined commands (RFC 2920) in one write, then each reply read in
 * turn with proxy_conn_read (DATA's with proxy_conn_data_reply). 0, or
 * -1 lost (closed). */
int proxy_conn_send(struct proxy_conn *p, const char *s, size_t n,
    const char *what);
int proxy_conn_read(struct proxy_conn *p, struct client_reply *r,
    const char *what);

/*
 * The data: DATA (0 with *r its reply; on 354 the connection streams),
 * the message in pieces as canonical dot-stuffed text (flush: write all
 * now, else in 64 KiB writes), the final dot and nreply replies (1 for
 * SMTP, one per accepted recipient for LMTP; *got counts those read).
 * Each returns 0, or -1 when the target is lost (closed). A reply to
 * DATA other than 354 or 4xx/5xx, or octets sent behind the 354, put
 * the target out of step (RFC 5321 4.1.1.4): lost too.
 */
int proxy_conn_data_begin(struct proxy_conn *p, struct client_reply *r);
int proxy_conn_data_reply(struct proxy_conn *p, struct client_reply *r);
int proxy_conn_data_write(struct proxy_conn *p, const char *s, size_t n,
    int flush);
/* The whole of fd[off .. off+len) (pread; the offset is not used). */
int proxy_conn_data_file(struct proxy_conn *p, int fd, uint64_t off,
    uint64_t len);
int proxy_conn_data_end(struct proxy_conn *p, struct client_reply *r,
    size_t nreply, size_t *got);

/* RSET: the transaction at the target ends. -1 (and closed) if lost. */
int proxy_conn_rset(struct proxy_conn *p);

/* QUIT (when quit and the connection works), close, reap lmtpd. */
void proxy_conn_close(struct proxy_conn *p, int quit);

#endif
