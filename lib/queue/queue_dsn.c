#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/date.h"
#include "queue/queue_dsn.h"

static int
is_status(const char *p, size_t *len)
{
	const char *s = p;
	int dig;

	if ((*p != '2' && *p != '4' && *p != '5') || p[1] != '.')
		return 0;
	p += 2;
	for (dig = 0; isdigit((unsigned char)*p) && dig < 3; dig++)
		p++;
	if (dig == 0 || *p != '.')
		return 0;
	p++;
	for (dig = 0; isdigit((unsigned char)*p) && dig < 3; dig++)
		p++;
	if (dig == 0 || (*p && *p != ' ' && *p != ';' && *p != ','))
		return 0;
	*len = (size_t)(p - s);
	return 1;
}

void
queue_dsn_status(const char *diag, int perm, char out[16])
{
	const char *p = diag, *semi = strchr(diag, ';');
	size_t len;

	if (semi)
		p = semi + 1;
	while (*p == ' ')
		p++;
	/* An SMTP reply code first (RFC 3463 comes after it). */
	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && (p[3] == ' ' || p[3] == '-'))
		p += 4;
	if (is_status(p, &len) && len < 16) {
		memcpy(out, p, len);
		out[len] = '\0';
		return;
	}
	/* A bare SMTP code: its class, RFC 3463 X.0.0. */
	p = semi ? semi + 1 : diag;
	while (*p == ' ')
		p++;
	if ((p[0] == '4' || p[0] == '5') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2])) {
		snprintf(out, 16, "%c.0.0", p[0]);
		return;
	}
	snprintf(out, 16, "%s", perm ? "5.0.0" : "4.0.0");
}

/*
 * Lines end at CRLF, a bare LF or a bare CR, as client_wire reads them:
 * the header section we quote ends where the next hop will see it end.
 */
size_t
queue_dsn_header_len(const char *msg, size_t len, size_t max)
{
	size_t i, last = 0;
	int cut = len > max, empty = 1;

	if (cut)
		len = max;
	for (i = 0; i < len; i++) {
		if (msg[i] == '\r') {
			if (i + 1 < len && msg[i + 1] == '\n')
				i++;
			else if (i + 1 == len && cut)
				break;	/* an LF may follow beyond the cut */
		} else if (msg[i] != '\n') {
			empty = 0;
			continue;
		}
		if (empty)
			return i + 1;	/* the empty line, included */
		last = i + 1;
		empty = 1;
	}
	/* No end in sight: cut at the last complete line. */
	return last;
}

/* Appends text with CR/LF/NUL as spaces and at most max bytes. */
static int
append_clean(struct buf *b, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		char c = s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];

		if (buf_append_byte(b, c) < 0)
			return -1;
	}
	return 0;
}

/*
 * Appends p[0..n) as canonical CRLF lines: a bare LF and a bare CR each
 * end a line. A BINARYMIME original may carry them in its header; copied
 * as they are, CR "." CR LF would reach the wire inside our DSN.
 */
static int
append_crlf(struct buf *b, const char *p, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\r' && p[i] != '\n')
			continue;
		if (buf_append(b, p + start, i - start) < 0 ||
		    buf_append(b, "\r\n", 2) < 0)
			return -1;
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	return buf_append(b, p + start, n - start);
}

static int
is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* RFC 3464 2.1.2 address types; RFC 6533 3 "utf-8" for an address that
 * is not ASCII (raw UTF-8 is its form in message/global-delivery-status). */
static int
append_addr(struct buf *b, const char *field, const char *addr)
{
	return buf_printf(b, "%s: %s; ", field,
	    is_ascii(addr) ? "rfc822" : "utf-8") < 0 ||
	    append_clean(b, addr, 512) < 0 ? -1 : 0;
}

/*
 * RFC 3464 2.3.5: Remote-MTA is "dns;" and the host's name, from a relay
 * of the client's "host[ip]:port" shape (the name, or the IP literal when
 * the host was given as one). A unix socket is on this host: ours, as
 * Postfix says for its LMTP sockets.
 */
static int
append_remote(struct buf *b, const char *relay, const char *ours)
{
	const char *br = strchr(relay, '[');
	size_t n = br ? (size_t)(br - relay) : strlen(relay);

	if (relay[0] == '/') {
		relay = ours;
		n = strlen(ours);
	}
	if (n == 0)
		return 0;
	if (n > 255)
		n = 255;	/* RFC 1035 2.3.4 */
	return buf_append_str(b, "Remote-MTA: dns; ") < 0 ||
	    append_clean(b, relay, n) < 0 || buf_append(b, "\r\n", 2) < 0 ?
	    -1 : 0;
}

int
queue_dsn_build(struct buf *out, const struct queue_dsn *d)
{
	size_t start = out->len, i, hl;
	char date[DATE_RFC5322_SIZE];
	int e = 0;

	date_rfc5322_utc((time_t)d->now, date);
	e |= buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: %s\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%s>\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a MIME-encapsulated message (RFC 3464).\r\n"
	    "\r\n"
	    "--%s\r\n"
	    "Content-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=%s\r\n"
	    "\r\n"
	    "This is the mail system at host %s.\r\n"
	    "\r\n"
	    "I'm sorry to have to inform you that your message could not\r\n"
	    "be delivered to one or more recipients. The report below says\r\n"
	    "why; the headers of your message are attached.\r\n"
	    "\r\n",
	    d->reporting_mta, d->to, date, d->msgid, d->boundary, d->boundary,
	    d->smtputf8 ? "utf-8" : "us-ascii", d->reporting_mta);
	if (d->note)
		e |= buf_printf(out, "%s\r\n\r\n", d->note);
	for (i = 0; i < d->n; i++) {
		const struct queue_dsn_rcpt *r = &d->r[i];

		e |= buf_append_str(out, "<");
		e |= append_clean(out, r->final, 512);
		e |= buf_append_str(out, ">");
		if (r->orig && r->orig[0] && strcmp(r->orig, r->final) != 0) {
			e |= buf_append_str(out, " (from <");
			e |= append_clean(out, r->orig, 512);
			e |= buf_append_str(out, ">)");
		}
		e |= buf_append_str(out, ": ");
		e |= append_clean(out, r->diag[0] ? r->diag : r->status,
		    QUEUE_DSN_DIAG_MAX);
		e |= buf_append_str(out, "\r\n");
	}
	date_rfc5322_utc((time_t)d->arrival, date);
	e |= buf_printf(out, "\r\n--%s\r\n"
	    "Content-Description: Delivery report\r\n"
	    "Content-Type: message/%sdelivery-status\r\n"
	    "\r\n"
	    "Reporting-MTA: dns; %s\r\n"
	    "X-Postmaster-Queue-ID: %s\r\n",
	    d->boundary, d->smtputf8 ? "global-" : "", d->reporting_mta,
	    d->queue_id);
	e |= append_addr(out, "X-Postmaster-Sender", d->sender);
	e |= buf_printf(out, "\r\nArrival-Date: %s\r\n", date);
	for (i = 0; i < d->n; i++) {
		const struct queue_dsn_rcpt *r = &d->r[i];

		e |= buf_append_str(out, "\r\n");
		e |= append_addr(out, "Final-Recipient", r->final);
		if (r->orig && r->orig[0]) {
			e |= buf_append_str(out, "\r\n");
			e |= append_addr(out, "Original-Recipient", r->orig);
		}
		e |= buf_printf(out, "\r\nAction: failed\r\nStatus: %s\r\n",
		    r->status);
		if (r->remote && r->remote[0])
			e |= append_remote(out, r->remote, d->reporting_mta);
		if (r->diag && r->diag[0]) {
			e |= buf_append_str(out, "Diagnostic-Code: ");
			if (strchr(r->diag, ';') == NULL)
				e |= buf_append_str(out, "x-unix; ");
			e |= append_clean(out, r->diag, QUEUE_DSN_DIAG_MAX);
			e |= buf_append_str(out, "\r\n");
		}
		if (r->last > 0) {
			date_rfc5322_utc((time_t)r->last, date);
			e |= buf_printf(out, "Last-Attempt-Date: %s\r\n", date);
		}
	}
	e |= buf_printf(out, "\r\n--%s\r\n"
	    "Content-Description: Undelivered Message Headers\r\n"
	    "Content-Type: %s\r\n"
	    "\r\n", d->boundary, d->smtputf8 ? "message/global-headers" :
	    "text/rfc822-headers");
	hl = queue_dsn_header_len(d->orig ? d->orig : "", d->orig ? d->origlen : 0,
	    QUEUE_DSN_HDR_MAX);
	e |= append_crlf(out, d->orig ? d->orig : "", hl);
	if (hl == 0 || (d->orig[hl - 1] != '\n' && d->orig[hl - 1] != '\r'))
		e |= buf_append_str(out, "\r\n");
	e |= buf_printf(out, "\r\n--%s--\r\n", d->boundary);
	if (e) {
		out->len = start;
		return -1;
	}
	return 0;
}
