/*
 * Fuzz the envelope decoder, the trust boundary for spool files the runner
 * did not write (postmaster-inject's maildrop). Whatever decodes must
 * re-encode, and the re-encoding must decode to the same bytes again: the
 * encoder and decoder agree on one language.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "spool/spool_env.h"
#include "spool/spool_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct spool_env_limits lim = { 256, 64, 8192 };
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	struct spool_env e, e2;
	struct spool_state st;
	size_t used = 0, used2 = 0;
	int r;

	r = spool_env_decode(&e, data, size, &lim, &used);
	if (r == SPOOL_ENV_OK) {
		if (used > size)
			abort();
		if (spool_env_encode(&a, &e, &lim) != SPOOL_ENV_OK)
			abort();
		/* Canonical format: decoding is exact, so bytes round-trip;
		 * a file from before the wire record gains "wire 0". */
		if (spool_env_wire_offset((const char *)data, used) == 0) {
			size_t w = spool_env_wire_offset(a.p, a.len);

			if (w < 5 || a.len != used + 7 ||
			    memcmp(a.p + w - 5, "wire 0\n", 7) != 0 ||
			    memcmp(a.p, data, w - 5) != 0 ||
			    memcmp(a.p + w + 2, data + w - 5, used - (w - 5)))
				abort();
		} else if (a.len != used || memcmp(a.p, data, used) != 0)
			abort();
		if (spool_env_decode(&e2, a.p, a.len, &lim, &used2) !=
		    SPOOL_ENV_OK || used2 != a.len)
			abort();
		if (spool_env_encode(&b, &e2, &lim) != SPOOL_ENV_OK ||
		    b.len != a.len || memcmp(a.p, b.p, a.len) != 0)
			abort();
		spool_env_free(&e2);
		/* The rest of the input as this message's state file. */
		if (spool_state_decode(&st, data + used, size - used,
		    e.ndlv) == SPOOL_ENV_OK) {
			buf_reset(&a);
			if (spool_state_encode(&a, &st) != SPOOL_ENV_OK ||
			    a.len != size - used ||
			    memcmp(a.p, data + used, a.len) != 0)
				abort();
		}
		spool_state_free(&st);
	}
	spool_env_free(&e);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
