/*
 * auth_dovecot: asks a Dovecot auth server whether a user name and
 * password are valid, over its auth-client socket (the one Postfix uses:
 * service auth { unix_listener ... } in dovecot.conf). One connection per
 * question: the handshake costs one round trip and smtpd asks at most
 * once per session in the usual case.
 *
 * Every step -- connect, each write, each read -- ends at until_ms
 * (clock_now_ms() time); a server that stalls costs the client a
 * temporary failure, never a hung session. Returns AUTH_DOVECOT_OK (the
 * canonical name in user when the server gives one), _FAIL, _TEMP, or
 * _PROTO; *why says what went wrong for the log (static text).
 */
#ifndef PM_AUTH_DOVECOT_H
#define PM_AUTH_DOVECOT_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth_dovecot_proto.h"

int auth_dovecot_check(const char *socket_path, const char *user, size_t ulen,
    const char *pass, size_t plen, const char *rip, const char *lip,
    int secured, int64_t until_ms, char *canon, size_t cap, const char **why);

#endif
