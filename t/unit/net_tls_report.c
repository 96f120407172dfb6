/*
 * net_tls_report: the records postmaster-tlsd sends smtpd round-trip;
 * a client's SNI name cannot break the record or forge a field; anything
 * that is not one of the four forms is refused.
 */
#include <string.h>

#include "net/net_tls_report.h"
#include "tap.h"

static int
parse_str(const char *s, struct net_tls_report *r)
{
	return net_tls_report_parse(s, strlen(s), r);
}

int
main(void)
{
	struct net_tls_report in, out;
	char rec[NET_TLS_REPORT_MAX], sni[300];
	size_t n;

	plan(27);
	memset(&in, 0, sizeof in);
	in.kind = NET_TLS_DONE;
	strcpy(in.version, "TLS1.3");
	strcpy(in.cipher, "TLS_AES_256_GCM_SHA384");
	strcpy(in.sni, "mx.example.org");
	in.resumed = 1;
	n = net_tls_report_encode(&in, rec);
	is_mem(rec + 1, n - 1,
	    "tls TLS1.3 TLS_AES_256_GCM_SHA384 mx.example.org "
	    "resumed",
	    56, "a handshake record");
	is_int((unsigned char)rec[0], (long long)n - 1, "its length octet");
	is_int(net_tls_report_parse(rec + 1, n - 1, &out), 0, "parses");
	ok(out.kind == NET_TLS_DONE && strcmp(out.version, "TLS1.3") == 0 &&
	        strcmp(out.cipher, "TLS_AES_256_GCM_SHA384") == 0 &&
	        strcmp(out.sni, "mx.example.org") == 0 && out.resumed == 1,
	    "round trip");

	in.sni[0] = '\0';
	in.resumed = 0;
	n = net_tls_report_encode(&in, rec);
	is_mem(rec + 1, n - 1, "tls TLS1.3 TLS_AES_256_GCM_SHA384 - new", 39,
	    "no SNI is '-', a new session 'new'");
	is_int(net_tls_report_parse(rec + 1, n - 1, &out), 0, "parses");
	ok(out.sni[0] == '\0' && out.resumed == 0, "'-' is no SNI");

	/* the SNI comes from the client */
	strcpy(in.sni, "evil new\r\nforged x");
	n = net_tls_report_encode(&in, rec);
	is_mem(rec + 1, n - 1,
	    "tls TLS1.3 TLS_AES_256_GCM_SHA384 "
	    "evil?new??forged?x new",
	    56, "spaces and controls in SNI become ?");
	is_int(net_tls_report_parse(rec + 1, n - 1, &out), 0, "and it parses");
	is_str(out.sni, "evil?new??forged?x", "as one field");
	memset(sni, 'a', sizeof sni - 1);
	sni[sizeof sni - 1] = '\0';
	memcpy(in.sni, sni, sizeof in.sni - 1);
	in.sni[sizeof in.sni - 1] = '\0';
	n = net_tls_report_encode(&in, rec);
	ok(n <= NET_TLS_REPORT_MAX, "a 255-octet SNI is cut to fit (%zu)", n);
	is_int(net_tls_report_parse(rec + 1, n - 1, &out), 0,
	    "the cut record parses");

	memset(&in, 0, sizeof in);
	in.kind = NET_TLS_READY;
	n = net_tls_report_encode(&in, rec);
	is_mem(rec, n, "\005ready", 6, "ready");
	in.kind = NET_TLS_ERROR;
	strcpy(in.why, "tls-key /k: Permission denied");
	n = net_tls_report_encode(&in, rec);
	is_int(net_tls_report_parse(rec + 1, n - 1, &out), 0, "error parses");
	ok(out.kind == NET_TLS_ERROR && strcmp(out.why, in.why) == 0,
	    "error keeps its reason");
	in.kind = NET_TLS_FAIL;
	strcpy(in.why, "bad\nline");
	n = net_tls_report_encode(&in, rec);
	is_int(net_tls_report_parse(rec + 1, n - 1, &out), 0, "fail parses");
	ok(out.kind == NET_TLS_FAIL && strcmp(out.why, "bad?line") == 0,
	    "a newline in a reason becomes ?");

	is_int(parse_str("ready ", &out), -1, "ready with more");
	is_int(parse_str("tls TLS1.3 C - new ", &out), -1, "trailing space");
	is_int(parse_str("tls TLS1.3 C - maybe", &out), -1, "bad resumption");
	is_int(parse_str("tls TLS1.3 C -", &out), -1, "a field missing");
	is_int(parse_str("tls TLS1.3 C - new x", &out), -1,
	    "a field too many");
	is_int(parse_str("tls TLS1.3  - new", &out), -1, "an empty field");
	is_int(parse_str("tls TLS1.3 C s/x new", &out), -1, "a bad character");
	is_int(parse_str("error", &out), -1, "error without a reason");
	is_int(net_tls_report_parse("ready\0", 6, &out), -1, "a NUL");
	is_int(parse_str("hello", &out), -1, "unknown");
	return done_testing();
}
