/*
 * smtp_addr: RFC 5321 4.1.2 paths and ESMTP parameters of MAIL and RCPT.
 *
 * Input is the argument smtp_cmd leaves after "FROM:"/"TO:": a path in
 * angle brackets, then zero or more SP-separated esmtp-params. Accepted:
 *   - "<>" as reverse-path; "<postmaster>" (any case, no domain) as
 *     forward-path (RFC 5321 4.1.1.3); with SMTP_PATH_LOCAL any bare
 *     local name "<joe>" (an unquoted Dot-string without domain) as
 *     forward-path, for instances with local-rcpt-to;
 *   - source routes "<@a,@b:u@d>", syntax-checked and dropped (RFC 5321
 *     appendix C, 4.1.1.3);
 *   - Dot-string and Quoted-string local parts with quoted pairs;
 *   - domains (letter-digit-hyphen labels of at most 63 octets) and address
 *     literals [1.2.3.4] and [IPv6:...]; General-address-literal is refused,
 *     nothing standardises a tag for it;
 *   - UTF-8 (RFC 6531 3.3) in local parts and domain labels, only when the
 *     transaction has SMTPUTF8; malformed UTF-8 (overlong, surrogates,
 *     > U+10FFFF, truncated) is refused always. CR, LF, NUL and other
 *     controls are never accepted, so a path can never inject a line into
 *     the spool or a header; nor are the C1 controls and the bidi and
 *     separator code points of utf8.h, which would reach logs, Received
 *     and Return-Path and show something other than the address.
 * Limits (RFC 5321 4.5.3.1): local part 64 octets and domain 255 octets as
 * sent, the whole path 256 octets with its brackets and source route.
 *
 * Output: struct smtp_path holds copies (no pointers into the input): the
 * canonical address local@domain with the local part quoted only when it
 * is not a Dot-string (then only '"' and '\' are escaped), the domain lower
 * cased (ASCII only; literals keep the "IPv6:" tag spelling).
 *
 * Errors, and the reply the caller is expected to send:
 *   SMTP_ADDR_E_SYNTAX          501 5.1.7 (MAIL) / 501 5.1.3 (RCPT)
 *   SMTP_ADDR_E_TOOLONG         501 5.1.3 Path too long (4.5.3.1.3)
 *   SMTP_ADDR_E_BADUTF8         501 5.1.7 / 501 5.1.3 (malformed UTF-8)
 *   SMTP_ADDR_E_NEEDUTF8        553 5.6.7 non-ASCII without SMTPUTF8
 *   SMTP_ADDR_E_PARAM           501 5.5.4 bad parameter syntax or value
 *   SMTP_ADDR_E_PARAM_DUP       501 5.5.4 parameter given twice
 *   SMTP_ADDR_E_PARAM_UNKNOWN   555 5.5.4 (RFC 5321 4.1.1.11)
 *   SMTP_ADDR_E_HIDDEN          501 5.1.7 / 501 5.1.3: a C1 control or a
 *                               bidi or separator code point (utf8.h)
 * A SIZE value too large for 64 bits saturates to UINT64_MAX (so the
 * caller answers 552 5.3.4, RFC 1870 6) instead of wrapping.
 */
#ifndef PM_SMTP_ADDR_H
#define PM_SMTP_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_LOCAL_MAX	64
#define SMTP_DOMAIN_MAX	255
#define SMTP_PATH_MAX	256

/* Extensions the session advertised; params of others are "unknown". */
#define SMTP_EXT_SIZE		0x01u
#define SMTP_EXT_8BITMIME	0x02u
#define SMTP_EXT_BINARYMIME	0x04u
#define SMTP_EXT_SMTPUTF8	0x08u
#define SMTP_EXT_ALL		0x0fu

/* smtp_addr_parse_path() flags */
#define SMTP_PATH_REVERSE	0x01	/* allow "<>" */
#define SMTP_PATH_FORWARD	0x02	/* allow "<postmaster>" */
#define SMTP_PATH_UTF8		0x04	/* SMTPUTF8 given */
#define SMTP_PATH_LOCAL		0x08	/* allow "<name>", no domain */

enum smtp_addr_err {
	SMTP_ADDR_OK = 0,
	SMTP_ADDR_E_SYNTAX = -1,
	SMTP_ADDR_E_TOOLONG = -2,
	SMTP_ADDR_E_BADUTF8 = -3,
	SMTP_ADDR_E_NEEDUTF8 = -4,
	SMTP_ADDR_E_PARAM = -5,
	SMTP_ADDR_E_PARAM_DUP = -6,
	SMTP_ADDR_E_PARAM_UNKNOWN = -7,
	SMTP_ADDR_E_HIDDEN = -8
};

enum smtp_body {
	SMTP_BODY_NONE = 0,	/* no BODY= given */
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME
};

struct smtp_path {
	char addr[SMTP_PATH_MAX + 1];	/* canonical; "" for <> */
	size_t addrlen;
	size_t locallen;		/* addr[0..locallen): local part */
	char domain[SMTP_DOMAIN_MAX + 1];	/* lower case; "" if none */
	size_t domainlen;
	int null;			/* "<>" */
	int postmaster;			/* "<postmaster>" */
	int local;			/* "<name>" (SMTP_PATH_LOCAL) */
	int utf8;			/* has non-ASCII octets */
};

struct smtp_params {
	int has_size;
	uint64_t size;		/* RFC 1870, saturating */
	enum smtp_body body;	/* RFC 1652, RFC 3030 */
	int smtputf8;		/* RFC 6531 */
};

/* MAIL FROM argument. ext: SMTP_EXT_* the session advertised. */
int smtp_addr_parse_mail(const char *arg, size_t len, unsigned ext,
    struct smtp_path *path, struct smtp_params *par);

/*
 * RCPT TO argument. flags: SMTP_PATH_UTF8 when the transaction's MAIL had
 * SMTPUTF8, SMTP_PATH_LOCAL when bare local names are allowed.
 */
int smtp_addr_parse_rcpt(const char *arg, size_t len, unsigned ext,
    int flags, struct smtp_path *path, struct smtp_params *par);

/*
 * A path alone at p[0..n); *used gets its length up to and including '>'.
 * Non-ASCII is checked for well-formedness here; SMTP_PATH_UTF8 decides
 * whether it is then allowed.
 */
int smtp_addr_parse_path(const char *p, size_t n, int flags,
    struct smtp_path *path, size_t *used);

/* 0 if p[0..n) is "[IPv4]" or "[IPv6:...]", else SMTP_ADDR_E_SYNTAX. */
int smtp_addr_literal_check(const char *p, size_t n);

#endif
