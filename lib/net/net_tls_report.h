/*
 * net_tls_report: what postmaster-tlsd tells postmaster-smtpd over their
 * socketpair before any plaintext: whether its credentials loaded, then
 * how the handshake ended. One record is one length octet (1-255) and
 * that many octets of printable ASCII:
 *
 *   ready                               credentials loaded, 220 may go
 *   error WHY                           credentials failed: 454 4.7.0
 *   tls VERSION CIPHER SNI new|resumed  handshake done; plaintext follows
 *   fail WHY                            handshake failed; nothing follows
 *
 * SNI is "-" when the client sent none. The SNI name comes from the
 * network: the encoder keeps only letters, digits, '-', '.' and '_' and
 * writes '?' for anything else, so the record and the log lines made
 * from it stay one printable line. Encoding and parsing are pure.
 */
#ifndef PM_NET_TLS_REPORT_H
#define PM_NET_TLS_REPORT_H

#include <stddef.h>

#define NET_TLS_REPORT_MAX 256 /* a record with its length octet */

enum net_tls_kind { NET_TLS_READY, NET_TLS_ERROR, NET_TLS_DONE, NET_TLS_FAIL };

struct net_tls_report {
	enum net_tls_kind kind;
	char version[16]; /* "TLS1.3" */
	char cipher[64];  /* "TLS_AES_256_GCM_SHA384" */
	char sni[256];    /* "" when none */
	int resumed;
	char why[240]; /* ERROR, FAIL */
};

/* The record for r into out[0..NET_TLS_REPORT_MAX); its length, the
 * length octet included. Fields too long are cut. */
size_t net_tls_report_encode(const struct net_tls_report *r, char *out);

/* The text of one record (without its length octet): 0, or -1 when it
 * is not one of the forms above. */
int net_tls_report_parse(const char *p, size_t n, struct net_tls_report *r);

#endif
