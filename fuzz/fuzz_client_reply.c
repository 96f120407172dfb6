/*
 * client_reply: the queue's view of what a remote server says. Any bytes,
 * split into lines as client_conn does (LF, then an optional CR; lines cut
 * at CLIENT_CONN_LINE_MAX), fed as replies: the result is always one of
 * the three, a complete reply has a code from 200 to 559 and a text that
 * starts with it, holds no control character and fits its buffer; the
 * line and size caps hold; the EHLO keyword scan takes every line; a
 * reply fed again after reset gives the same result (no hidden state).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "client/client_conn.h"
#include "client/client_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct client_reply *r, int res)
{
	size_t i;

	if (res != CLIENT_REPLY_MORE && res != CLIENT_REPLY_DONE &&
	    res != CLIENT_REPLY_E_SYNTAX && res != CLIENT_REPLY_E_TOOBIG)
		abort();
	if (r->lines > CLIENT_REPLY_LINES_MAX || r->size > CLIENT_REPLY_SIZE_MAX)
		abort();
	if (r->len >= sizeof r->text || r->text[r->len] != '\0' ||
	    strlen(r->text) != r->len)
		abort();
	for (i = 0; i < r->len; i++)
		if ((unsigned char)r->text[i] < 0x20 || r->text[i] == 0x7f)
			abort();
	if (res == CLIENT_REPLY_DONE) {
		if (!r->done || r->code < 200 || r->code > 559 || r->len < 3 ||
		    r->text[0] != '0' + r->code / 100 ||
		    r->text[1] != '0' + r->code / 10 % 10 ||
		    r->text[2] != '0' + r->code % 10)
			abort();
	}
}

/* Feeds the lines of p as replies; the results in ev. */
static void
replies(const char *p, size_t n, struct buf *ev)
{
	struct client_reply r;
	struct client_ext ext;
	size_t off = 0;

	client_reply_reset(&r);
	memset(&ext, 0, sizeof ext);
	while (off < n) {
		const char *nl = memchr(p + off, '\n', n - off);
		size_t ll = nl ? (size_t)(nl - (p + off)) : n - off;
		size_t feed = ll;
		int res;

		if (feed > 0 && p[off + feed - 1] == '\r')
			feed--;
		if (feed > CLIENT_CONN_LINE_MAX)
			feed = CLIENT_CONN_LINE_MAX;
		res = client_reply_feed(&r, p + off, feed);
		check(&r, res);
		if (feed > 4)
			client_ext_line(&ext, p + off + 4, feed - 4);
		buf_printf(ev, "%d:%d;", res, r.code);
		if (res < 0)
			client_reply_reset(&r);
		off += ll + 1;
	}
	buf_printf(ev, "ext%x", ext.flags);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);

	replies((const char *)data, size, &a);
	replies((const char *)data, size, &b);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
