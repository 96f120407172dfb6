/*
 * spf_proto: the pipe protocol between postmaster-smtpd and its SPF child
 * (postmaster-spf). Pure: bytes in, a struct out, and back; no I/O, no
 * allocation.
 *
 * Both directions carry network-derived text (the client's HELO and MAIL
 * FROM one way, a domain's explanation and libspf2's messages the other),
 * so each side parses what it reads as strictly as a protocol parser of
 * the network: one line per message, fields separated by TAB, ended by
 * LF, at most SPF_PROTO_LINE_MAX octets with the LF.
 *
 *   request:  KIND TAB IP TAB HELO TAB IDENTITY LF
 *             KIND is "mailfrom" or "helo" (RFC 7208 2.3, 2.4);
 *             IDENTITY is the address whose domain is checked
 *             ("postmaster@HELO" for the HELO identity).
 *   response: RESULT TAB REASON TAB EXPLANATION LF
 *             RESULT is one of the RFC 7208 2.6 names; REASON is a short
 *             text for the log and header comments; EXPLANATION the
 *             domain's exp= text (RFC 7208 6.2), empty when there is none.
 *
 * Octets allowed in a field: printable ASCII 0x20-0x7e, and in the
 * request's IDENTITY also 0x80-0xff (an SMTPUTF8 local part); never TAB,
 * CR, LF, NUL, other C0 controls or DEL. The request's KIND, IP and HELO
 * fields are non-empty and hold no space. Field lengths are capped by
 * the SPF_*_MAX sizes below (each with its NUL).
 *
 * parse(): SPF_PROTO_OK with *used = octets of the line (LF included);
 * SPF_PROTO_MORE when p[0..n) holds no LF yet and may still become a
 * line; SPF_PROTO_E_* otherwise (the peer is broken: stop talking to it).
 * format(): the line's length, or -1 when a field breaks the rules or
 * the line does not fit cap.
 */
#ifndef PM_SPF_PROTO_H
#define PM_SPF_PROTO_H

#include <stddef.h>

#define SPF_PROTO_LINE_MAX 1400
#define SPF_IP_MAX 46    /* INET6_ADDRSTRLEN */
#define SPF_HELO_MAX 256 /* RFC 5321 4.5.3.1.2 domain, + NUL */
#define SPF_ID_MAX 322   /* local-part 64 + "@" + domain 255 + NUL */
#define SPF_TEXT_MAX 301 /* reason, explanation: 300 + NUL */

enum spf_kind { SPF_KIND_MAILFROM = 0, SPF_KIND_HELO = 1 };

/* RFC 7208 2.6 */
enum spf_result {
	SPF_RES_NONE = 0,
	SPF_RES_NEUTRAL,
	SPF_RES_PASS,
	SPF_RES_FAIL,
	SPF_RES_SOFTFAIL,
	SPF_RES_TEMPERROR,
	SPF_RES_PERMERROR
};

enum spf_proto_status {
	SPF_PROTO_OK = 0,
	SPF_PROTO_MORE = 1,
	SPF_PROTO_E_TOOLONG = -1,  /* no LF within SPF_PROTO_LINE_MAX */
	SPF_PROTO_E_FIELDS = -2,   /* wrong number of fields */
	SPF_PROTO_E_OCTET = -3,    /* an octet a field may not hold */
	SPF_PROTO_E_FIELDLEN = -4, /* a field over its cap, or empty */
	SPF_PROTO_E_KIND = -5,     /* unknown KIND or RESULT */
};

struct spf_req {
	enum spf_kind kind;
	char ip[SPF_IP_MAX];
	char helo[SPF_HELO_MAX];
	char id[SPF_ID_MAX];
};

struct spf_res {
	enum spf_result result;
	char reason[SPF_TEXT_MAX];
	char expl[SPF_TEXT_MAX];
};

int spf_proto_req_parse(const char *p, size_t n, struct spf_req *r,
    size_t *used);
int spf_proto_res_parse(const char *p, size_t n, struct spf_res *r,
    size_t *used);
int spf_proto_req_format(const struct spf_req *r, char *out, size_t cap);
int spf_proto_res_format(const struct spf_res *r, char *out, size_t cap);

/* "pass", "fail", ... (RFC 7208 2.6); NULL for a value out of range. */
const char *spf_result_name(enum spf_result r);
/* The result named by s[0..n): 0 and *r set, or -1. */
int spf_result_parse(const char *s, size_t n, enum spf_result *r);

/*
 * Text from libspf2 or a domain's record made safe for a reply, a header
 * comment or a log line: every octet outside 0x20-0x7e becomes '?', runs
 * of spaces stay as they are, and the text is cut to fit out[0..cap)
 * with its NUL. Returns the length.
 */
size_t spf_text_clean(char *out, size_t cap, const char *in, size_t n);

#endif
