/*
 * proxy_reply: whatever a proxy target answers (any lines, fed to
 * client_reply as lib/client does), what smtpd tells its client is one
 * reply line "NNN X.Y.Z ..." CRLF with a 2xx/4xx/5xx code whose class the
 * enhanced code shares, and no other CR or LF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "client/client_reply.h"
#include "proxy/proxy_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct client_reply *r)
{
	struct buf b = BUF_INIT(0);
	size_t i;

	if (proxy_reply_format(&b, r, "2.0.0") < 0)
		abort();
	if (b.len < 11 || b.p[b.len - 2] != '\r' || b.p[b.len - 1] != '\n')
		abort();
	for (i = 0; i + 2 < b.len; i++)
		if (b.p[i] == '\r' || b.p[i] == '\n')
			abort();
	if ((b.p[0] != '2' && b.p[0] != '4' && b.p[0] != '5') ||
	    b.p[3] != ' ' || b.p[4] != b.p[0] || b.p[5] != '.')
		abort();
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct client_reply r;

	client_reply_reset(&r);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int res = client_reply_feed(&r, p, n);

		if (res == CLIENT_REPLY_DONE) {
			check(&r);
			client_reply_reset(&r);
		} else if (res < 0)
			client_reply_reset(&r);
		p = nl ? nl + 1 : end;
	}
	return 0;
}
