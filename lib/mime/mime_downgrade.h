/*
 * mime_downgrade: turns an 8BITMIME (RFC 6152) or BINARYMIME (RFC 3030)
 * message into 7-bit MIME for a server that offers neither, as RFC 1652 /
 * RFC 6152 section 3 ask of a relay, so that the result decodes to the
 * same content.
 *
 * The structure is walked (RFC 2045, RFC 2046): multipart bodies are split
 * at their delimiters and each part converted; a message/rfc822 body is
 * converted as a message; every leaf whose body is not 7-bit clean gets a
 * fresh Content-Transfer-Encoding (quoted-printable for text/(any) with CRLF
 * lines, base64 otherwise) and only that header field changes. See the
 * comment at the top of mime_downgrade.c for the exact rules.
 *
 * Both functions are pure: no I/O, no globals; `in` is the whole message as
 * spooled (header, empty line, body; CRLF line ends, after unstuffing).
 *
 * Limits: MIME_DOWNGRADE_MAX_DEPTH nested entities, MIME_DOWNGRADE_MAX_PARTS
 * entities in all, and an output cap of 1.5 x input + 64 KiB + 128 octets
 * per entity (base64 is 1.37 x; QP is only chosen when it is at most 64
 * octets longer than base64 would be). The cap is applied on top of out->max.
 */
#ifndef PM_MIME_DOWNGRADE_H
#define PM_MIME_DOWNGRADE_H

#include <stddef.h>

#include "base/buf.h"

#define MIME_DOWNGRADE_MAX_DEPTH 32
#define MIME_DOWNGRADE_MAX_PARTS 10000
#define MIME_DOWNGRADE_MAX_LINE 998	/* RFC 5322 2.1.1, without CRLF */

/*
 * Converts a whole message (header + body, CRLF line endings as spooled)
 * into valid 7-bit MIME that decodes to the same content. out receives the
 * result, appended (CRLF lines, every line <= 998 octets, no NUL, no octet
 * >= 0x80). Returns 0, or -1 with *why set (static text) when the input
 * cannot be converted: 8-bit octets, NUL, bare CR/LF or over-long lines in
 * a header field (RFC 6532 headers cannot be downgraded here; the caller
 * then fails permanently with 5.6.3 / 5.6.7), 8-bit data under an unknown
 * transfer encoding, or a limit above. On failure out holds partial output
 * after its original length; the caller discards it.
 */
int mime_downgrade(const char *in, size_t inlen, struct buf *out,
    const char **why);

/*
 * 1 if the message needs conversion for a 7-bit-only server: any octet
 * >= 0x80, NUL, bare CR or LF, or a line longer than 998 octets.
 */
int mime_needs_downgrade(const char *in, size_t inlen);

#endif
