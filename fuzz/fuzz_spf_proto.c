/*
 * spf_proto: any bytes, as either side reads them. A line that parses
 * formats back to the same bytes; MORE only without a LF inside the
 * limit; every parsed field obeys its octet rules; and whatever comes
 * out of a response is safe in a reply and in header fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spf_proto.h"
#include "spf/spf_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
no_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

/* Header text: CR only before LF, LF only before a TAB (a fold) or at
 * the end of a field, followed by a field name we wrote. */
static void
header_safe(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->p[i];

		if (c == '\r' && (i + 1 >= b->len || b->p[i + 1] != '\n'))
			abort();
		if (c == '\n' && i + 1 < b->len && b->p[i + 1] != '\t' &&
		    strncmp(b->p + i + 1, "Received-SPF: ", 14) != 0)
			abort();
		if ((c < 0x20 && c != '\r' && c != '\n' && c != '\t') ||
		    c >= 0x7f)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	char out[SPF_PROTO_LINE_MAX + 1], reply[512];
	struct spf_req q;
	struct spf_res r;
	struct spf_verdict v;
	struct buf b = BUF_INIT(0);
	size_t used;
	int e, n;

	e = spf_proto_req_parse(p, size, &q, &used);
	if (e == SPF_PROTO_MORE &&
	    (memchr(p, '\n', size) != NULL || size >= SPF_PROTO_LINE_MAX))
		abort();
	if (e == SPF_PROTO_OK) {
		n = spf_proto_req_format(&q, out, sizeof out);
		if (n < 0 || (size_t)n != used || memcmp(out, p, used) != 0)
			abort();
		no_controls(q.ip);
		no_controls(q.helo);
		no_controls(q.id);
	}
	e = spf_proto_res_parse(p, size, &r, &used);
	if (e == SPF_PROTO_OK) {
		n = spf_proto_res_format(&r, out, sizeof out);
		if (n < 0 || (size_t)n != used || memcmp(out, p, used) != 0)
			abort();
		memset(&v, 0, sizeof v);
		v.result = r.result;
		memcpy(v.reason, r.reason, sizeof v.reason);
		memcpy(v.expl, r.expl, sizeof v.expl);
		spf_text_clean(v.id, sizeof v.id, r.expl, strlen(r.expl));
		spf_text_clean(v.helo, sizeof v.helo, r.reason,
		    strlen(r.reason));
		memcpy(v.ip, "192.0.2.1", 10);
		spf_report_reply(SPF_MODE_REJECT, 1, &v, reply, sizeof reply);
		no_controls(reply);
		if (spf_report_headers(&b, "mx.example", &v) != 0)
			abort();
		header_safe(&b);
		buf_free(&b);
	}
	n = (int)spf_text_clean(out, sizeof out, p, size);
	if ((size_t)n >= sizeof out || strlen(out) != (size_t)n)
		abort();
	no_controls(out);
	return 0;
}
