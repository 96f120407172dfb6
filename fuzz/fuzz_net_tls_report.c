/*
 * net_tls_report: any record text either is refused or parses into fields
 * that encode back to a record which parses to the same fields (the
 * parser accepts nothing the encoder could not have written).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_tls_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_tls_report a, b;
	char rec[NET_TLS_REPORT_MAX];
	size_t n;

	if (size > NET_TLS_REPORT_MAX - 1)
		size = NET_TLS_REPORT_MAX - 1;
	if (net_tls_report_parse((const char *)data, size, &a) != 0)
		return 0;
	n = net_tls_report_encode(&a, rec);
	if (n < 1 || n > NET_TLS_REPORT_MAX || (unsigned char)rec[0] != n - 1)
		abort();
	if (net_tls_report_parse(rec + 1, n - 1, &b) != 0)
		abort();
	if (a.kind != b.kind || a.resumed != b.resumed ||
	    strcmp(a.version, b.version) != 0 ||
	    strcmp(a.cipher, b.cipher) != 0 || strcmp(a.sni, b.sni) != 0 ||
	    strcmp(a.why, b.why) != 0)
		abort();
	if (n - 1 != size || memcmp(rec + 1, data, size) != 0)
		abort();
	return 0;
}
