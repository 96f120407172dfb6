#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include "tlsd/tlsd_cred.h"

/* The whole file at path, at most max octets, into d (malloc). */
static int
read_file(const char *what, const char *path, size_t max, gnutls_datum_t *d,
    char *why, size_t cap)
{
	unsigned char *p;
	size_t have = 0;
	ssize_t r = 0;
	int fd;

	d->data = NULL;
	d->size = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(why, cap, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if ((p = malloc(max + 1)) == NULL) {
		snprintf(why, cap, "%s %s: out of memory", what, path);
		close(fd);
		return -1;
	}
	while (have <= max) {
		r = read(fd, p + have, max + 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	if (r < 0 || have > max) {
		snprintf(why, cap, "%s %s: %s", what, path,
		    r < 0 ? strerror(errno) : "file too large");
		gnutls_memset(p, 0, have);
		free(p);
		close(fd);
		return -1;
	}
	close(fd);
	d->data = p;
	d->size = (unsigned)have;
	return 0;
}

static void
forget(gnutls_datum_t *d)
{
	if (d->data != NULL) {
		gnutls_memset(d->data, 0, d->size);
		free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

/*
 * GnuTLS checks that a key belongs to its certificate by signing with it,
 * which costs an RSA-2048 key ~2.5 ms per connection; comparing the
 * public key ids (SHA-256 of each public key) gives the same answer for
 * almost nothing, so its own check is turned off (tlsd_cred_load).
 */
static int
same_key(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char a[64], b[64];
	size_t alen = sizeof a, blen = sizeof b;

	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a,
	        &alen) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b,
	        &blen) < 0)
		return 0;
	return alen == blen && memcmp(a, b, alen) == 0;
}

static int
load_pair(struct tlsd_cred *c, const char *cert, const char *key, char *why,
    size_t cap)
{
	gnutls_datum_t cd, kd;
	gnutls_x509_crt_t *chain = NULL;
	gnutls_x509_privkey_t pk = NULL;
	unsigned i, n = 0;
	int r, ok = -1;

	if (read_file("tls-certificate", cert, TLSD_PEM_MAX, &cd, why, cap) <
	    0)
		return -1;
	if (read_file("tls-key", key, TLSD_PEM_MAX, &kd, why, cap) < 0) {
		forget(&cd);
		return -1;
	}
	if ((r = gnutls_x509_crt_list_import2(&chain, &n, &cd,
	         GNUTLS_X509_FMT_PEM, 0)) < 0 ||
	    n == 0) {
		snprintf(why, cap, "tls-certificate %s: %s", cert,
		    r < 0 ? gnutls_strerror(r) : "no certificate");
		goto out;
	}
	if ((r = gnutls_x509_privkey_init(&pk)) < 0 ||
	    (r = gnutls_x509_privkey_import2(pk, &kd, GNUTLS_X509_FMT_PEM,
	         NULL, 0)) < 0) {
		snprintf(why, cap, "tls-key %s: %s", key, gnutls_strerror(r));
		goto out;
	}
	if (!same_key(chain[0], pk)) {
		snprintf(why, cap,
		    "tls-certificate %s with tls-key %s: the key "
		    "does not belong to the certificate",
		    cert, key);
		goto out;
	}
	if ((r = gnutls_certificate_set_x509_key(c->x509, chain, (int)n, pk)) <
	    0) {
		snprintf(why, cap, "tls-certificate %s with tls-key %s: %s",
		    cert, key, gnutls_strerror(r));
		goto out;
	}
	ok = 0;
out:
	if (pk != NULL)
		gnutls_x509_privkey_deinit(pk);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(chain[i]);
	gnutls_free(chain);
	forget(&kd);
	forget(&cd);
	return ok;
}

int
tlsd_cred_load(struct tlsd_cred *c, const struct tlsd_files *f, char *why,
    size_t cap)
{
	const char *err = NULL;
	size_t i;
	int r;

	memset(c, 0, sizeof *c);
	if (f->n == 0) {
		snprintf(why, cap, "no tls-certificate and tls-key");
		return -1;
	}
	if ((r = gnutls_certificate_allocate_credentials(&c->x509)) < 0) {
		snprintf(why, cap, "credentials: %s", gnutls_strerror(r));
		return -1;
	}
	gnutls_certificate_set_flags(c->x509,
	    GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH);
	for (i = 0; i < f->n; i++)
		if (load_pair(c, f->cert[i], f->key[i], why, cap) < 0)
			goto fail;
	if ((r = gnutls_priority_init(&c->prio, f->priority, &err)) < 0) {
		snprintf(why, cap, "tls-priority \"%s\": %s%s%.40s",
		    f->priority, gnutls_strerror(r), err ? " at " : "",
		    err ? err : "");
		c->prio = NULL;
		goto fail;
	}
	if (f->ticket_key != NULL && f->ticket_key[0] != '\0') {
		if (read_file("tls-ticket-key-file", f->ticket_key,
		        TLSD_TICKET_KEY_SIZE, &c->ticket, why, cap) < 0)
			goto fail;
		if (c->ticket.size != TLSD_TICKET_KEY_SIZE) {
			snprintf(why, cap,
			    "tls-ticket-key-file %s: holds %u "
			    "octets, not %d (postmaster-tlsd -k FILE makes "
			    "one)",
			    f->ticket_key, c->ticket.size,
			    TLSD_TICKET_KEY_SIZE);
			goto fail;
		}
	}
	return 0;
fail:
	tlsd_cred_free(c);
	return -1;
}

void
tlsd_cred_free(struct tlsd_cred *c)
{
	if (c->x509 != NULL)
		gnutls_certificate_free_credentials(c->x509);
	if (c->prio != NULL)
		gnutls_priority_deinit(c->prio);
	forget(&c->ticket);
	memset(c, 0, sizeof *c);
}

static int
dir_sync(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, r;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s",
		    slash == path ? 1 : (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int
tlsd_ticket_key_write(const char *path, char *why, size_t cap)
{
	gnutls_datum_t k = { NULL, 0 };
	char tmp[4096];
	size_t off = 0;
	int fd = -1, r;

	if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >=
	    (int)sizeof tmp) {
		snprintf(why, cap, "%s: name too long", path);
		return -1;
	}
	if ((r = gnutls_session_ticket_key_generate(&k)) < 0) {
		snprintf(why, cap, "new ticket key: %s", gnutls_strerror(r));
		return -1;
	}
	if (k.size != TLSD_TICKET_KEY_SIZE) {
		snprintf(why, cap,
		    "new ticket key: GnuTLS made %u octets, "
		    "not %d",
		    k.size, TLSD_TICKET_KEY_SIZE);
		goto fail;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail_errno;
	while (off < k.size) {
		ssize_t w = write(fd, k.data + off, k.size - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail_errno;
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail_errno;
	}
	fd = -1;
	if (rename(tmp, path) < 0 || dir_sync(path) < 0)
		goto fail_errno;
	gnutls_memset(k.data, 0, k.size);
	gnutls_free(k.data);
	return 0;
fail_errno:
	snprintf(why, cap, "%s: %s", path, strerror(errno));
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	if (k.data != NULL) {
		gnutls_memset(k.data, 0, k.size);
		gnutls_free(k.data);
	}
	return -1;
}
