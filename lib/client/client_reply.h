/*
 * client_reply: the pure parts of the SMTP/LMTP client -- reply lines
 * (RFC 5321 4.2), EHLO keywords (RFC 5321 4.1.1.1), and the DATA
 * transparency encoder (RFC 5321 4.5.2). No I/O, no allocation except
 * into the caller's struct buf.
 *
 * Replies: lines are fed one at a time without their CRLF. A reply is
 * complete at a line "NNN" or "NNN text"; "NNN-text" continues it, and
 * every line must carry the same code. The text kept for logs and DSNs is
 * the first line in full ("550 5.1.1 <x>: user unknown") followed by the
 * text of each continuation line after a space, cut to CLIENT_REPLY_MAX-1
 * bytes; controls are replaced by '?' so a server cannot forge log lines.
 * Overlong lines are accepted (we cannot make the server conform) but
 * only their start is kept.
 *
 * A reply is at most CLIENT_REPLY_LINES_MAX lines and CLIENT_REPLY_SIZE_MAX
 * octets as fed (each line + 2 for its CRLF); past either the feed says
 * CLIENT_REPLY_E_TOOBIG, so an endless "250-" continuation ends. (The
 * caller counts the octets of overlong lines it cut before feeding.)
 */
#ifndef PM_CLIENT_REPLY_H
#define PM_CLIENT_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define CLIENT_REPLY_MAX 512
/* RFC 5321 4.5.3.1.5 puts no limit on reply lines; real EHLO replies
 * have about 15. */
#define CLIENT_REPLY_LINES_MAX 100
#define CLIENT_REPLY_SIZE_MAX (64 * 1024)

struct client_reply {
	int code;		/* 3-digit code, set by the first line */
	int done;		/* the last line has been seen */
	unsigned lines;		/* fed so far */
	size_t size;		/* octets fed so far, CRLFs included */
	size_t len;
	char text[CLIENT_REPLY_MAX];
};

enum client_reply_res {
	CLIENT_REPLY_MORE = 0,	/* feed the next line */
	CLIENT_REPLY_DONE = 1,	/* complete: code and text are final */
	CLIENT_REPLY_E_SYNTAX = -1,	/* not a reply line, or code changed */
	CLIENT_REPLY_E_TOOBIG = -2	/* over the line or size limit */
};

void client_reply_reset(struct client_reply *r);
int client_reply_feed(struct client_reply *r, const char *line, size_t len);

/*
 * Sets *r to a reply of our own making (a diagnostic for DSNs), e.g.
 * client_reply_set(r, 554, "5.6.3 conversion required...").
 */
void client_reply_set(struct client_reply *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Why a delivery did not happen, for every pending recipient: our own
 * "NNN X.Y.Z text" and whether it is permanent. */
struct client_why {
	char text[CLIENT_REPLY_MAX];
	int perm;
};

/* vsnprintf into w->text (cut to fit, by design), and perm. */
void client_why_set(struct client_why *w, int perm, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* EHLO keywords we act on (RFC 2920, 1870, 6152, 3030, 6531, 2034;
 * STARTTLS RFC 3207; AUTH RFC 4954 with the mechanisms we speak). */
enum {
	CLIENT_EXT_PIPELINING = 1 << 0,
	CLIENT_EXT_SIZE = 1 << 1,
	CLIENT_EXT_8BITMIME = 1 << 2,
	CLIENT_EXT_BINARYMIME = 1 << 3,
	CLIENT_EXT_CHUNKING = 1 << 4,
	CLIENT_EXT_SMTPUTF8 = 1 << 5,
	CLIENT_EXT_ENHANCED = 1 << 6,
	CLIENT_EXT_STARTTLS = 1 << 7,
	CLIENT_EXT_AUTH_PLAIN = 1 << 8,	/* RFC 4616 */
	CLIENT_EXT_AUTH_LOGIN = 1 << 9	/* draft-murchison-sasl-login */
};

struct client_ext {
	unsigned flags;
	uint64_t size;		/* SIZE limit; 0 = none given (RFC 1870 4) */
};

/* One EHLO reply line after the code and separator ("SIZE 1000"). */
void client_ext_line(struct client_ext *e, const char *p, size_t n);

/*
 * DATA transparency: a "." at the start of a line is doubled (RFC 5321
 * 4.5.2). A line starts after CRLF; the state carries across calls.
 * client_dot_end() adds the CRLF a message must end with if it lacks
 * one, then the terminating ".CRLF".
 */
struct client_dot {
	int bol;	/* at the beginning of a line */
	int cr;		/* the previous octet was CR */
};

void client_dot_init(struct client_dot *s);
int client_dot_stuff(struct client_dot *s, const char *p, size_t n,
    struct buf *out);
int client_dot_end(struct client_dot *s, struct buf *out);

#endif
