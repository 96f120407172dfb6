/*
 * spf_input: what goes into libspf2. Any client address, HELO and MAIL
 * FROM (three NUL-separated strings): a request it lets through obeys
 * the domain rules and crosses the pipe unchanged; an exemption list
 * entry never crashes the matcher.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spf_input.h"
#include "spf/spf_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[1024], *f[3], why[128], line[SPF_PROTO_LINE_MAX];
	struct spf_req q, q2;
	const char *at;
	size_t i, k = 0, used;
	int n, r;

	if (size >= sizeof buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	f[0] = buf;
	f[1] = f[2] = buf + size;
	for (i = 0; i < size && k < 2; i++)
		if (buf[i] == '\0')
			f[++k] = buf + i + 1;
	r = spf_input_request(f[0], f[1], f[2], &q, why, sizeof why);
	if (r == SPF_INPUT_CHECK) {
		at = strrchr(q.id, '@');
		if (at == NULL || !spf_input_domain_ok(at + 1, strlen(at + 1)))
			abort();
		n = spf_proto_req_format(&q, line, sizeof line);
		if (n < 0)
			abort();
		if (spf_proto_req_parse(line, (size_t)n, &q2, &used) !=
		        SPF_PROTO_OK ||
		    used != (size_t)n || strcmp(q.id, q2.id) != 0 ||
		    strcmp(q.helo, q2.helo) != 0 || strcmp(q.ip, q2.ip) != 0 ||
		    q.kind != q2.kind)
			abort();
	} else if (r == SPF_INPUT_NONE && why[0] == '\0') {
		abort();
	}
	r = spf_input_net_match(f[0], f[1]);
	if (r < -1 || r > 1)
		abort();
	return 0;
}
