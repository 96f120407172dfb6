/*
 * proxy_reply: a proxy target's reply as the reply smtpd gives its own
 * client. Pure.
 *
 * The reply is one line (client_reply keeps the first line and the text
 * of the others, controls already replaced, at most CLIENT_REPLY_MAX-1
 * octets), so a target can neither end our reply early nor inject a
 * line: "NNN X.Y.Z text" CRLF. Where the target gave no enhanced status
 * code (RFC 3463), ours is added: enh_ok for 2xx, 4.0.0 or 5.0.0 else.
 * A reply that is not 2xx, 4xx or 5xx (a bug at the target) is given
 * as 451 4.0.0 or 554 5.0.0 with the target's text.
 */
#ifndef PM_PROXY_REPLY_H
#define PM_PROXY_REPLY_H

#include "base/buf.h"
#include "client/client_reply.h"

/* 0, or -1 out of memory. */
int proxy_reply_format(struct buf *out, const struct client_reply *r,
    const char *enh_ok);

#endif
