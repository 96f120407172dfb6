/*
 * smtp_data: the result does not depend on how the input is cut, the end
 * is found only right after CRLF "." CRLF, the size limit holds, and the
 * wire flag agrees with client_wire_canonical over the output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "client/client_wire.h"
#include "smtp/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
collect(void *ctx, const char *p, size_t n)
{
	return buf_append(ctx, p, n);
}

static size_t
run(const char *in, size_t n, uint64_t max, size_t step, int bdat,
    struct smtp_data *d, struct buf *out)
{
	size_t off = 0, used, k;
	int r = SMTP_DATA_MORE;

	smtp_data_init(d, max, collect, out);
	if (bdat)
		smtp_data_chunk(d, n / 2);
	while (off < n && r == SMTP_DATA_MORE) {
		k = step < n - off ? step : n - off;
		r = bdat ? smtp_data_chunk_feed(d, in + off, k, &used) :
		    smtp_data_feed(d, in + off, k, &used);
		if (used > k || (r == SMTP_DATA_MORE && used != k))
			abort();
		off += used;
	}
	if (r == SMTP_DATA_END && !bdat && !(off == 3 ||
	    (off >= 5 && memcmp(in + off - 5, "\r\n.\r\n", 5) == 0)))
		abort();
	if (r == SMTP_DATA_END && bdat && off != n / 2)
		abort();
	if (max && out->len > max)
		abort();
	if (d->over != (max && d->size > max))
		abort();
	return off;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_data a, b;
	struct buf oa = BUF_INIT(0), ob = BUF_INIT(0);
	size_t ua, ub, step;
	uint64_t max;
	int bdat;

	if (size < 2)
		return 0;
	max = data[0] & 0x7f;
	bdat = data[0] >> 7;
	step = data[1] % 7 + 1;
	ua = run((const char *)data + 2, size - 2, max, size, bdat, &a, &oa);
	ub = run((const char *)data + 2, size - 2, max, step, bdat, &b, &ob);
	if (ua != ub || oa.len != ob.len ||
	    (oa.len && memcmp(oa.p, ob.p, oa.len) != 0) ||
	    a.size != b.size || a.bare_lf != b.bare_lf ||
	    a.bare_cr != b.bare_cr || a.received != b.received ||
	    a.eightbit != b.eightbit || a.mime_version != b.mime_version ||
	    a.content_type != b.content_type || a.nul != b.nul ||
	    a.long_line != b.long_line ||
	    smtp_data_wire_canonical(&a) != smtp_data_wire_canonical(&b))
		abort();
	/* the flag promises what the queue's client would check itself */
	if (!a.over && smtp_data_wire_canonical(&a) != (oa.len == 0 ||
	    (oa.p[oa.len - 1] == '\n' && client_wire_canonical(oa.p, oa.len))))
		abort();
	buf_free(&oa);
	buf_free(&ob);
	return 0;
}
