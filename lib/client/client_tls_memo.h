/*
 * client_tls_memo: the servers whose TLS handshake failed lately under
 * `tls = may`, so that the next connection to them goes in the clear
 * instead of failing the same way again. Keyed by "host[address]:port"
 * (client_conn's relay), remembered CLIENT_TLS_MEMO_MS; the table is
 * small and full means the oldest entry goes. Pure: the caller gives
 * the time.
 */
#ifndef PM_CLIENT_TLS_MEMO_H
#define PM_CLIENT_TLS_MEMO_H

#include <stdint.h>

#define CLIENT_TLS_MEMO_MAX 32
/* An hour: [core] retry-max-interval's default, so a message deferred
 * for other reasons still finds the note at its next attempt, and a
 * server whose TLS was repaired gets TLS again within the hour. */
#define CLIENT_TLS_MEMO_MS (60 * 60 * 1000)

struct client_tls_memo {
	struct {
		char key[300];
		int64_t until_ms; /* 0: free */
	} e[CLIENT_TLS_MEMO_MAX];
};

void client_tls_memo_note(struct client_tls_memo *m, const char *key,
    int64_t now_ms);
/* 1 while key's failure is remembered. */
int client_tls_memo_has(const struct client_tls_memo *m, const char *key,
    int64_t now_ms);

#endif
