/*
 * spf_hello: any bytes, as the postmaster-spf service reads them from a
 * connection. A line that parses formats back to the same bytes (but a
 * DNS field "-", which formats as "-" again); MORE only without a LF
 * inside the limit; the receiver and DNS server hold no control octet,
 * space or 8-bit octet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spf_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	char out[SPF_HELLO_LINE_MAX];
	struct spf_hello h;
	size_t used, i;
	int e, n;

	e = spf_hello_parse(p, size, &h, &used);
	if (e == SPF_PROTO_MORE &&
	    (memchr(p, '\n', size) != NULL || size >= SPF_HELLO_LINE_MAX))
		abort();
	if (e != SPF_PROTO_OK)
		return 0;
	for (i = 0; h.receiver[i]; i++)
		if ((unsigned char)h.receiver[i] <= 0x20 ||
		    (unsigned char)h.receiver[i] >= 0x7f)
			abort();
	for (i = 0; h.dns[i]; i++)
		if ((unsigned char)h.dns[i] <= 0x20 ||
		    (unsigned char)h.dns[i] >= 0x7f)
			abort();
	if (h.budget_ms == 0)
		abort();
	n = spf_hello_format(&h, out, sizeof out);
	if (n < 0 || (size_t)n != used || memcmp(out, p, used) != 0)
		abort();
	return 0;
}
