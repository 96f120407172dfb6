#include <stdio.h>
#include <string.h>

#include "client/client_tls_memo.h"

void
client_tls_memo_note(struct client_tls_memo *m, const char *key,
    int64_t now_ms)
{
	size_t i, slot = 0;

	for (i = 0; i < CLIENT_TLS_MEMO_MAX; i++) {
		if (m->e[i].until_ms != 0 && strcmp(m->e[i].key, key) == 0) {
			slot = i;
			break;
		}
		/* a free or expired slot, else the one that ends first */
		if (m->e[i].until_ms <= now_ms ||
		    m->e[i].until_ms < m->e[slot].until_ms)
			slot = i;
	}
	snprintf(m->e[slot].key, sizeof m->e[slot].key, "%s", key);
	m->e[slot].until_ms = now_ms + CLIENT_TLS_MEMO_MS;
}

int
client_tls_memo_has(const struct client_tls_memo *m, const char *key,
    int64_t now_ms)
{
	size_t i;

	for (i = 0; i < CLIENT_TLS_MEMO_MAX; i++)
		if (m->e[i].until_ms > now_ms && strcmp(m->e[i].key, key) == 0)
			return 1;
	return 0;
}
