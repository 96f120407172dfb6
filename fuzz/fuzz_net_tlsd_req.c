/*
 * net_tlsd_req: any input either is refused or parses into fields that
 * encode back to exactly the same octets (the parser accepts nothing
 * the encoder could not have written).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_tlsd_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_tlsd_req r;
	char out[NET_TLSD_REQ_MAX];
	size_t n;

	if (net_tlsd_req_parse((const char *)data, size, &r) != 0)
		return 0;
	n = net_tlsd_req_encode(&r, out);
	if (n != size || memcmp(out, data, size) != 0)
		abort();
	return 0;
}
