/*
 * auth_dovecot_proto: the client side of Dovecot's auth-client protocol
 * (version 1.2, the one Postfix's smtpd_sasl_type = dovecot speaks), as
 * pure functions over lines; auth_dovecot.c does the socket I/O.
 *
 * The exchange: the server sends VERSION, MECH, SPID, CUID, COOKIE lines
 * and DONE; the client sends "VERSION\t1\t2" and "CPID\tPID", then one
 * "AUTH\tID\tPLAIN\tservice=smtp\t..." request carrying the whole PLAIN
 * message in resp= (our SASL exchange is done locally, so LOGIN clients
 * are checked through PLAIN too), and reads "OK\tID\t..." or
 * "FAIL\tID\t...". Values are tab-escaped (\001 + '1', 't', 'r', 'n').
 *
 * Limits: a line is at most AUTH_DOVECOT_LINE_MAX octets; a user name the
 * server returns is at most AUTH_SASL_FIELD_MAX octets and must pass the
 * same checks as a client's (no control characters), or it is ignored.
 */
#ifndef PM_AUTH_DOVECOT_PROTO_H
#define PM_AUTH_DOVECOT_PROTO_H

#include <stddef.h>

#include "auth/auth_sasl.h"
#include "base/buf.h"

#define AUTH_DOVECOT_LINE_MAX 8192

enum {
	AUTH_DOVECOT_MORE = 1,  /* handshake: want another line */
	AUTH_DOVECOT_OK = 0,    /* handshake DONE / credentials valid */
	AUTH_DOVECOT_FAIL = -1, /* credentials invalid */
	AUTH_DOVECOT_TEMP = -2, /* FAIL with "temp": try again later */
	AUTH_DOVECOT_PROTO = -3 /* the server broke the protocol */
};

struct auth_dovecot_hs {
	int version; /* VERSION 1.x seen */
	int plain;   /* MECH PLAIN offered */
};

/* One handshake line (without LF): MORE, OK at DONE, or PROTO. */
int auth_dovecot_handshake(struct auth_dovecot_hs *hs, const char *line,
    size_t len);

/*
 * The client's lines: handshake and the AUTH request for user/pass with
 * request id `id`, the client's and our address (text, may be ""), and
 * whether the session is under TLS. -1 if b refuses to grow.
 */
int auth_dovecot_hello(struct buf *b, long pid);
int auth_dovecot_request(struct buf *b, unsigned id, const char *user,
    size_t ulen, const char *pass, size_t plen, const char *rip,
    const char *lip, int secured);

/*
 * The server's answer to request `id`: OK, FAIL, TEMP or PROTO. With OK
 * and a usable user= field, that name (unescaped) goes to user (cap >
 * AUTH_SASL_FIELD_MAX), else user is set to "".
 */
int auth_dovecot_result(const char *line, size_t len, unsigned id, char *user,
    size_t cap);

#endif
