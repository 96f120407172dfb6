/*
 * client_tls: the TLS side of one outbound connection, after STARTTLS
 * (RFC 3207). The only file of the client that includes GnuTLS.
 *
 * client_tls_open() runs the handshake on a connected non-blocking fd
 * before a deadline (milliseconds on CLOCK_MONOTONIC); a server that
 * stalls mid-handshake is cut there. Levels:
 *   - CLIENT_TLS_MAY, CLIENT_TLS_ENCRYPT: any certificate is taken (the
 *     channel is encrypted, the peer not authenticated);
 *   - CLIENT_TLS_VERIFY: the chain must end at a trust anchor of ca_file
 *     (PEM), or of the system store when ca_file is NULL or "", and the
 *     certificate must name `name` (RFC 6125; an IP literal is matched
 *     against IP SANs).
 * SNI (RFC 6066 3) carries `name` whenever it is a DNS name. Protocol
 * versions and ciphers are the system's GnuTLS defaults
 * (gnutls_set_default_priority, /etc/gnutls/config).
 *
 * Records then pass through client_tls_recv() and client_tls_send_until();
 * both work on the non-blocking fd (recv: -1 with errno EAGAIN when no
 * record is complete, the caller polls). Nothing here raises SIGPIPE
 * (GNUTLS_NO_SIGNAL). The library never prints: failures come back as
 * text in err.
 */
#ifndef PM_CLIENT_TLS_H
#define PM_CLIENT_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum client_tls_level {
	CLIENT_TLS_NONE,
	CLIENT_TLS_MAY,
	CLIENT_TLS_ENCRYPT,
	CLIENT_TLS_VERIFY
};

struct client_tls;

/*
 * verify's trust anchors, loaded once and shared by the sessions that
 * use them (the system store costs ~9 ms of CPU to load, a handshake
 * ~2 ms): a worker keeps one in its client_cache. Reference counted: a
 * session holds its anchors until it is closed.
 */
struct client_tls_trust;

/* The anchors of ca_file (NULL or "": the system store). NULL with err. */
struct client_tls_trust *client_tls_trust_load(const char *ca_file, char *err,
    size_t cap);
/* 1 when t holds ca_file's anchors (NULL and "" are the same). */
int client_tls_trust_is(const struct client_tls_trust *t, const char *ca_file);
/* Drops one reference (the loader's); NULL is fine. */
void client_tls_trust_free(struct client_tls_trust *t);

/* "none", "may", "encrypt", "verify" -> level; -1 for anything else. */
int client_tls_level_of(const char *s);
const char *client_tls_level_name(enum client_tls_level l);

/*
 * The handshake; verify uses trust when it is not NULL, else loads
 * ca_file's anchors for this session alone.
 * 0 and *tp set, or -1 with err ("handshake failed: ...",
 * "handshake timed out", "certificate verification failed: " and why in
 * GnuTLS's words).
 */
int client_tls_open(struct client_tls **tp, int fd,
    enum client_tls_level level, const char *name, const char *ca_file,
    struct client_tls_trust *trust, int64_t end_ms, char *err, size_t cap);

/* > 0 octets, 0 at the peer's close_notify or EOF, -1 with errno
 * (EAGAIN: no record yet; EPROTO/ECONNRESET: the session is broken, see
 * client_tls_error). */
ssize_t client_tls_recv(struct client_tls *t, void *p, size_t n);
/* 1 when decrypted octets wait inside GnuTLS (poll would not show them). */
int client_tls_pending(struct client_tls *t);
/* All of p before end_ms: 0, or -1 with errno (ETIMEDOUT, EPIPE, EPROTO). */
int client_tls_send_until(struct client_tls *t, const void *p, size_t n,
    int64_t end_ms);
/* The last GnuTLS error as text ("" if none). */
const char *client_tls_error(const struct client_tls *t);

/* "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" */
void client_tls_describe(struct client_tls *t, char *out, size_t cap);
/* 1 when the peer was verified (CLIENT_TLS_VERIFY). */
int client_tls_verified(const struct client_tls *t);

/* One non-blocking close_notify, then frees everything (the fd stays). */
void client_tls_close(struct client_tls *t);

/* The functions above for client_conn_tls_install() (client_conn.h). */
struct client_conn_tls_io;
extern const struct client_conn_tls_io client_tls_io;

#endif
