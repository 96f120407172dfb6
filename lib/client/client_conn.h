/*
 * client_conn: one outbound SMTP/LMTP connection -- connect with a
 * deadline (TCP or unix socket, or adopt a connected fd), read each whole
 * reply within one deadline and at most CLIENT_REPLY_LINES_MAX lines /
 * CLIENT_REPLY_SIZE_MAX octets, write each whole send within one deadline.
 *
 * Timeouts are given in RFC 5321 4.5.3.2 seconds and scaled here: with
 * scale_ms != 0 a minute lasts scale_ms milliseconds (tests). Lines longer
 * than CLIENT_CONN_LINE_MAX are cut (the rest of the line is discarded),
 * so a hostile server cannot make us buffer without bound.
 *
 * Any I/O failure, malformed or oversized reply marks the connection
 * broken and fills err with a diagnostic naming what was being read or
 * sent (what: "greeting", "MAIL", "the message", ...); a broken
 * connection is never reused. Writes go through net_write_until():
 * MSG_NOSIGNAL so a peer that hangs up gives EPIPE, not a signal, and
 * MSG_DONTWAIT so the deadline holds without changing the flags of a
 * caller's fd (client_conn_adopt).
 */
#ifndef PM_CLIENT_CONN_H
#define PM_CLIENT_CONN_H

#include <stdint.h>

#include "base/buf.h"
#include "client/client_deliver.h"
#include "client/client_reply.h"
#include "client/client_tls.h"
#include "dns/dns_addr.h"

#define CLIENT_CONN_LINE_MAX 2048

/* RFC 5321 4.5.3.2 (connect and QUIT are not in the RFC; Postfix's
 * smtp_connect_timeout is 30 s). */
#define CLIENT_TO_CONNECT 30
#define CLIENT_TO_GREETING 300	/* 4.5.3.2.1 */
#define CLIENT_TO_HELO 300
#define CLIENT_TO_MAIL 300	/* 4.5.3.2.2 */
#define CLIENT_TO_RCPT 300	/* 4.5.3.2.3 */
#define CLIENT_TO_DATA 120	/* 4.5.3.2.4 */
#define CLIENT_TO_BLOCK 180	/* 4.5.3.2.5 */
#define CLIENT_TO_DOT 600	/* 4.5.3.2.6 */
#define CLIENT_TO_RSET 120
#define CLIENT_TO_QUIT 60
/* STARTTLS's reply and the handshake (Postfix's smtp_starttls_timeout). */
#define CLIENT_TO_STARTTLS 300
/* A cached connection's QUIT: the worker closing it may have a message
 * waiting (client_cache.h). */
#define CLIENT_TO_QUIT_CACHED 2

struct client_conn {
	int fd;
	int owned;		/* ours to close */
	int tcp;		/* TCP (MSG_NOSIGNAL ok) */
	int broken;
	int send_stuck;		/* a write timed out: reset at close */
	enum client_proto proto;
	unsigned scale_ms;
	int esmtp;		/* EHLO or LHLO accepted */
	struct client_ext ext;
	int64_t opened_ms;	/* CLOCK_MONOTONIC */
	int64_t used_ms;
	unsigned uses;		/* sessions of messages it carried */
	char relay[300];	/* host[ip]:port */
	struct buf in;
	char err[CLIENT_REPLY_MAX];
	/* After STARTTLS: every octet goes through it. NULL: plain. */
	struct client_tls *tls;
	char tls_info[160];	/* client_tls_describe() */
};

void client_conn_init(struct client_conn *c, enum client_proto proto,
    unsigned scale_ms);
/* Each returns 0, or -1 with c->err set. */
int client_conn_tcp(struct client_conn *c, const char *host,
    const struct dns_addr *a, unsigned port);
int client_conn_unix(struct client_conn *c, const char *path);
void client_conn_adopt(struct client_conn *c, int fd, const char *name);

/* Reads one complete reply into r, the reply to what. */
int client_conn_reply(struct client_conn *c, struct client_reply *r,
    unsigned timeout_s, const char *what);
/* The same, passing each line after the first to client_ext_line(). */
int client_conn_ehlo_reply(struct client_conn *c, struct client_reply *r,
    unsigned timeout_s, const char *what);
/*
 * RFC 5321 4.1.1.4: DATA is answered 354 or refused (4xx/5xx). Anything
 * else -- a 2xx, or a surplus reply to an earlier command read in its
 * place -- or octets already waiting after the 354 mean we are out of
 * step: taking it for an answer could mark unsent mail delivered. Then
 * c is broken (err says why) and 1 is returned; else 0.
 */
int client_conn_data_out_of_step(struct client_conn *c,
    const struct client_reply *r);
int client_conn_write(struct client_conn *c, const void *p, size_t n,
    unsigned timeout_s, const char *what);
/*
 * After the server's 220 to STARTTLS: drops whatever it sent beyond that
 * reply (RFC 3207 4.2 "NO STARTTLS" response injection: plaintext read
 * before the handshake is never taken as a reply inside TLS), then the
 * handshake within CLIENT_TO_STARTTLS (scaled); trust as client_tls_open.
 * 0, or -1 with c->err and the connection broken.
 */
int client_conn_starttls(struct client_conn *c, enum client_tls_level level,
    const char *name, const char *ca_file, struct client_tls_trust *trust);

/*
 * The TLS layer a connection calls (client_tls.h). A program that starts
 * TLS installs it once, client_conn_tls_install(&client_tls_io); one that
 * never does (smtpd's proxy, lib/proxy) then links no GnuTLS -- smtpd is
 * a static program and GnuTLS has no static build. Without it,
 * client_conn_starttls fails with "TLS is not available here".
 */
struct client_conn_tls_io {
	int (*open)(struct client_tls **tp, int fd, enum client_tls_level level,
	    const char *name, const char *ca_file,
	    struct client_tls_trust *trust, int64_t end_ms, char *err,
	    size_t cap);
	ssize_t (*recv)(struct client_tls *t, void *p, size_t n);
	int (*pending)(struct client_tls *t);
	int (*send_until)(struct client_tls *t, const void *p, size_t n,
	    int64_t end_ms);
	const char *(*error)(const struct client_tls *t);
	void (*describe)(struct client_tls *t, char *out, size_t cap);
	void (*close)(struct client_tls *t);
};
void client_conn_tls_install(const struct client_conn_tls_io *io);
/* 1 if the peer has closed or sent something unasked (stale), else 0. */
int client_conn_stale(struct client_conn *c);
/* QUIT (if quit and not broken), then close what we own. */
void client_conn_close(struct client_conn *c, int quit);
/* The same, waiting at most timeout_s (scaled) for the QUIT. */
void client_conn_close_within(struct client_conn *c, int quit,
    unsigned timeout_s);

#endif
