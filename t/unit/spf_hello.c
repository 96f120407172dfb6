/* The opening line of a connection to the postmaster-spf service: each
 * field rule, the limits at max and max+1, partial lines, round trips. */
#include <string.h>

#include "spf/spf_hello.h"
#include "tap.h"

struct hcase {
	const char *name;
	const char *in;
	int want;
};

int
main(void)
{
	static const struct hcase cases[] = {
		{ "plain", "hello\tmx.example\t19000\t127.0.0.1:53\n",
		    SPF_PROTO_OK },
		{ "resolv.conf", "hello\tmx\t5\t-\n", SPF_PROTO_OK },
		{ "empty dns", "hello\tmx\t5\t\n", SPF_PROTO_E_FIELDLEN },
		{ "space in dns", "hello\tmx\t5\t1 2\n",
		    SPF_PROTO_E_FIELDLEN },
		{ "budget 1", "hello\tmx\t1\t-\n", SPF_PROTO_OK },
		{ "budget 7 digits", "hello\tmx\t9999999\t-\n", SPF_PROTO_OK },
		{ "budget 8 digits", "hello\tmx\t10000000\t-\n",
		    SPF_PROTO_E_FIELDLEN },
		{ "budget 0", "hello\tmx\t0\t-\n", SPF_PROTO_E_FIELDLEN },
		{ "leading zero", "hello\tmx\t010\t-\n",
		    SPF_PROTO_E_FIELDLEN },
		{ "budget not a number", "hello\tmx\t1x\t-\n",
		    SPF_PROTO_E_OCTET },
		{ "empty budget", "hello\tmx\t\t-\n", SPF_PROTO_E_FIELDLEN },
		{ "empty receiver", "hello\t\t5\t-\n", SPF_PROTO_E_FIELDLEN },
		{ "space in receiver", "hello\tm x\t5\t-\n",
		    SPF_PROTO_E_FIELDLEN },
		{ "control in receiver", "hello\tm\rx\t5\t-\n",
		    SPF_PROTO_E_FIELDLEN },
		{ "8-bit receiver", "hello\tm\xc3\xb6\t5\t-\n",
		    SPF_PROTO_E_FIELDLEN },
		{ "three fields", "hello\tmx\t5\n", SPF_PROTO_E_FIELDS },
		{ "two fields", "hello\tmx\n", SPF_PROTO_E_FIELDS },
		{ "five fields", "hello\tmx\t5\t-\tx\n", SPF_PROTO_E_FIELDS },
		{ "not hello", "mailfrom\tmx\t5\t-\n", SPF_PROTO_E_KIND },
		{ "no LF yet", "hello\tmx\t5\t-", SPF_PROTO_MORE },
		{ "empty", "", SPF_PROTO_MORE },
	};
	char line[SPF_HELLO_LINE_MAX + 8], out[SPF_HELLO_LINE_MAX];
	struct spf_hello h;
	size_t i, used = 0;
	int n;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_int(spf_hello_parse(cases[i].in, strlen(cases[i].in), &h,
		           &used),
		    cases[i].want, cases[i].name);

	ok(spf_hello_parse("hello\tmx.example\t19000\t192.0.2.1:5353\nmail",
	       42, &h, &used) == SPF_PROTO_OK &&
	        used == 38 && strcmp(h.receiver, "mx.example") == 0 &&
	        h.budget_ms == 19000 && strcmp(h.dns, "192.0.2.1:5353") == 0,
	    "fields and length of a line followed by more");
	ok(spf_hello_parse("hello\tmx\t5\t-\n", 13, &h, &used) ==
	            SPF_PROTO_OK &&
	        h.dns[0] == '\0',
	    "\"-\": resolv.conf, an empty dns");
	n = spf_hello_format(&h, out, sizeof out);
	ok(n == 13 && memcmp(out, "hello\tmx\t5\t-\n", 13) == 0,
	    "an empty dns formats as \"-\"");

	/* receiver 255 octets fits, 256 does not */
	memcpy(line, "hello\t", 6);
	memset(line + 6, 'a', 255);
	memcpy(line + 261, "\t5\t-\n", 6);
	is_int(spf_hello_parse(line, strlen(line), &h, &used), SPF_PROTO_OK,
	    "receiver of 255 octets");
	n = spf_hello_format(&h, out, sizeof out);
	ok(n == (int)strlen(line) && memcmp(out, line, (size_t)n) == 0,
	    "255 octets format back to the same line");
	memset(line + 6, 'a', 256);
	memcpy(line + 262, "\t5\t-\n", 6);
	is_int(spf_hello_parse(line, strlen(line), &h, &used),
	    SPF_PROTO_E_FIELDLEN, "receiver of 256 octets");

	/* dns 127 octets fits, 128 does not */
	memcpy(line, "hello\tmx\t5\t", 11);
	memset(line + 11, '1', 127);
	memcpy(line + 138, "\n", 2);
	is_int(spf_hello_parse(line, strlen(line), &h, &used), SPF_PROTO_OK,
	    "dns of 127 octets");
	memset(line + 11, '1', 128);
	memcpy(line + 139, "\n", 2);
	is_int(spf_hello_parse(line, strlen(line), &h, &used),
	    SPF_PROTO_E_FIELDLEN, "dns of 128 octets");

	/* no LF within the line limit */
	memset(line, 'h', SPF_HELLO_LINE_MAX);
	is_int(spf_hello_parse(line, SPF_HELLO_LINE_MAX, &h, &used),
	    SPF_PROTO_E_TOOLONG, "no LF within the limit");
	is_int(spf_hello_parse(line, SPF_HELLO_LINE_MAX - 1, &h, &used),
	    SPF_PROTO_MORE, "one octet short of the limit: more");

	strcpy(h.receiver, "bad receiver");
	h.budget_ms = 5;
	h.dns[0] = '\0';
	is_int(spf_hello_format(&h, out, sizeof out), -1,
	    "format refuses a space in the receiver");
	strcpy(h.receiver, "mx");
	h.budget_ms = 0;
	is_int(spf_hello_format(&h, out, sizeof out), -1,
	    "format refuses budget 0");
	h.budget_ms = 19000;
	is_int(spf_hello_format(&h, out, 12), -1,
	    "format refuses a line that does not fit");
	return tap_done();
}
