/*
 * net_proxy: any input. A header found is found in the same place however
 * the bytes arrive; every truncation of it asks for more with a bound
 * that never reaches past it (so the reader consumes no SMTP byte); the
 * result never depends on what follows the header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reader's loop (net_proxy_read) with reads cut to chunk octets. */
static int
read_like(const uint8_t *in, size_t n, size_t chunk, size_t *have,
    struct net_proxy_hdr *h)
{
	int r;

	*have = 0;
	while ((r = net_proxy_parse(in, *have, h)) == NET_PROXY_MORE) {
		size_t want = h->len - *have;

		if (h->len <= *have || h->len > NET_PROXY_V2_MAX)
			abort();
		if (*have == n)
			break;
		if (want > chunk)
			want = chunk;
		if (want > n - *have)
			want = n - *have;
		*have += want;
	}
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_proxy_hdr h, h2;
	size_t chunk, have, k;
	char text[64];
	int r, r2;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] % 32) + 1;
	data++;
	size--;
	r = net_proxy_parse(data, size, &h);
	if (r == NET_PROXY_MORE && h.len <= size)
		abort();
	if (r == NET_PROXY_OK) {
		if (h.len > size || h.len > NET_PROXY_V2_MAX ||
		    (h.version == 1 && h.len > NET_PROXY_V1_MAX))
			abort();
		/* nothing after the header counts */
		r2 = net_proxy_parse(data, h.len, &h2);
		if (r2 != NET_PROXY_OK || memcmp(&h, &h2, sizeof h) != 0)
			abort();
		for (k = 0; k < h.len; k++)
			if (net_proxy_parse(data, k, &h2) != NET_PROXY_MORE ||
			    h2.len <= k || h2.len > h.len)
				abort();
		if (net_proxy_source(&h, text, sizeof text) == 0 &&
		    memchr(text, '\0', sizeof text) == NULL)
			abort();
		if (h.local && h.family != 0)
			abort();
	}
	r2 = read_like(data, size, chunk, &have, &h2);
	if (r == NET_PROXY_OK || r == NET_PROXY_MORE) {
		if (r2 != r || (r == NET_PROXY_OK && (have != h.len ||
		    memcmp(&h, &h2, sizeof h) != 0)))
			abort();
	} else if (r2 >= 0) {
		abort();
	}
	if (net_proxy_strerror(r) == NULL)
		abort();
	return 0;
}
