#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "tlsd/tlsd_conn.h"

#define TLSD_BUF 16384 /* one TLS record of plaintext */

static void
nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* 1 when fd is ready for ev, 0 when until_ms passed first, -1 error. */
static int
wait_fd(int fd, short ev, int64_t until_ms)
{
	struct pollfd p = { fd, ev, 0 };
	int64_t left;
	int r;

	for (;;) {
		left = until_ms - clock_now_ms();
		if (left < 0)
			left = 0;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int
tlsd_conn_handshake(const struct tlsd_cred *c, int net, int64_t until_ms,
    gnutls_session_t *sp, struct net_tls_report *rep)
{
	gnutls_session_t s = NULL;
	char sni[256];
	size_t len = sizeof sni - 1;
	unsigned type;
	const char *cs = NULL;
	int r;

	memset(rep, 0, sizeof *rep);
	rep->kind = NET_TLS_FAIL;
	*sp = NULL;
	nonblocking(net);
	if ((r = gnutls_init(&s, GNUTLS_SERVER)) < 0 ||
	    (r = gnutls_priority_set(s, c->prio)) < 0 ||
	    (r = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, c->x509)) <
	        0 ||
	    (c->ticket.data != NULL &&
	        (r = gnutls_session_ticket_enable_server(s, &c->ticket)) <
	            0)) {
		snprintf(rep->why, sizeof rep->why, "session setup: %s",
		    gnutls_strerror(r));
		goto fail;
	}
	gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
	gnutls_transport_set_int(s, net);
	do {
		r = gnutls_handshake(s);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			int w = wait_fd(net,
			    gnutls_record_get_direction(s) ? POLLOUT : POLLIN,
			    until_ms);

			if (w == 0) {
				snprintf(rep->why, sizeof rep->why,
				    "handshake timed out");
				goto fail;
			}
			if (w < 0) {
				snprintf(rep->why, sizeof rep->why, "poll: %s",
				    strerror(errno));
				goto fail;
			}
		}
	} while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
			snprintf(rep->why, sizeof rep->why, "%s: %s",
			    gnutls_strerror(r),
			    gnutls_alert_get_name(gnutls_alert_get(s)));
		else
			snprintf(rep->why, sizeof rep->why, "%s",
			    gnutls_strerror(r));
		goto fail;
	}
	rep->kind = NET_TLS_DONE;
	snprintf(rep->version, sizeof rep->version, "%s",
	    gnutls_protocol_get_name(gnutls_protocol_get_version(s)));
#if GNUTLS_VERSION_NUMBER >= 0x030703
	cs = gnutls_ciphersuite_get(s);
#endif
	if (cs == NULL)
		cs = gnutls_cipher_get_name(gnutls_cipher_get(s));
	snprintf(rep->cipher, sizeof rep->cipher, "%s", cs ? cs : "unknown");
	if (gnutls_server_name_get(s, sni, &len, &type, 0) == 0 &&
	    type == GNUTLS_NAME_DNS && len < sizeof sni) {
		sni[len] = '\0';
		snprintf(rep->sni, sizeof rep->sni, "%s", sni);
	}
	rep->resumed = gnutls_session_is_resumed(s) != 0;
	*sp = s;
	return 0;
fail:
	if (s != NULL)
		gnutls_deinit(s);
	return -1;
}

/* All of p[0..n) to smtpd's side before until_ms. */
static int
app_write(int fd, const char *p, size_t n, int64_t until_ms)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, until_ms) <= 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* All of p[0..n) to the client as TLS records before until_ms. After
 * GNUTLS_E_AGAIN the same data goes again (gnutls_record_send(3)). */
static int
tls_write(gnutls_session_t s, int net, const char *p, size_t n,
    int64_t until_ms)
{
	while (n > 0) {
		ssize_t w = gnutls_record_send(s, p, n);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED) {
			if (wait_fd(net, POLLOUT, until_ms) <= 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static void
bye(gnutls_session_t s, int net, int64_t end_ms)
{
	int64_t until = clock_now_ms() + TLSD_BYE_MS;
	int r;

	if (until > end_ms)
		until = end_ms;
	while ((r = gnutls_bye(s, GNUTLS_SHUT_WR)) == GNUTLS_E_AGAIN ||
	    r == GNUTLS_E_INTERRUPTED)
		if (wait_fd(net, POLLOUT, until) <= 0)
			return;
}

static int
relay(gnutls_session_t s, int net, int app, uint64_t idle_ms, int64_t end_ms,
    char *why, size_t cap, char *buf)
{
	struct pollfd p[2];
	int net_open = 1;
	ssize_t r;

	nonblocking(app);
	why[0] = '\0';
	for (;;) {
		int64_t left = end_ms - clock_now_ms();
		int ready = 0;

		p[0].fd = net_open ? net : -1;
		p[0].events = POLLIN;
		p[1].fd = app;
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		/* records GnuTLS has read but not yet handed out */
		if (net_open && gnutls_record_check_pending(s) > 0)
			p[0].revents = POLLIN;
		else {
			if (left <= 0) {
				snprintf(why, cap, "session deadline");
				return -1;
			}
			ready =
			    poll(p, 2, left > INT_MAX ? INT_MAX : (int)left);
			if (ready < 0 && errno == EINTR)
				continue;
			if (ready < 0) {
				snprintf(why, cap, "poll: %s",
				    strerror(errno));
				return -1;
			}
		}
		if (p[0].revents) {
			r = gnutls_record_recv(s, buf, TLSD_BUF);
			if (r > 0) {
				if (app_write(app, buf, (size_t)r,
				        clock_now_ms() + (int64_t)idle_ms) <
				    0) {
					snprintf(why, cap,
					    "smtpd did not "
					    "read: %s",
					    strerror(errno));
					return -1;
				}
			} else if (r == 0 ||
			    r == GNUTLS_E_PREMATURE_TERMINATION) {
				/* the client is done: smtpd sees EOF */
				net_open = 0;
				shutdown(app, SHUT_WR);
			} else if (r != GNUTLS_E_AGAIN &&
			    r != GNUTLS_E_INTERRUPTED &&
			    r != GNUTLS_E_REHANDSHAKE &&
			    gnutls_error_is_fatal((int)r)) {
				snprintf(why, cap, "%s",
				    gnutls_strerror((int)r));
				net_open = 0;
				shutdown(app, SHUT_WR);
			}
			continue;
		}
		if (p[1].revents) {
			r = read(app, buf, TLSD_BUF);
			if (r > 0) {
				if (net_open &&
				    tls_write(s, net, buf, (size_t)r,
				        clock_now_ms() + (int64_t)idle_ms) <
				        0) {
					snprintf(why, cap,
					    "the client did not "
					    "read its replies");
					return -1;
				}
			} else if (r == 0) {
				if (net_open)
					bye(s, net, end_ms);
				return why[0] ? -1 : 0;
			} else if (errno != EAGAIN && errno != EINTR) {
				snprintf(why, cap, "read: %s",
				    strerror(errno));
				return -1;
			}
		}
	}
}

int
tlsd_conn_relay(gnutls_session_t s, int net, int app, uint64_t idle_ms,
    int64_t end_ms, char *why, size_t cap)
{
	char buf[TLSD_BUF];
	int r = relay(s, net, app, idle_ms, end_ms, why, cap, buf);

	/* a service's worker relays the next session with this stack */
	explicit_bzero(buf, sizeof buf);
	return r;
}
