#include "base/crlf.h"

size_t
crlf_to_lf(const char *in, size_t n, char *out, int *cr)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (*cr) {
			*cr = 0;
			if (in[i] != '\n')
				out[o++] = '\r';
		}
		if (in[i] == '\r')
			*cr = 1;
		else
			out[o++] = in[i];
	}
	return o;
}
