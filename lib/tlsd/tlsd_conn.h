/*
 * tlsd_conn: one TLS server connection of postmaster-tlsd: the handshake
 * on the client's socket, then the relay of plaintext between it and
 * postmaster-smtpd's socketpair.
 *
 * Both fds are made non-blocking; every wait is a poll() with a deadline
 * (milliseconds on clock_now_ms()). The handshake must end by until_ms.
 * In the relay each write, either way, must be done within idle_ms (a
 * peer that does not read is cut off), and everything ends at end_ms.
 * When smtpd closes its side, the relay sends close_notify (RFC 8446
 * 6.1) within TLSD_BYE_MS and returns; when the client closes (with
 * close_notify or not), smtpd's side is shut for writing so smtpd sees
 * the end, and the relay returns once smtpd has closed too.
 */
#ifndef PM_TLSD_CONN_H
#define PM_TLSD_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#include "net/net_tls_report.h"
#include "tlsd/tlsd_cred.h"

#define TLSD_BYE_MS (10 * 1000)

/* 0 and the NET_TLS_DONE report of the session in *s (which the caller
 * frees with gnutls_deinit), or -1 and a NET_TLS_FAIL report. */
int tlsd_conn_handshake(const struct tlsd_cred *c, int net, int64_t until_ms,
    gnutls_session_t *s, struct net_tls_report *rep);

/* 0 after a clean end, -1 after an error or a deadline (why says which). */
int tlsd_conn_relay(gnutls_session_t s, int net, int app, uint64_t idle_ms,
    int64_t end_ms, char *why, size_t cap);

#endif
