/*
 * smtp_reply: format SMTP replies (RFC 5321 4.2) into a struct buf.
 *
 * Enhanced status codes (RFC 2034 4, RFC 3463): every line of every reply
 * carries one, except the three places RFC 2034 exempts or cannot cover:
 * the greeting, the replies to HELO/EHLO (and LHLO, by analogy, RFC 2033),
 * and 3xx replies (status-code classes are 2, 4 and 5 only). Pass
 * enh == NULL there. When given, the code's class must match the reply's
 * first digit; a mismatch is a bug and returns -1 with errno EINVAL.
 *
 * Text is made safe: CR, LF and other controls become '?', so client data
 * echoed in a reply can never forge a reply line; each line is cut to 512
 * octets with its CRLF (RFC 5321 4.5.3.1.5).
 *
 * The buffer is the caller's; replies are appended, so several pipelined
 * replies accumulate for one write (RFC 2920). Returns 0, or -1 (errno
 * from buf: ENOMEM/ERANGE, or EINVAL) with the buffer unchanged.
 */
#ifndef PM_SMTP_REPLY_H
#define PM_SMTP_REPLY_H

#include <stdarg.h>

#include "base/buf.h"

#define SMTP_REPLY_LINE_MAX 512

/* One line; last == 0 makes it a continuation ("250-"). */
int smtp_reply_line(struct buf *b, int code, const char *enh, int last,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int smtp_reply_vline(struct buf *b, int code, const char *enh, int last,
    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* A complete single-line reply. */
int smtp_reply(struct buf *b, int code, const char *enh, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* The reply code of the last complete reply in b[0..len), or 0. */
int smtp_reply_code(const char *p, size_t len);

/* A reply line the caller formatted whole ("250 2.0.0 Ok ..."): appends
 * it with CRLF. For drivers whose callbacks build their own replies. */
int smtp_reply_text(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
