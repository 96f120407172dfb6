/* The smtpd <-> postmaster-spf pipe protocol: every field rule, each
 * limit at max and max+1, partial lines, round trips, text cleaning. */
#include <stdio.h>
#include <string.h>

#include "spf/spf_proto.h"
#include "tap.h"

struct rcase {
	const char *name;
	const char *in;
	int want;
	size_t used;
};

static void
fill(char *p, char c, size_t n)
{
	memset(p, c, n);
	p[n] = '\0';
}

int
main(void)
{
	static const struct rcase req[] = {
		{ "mailfrom",
		    "mailfrom\t192.0.2.1\th.example\tjoe@example.org\n",
		    SPF_PROTO_OK, 45 },
		{ "helo", "helo\t::1\th.example\tpostmaster@h.example\nX",
		    SPF_PROTO_OK, 40 },
		{ "quoted local part with a space",
		    "mailfrom\t192.0.2.1\th\t\"a b\"@example.org\n",
		    SPF_PROTO_OK, 39 },
		{ "UTF-8 local part",
		    "mailfrom\t192.0.2.1\th\tj\xc3\xb6@x.org\n", SPF_PROTO_OK,
		    31 },
		{ "no LF yet", "mailfrom\t192.0.2.1", SPF_PROTO_MORE, 0 },
		{ "empty", "", SPF_PROTO_MORE, 0 },
		{ "three fields", "mailfrom\t192.0.2.1\th\n",
		    SPF_PROTO_E_FIELDS, 0 },
		{ "five fields", "mailfrom\t1\th\ti\tj\n", SPF_PROTO_E_FIELDS,
		    0 },
		{ "empty IP", "mailfrom\t\th\tj@x\n", SPF_PROTO_E_FIELDLEN,
		    0 },
		{ "empty identity", "mailfrom\t1\th\t\n", SPF_PROTO_E_FIELDLEN,
		    0 },
		{ "space in HELO", "mailfrom\t1\th h\tj@x\n",
		    SPF_PROTO_E_OCTET, 0 },
		{ "CR", "mailfrom\t1\th\tj@x\r\n", SPF_PROTO_E_OCTET, 0 },
		{ "NUL", "mailfrom\t1\th\tj\0@x\n", SPF_PROTO_E_OCTET, 0 },
		{ "DEL", "mailfrom\t1\th\tj\x7f@x\n", SPF_PROTO_E_OCTET, 0 },
		{ "8-bit HELO", "mailfrom\t1\th\xc3\xb6\tj@x\n",
		    SPF_PROTO_E_OCTET, 0 },
		{ "unknown kind", "rcptto\t1\th\tj@x\n", SPF_PROTO_E_KIND, 0 },
	};
	static const struct rcase res[] = {
		{ "pass", "pass\t\t\n", SPF_PROTO_OK, 7 },
		{ "fail with texts", "fail\twhy not\tsee http://x/\n",
		    SPF_PROTO_OK, 27 },
		{ "every result", "permerror\tx\t\n", SPF_PROTO_OK, 13 },
		{ "unknown result", "maybe\t\t\n", SPF_PROTO_E_KIND, 0 },
		{ "8-bit text", "pass\t\xc3\xb6\t\n", SPF_PROTO_E_OCTET, 0 },
		{ "two fields", "pass\tx\n", SPF_PROTO_E_FIELDS, 0 },
		{ "empty result", "\tx\t\n", SPF_PROTO_E_FIELDLEN, 0 },
		{ "more", "pass\tx", SPF_PROTO_MORE, 0 },
	};
	char line[2 * SPF_PROTO_LINE_MAX], out[SPF_PROTO_LINE_MAX + 8];
	char text[SPF_TEXT_MAX + 8];
	struct spf_req rq, rq2;
	struct spf_res rs, rs2;
	size_t i, used, n;
	int r;

	for (i = 0; i < sizeof req / sizeof req[0]; i++) {
		n = strlen(req[i].in);
		if (strcmp(req[i].name, "NUL") == 0)
			n = 19;
		r = spf_proto_req_parse(req[i].in, n, &rq, &used);
		is_int(r, req[i].want, req[i].name);
		is_int((long long)used, (long long)req[i].used, req[i].name);
	}
	spf_proto_req_parse(req[0].in, strlen(req[0].in), &rq, &used);
	is_int(rq.kind, SPF_KIND_MAILFROM, "kind mailfrom");
	is_str(rq.ip, "192.0.2.1", "ip");
	is_str(rq.helo, "h.example", "helo");
	is_str(rq.id, "joe@example.org", "identity");
	for (i = 0; i < sizeof res / sizeof res[0]; i++) {
		r = spf_proto_res_parse(res[i].in, strlen(res[i].in), &rs,
		    &used);
		is_int(r, res[i].want, res[i].name);
		is_int((long long)used, (long long)res[i].used, res[i].name);
	}
	spf_proto_res_parse(res[1].in, strlen(res[1].in), &rs, &used);
	is_int(rs.result, SPF_RES_FAIL, "result fail");
	is_str(rs.reason, "why not", "reason");
	is_str(rs.expl, "see http://x/", "explanation");

	/* field caps: at the cap, and one past it */
	memset(&rq, 0, sizeof rq);
	rq.kind = SPF_KIND_MAILFROM;
	strcpy(rq.ip, "192.0.2.1");
	fill(rq.helo, 'h', SPF_HELO_MAX - 1);
	fill(rq.id, 'i', SPF_ID_MAX - 1);
	r = spf_proto_req_format(&rq, out, sizeof out);
	ok(r > 0, "a request with every field at its cap formats");
	is_int(spf_proto_req_parse(out, (size_t)r, &rq2, &used), SPF_PROTO_OK,
	    "... and parses");
	ok(rq2.kind == rq.kind && strcmp(rq.ip, rq2.ip) == 0 &&
	        strcmp(rq.helo, rq2.helo) == 0 && strcmp(rq.id, rq2.id) == 0,
	    "... to the same request");
	n = (size_t)snprintf(line, sizeof line, "mailfrom\t1\th%s\tj@x\n",
	    rq.helo);
	is_int(spf_proto_req_parse(line, n, &rq2, &used), SPF_PROTO_E_FIELDLEN,
	    "HELO one past its cap");
	memset(&rs, 0, sizeof rs);
	rs.result = SPF_RES_TEMPERROR;
	fill(rs.reason, 'r', SPF_TEXT_MAX - 1);
	fill(rs.expl, 'e', SPF_TEXT_MAX - 1);
	r = spf_proto_res_format(&rs, out, sizeof out);
	ok(r > 0, "a response with texts at their cap formats");
	is_int(spf_proto_res_parse(out, (size_t)r, &rs2, &used), SPF_PROTO_OK,
	    "... and parses");
	ok(rs2.result == rs.result && strcmp(rs.reason, rs2.reason) == 0 &&
	        strcmp(rs.expl, rs2.expl) == 0,
	    "... to the same response");
	n = (size_t)snprintf(line, sizeof line, "pass\tx%s\t\n", rs.reason);
	is_int(spf_proto_res_parse(line, n, &rs2, &used), SPF_PROTO_E_FIELDLEN,
	    "reason one past its cap");

	/* the line limit */
	memset(line, 'a', sizeof line);
	is_int(spf_proto_res_parse(line, SPF_PROTO_LINE_MAX - 1, &rs, &used),
	    SPF_PROTO_MORE, "no LF within LINE_MAX - 1: more");
	is_int(spf_proto_res_parse(line, SPF_PROTO_LINE_MAX, &rs, &used),
	    SPF_PROTO_E_TOOLONG, "no LF within LINE_MAX: too long");
	is_int(spf_proto_req_parse(line, sizeof line, &rq, &used),
	    SPF_PROTO_E_TOOLONG, "a request too");

	/* format refuses what parse would refuse */
	memset(&rs, 0, sizeof rs);
	rs.result = SPF_RES_PASS;
	strcpy(rs.reason, "a\tb");
	is_int(spf_proto_res_format(&rs, out, sizeof out), -1,
	    "format: TAB in a text");
	strcpy(rs.reason, "a\nb");
	is_int(spf_proto_res_format(&rs, out, sizeof out), -1,
	    "format: LF in a text");
	rs.reason[0] = '\0';
	rs.result = (enum spf_result)99;
	is_int(spf_proto_res_format(&rs, out, sizeof out), -1,
	    "format: unknown result");
	rs.result = SPF_RES_PASS;
	is_int(spf_proto_res_format(&rs, out, 5), -1, "format: no room");
	memset(&rq, 0, sizeof rq);
	strcpy(rq.ip, "1");
	strcpy(rq.helo, "h");
	is_int(spf_proto_req_format(&rq, out, sizeof out), -1,
	    "format: empty identity");

	is_str(spf_result_name(SPF_RES_SOFTFAIL), "softfail", "name");
	ok(spf_result_name((enum spf_result)7) == NULL,
	    "no name past the end");

	n = spf_text_clean(text, sizeof text, "a\r\nb\x1b[31m\xc3\xb6\x7f",
	    12);
	is_str(text, "a??b?[31m???",
	    "clean: controls, 8-bit and DEL become ?");
	is_int((long long)n, 12, "clean: length");
	memset(line, 'x', 400);
	n = spf_text_clean(text, SPF_TEXT_MAX, line, 400);
	is_int((long long)n, SPF_TEXT_MAX - 1, "clean: cut to fit");
	n = spf_text_clean(text, 1, "abc", 3);
	is_int((long long)n, 0, "clean: room for the NUL only");
	return done_testing();
}
