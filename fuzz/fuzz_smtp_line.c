/*
 * smtp_line: any input, any chunking, gives the same lines and errors,
 * every line lies inside the input, and the driver never has to hold
 * more than the limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "smtp/smtp_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
run(const char *in, size_t n, size_t max, size_t step, struct buf *ev)
{
	struct smtp_line_rd rd;
	struct buf pend = BUF_INIT(0);
	size_t off = 0, used, ll, k;
	const char *line;
	int r;

	smtp_line_init(&rd, max);
	while (off < n) {
		k = step < n - off ? step : n - off;
		if (buf_append(&pend, in + off, k) < 0)
			abort();
		off += k;
		for (;;) {
			r = smtp_line_get(&rd, pend.p, pend.len, &line, &ll,
			    &used);
			if (used > pend.len)
				abort();
			if (r == SMTP_LINE_OK) {
				if (line != pend.p || ll + 2 != used ||
				    used > rd.max ||
				    memchr(line, '\n', ll) != NULL ||
				    memchr(line, '\r', ll) != NULL ||
				    memchr(line, '\0', ll) != NULL)
					abort();
				buf_append_byte(ev, 'L');
				buf_append(ev, line, ll);
			} else if (r < 0)
				buf_printf(ev, "E%d", r);
			buf_consume(&pend, used);
			if (r == SMTP_LINE_MORE)
				break;
		}
		if (pend.len > rd.max)
			abort();
	}
	buf_free(&pend);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	size_t max, step;

	if (size < 2)
		return 0;
	max = data[0] < 8 ? 0 : data[0];
	step = (data[1] % 16) + 1;
	run((const char *)data + 2, size - 2, max, size, &a);
	run((const char *)data + 2, size - 2, max, step, &b);
	if (a.len != b.len || (a.len && memcmp(a.p, b.p, a.len) != 0))
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
