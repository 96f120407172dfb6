/* What smtpd lets through to libspf2: identity choice (RFC 7208 2.3,
 * 2.4), domain rules (4.3), IP canonical form; the spf-exempt matcher. */
#include <string.h>

#include "spf/spf_input.h"
#include "tap.h"

struct icase {
	const char *name, *ip, *helo, *sender;
	int want;
	const char *ip_out, *helo_out, *id;
	int kind;
};

struct ncase {
	const char *net, *ip;
	int want;
};

#define L64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L63 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

int
main(void)
{
	static const struct icase in[] = {
		{ "mail from", "192.0.2.1", "h.example", "joe@example.org",
		    SPF_INPUT_CHECK, "192.0.2.1", "h.example",
		    "joe@example.org", SPF_KIND_MAILFROM },
		{ "null sender: HELO", "192.0.2.1", "h.example", "",
		    SPF_INPUT_CHECK, "192.0.2.1", "h.example",
		    "postmaster@h.example", SPF_KIND_HELO },
		{ "IPv6 canonical", "2001:DB8:0:0::1", "h.example", "j@x.org",
		    SPF_INPUT_CHECK, "2001:db8::1", "h.example", "j@x.org",
		    SPF_KIND_MAILFROM },
		{ "IPv4-mapped is IPv4", "::ffff:192.0.2.9", "h.example",
		    "j@x.org", SPF_INPUT_CHECK, "192.0.2.9", "h.example",
		    "j@x.org", SPF_KIND_MAILFROM },
		{ "address-literal HELO travels as unknown", "192.0.2.1",
		    "[192.0.2.1]", "j@x.org", SPF_INPUT_CHECK, "192.0.2.1",
		    "unknown", "j@x.org", SPF_KIND_MAILFROM },
		{ "null sender, literal HELO: none", "192.0.2.1",
		    "[192.0.2.1]", "", SPF_INPUT_NONE, "192.0.2.1", NULL, NULL,
		    0 },
		{ "single-label domain: none", "192.0.2.1", "h.example",
		    "j@localhost", SPF_INPUT_NONE, NULL, NULL, NULL, 0 },
		{ "address literal domain: none", "192.0.2.1", "h.example",
		    "j@[192.0.2.1]", SPF_INPUT_NONE, NULL, NULL, NULL, 0 },
		{ "label of 64: none", "192.0.2.1", "h.example",
		    "j@" L64 ".org", SPF_INPUT_NONE, NULL, NULL, NULL, 0 },
		{ "label of 63", "192.0.2.1", "h.example", "j@" L63 ".org",
		    SPF_INPUT_CHECK, NULL, NULL, "j@" L63 ".org",
		    SPF_KIND_MAILFROM },
		{ "empty label: none", "192.0.2.1", "h.example", "j@a..org",
		    SPF_INPUT_NONE, NULL, NULL, NULL, 0 },
		{ "trailing dot", "192.0.2.1", "h.example", "j@x.org.",
		    SPF_INPUT_CHECK, NULL, NULL, "j@x.org.",
		    SPF_KIND_MAILFROM },
		{ "local part of 64", "192.0.2.1", "h", L64 "@x.org",
		    SPF_INPUT_CHECK, NULL, "unknown", L64 "@x.org",
		    SPF_KIND_MAILFROM },
		{ "local part of 65: none", "192.0.2.1", "h", "c" L64 "@x.org",
		    SPF_INPUT_NONE, NULL, NULL, NULL, 0 },
		{ "control in local part: none", "192.0.2.1", "h",
		    "a\x01z@x.org", SPF_INPUT_NONE, NULL, NULL, NULL, 0 },
		{ "UTF-8 local part", "192.0.2.1", "h", "j\xc3\xb6@x.org",
		    SPF_INPUT_CHECK, NULL, NULL, "j\xc3\xb6@x.org",
		    SPF_KIND_MAILFROM },
		{ "UTF-8 domain: none", "192.0.2.1", "h", "j@\xc3\xb6.org",
		    SPF_INPUT_NONE, NULL, NULL, NULL, 0 },
		{ "not an IP", "local", "h.example", "j@x.org", SPF_INPUT_NOIP,
		    NULL, NULL, NULL, 0 },
		{ "no @", "192.0.2.1", "h.example", "postmaster",
		    SPF_INPUT_NONE, NULL, NULL, NULL, 0 },
	};
	static const struct ncase nets[] = {
		{ "192.0.2.0/24", "192.0.2.77", 1 },
		{ "192.0.2.0/24", "192.0.3.1", 0 },
		{ "192.0.2.0/25", "192.0.2.128", 0 },
		{ "192.0.2.0/25", "192.0.2.127", 1 },
		{ "10.0.0.0/8", "::ffff:10.1.2.3", 1 },
		{ "0.0.0.0/0", "203.0.113.5", 1 },
		{ "192.0.2.1", "192.0.2.1", 1 },
		{ "192.0.2.1", "192.0.2.2", 0 },
		{ "2001:db8::/32", "2001:db8:1::5", 1 },
		{ "2001:db8::/33", "2001:db8:8000::1", 0 },
		{ "2001:db8::/32", "192.0.2.1", 0 },
		{ "192.0.2.0/24", "2001:db8::1", 0 },
		{ "::1", "::1", 1 },
		{ "::/0", "::1", 1 },
		{ "192.0.2.0/24", "local", 0 },
		{ "192.0.2.0/33", "192.0.2.1", -1 },
		{ "2001:db8::/129", "::1", -1 },
		{ "192.0.2.0/", "192.0.2.1", -1 },
		{ "192.0.2.0/024", "192.0.2.1", -1 },
		{ "192.0.2.0/2x", "192.0.2.1", -1 },
		{ "example.org", "192.0.2.1", -1 },
		{ "/24", "192.0.2.1", -1 },
	};
	struct spf_req r;
	char why[64];
	size_t i;
	int got;

	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		got = spf_input_request(in[i].ip, in[i].helo, in[i].sender, &r,
		    why, sizeof why);
		is_int(got, in[i].want, in[i].name);
		if (got == SPF_INPUT_NONE)
			ok(why[0] != '\0', "%s: a reason", in[i].name);
		if (in[i].ip_out)
			is_str(r.ip, in[i].ip_out, in[i].name);
		if (in[i].helo_out)
			is_str(r.helo, in[i].helo_out, in[i].name);
		if (in[i].id) {
			is_str(r.id, in[i].id, in[i].name);
			is_int(r.kind, in[i].kind, in[i].name);
		}
	}
	for (i = 0; i < sizeof nets / sizeof nets[0]; i++)
		is_int(spf_input_net_match(nets[i].net, nets[i].ip),
		    nets[i].want, nets[i].net);
	ok(spf_input_domain_ok("a.b", 3), "a.b is a domain");
	ok(!spf_input_domain_ok("a.b", 0), "empty is not");
	ok(!spf_input_domain_ok(".", 1), "the root is not");
	return done_testing();
}
