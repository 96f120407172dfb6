/* lib/proxy pure parts: the end-of-data verdict, each delivery's start,
 * the target's reply as ours, the pipelining word. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "client/client_reply.h"
#include "proxy/proxy_outcome.h"
#include "proxy/proxy_reply.h"
#include "proxy/proxy_tx.h"
#include "tap.h"

static const char *
fmt(const char *line, const char *enh)
{
	static char out[1024];
	struct client_reply r;
	struct buf b = BUF_INIT(0);

	client_reply_reset(&r);
	client_reply_feed(&r, line, strlen(line));
	proxy_reply_format(&b, &r, enh);
	snprintf(out, sizeof out, "%s", b.p ? b.p : "");
	buf_free(&b);
	return out;
}

int
main(void)
{
	static const int all_ok[] = { 250, 250 }, mixed[] = { 250, 452 },
	                 perm[] = { 550, 554 }, temp_perm[] = { 450, 550 },
	                 lost[] = { 250, 0 }, one_perm[] = { 552 };
	enum proxy_mode m;

	is_int(proxy_outcome(all_ok, 2, 0), PROXY_V_DELIVERED, "all 2xx");
	is_int(proxy_outcome(all_ok, 2, 1), PROXY_V_DELIVERED, "all 2xx lmtp");
	is_int(proxy_outcome(mixed, 2, 0), PROXY_V_QUEUE, "mixed smtp: queue");
	is_int(proxy_outcome(mixed, 2, 1), PROXY_V_REPLIED,
	    "mixed lmtp: replied");
	is_int(proxy_outcome(perm, 2, 0), PROXY_V_REFUSED, "all 5xx: refused");
	is_int(proxy_outcome(one_perm, 1, 0), PROXY_V_REFUSED, "one 5xx");
	is_int(proxy_outcome(temp_perm, 2, 0), PROXY_V_QUEUE,
	    "4xx and 5xx, smtp: queue (the 5xx bounces)");
	is_int(proxy_outcome(temp_perm, 2, 1), PROXY_V_REPLIED,
	    "4xx and 5xx, lmtp: replied");
	is_int(proxy_outcome(lost, 2, 0), PROXY_V_QUEUE, "lost: queue");
	is_int(proxy_outcome(lost, 2, 1), PROXY_V_QUEUE, "lost lmtp: queue");
	is_int(proxy_outcome(NULL, 0, 0), PROXY_V_QUEUE, "none: queue");

	is_int(proxy_outcome_status(250, 0), PROXY_DLV_SENT, "250 sent");
	is_int(proxy_outcome_status(452, 0), PROXY_DLV_PENDING, "452 pending");
	is_int(proxy_outcome_status(550, 0), PROXY_DLV_BOUNCE, "550 bounce");
	is_int(proxy_outcome_status(550, 1), PROXY_DLV_DROP, "550 lmtp drop");
	is_int(proxy_outcome_status(452, 1), PROXY_DLV_DROP, "452 lmtp drop");
	is_int(proxy_outcome_status(0, 1), PROXY_DLV_PENDING, "0 pending");

	is_str(fmt("250 2.1.5 Ok", "2.1.5"), "250 2.1.5 Ok\r\n", "kept");
	is_str(fmt("250 fine", "2.1.5"), "250 2.1.5 fine\r\n", "ours added");
	is_str(fmt("550 no such user", "2.1.5"), "550 5.0.0 no such user\r\n",
	    "5.0.0 added");
	is_str(fmt("451", "2.0.0"), "451 4.0.0 proxied\r\n", "bare code");
	is_str(fmt("550 4.1.1 wrong class", "2.0.0"),
	    "550 5.0.0 4.1.1 wrong class\r\n", "a code of another class");
	is_str(fmt("550 5.1234.1 x", "2.0.0"), "550 5.0.0 5.1234.1 x\r\n",
	    "subject too long");
	is_str(fmt("250 2.1.5", "2.0.0"), "250 2.1.5\r\n", "code alone");
	is_str(fmt("354 go on", "2.0.0"), "451 4.0.0 go on\r\n",
	    "3xx where a final reply belongs");
	is_str(fmt("550 a\rb", "2.0.0"), "550 5.0.0 a?b\r\n",
	    "a control never reaches our client");

	ok(proxy_mode_parse("spool", &m) == 0 && m == PROXY_MODE_SPOOL,
	    "spool");
	ok(proxy_mode_parse("full", &m) == 0 && m == PROXY_MODE_FULL, "full");
	ok(proxy_mode_parse("ultra", &m) == 0 && m == PROXY_MODE_ULTRA,
	    "ultra");
	ok(proxy_mode_parse("fast", &m) < 0, "unknown word");
	return done_testing();
}
