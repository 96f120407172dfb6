/* libFuzzer: the config parser, checker and dumper over arbitrary bytes;
 * whatever parses cleanly must dump to text that parses to the same dump. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf/cf_check.h"
#include "cf/cf_dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf cf, cf2;
	struct cf_diag d, d2;
	struct buf out = BUF_INIT(0), out2 = BUF_INIT(0);

	cf_init(&cf);
	cf_diag_init(&d);
	cf_parse_text(&cf, "f", (const char *)data, size, &d);
	if (d.nerr == 0) {
		cf_check(&cf, &d);
		cf_dump(&cf, &out);
		cf_init(&cf2);
		cf_diag_init(&d2);
		cf_parse_text(&cf2, "f", out.p ? out.p : "", out.len, &d2);
		cf_dump(&cf2, &out2);
		if (d2.nerr || out.len != out2.len ||
		    (out.len && memcmp(out.p, out2.p, out.len) != 0))
			abort(); /* the dump must round-trip */
		cf_diag_free(&d2);
		cf_free(&cf2);
	}
	buf_free(&out);
	buf_free(&out2);
	cf_diag_free(&d);
	cf_free(&cf);
	return 0;
}
