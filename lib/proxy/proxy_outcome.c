#include "proxy/proxy_outcome.h"

enum proxy_verdict
proxy_outcome(const int *code, size_t n, int lmtp_client)
{
	size_t i, ok = 0, temp = 0, perm = 0, none = 0;

	for (i = 0; i < n; i++) {
		if (code[i] >= 200 && code[i] < 300)
			ok++;
		else if (code[i] >= 400 && code[i] < 500)
			temp++;
		else if (code[i] >= 500 && code[i] < 600)
			perm++;
		else
			none++;
	}
	if (n == 0 || none > 0)
		return PROXY_V_QUEUE;
	if (ok == n)
		return PROXY_V_DELIVERED;
	if (lmtp_client)
		return PROXY_V_REPLIED;
	if (ok == 0 && (temp == 0 || perm == 0))
		return PROXY_V_REFUSED;
	return PROXY_V_QUEUE;
}

enum proxy_dlv
proxy_outcome_status(int code, int lmtp_client)
{
	if (code >= 200 && code < 300)
		return PROXY_DLV_SENT;
	if (code < 400 || code >= 600)
		return PROXY_DLV_PENDING;
	if (lmtp_client)
		return PROXY_DLV_DROP;
	return code >= 500 ? PROXY_DLV_BOUNCE : PROXY_DLV_PENDING;
}
