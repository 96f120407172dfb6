#include <stdio.h>
#include <string.h>

#include "base/crlf.h"
#include "tap.h"

static const struct {
	const char *in, *want;
} cases[] = {
	{ "", "" },
	{ "a\r\nb\r\n", "a\nb\n" },
	/* bare CR and bare LF stay (BINARYMIME may carry both) */
	{ "a\rb\nc", "a\rb\nc" },
	{ "\r\r\n", "\r\n" },
	{ "\r\r\r", "\r\r\r" },
	{ "x\r", "x\r" },
	{ "\n\r\n\r", "\n\n\r" },
	{ ".\r\n..\r\n", ".\n..\n" },
};

/* The whole stream through crlf_to_lf in chunks of len bytes (0: one
 * chunk), with the held CR written at the end as the callers do. */
static size_t
convert(const char *in, size_t n, size_t len, char *out)
{
	size_t o = 0, k;
	int cr = 0;

	if (len == 0)
		len = n ? n : 1;
	for (size_t i = 0; i < n; i += k) {
		k = n - i < len ? n - i : len;
		o += crlf_to_lf(in + i, k, out + o, &cr);
	}
	if (cr)
		out[o++] = '\r';
	return o;
}

int
main(void)
{
	char out[64], name[80];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = strlen(cases[i].in), wl = strlen(cases[i].want);

		for (size_t len = 0; len <= 3; len++) {
			size_t o = convert(cases[i].in, n, len, out);

			snprintf(name, sizeof name,
			    "case %zu in chunks of %zu", i, len);
			is_mem(out, o, cases[i].want, wl, name);
		}
	}
	{
		/* a CR at the end of a chunk: nothing out until the next
		 * byte says whether it was the CR of a CRLF */
		int cr = 0;

		is_int((long long)crlf_to_lf("ab\r", 3, out, &cr), 2,
		    "held CR: not written yet");
		ok(cr == 1, "  held in *cr");
		is_int((long long)crlf_to_lf("x", 1, out, &cr), 2,
		    "next chunk not LF: the bare CR comes first");
		is_mem(out, 2, "\rx", 2, "  CR then x");
		ok(cr == 0, "  nothing held");
		/* out needs n + 1 bytes: a held CR plus n bytes, none LF */
		cr = 1;
		is_int((long long)crlf_to_lf("abc", 3, out, &cr), 4,
		    "n + 1 bytes out at most");
	}
	return done_testing();
}
