/*
 * mime_downgrade over arbitrary messages: whatever converts must be 7-bit
 * clean with lines <= 998 and convert again to itself; and both codecs
 * must round-trip the raw input with lines of at most 76 characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "mime/mime_codec.h"
#include "mime/mime_downgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
max_line(const char *p, size_t n, size_t max)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
			i++;
			col = 0;
		} else if (++col > max)
			return 0;
	}
	return 1;
}

static void
roundtrip(const char *in, size_t n, int qp)
{
	struct buf enc = BUF_INIT(0), dec = BUF_INIT(0);

	if (qp) {
		if (mime_codec_qp_encode(in, n, &enc) < 0)
			abort();
		if (mime_codec_qp_size(in, n) != enc.len)
			abort();
		mime_codec_qp_decode(enc.p, enc.len, &dec);
	} else {
		if (mime_codec_base64_encode(in, n, &enc) < 0)
			abort();
		if (mime_codec_base64_size(n) != enc.len)
			abort();
		mime_codec_base64_decode(enc.p, enc.len, &dec);
	}
	if (mime_needs_downgrade(enc.p, enc.len) ||
	    !max_line(enc.p, enc.len, MIME_CODEC_LINE))
		abort();
	if (dec.len != n || (n && memcmp(dec.p, in, n) != 0))
		abort();
	buf_free(&enc);
	buf_free(&dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *why = NULL;
	struct buf out = BUF_INIT(0), again = BUF_INIT(0);

	if (mime_downgrade(in, size, &out, &why) == 0) {
		if (mime_needs_downgrade(out.p, out.len))
			abort();	/* not 7-bit clean */
		if (mime_downgrade(out.p, out.len, &again, &why) != 0 ||
		    again.len != out.len ||
		    (out.len && memcmp(again.p, out.p, out.len) != 0))
			abort();	/* a second pass must change nothing */
	} else if (why == NULL)
		abort();
	roundtrip(in, size, 1);
	roundtrip(in, size, 0);
	buf_free(&out);
	buf_free(&again);
	return 0;
}
