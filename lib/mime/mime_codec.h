/*
 * mime_codec: the two RFC 2045 content-transfer-encodings, both ways.
 *
 * Encoders produce CRLF lines of at most 76 characters (RFC 2045 6.7 rule
 * 5, 6.8), so their output is 7-bit, NUL-free and safe for any SMTP
 * server. Decoders are lenient, as RFC 2045 6.7 and 6.8 ask: malformed
 * "=" escapes pass through literally, characters outside the base64
 * alphabet are ignored.
 *
 * Quoted-printable: a CRLF pair in the input is a line break and stays a
 * hard CRLF in the output; every other octet (bare CR, bare LF, NUL, 8-bit,
 * "=") that is not safe literally is written =XX, so decode(encode(x)) == x
 * for any x. A "-" starting an encoded line is also written =2D: no line of
 * our output can then look like a multipart delimiter (RFC 2046 5.1.1),
 * whatever boundary the enclosing entity uses.
 *
 * All functions append to `out` (never reset it) and return 0, or -1 when
 * the buffer cannot grow (errno from buf: ENOMEM or ERANGE past its max).
 */
#ifndef PM_MIME_CODEC_H
#define PM_MIME_CODEC_H

#include <stddef.h>

#include "base/buf.h"

#define MIME_CODEC_LINE 76	/* RFC 2045 6.7 (5), 6.8 */

int mime_codec_qp_encode(const char *in, size_t len, struct buf *out);
int mime_codec_qp_decode(const char *in, size_t len, struct buf *out);
/* Exact length mime_codec_qp_encode would append; lets callers pick the
 * smaller encoding before producing either. */
size_t mime_codec_qp_size(const char *in, size_t len);

int mime_codec_base64_encode(const char *in, size_t len, struct buf *out);
int mime_codec_base64_decode(const char *in, size_t len, struct buf *out);
size_t mime_codec_base64_size(size_t len);

#endif
