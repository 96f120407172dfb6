/*
 * spf_untrust: any message. The output is the input with the prefix
 * inserted (so removing every inserted prefix gives the input back), the
 * same whatever the chunking (first byte: chunk size), and nothing after
 * the header section changes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spf_untrust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
run(const char *p, size_t n, size_t chunk, struct buf *out, unsigned *ren)
{
	struct spf_untrust u;
	size_t i;

	spf_untrust_init(&u, "mx.example");
	for (i = 0; i < n; i += chunk)
		if (spf_untrust_feed(&u, p + i, n - i < chunk ? n - i : chunk,
		        out) < 0)
			abort();
	if (spf_untrust_finish(&u, out) < 0)
		abort();
	*ren = u.renamed;
}

/* p[0..n) without the prefix wherever it starts a line, into out. */
static void
strip(const char *p, size_t n, struct buf *out)
{
	const size_t plen = strlen(SPF_UNTRUST_PREFIX);
	size_t i = 0;
	int bol = 1;

	while (i < n) {
		if (bol && n - i >= plen &&
		    memcmp(p + i, SPF_UNTRUST_PREFIX, plen) == 0) {
			i += plen;
			continue;
		}
		bol = p[i] == '\n';
		buf_append_byte(out, p[i++]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	struct buf sa = BUF_INIT(0), sb = BUF_INIT(0);
	size_t chunk;
	unsigned ra, rb;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] % 16) + 1;
	run((const char *)data + 1, size - 1, size, &a, &ra);
	run((const char *)data + 1, size - 1, chunk, &b, &rb);
	if (a.len != b.len || ra != rb ||
	    (a.len && memcmp(a.p, b.p, a.len) != 0))
		abort();
	if (a.len != size - 1 + ra * strlen(SPF_UNTRUST_PREFIX))
		abort();
	/* nothing but prefixes at line starts was added */
	strip(a.p ? a.p : "", a.len, &sa);
	strip((const char *)data + 1, size - 1, &sb);
	if (sa.len != sb.len || (sa.len && memcmp(sa.p, sb.p, sa.len) != 0))
		abort();
	buf_free(&a);
	buf_free(&b);
	buf_free(&sa);
	buf_free(&sb);
	return 0;
}
