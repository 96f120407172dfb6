/* What smtpd makes of a verdict: the reply per mode and result (RFC 7372
 * codes), the exact header fields, and quoting of hostile strings. */
#include <string.h>

#include "spf/spf_report.h"
#include "tap.h"

static struct spf_verdict
verdict(enum spf_result r, const char *id)
{
	struct spf_verdict v;

	memset(&v, 0, sizeof v);
	v.result = r;
	v.kind = SPF_KIND_MAILFROM;
	strcpy(v.ip, "192.0.2.1");
	strcpy(v.helo, "h.example");
	strcpy(v.id, id);
	return v;
}

int
main(void)
{
	struct spf_verdict v;
	struct buf b = BUF_INIT(0);
	char out[512];
	const char *hdr;

	v = verdict(SPF_RES_FAIL, "joe@example.org");
	is_int(spf_report_reply(SPF_MODE_REJECT, 0, &v, out, sizeof out), 550,
	    "reject: fail refuses");
	is_str(out,
	    "550 5.7.23 SPF fail: example.org does not designate "
	    "192.0.2.1 as permitted sender",
	    "fail without explanation");
	strcpy(v.expl, "go away\r\n250 ok");
	spf_report_reply(SPF_MODE_REJECT, 0, &v, out, sizeof out);
	is_str(out, "550 5.7.23 go away??250 ok",
	    "the domain's explanation, cleaned");
	is_int(spf_report_reply(SPF_MODE_TAG, 0, &v, out, sizeof out), 0,
	    "tag: fail is accepted");
	is_str(out, "", "tag: no reply");
	v = verdict(SPF_RES_TEMPERROR, "joe@example.org");
	is_int(spf_report_reply(SPF_MODE_REJECT, 0, &v, out, sizeof out), 451,
	    "reject: temperror");
	is_str(out,
	    "451 4.7.24 SPF temporary error checking example.org, try "
	    "again later",
	    "temperror text");
	v = verdict(SPF_RES_PERMERROR, "joe@example.org");
	strcpy(v.reason, "Invalid IPv4 address");
	is_int(spf_report_reply(SPF_MODE_REJECT, 0, &v, out, sizeof out), 0,
	    "reject: permerror accepted by default");
	is_int(spf_report_reply(SPF_MODE_REJECT, 1, &v, out, sizeof out), 550,
	    "spf-permerror = reject");
	is_str(out,
	    "550 5.7.24 SPF permanent error in the record of "
	    "example.org: Invalid IPv4 address",
	    "permerror text");
	v = verdict(SPF_RES_SOFTFAIL, "joe@example.org");
	is_int(spf_report_reply(SPF_MODE_REJECT, 1, &v, out, sizeof out), 0,
	    "softfail accepted");
	v = verdict(SPF_RES_NEUTRAL, "joe@example.org");
	is_int(spf_report_reply(SPF_MODE_REJECT, 1, &v, out, sizeof out), 0,
	    "neutral accepted");
	v = verdict(SPF_RES_NONE, "joe@example.org");
	is_int(spf_report_reply(SPF_MODE_REJECT, 1, &v, out, sizeof out), 0,
	    "none accepted");

	v = verdict(SPF_RES_PASS, "joe@example.org");
	is_int(spf_report_headers(&b, "mx.example.net", &v), 0, "headers");
	is_str(b.p,
	    "Authentication-Results: mx.example.net;\r\n"
	    "\tspf=pass smtp.mailfrom=joe@example.org\r\n"
	    "Received-SPF: pass (mx.example.net: domain of joe@example.org "
	    "designates 192.0.2.1 as permitted sender)\r\n"
	    "\treceiver=mx.example.net; client-ip=192.0.2.1;\r\n"
	    "\thelo=h.example;\r\n\tenvelope-from=\"joe@example.org\"; "
	    "identity=mailfrom;\r\n",
	    "pass: both fields exactly");

	buf_reset(&b);
	v = verdict(SPF_RES_PERMERROR, "\"a(b)\\\"c\"@example.org");
	strcpy(v.ip, "2001:db8::1");
	strcpy(v.reason, "bad ) record\r\nX: y");
	spf_report_headers(&b, "mx.example.net", &v);
	hdr = b.p;
	ok(strstr(hdr,
	       "spf=permerror (bad \\) record??X: y) "
	       "smtp.mailfrom=example.org\r\n") != NULL,
	    "A-R: reason as a comment, quoted-pairs, controls gone; an odd "
	    "local part leaves the domain");
	ok(strstr(hdr,
	       "(mx.example.net: permanent error in the record of "
	       "example.org)") != NULL,
	    "Received-SPF: the comment");
	ok(strstr(hdr, "client-ip=\"2001:db8::1\";") != NULL,
	    "IPv6 client-ip as a quoted-string");
	ok(strstr(hdr,
	       "envelope-from=\"\\\"a(b)\\\\\\\"c\\\"@example.org\";") != NULL,
	    "envelope-from escaped");
	ok(strstr(hdr, "problem=\"bad ) record??X: y\";\r\n") != NULL,
	    "problem=");
	ok(strchr(hdr, '\n') != NULL && strstr(hdr, "\nX: y") == NULL,
	    "no forged field");

	buf_reset(&b);
	v = verdict(SPF_RES_FAIL, "postmaster@h.example");
	v.kind = SPF_KIND_HELO;
	spf_report_headers(&b, "mx.example.net", &v);
	ok(strstr(b.p, "spf=fail smtp.helo=h.example\r\n") != NULL,
	    "HELO identity: smtp.helo");
	ok(strstr(b.p, "identity=helo;") != NULL, "identity=helo");

	buf_reset(&b);
	v = verdict((enum spf_result)42, "j@x.org");
	is_int(spf_report_headers(&b, "mx", &v), -1, "unknown result");
	is_int((long long)b.len, 0, "... writes nothing");
	buf_free(&b);
	return done_testing();
}
