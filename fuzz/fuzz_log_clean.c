/*
 * log_clean: no crash on any bytes and any room; the result fits, ends in
 * NUL, holds no C0 control, DEL, C1 control or bidi/separator code point
 * (utf8.h), and is well-formed UTF-8 throughout.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char out[512];
	size_t cap, n, i, l;
	uint32_t cp = 0;

	if (size < 1)
		return 0;
	cap = 1 + data[0] % sizeof out;
	n = log_clean((char *)out, cap, (const char *)data + 1, size - 1);
	if (n >= cap || out[n] != '\0' || strlen((char *)out) != n)
		abort();
	for (i = 0; i < n; i += l) {
		if (out[i] < 0x20 || out[i] == 0x7f)
			abort();
		if (out[i] < 0x80) {
			l = 1;
			continue;
		}
		l = utf8_seq_len(out + i, n - i, &cp);
		if (l == 0 || utf8_hidden(cp))
			abort();
	}
	return 0;
}
