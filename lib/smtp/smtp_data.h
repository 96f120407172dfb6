/*
 * smtp_data: the message byte machine for DATA (RFC 5321 4.5.2) and BDAT
 * (RFC 3030), fed arbitrary chunks, with the accounting the session needs.
 *
 * DATA: removes the transparency dot and ends the message ONLY at
 * CRLF "." CRLF. The DATA command's own CRLF counts as the first CRLF, so
 * a message whose first line is "." is empty. Only CRLF starts a line: a
 * "." after a bare LF or bare CR is ordinary data, so none of the SMTP
 * smuggling variants (LF.LF, CR.CR, LF.CRLF, CRLF.LF, CR.CRLF, CRLF.CR...)
 * ends the message or lets the rest be read as commands.
 *
 * Bare LF / bare CR policy: we count them (bare_lf, bare_cr) and pass the
 * octets through unchanged; the session reads on to CRLF.CRLF and then
 * refuses the whole message with 550 5.5.2, keeping the connection. That
 * is Postfix 3.9's smtpd_forbid_bare_newline = reject in effect, minus the
 * disconnect, which Postfix needs because its reader also ends lines at
 * LF; ours never desynchronises, so dropping the client buys nothing. We
 * reject rather than normalize because a message we relay with bare LFs
 * could still smuggle at a next hop that treats LF as a line end, and
 * normalizing changes bytes under a DKIM signature; clients that send
 * bare LF are broken and rare.
 *
 * BDAT: exactly n octets per chunk, no unstuffing, same accounting.
 *
 * Accounting (both modes, on the octets as delivered): size after
 * unstuffing, compared to max; once over, output stops but input is still
 * consumed to the end of the message, so an oversized body is never read
 * as commands (the caller answers 552 5.3.4). In the header section (up to
 * the first empty line): Received: fields (hop count, RFC 5321 6.3),
 * MIME-Version: and Content-Type: presence (for the RFC 1428 upgrade);
 * anywhere: any octet >= 0x80 (eightbit) and any NUL; a line over
 * SMTP_DATA_WIRE_LINE octets before its CRLF (long_line), and whether the
 * last octet ended a line (smtp_data_wire_canonical), so that the queue
 * knows without reading the message again that its client has nothing
 * to change (lib/client/client_wire.h).
 *
 * Output: the callback, if any, gets the unstuffed octets in pieces of any
 * size; if it returns non-zero the feed stops with SMTP_DATA_E_OUTPUT (the
 * state stays consistent; the caller normally gives up on the message).
 * No memory is allocated.
 */
#ifndef PM_SMTP_DATA_H
#define PM_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>

/* RFC 5322 2.1.1: octets of a line before CRLF */
#define SMTP_DATA_WIRE_LINE 998

enum smtp_data_res {
	SMTP_DATA_MORE = 0,	/* all input consumed, message not ended */
	SMTP_DATA_END = 1,	/* CRLF.CRLF seen / chunk complete */
	SMTP_DATA_E_OUTPUT = -1	/* the output callback failed */
};

typedef int smtp_data_out_fn(void *ctx, const char *p, size_t n);

struct smtp_data {
	/* set by smtp_data_init */
	uint64_t max;		/* 0: no limit */
	smtp_data_out_fn *out;
	void *ctx;
	/* results */
	uint64_t size;		/* octets after unstuffing (saturating) */
	int over;		/* size > max */
	unsigned long bare_lf;
	unsigned long bare_cr;
	int eightbit;
	int nul;
	unsigned received;	/* Received: fields in the header */
	int mime_version;
	int content_type;
	int long_line;		/* a line over SMTP_DATA_WIRE_LINE */
	/* internal */
	uint64_t col;		/* octets since the last LF */
	int st;
	int in_header;
	int hstate;		/* header scanner: H_* */
	int hcr;		/* header scanner: last octet was CR */
	int hany;		/* header scanner: line has content */
	int hcr2;		/* BDAT: last octet was CR */
	size_t hlen;
	char hname[16];
	uint64_t chunk_left;	/* BDAT */
	char stage[512];
	size_t nstage;
};

void smtp_data_init(struct smtp_data *d, uint64_t max, smtp_data_out_fn *out,
    void *ctx);

/* DATA mode; *used: octets consumed (up to and including CRLF.CRLF). */
int smtp_data_feed(struct smtp_data *d, const char *p, size_t n,
    size_t *used);

/*
 * BDAT mode: smtp_data_init once per message, smtp_data_chunk once per
 * BDAT command, then smtp_data_chunk_feed until it returns SMTP_DATA_END
 * (immediately for a 0 chunk).
 */
void smtp_data_chunk(struct smtp_data *d, uint64_t n);
int smtp_data_chunk_feed(struct smtp_data *d, const char *p, size_t n,
    size_t *used);

/*
 * After the end: 1 if the message is canonical text as the queue's client
 * sends it (CRLF line ends only, every line within SMTP_DATA_WIRE_LINE,
 * ending with CRLF or empty).
 */
int smtp_data_wire_canonical(const struct smtp_data *d);

#endif
