/*
 * client_wire over arbitrary spool content, cut into two pieces at an
 * octet the input chooses: text output is canonical CRLF lines of at
 * most 998 octets; the cut changes nothing; the count matches the
 * output, and client_wire_changed() says whether it differs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "client/client_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run(const char *in, size_t n, size_t cut, int binary, struct buf *out,
    uint64_t *count)
{
	struct client_wire w;

	client_wire_init(&w, binary);
	if (client_wire_feed(&w, in, cut, out) < 0 ||
	    client_wire_feed(&w, in + cut, n - cut, out) < 0 ||
	    client_wire_end(&w, out) < 0)
		abort();
	*count = w.count;
	return client_wire_changed(&w, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1;
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	uint64_t ca, cb;
	size_t n, cut;
	int binary, changed;

	if (size < 1)
		return 0;
	n = size - 1;
	binary = data[0] & 1;
	cut = n ? (size_t)(data[0] >> 1) * n / 127 : 0;
	if (cut > n)
		cut = n;
	changed = run(in, n, 0, binary, &a, &ca);
	(void)run(in, n, cut, binary, &b, &cb);
	if (a.len != b.len || (a.len && memcmp(a.p, b.p, a.len) != 0))
		abort();	/* the cut mattered */
	if (ca != a.len || cb != b.len)
		abort();
	if (!changed != (a.len == n && (n == 0 || memcmp(a.p, in, n) == 0)))
		abort();	/* a change not reported */
	if (!binary && !client_wire_canonical(a.p, a.len))
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
