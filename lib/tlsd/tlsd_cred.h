/*
 * tlsd_cred: the server credentials of one [smtpd] instance for
 * postmaster-tlsd, read from their files on every connection (so a
 * certificate replaced by rename serves the next client, no reload):
 * certificate/key pairs (several, e.g. ECDSA and RSA, in one GnuTLS
 * credentials structure, which picks per handshake by the client's
 * signature algorithms), the priority string, and the session ticket key.
 *
 * The ticket key file holds exactly TLSD_TICKET_KEY_SIZE octets. Every
 * process that reads the same key can open the tickets the others issued
 * (GnuTLS derives the key it encrypts with from this one and the time),
 * which is what makes resumption work across per-connection processes.
 * tlsd_ticket_key_write() makes a new key file atomically.
 *
 * Key octets are read into memory this module clears after use. On
 * failure the functions return -1 and write a one-line reason into why.
 */
#ifndef PM_TLSD_CRED_H
#define PM_TLSD_CRED_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#define TLSD_TICKET_KEY_SIZE 64
#define TLSD_PEM_MAX (1024 * 1024)

struct tlsd_files {
	const char *const *cert; /* tls-certificate, in order */
	const char *const *key;  /* tls-key of the same rank */
	size_t n;
	const char *priority;   /* tls-priority */
	const char *ticket_key; /* tls-ticket-key-file, NULL: no tickets */
};

struct tlsd_cred {
	gnutls_certificate_credentials_t x509;
	gnutls_priority_t prio;
	gnutls_datum_t ticket; /* .data NULL: tickets off */
};

int tlsd_cred_load(struct tlsd_cred *c, const struct tlsd_files *f, char *why,
    size_t cap);
void tlsd_cred_free(struct tlsd_cred *c);

/* A new random ticket key in path (mode 0600: temporary file, fsync,
 * rename, directory fsync). */
int tlsd_ticket_key_write(const char *path, char *why, size_t cap);

#endif
