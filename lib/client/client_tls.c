#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base/buf.h"
#include "base/clock.h"
#include "client/client_conn.h"
#include "client/client_tls.h"
#include "dns/dns_addr.h"

struct client_tls_trust {
	gnutls_certificate_credentials_t cred;
	unsigned refs;
	char file[4096]; /* "" the system store */
};

struct client_tls {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred; /* own, or trust's */
	struct client_tls_trust *trust;        /* a reference, or NULL */
	int fd;
	int verified;
	int err; /* last GnuTLS error code, 0 none */
};

static const char *const level_names[] = { "none", "may", "encrypt",
	"verify" };

int
client_tls_level_of(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
client_tls_level_name(enum client_tls_level l)
{
	return (size_t)l < sizeof level_names / sizeof level_names[0] ?
	    level_names[l] :
	    "?";
}

/* Waits for the direction GnuTLS is blocked on, until end_ms.
 * 1 ready, 0 deadline, -1 poll error. */
static int
wait_dir(struct client_tls *t, int64_t end_ms)
{
	struct pollfd p;
	int r;

	for (;;) {
		int64_t left = end_ms - clock_now_ms();

		if (left <= 0)
			return 0;
		p.fd = t->fd;
		p.events =
		    gnutls_record_get_direction(t->s) ? POLLOUT : POLLIN;
		p.revents = 0;
		r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r >= 0)
			return r;
		if (errno != EINTR)
			return -1;
	}
}

void
client_tls_trust_free(struct client_tls_trust *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	gnutls_certificate_free_credentials(t->cred);
	free(t);
}

int
client_tls_trust_is(const struct client_tls_trust *t, const char *ca_file)
{
	return strcmp(t->file, ca_file != NULL ? ca_file : "") == 0;
}

/* A trust store file larger than this is refused (Debian's whole
 * ca-certificates.crt is about 200 KiB). */
#define CLIENT_TLS_CA_MAX (16u * 1024 * 1024)

/*
 * The whole of ca_file into b: a regular file only, opened without
 * blocking (GnuTLS's own reading would wait for ever on a FIFO, holding
 * the worker), of a size a trust store has. 0, or -1 (err).
 */
static int
read_ca_file(const char *ca_file, struct buf *b, char *err, size_t cap)
{
	struct stat st;
	ssize_t got;
	int fd, e;

	fd = open(ca_file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		e = errno;
		snprintf(err, cap, "cannot read tls-ca-file %s: %s", ca_file,
		    strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CLIENT_TLS_CA_MAX) {
		snprintf(err, cap, "cannot read tls-ca-file %s: %s", ca_file,
		    !S_ISREG(st.st_mode) ? "not a regular file" :
		                           "larger than 16 MiB");
		close(fd);
		return -1;
	}
	if (buf_reserve(b, (size_t)st.st_size + 1) < 0)
		goto fail;
	while ((got = read(fd, b->p + b->len, b->cap - b->len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto fail;
		b->len += (size_t)got;
		if (b->len > CLIENT_TLS_CA_MAX) {
			errno = EFBIG;
			goto fail;
		}
		if (b->len == b->cap && buf_reserve(b, 4096) < 0)
			goto fail;
	}
	close(fd);
	return 0;
fail:
	e = errno;
	snprintf(err, cap, "cannot read tls-ca-file %s: %s", ca_file,
	    strerror(e));
	close(fd);
	buf_free(b);
	return -1;
}

/* Anchors into cred: ca_file's, or the system store's. 0 or -1 (err). */
static int
load_anchors(gnutls_certificate_credentials_t cred, const char *ca_file,
    char *err, size_t cap)
{
	struct buf pem = BUF_INIT(0);
	gnutls_datum_t d;
	int r;

	if (ca_file == NULL || ca_file[0] == '\0') {
		r = gnutls_certificate_set_x509_system_trust(cred);
		if (r < 0) {
			snprintf(err, cap,
			    "cannot load the system trust "
			    "store: %s",
			    gnutls_strerror(r));
			return -1;
		}
		return 0;
	}
	if (read_ca_file(ca_file, &pem, err, cap) < 0)
		return -1;
	d.data = (unsigned char *)pem.p;
	d.size = (unsigned)pem.len;
	r = gnutls_certificate_set_x509_trust_mem(cred, &d,
	    GNUTLS_X509_FMT_PEM);
	buf_free(&pem);
	if (r == 0) {
		snprintf(err, cap, "no certificates in tls-ca-file %s",
		    ca_file);
		return -1;
	}
	if (r < 0) {
		snprintf(err, cap, "cannot read tls-ca-file %s: %s", ca_file,
		    gnutls_strerror(r));
		return -1;
	}
	return 0;
}

struct client_tls_trust *
client_tls_trust_load(const char *ca_file, char *err, size_t cap)
{
	struct client_tls_trust *t;
	int r;

	if ((t = calloc(1, sizeof *t)) == NULL) {
		snprintf(err, cap, "setup failed: %s", strerror(errno));
		return NULL;
	}
	if ((r = gnutls_certificate_allocate_credentials(&t->cred)) < 0) {
		snprintf(err, cap, "setup failed: %s", gnutls_strerror(r));
		free(t);
		return NULL;
	}
	if (load_anchors(t->cred, ca_file, err, cap) < 0) {
		gnutls_certificate_free_credentials(t->cred);
		free(t);
		return NULL;
	}
	snprintf(t->file, sizeof t->file, "%s", ca_file ? ca_file : "");
	t->refs = 1;
	return t;
}

static void
free_tls(struct client_tls *t)
{
	if (t->s != NULL)
		gnutls_deinit(t->s);
	if (t->trust != NULL)
		client_tls_trust_free(t->trust);
	else if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}

/* Why verification failed, in GnuTLS's words ("The certificate is NOT
 * trusted. The name in the certificate does not match ..."). */
static void
verify_why(struct client_tls *t, char *err, size_t cap)
{
	gnutls_datum_t out = { NULL, 0 };
	unsigned st = gnutls_session_get_verify_cert_status(t->s);

	if (gnutls_certificate_verification_status_print(st,
	        gnutls_certificate_type_get(t->s), &out, 0) == 0 &&
	    out.data != NULL) {
		size_t n = strlen((const char *)out.data);

		while (n > 0 && out.data[n - 1] == ' ')
			n--;
		snprintf(err, cap, "certificate verification failed: %.*s",
		    (int)n, (const char *)out.data);
		gnutls_free(out.data);
		return;
	}
	snprintf(err, cap, "certificate verification failed (status %#x)", st);
}

static int
setup(struct client_tls *t, enum client_tls_level level, const char *name,
    const char *ca_file, struct client_tls_trust *trust, char *err, size_t cap)
{
	struct dns_addr lit;
	int r;

	if (level == CLIENT_TLS_VERIFY && trust != NULL) {
		trust->refs++;
		t->trust = trust;
		t->cred = trust->cred;
	} else {
		if ((r = gnutls_certificate_allocate_credentials(&t->cred)) <
		    0)
			goto fail;
		if (level == CLIENT_TLS_VERIFY &&
		    load_anchors(t->cred, ca_file, err, cap) < 0)
			return -1;
	}
	if ((r = gnutls_init(&t->s,
	         GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL)) < 0 ||
	    (r = gnutls_set_default_priority(t->s)) < 0 ||
	    (r = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE,
	         t->cred)) < 0)
		goto fail;
	/* RFC 6066 3: SNI names a host, never an address (nor a unix
	 * socket's path). */
	if (name != NULL && name[0] != '\0' && name[0] != '/' &&
	    !dns_addr_literal(name, &lit) &&
	    (r = gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, name,
	         strlen(name))) < 0)
		goto fail;
	if (level == CLIENT_TLS_VERIFY)
		gnutls_session_set_verify_cert(t->s, name, 0);
	gnutls_transport_set_int(t->s, t->fd);
	return 0;
fail:
	snprintf(err, cap, "setup failed: %s", gnutls_strerror(r));
	return -1;
}

int
client_tls_open(struct client_tls **tp, int fd, enum client_tls_level level,
    const char *name, const char *ca_file, struct client_tls_trust *trust,
    int64_t end_ms, char *err, size_t cap)
{
	struct client_tls *t;
	int r, w;

	*tp = NULL;
	if ((t = calloc(1, sizeof *t)) == NULL) {
		snprintf(err, cap, "setup failed: %s", strerror(errno));
		return -1;
	}
	t->fd = fd;
	if (setup(t, level, name, ca_file, trust, err, cap) < 0) {
		free_tls(t);
		return -1;
	}
	/* GnuTLS's own limit (40 s by default) would cut ours short. */
	gnutls_handshake_set_timeout(t->s,
	    end_ms > clock_now_ms() ? (unsigned)(end_ms - clock_now_ms()) : 1);
	for (;;) {
		r = gnutls_handshake(t->s);
		if (r == 0)
			break;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			w = wait_dir(t, end_ms);
			if (w > 0)
				continue;
			if (w == 0)
				snprintf(err, cap, "handshake timed out");
			else
				snprintf(err, cap, "handshake failed: %s",
				    strerror(errno));
			free_tls(t);
			return -1;
		}
		if (!gnutls_error_is_fatal(r))
			continue; /* a warning alert */
		if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
			verify_why(t, err, cap);
		else if (r == GNUTLS_E_TIMEDOUT)
			snprintf(err, cap, "handshake timed out");
		else
			snprintf(err, cap, "handshake failed: %s",
			    gnutls_strerror(r));
		free_tls(t);
		return -1;
	}
	t->verified = level == CLIENT_TLS_VERIFY;
	*tp = t;
	return 0;
}

ssize_t
client_tls_recv(struct client_tls *t, void *p, size_t n)
{
	ssize_t r = gnutls_record_recv(t->s, p, n);

	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
	    !gnutls_error_is_fatal((int)r)) {
		/* A post-handshake message (a TLS 1.3 ticket) or a warning
		 * alert: no data yet. */
		errno = EAGAIN;
		return -1;
	}
	t->err = (int)r;
	errno = r == GNUTLS_E_PREMATURE_TERMINATION ? ECONNRESET : EPROTO;
	return -1;
}

int
client_tls_pending(struct client_tls *t)
{
	return gnutls_record_check_pending(t->s) > 0;
}

int
client_tls_send_until(struct client_tls *t, const void *p, size_t n,
    int64_t end_ms)
{
	const char *q = p;

	while (n > 0) {
		ssize_t r = gnutls_record_send(t->s, q, n);

		if (r > 0) {
			q += r;
			n -= (size_t)r;
			continue;
		}
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			/* GnuTLS keeps the record it is sending; the same
			 * call again finishes it. */
			int w = wait_dir(t, end_ms);

			if (w > 0)
				continue;
			errno = w == 0 ? ETIMEDOUT : errno;
			return -1;
		}
		t->err = (int)r;
		errno = r == GNUTLS_E_PUSH_ERROR ? EPIPE : EPROTO;
		return -1;
	}
	return 0;
}

const char *
client_tls_error(const struct client_tls *t)
{
	return t->err != 0 ? gnutls_strerror(t->err) : "";
}

void
client_tls_describe(struct client_tls *t, char *out, size_t cap)
{
	gnutls_cipher_algorithm_t ci = gnutls_cipher_get(t->s);
	unsigned bits = (unsigned)gnutls_cipher_get_key_size(ci) * 8;
	const char *suite = gnutls_ciphersuite_get(t->s);
	const char *ver =
	    gnutls_protocol_get_name(gnutls_protocol_get_version(t->s));

	/* "TLSv1.3" as OpenSSL and Postfix's logs spell it, not "TLS1.3" */
	if (ver != NULL && strncmp(ver, "TLS1", 4) == 0)
		snprintf(out, cap, "TLSv%s with cipher %s (%u/%u bits)",
		    ver + 3, suite != NULL ? suite : "?", bits, bits);
	else
		snprintf(out, cap, "%s with cipher %s (%u/%u bits)",
		    ver != NULL ? ver : "?", suite != NULL ? suite : "?", bits,
		    bits);
}

int
client_tls_verified(const struct client_tls *t)
{
	return t->verified;
}

void
client_tls_close(struct client_tls *t)
{
	if (t == NULL)
		return;
	/* Best effort: the connection is going away; a full send buffer
	 * must not delay it. */
	(void)gnutls_bye(t->s, GNUTLS_SHUT_WR);
	free_tls(t);
}

const struct client_conn_tls_io client_tls_io = { client_tls_open,
	client_tls_recv, client_tls_pending, client_tls_send_until,
	client_tls_error, client_tls_describe, client_tls_close };
