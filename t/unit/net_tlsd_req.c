/*
 * net_tlsd_req: smtpd's request to the postmaster-tlsd service round-trips;
 * a name or id with a space, a control octet or no end, a missing or
 * extra field, or trailing octets is refused.
 */
#include <string.h>

#include "net/net_tlsd_req.h"
#include "tap.h"

static int
parse(const char *p, size_t n)
{
	struct net_tlsd_req r;

	return net_tlsd_req_parse(p, n, &r);
}

int
main(void)
{
	struct net_tlsd_req in, out;
	char rec[NET_TLSD_REQ_MAX], big[400];
	size_t n;

	plan(14);
	memset(&in, 0, sizeof in);
	strcpy(in.name, "mx.example.test");
	strcpy(in.id, "4242");
	n = net_tlsd_req_encode(&in, rec);
	ok(n == 21 &&
	        memcmp(rec,
	            "mx.example.test\0"
	            "4242\0",
	            21) == 0,
	    "encode: NAME NUL ID NUL");
	ok(net_tlsd_req_parse(rec, n, &out) == 0 &&
	        strcmp(out.name, "mx.example.test") == 0 &&
	        strcmp(out.id, "4242") == 0,
	    "parse: both fields back");
	ok(parse("submission\0\0", 12) == 0, "an empty id is allowed");
	ok(parse("\0"
	         "1\0",
	       3) < 0,
	    "an empty name is refused");
	ok(parse("a b\0"
	         "1\0",
	       5) < 0,
	    "a space in the name is refused");
	ok(parse("ab\0"
	         "1\n\0",
	       5) < 0,
	    "a control octet in the id is refused");
	ok(parse("ab\0"
	         "1",
	       4) < 0,
	    "an id without its NUL is refused");
	ok(parse("ab\0", 3) < 0, "a missing id is refused");
	ok(parse("ab\0"
	         "1\0x",
	       6) < 0,
	    "trailing octets are refused");
	ok(parse("ab\0"
	         "1\0"
	         "2\0",
	       7) < 0,
	    "a third field is refused");
	memset(big, 'a', sizeof big);
	big[256] = '\0';
	big[257] = '\0';
	ok(parse(big, 258) < 0, "a name of 256 octets is refused");
	big[255] = '\0';
	ok(parse(big, 257) == 0, "... one of 255 is taken");
	strcpy(in.id, "a b");
	ok(net_tlsd_req_encode(&in, rec) == 0, "encode refuses a space");
	in.id[0] = '\0';
	in.name[0] = '\0';
	ok(net_tlsd_req_encode(&in, rec) == 0, "encode refuses an empty name");
	return done_testing();
}
