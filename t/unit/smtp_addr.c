#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "smtp/smtp_addr.h"
#include "tap.h"

/* RCPTU: RCPT in an SMTPUTF8 transaction; RCPTL: local names allowed */
enum { MAIL, RCPT, RCPTU, RCPTL };

struct tcase {
	int kind;
	const char *arg;
	int want;
	const char *addr;	/* canonical; NULL: do not check */
	const char *domain;
};

static const struct tcase cases[] = {
	/* reverse-path */
	{ MAIL, "<>", 0, "", "" },
	{ MAIL, "<user@Example.ORG>", 0, "user@example.org",
	    "example.org" },
	{ MAIL, "<User.Name+tag@example.org>", 0,
	    "User.Name+tag@example.org", NULL },
	{ MAIL, "<postmaster>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ MAIL, "user@example.org", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ MAIL, "<user@example.org", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ MAIL, "<user@example.org>>", SMTP_ADDR_E_PARAM, NULL, NULL },
	{ MAIL, "<<>>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	/* forward-path */
	{ RCPT, "<>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<postmaster>", 0, "postmaster", "" },
	{ RCPT, "<PostMaster>", 0, "postmaster", "" },
	{ RCPT, "<postmasterx>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<Postmaster@Example.org>", 0, "Postmaster@example.org",
	    "example.org" },
	/* bare local names, only where allowed (local-rcpt-to) */
	{ RCPT, "<joe>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPTL, "<joe>", 0, "joe", "" },
	{ RCPTL, "<J.Doe+x>", 0, "J.Doe+x", "" },
	{ RCPTL, "<PostMaster>", 0, "postmaster", "" },
	{ RCPTL, "<\"joe\">", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPTL, "<joe.>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPTL, "<@a.example:joe>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPTL, "<j\xc3\xb6>", SMTP_ADDR_E_NEEDUTF8, NULL, NULL },
	{ RCPTL, "<>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPTL, "<joe> X=1", SMTP_ADDR_E_PARAM_UNKNOWN, NULL, NULL },
	/* source routes are dropped */
	{ RCPT, "<@relay.example:user@example.org>", 0, "user@example.org",
	    NULL },
	{ RCPT, "<@a.example,@b.example:user@example.org>", 0,
	    "user@example.org", NULL },
	{ RCPT, "<@a.example,b.example:user@example.org>", SMTP_ADDR_E_SYNTAX,
	    NULL, NULL },
	{ RCPT, "<@:user@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<@a.example user@example.org>", SMTP_ADDR_E_SYNTAX, NULL,
	    NULL },
	/* dot-string */
	{ RCPT, "<a.b.c@example.org>", 0, "a.b.c@example.org", NULL },
	{ RCPT, "<.a@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a.@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a..b@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a b@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a(b)@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<!#$%&'*+-/=?^_`{|}~@example.org>", 0,
	    "!#$%&'*+-/=?^_`{|}~@example.org", NULL },
	/* quoted-string, canonical form */
	{ RCPT, "<\"john\"@example.org>", 0, "john@example.org", NULL },
	{ RCPT, "<\"john.doe\"@example.org>", 0, "john.doe@example.org",
	    NULL },
	{ RCPT, "<\"jo\\hn\"@example.org>", 0, "john@example.org", NULL },
	{ RCPT, "<\"john doe\"@example.org>", 0, "\"john doe\"@example.org",
	    NULL },
	{ RCPT, "<\"a..b\"@example.org>", 0, "\"a..b\"@example.org", NULL },
	{ RCPT, "<\"\"@example.org>", 0, "\"\"@example.org", NULL },
	{ RCPT, "<\"a\\\"b\\\\c\"@example.org>", 0,
	    "\"a\\\"b\\\\c\"@example.org", NULL },
	{ RCPT, "<\"a\\ b\"@example.org>", 0, "\"a b\"@example.org", NULL },
	{ RCPT, "<\"abc@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<\"a\"b@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<\"a\tb\"@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<\"a\\\tb\"@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	/* CR, LF, NUL never */
	{ RCPT, "<\"a\rb\"@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<\"a\\\nb\"@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@exam\nple.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	/* domains */
	{ RCPT, "<a@EXAMPLE.org>", 0, "a@example.org", "example.org" },
	{ RCPT, "<a@localhost>", 0, "a@localhost", "localhost" },
	{ RCPT, "<a@x-1.example>", 0, "a@x-1.example", NULL },
	{ RCPT, "<a@-x.example>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@x-.example>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@x..example>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@example.org.>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@.example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@ex_ample.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@b@example.org>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	/* address literals */
	{ RCPT, "<a@[192.0.2.1]>", 0, "a@[192.0.2.1]", "[192.0.2.1]" },
	{ RCPT, "<a@[255.255.255.255]>", 0, NULL, NULL },
	{ RCPT, "<a@[256.0.0.1]>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@[1.2.3]>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@[1.2.3.4.5]>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@[1.2.3.1234]>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@[IPv6:2001:DB8::1]>", 0, "a@[IPv6:2001:db8::1]",
	    "[IPv6:2001:db8::1]" },
	{ RCPT, "<a@[ipv6:::1]>", 0, "a@[IPv6:::1]", NULL },
	{ RCPT, "<a@[IPv6:::ffff:192.0.2.1]>", 0, NULL, NULL },
	{ RCPT, "<a@[IPv6:1:2:3:4:5:6:7:8:9]>", SMTP_ADDR_E_SYNTAX, NULL,
	    NULL },
	{ RCPT, "<a@[IPv6:1::2::3]>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@[IPv6:g::1]>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@[x-tag:abc]>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@[192.0.2.1>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	{ RCPT, "<a@[]>", SMTP_ADDR_E_SYNTAX, NULL, NULL },
	/* UTF-8 (RFC 6531) */
	{ RCPT, "<j\xc3\xb6rg@example.org>", SMTP_ADDR_E_NEEDUTF8, NULL,
	    NULL },
	{ RCPTU, "<j\xc3\xb6rg@example.org>", 0, "j\xc3\xb6rg@example.org",
	    NULL },
	{ RCPTU, "<a@b\xc3\xbc\x63her.example>", 0, NULL,
	    "b\xc3\xbc\x63her.example" },
	{ RCPTU, "<\"j\xc3\xb6 rg\"@example.org>", 0,
	    "\"j\xc3\xb6 rg\"@example.org", NULL },
	{ RCPTU, "<j\xc3rg@example.org>", SMTP_ADDR_E_BADUTF8, NULL, NULL },
	{ RCPTU, "<j\xc0\xafrg@example.org>", SMTP_ADDR_E_BADUTF8, NULL,
	    NULL },	/* overlong "/" */
	{ RCPTU, "<j\xed\xa0\x80@example.org>", SMTP_ADDR_E_BADUTF8, NULL,
	    NULL },	/* surrogate */
	{ RCPTU, "<j\xf4\x90\x80\x80@example.org>", SMTP_ADDR_E_BADUTF8,
	    NULL, NULL },	/* > U+10FFFF */
	{ RCPTU, "<j\xff@example.org>", SMTP_ADDR_E_BADUTF8, NULL, NULL },
	/* C1 controls, bidi and separators: valid UTF-8, never an address */
	{ RCPTU, "<a\xc2\x80" "b@example.org>", SMTP_ADDR_E_HIDDEN, NULL, NULL },
	{ RCPTU, "<a\xc2\x85" "b@example.org>", SMTP_ADDR_E_HIDDEN, NULL, NULL },
	{ RCPTU, "<a\xc2\x9f" "b@example.org>", SMTP_ADDR_E_HIDDEN, NULL, NULL },
	{ RCPTU, "<a\xc2\xa0" "b@example.org>", 0, "a\xc2\xa0" "b@example.org",
	    NULL },
	{ RCPTU, "<a\xe2\x80\xaa" "b@example.org>", SMTP_ADDR_E_HIDDEN, NULL,
	    NULL },
	{ RCPTU, "<a\xe2\x80\xae" "b@example.org>", SMTP_ADDR_E_HIDDEN, NULL,
	    NULL },
	{ RCPTU, "<a\xe2\x80\xaf" "b@example.org>", 0, NULL, NULL },
	{ RCPTU, "<a\xe2\x81\xa6" "b@example.org>", SMTP_ADDR_E_HIDDEN, NULL,
	    NULL },
	{ RCPTU, "<a\xe2\x81\xa9" "b@example.org>", SMTP_ADDR_E_HIDDEN, NULL,
	    NULL },
	{ RCPTU, "<a\xe2\x81\xaa" "b@example.org>", 0, NULL, NULL },
	{ RCPTU, "<a\xe2\x80\xa8" "b@example.org>", SMTP_ADDR_E_HIDDEN, NULL,
	    NULL },
	{ RCPTU, "<a\xe2\x80\x8f" "b@example.org>", SMTP_ADDR_E_HIDDEN, NULL,
	    NULL },
	{ RCPTU, "<a\xd8\x9c" "b@example.org>", SMTP_ADDR_E_HIDDEN, NULL, NULL },
	{ RCPTU, "<\"a\xe2\x80\xae b\"@example.org>", SMTP_ADDR_E_HIDDEN,
	    NULL, NULL },
	{ RCPTU, "<ab@ex\xe2\x80\xae" "ample.org>", SMTP_ADDR_E_HIDDEN, NULL,
	    NULL },
	{ MAIL, "<a\xc2\x85@example.org> SMTPUTF8", SMTP_ADDR_E_HIDDEN, NULL,
	    NULL },
	{ RCPT, "<j\xff@example.org>", SMTP_ADDR_E_BADUTF8, NULL, NULL },
	{ MAIL, "<j\xc3\xb6rg@example.org>", SMTP_ADDR_E_NEEDUTF8, NULL,
	    NULL },
	{ MAIL, "<j\xc3\xb6rg@example.org> SMTPUTF8", 0, NULL, NULL },
	{ MAIL, "<j\xc3\xb6rg@example.org> SMTPUTF8=yes", SMTP_ADDR_E_PARAM,
	    NULL, NULL },
	/* parameters */
	{ MAIL, "<a@b.example> SIZE=1000", 0, NULL, NULL },
	{ MAIL, "<a@b.example>  size=1000  BODY=8bitmime", 0, NULL, NULL },
	{ MAIL, "<a@b.example> SIZE=", SMTP_ADDR_E_PARAM, NULL, NULL },
	{ MAIL, "<a@b.example> SIZE", SMTP_ADDR_E_PARAM, NULL, NULL },
	{ MAIL, "<a@b.example> SIZE=-1", SMTP_ADDR_E_PARAM, NULL, NULL },
	{ MAIL, "<a@b.example> SIZE=1k", SMTP_ADDR_E_PARAM, NULL, NULL },
	{ MAIL, "<a@b.example> SIZE=1 SIZE=2", SMTP_ADDR_E_PARAM_DUP, NULL,
	    NULL },
	{ MAIL, "<a@b.example> SIZE=123456789012345678901",
	    SMTP_ADDR_E_PARAM, NULL, NULL },	/* 21 digits */
	{ MAIL, "<a@b.example> BODY=7BIT", 0, NULL, NULL },
	{ MAIL, "<a@b.example> BODY=BINARYMIME", 0, NULL, NULL },
	{ MAIL, "<a@b.example> BODY=8BIT", SMTP_ADDR_E_PARAM, NULL, NULL },
	{ MAIL, "<a@b.example> BODY=7BIT BODY=7BIT", SMTP_ADDR_E_PARAM_DUP,
	    NULL, NULL },
	{ MAIL, "<a@b.example> SMTPUTF8 SMTPUTF8", SMTP_ADDR_E_PARAM_DUP,
	    NULL, NULL },
	{ MAIL, "<a@b.example> RET=FULL", SMTP_ADDR_E_PARAM_UNKNOWN, NULL,
	    NULL },
	{ MAIL, "<a@b.example> X-FOO", SMTP_ADDR_E_PARAM_UNKNOWN, NULL,
	    NULL },
	{ MAIL, "<a@b.example> -X", SMTP_ADDR_E_PARAM, NULL, NULL },
	{ MAIL, "<a@b.example> A=b=c", SMTP_ADDR_E_PARAM, NULL, NULL },
	{ MAIL, "<a@b.example> A=\xc3\xa9", SMTP_ADDR_E_PARAM, NULL, NULL },
	{ MAIL, "<a@b.example>SIZE=1", SMTP_ADDR_E_PARAM, NULL, NULL },
	{ MAIL, "<a@b.example>\tSIZE=1", SMTP_ADDR_E_PARAM, NULL, NULL },
	{ RCPT, "<a@b.example> NOTIFY=NEVER", SMTP_ADDR_E_PARAM_UNKNOWN,
	    NULL, NULL },
	{ RCPT, "<a@b.example> SIZE=1", SMTP_ADDR_E_PARAM_UNKNOWN, NULL,
	    NULL },
};

static int
parse(int kind, const char *s, size_t n, unsigned ext, struct smtp_path *p,
    struct smtp_params *par)
{
	if (kind == MAIL)
		return smtp_addr_parse_mail(s, n, ext, p, par);
	return smtp_addr_parse_rcpt(s, n, ext,
	    (kind == RCPTU ? SMTP_PATH_UTF8 : 0) |
	    (kind == RCPTL ? SMTP_PATH_LOCAL : 0), p, par);
}

/* "<" local "@" domain ">" with the given part lengths. */
static size_t
mkpath(char *out, size_t local, size_t domain)
{
	size_t o = 0, i;

	out[o++] = '<';
	for (i = 0; i < local; i++)
		out[o++] = 'l';
	out[o++] = '@';
	for (i = 0; i < domain; i++)
		out[o++] = (i % 4 == 3 && i + 1 < domain) ? '.' : 'd';
	out[o++] = '>';
	out[o] = '\0';
	return o;
}

int
main(void)
{
	struct smtp_path p;
	struct smtp_params par;
	char s[1024], name[1200];
	size_t i, n, used;
	int r;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tcase *t = &cases[i];

		r = parse(t->kind, t->arg, strlen(t->arg), SMTP_EXT_ALL, &p,
		    &par);
		snprintf(name, sizeof name, "%s %s",
		    t->kind == MAIL ? "MAIL" : "RCPT", t->arg);
		for (n = 0; name[n] != '\0'; n++)
			if ((unsigned char)name[n] < 32)
				name[n] = '?';
		is_int(r, t->want, name);
		if (r == 0 && t->addr != NULL)
			is_str(p.addr, t->addr, "  canonical address");
		if (r == 0 && t->domain != NULL)
			is_str(p.domain, t->domain, "  domain");
		if (r == 0)
			is_int((long long)p.addrlen, (long long)strlen(p.addr),
			    "  addrlen");
	}

	/* parameter values */
	r = parse(MAIL, "<a@b.example> SIZE=18446744073709551615", 39,
	    SMTP_EXT_ALL, &p, &par);
	ok(r == 0 && par.has_size && par.size == UINT64_MAX, "SIZE max u64");
	r = parse(MAIL, "<a@b.example> SIZE=99999999999999999999", 39,
	    SMTP_EXT_ALL, &p, &par);
	ok(r == 0 && par.size == UINT64_MAX, "SIZE overflow saturates");
	r = parse(MAIL, "<a@b.example> SIZE=0 BODY=8BITMIME SMTPUTF8", 43,
	    SMTP_EXT_ALL, &p, &par);
	ok(r == 0 && par.has_size && par.size == 0 &&
	    par.body == SMTP_BODY_8BITMIME && par.smtputf8, "all params");
	r = parse(MAIL, "<a@b.example>", 13, SMTP_EXT_ALL, &p, &par);
	ok(r == 0 && !par.has_size && par.body == SMTP_BODY_NONE &&
	    !par.smtputf8 && !p.null, "no params");
	r = parse(MAIL, "<> BODY=BINARYMIME", 18, SMTP_EXT_ALL, &p, &par);
	ok(r == 0 && p.null && par.body == SMTP_BODY_BINARYMIME, "null path");
	/* extensions not advertised (HELO session): params unknown */
	is_int(parse(MAIL, "<a@b.example> SIZE=1", 20, 0, &p, &par),
	    SMTP_ADDR_E_PARAM_UNKNOWN, "SIZE after HELO");
	is_int(parse(MAIL, "<a@b.example> BODY=BINARYMIME", 29,
	    SMTP_EXT_8BITMIME, &p, &par), SMTP_ADDR_E_PARAM,
	    "BINARYMIME not advertised");
	is_int(parse(MAIL, "<a@b.example> SMTPUTF8", 22, SMTP_EXT_SIZE, &p,
	    &par), SMTP_ADDR_E_PARAM_UNKNOWN, "SMTPUTF8 not advertised");
	/* NUL inside the argument */
	is_int(parse(RCPT, "<a\0b@x.example>", 15, SMTP_EXT_ALL, &p, &par),
	    SMTP_ADDR_E_SYNTAX, "NUL in local part");
	is_int(parse(RCPT, "<\"a\0b\"@x.example>", 17, SMTP_EXT_ALL, &p,
	    &par), SMTP_ADDR_E_SYNTAX, "NUL in quoted local part");
	is_int(parse(RCPT, "<a@[IPv6:::1\0]>", 15, SMTP_EXT_ALL, &p, &par),
	    SMTP_ADDR_E_SYNTAX, "NUL in literal");

	/* RFC 5321 4.5.3.1 limits at max and max + 1 */
	n = mkpath(s, 64, 20);
	ok(parse(RCPT, s, n, 0, &p, &par) == 0 && p.locallen == 64,
	    "local part 64");
	n = mkpath(s, 65, 20);
	is_int(parse(RCPT, s, n, 0, &p, &par), SMTP_ADDR_E_TOOLONG,
	    "local part 65");
	s[0] = '<';
	s[1] = '"';
	memset(s + 2, 'q', 62);
	memcpy(s + 64, "\"@x.example>", 12);
	ok(parse(RCPT, s, 76, 0, &p, &par) == 0, "quoted local part 64");
	s[1] = '"';
	memset(s + 2, 'q', 63);
	memcpy(s + 65, "\"@x.example>", 12);
	is_int(parse(RCPT, s, 77, 0, &p, &par), SMTP_ADDR_E_TOOLONG,
	    "quoted local part 65");
	/* a UTF-8 character may not carry the local part past 64 */
	memset(s, 'l', sizeof s);
	s[0] = '<';
	memcpy(s + 63, "\xc3\xa9@x.example>", 13);
	ok(smtp_addr_parse_rcpt(s, 76, 0, SMTP_PATH_UTF8, &p, &par) == 0 &&
	    p.locallen == 64, "UTF-8 local part ending at 64");
	memset(s + 1, 'l', 63);
	memcpy(s + 64, "\xf0\x9f\x98\x80@x.example>", 15);
	is_int(smtp_addr_parse_rcpt(s, 79, 0, SMTP_PATH_UTF8, &p, &par),
	    SMTP_ADDR_E_TOOLONG, "UTF-8 local part crossing 64");
	/* path 256 with brackets: local 64 + "@" + domain 189 + "<>" */
	n = mkpath(s, 64, 189);
	ok(n == 256 && parse(RCPT, s, n, 0, &p, &par) == 0 &&
	    p.addrlen == 254, "path 256");
	n = mkpath(s, 64, 190);
	ok(n == 257, "(path 257 built)");
	is_int(parse(RCPT, s, n, 0, &p, &par), SMTP_ADDR_E_TOOLONG,
	    "path 257");
	/* domain 255 and 256: only reachable in a source route */
	memcpy(s, "<@", 2);
	for (i = 0; i < 255; i++)
		s[2 + i] = (i % 4 == 3) ? '.' : 'd';
	memcpy(s + 257, ":a@b>", 6);
	is_int(parse(RCPT, s, 262, 0, &p, &par), SMTP_ADDR_E_TOOLONG,
	    "source route makes the path too long");
	memcpy(s, "<@", 2);
	for (i = 0; i < 63; i++)
		s[2 + i] = 'd';
	memcpy(s + 65, ".e:a@b>", 8);
	is_int(parse(RCPT, s, 72, 0, &p, &par), 0, "label 63");
	for (i = 0; i < 64; i++)
		s[2 + i] = 'd';
	memcpy(s + 66, ".e:a@b>", 8);
	is_int(parse(RCPT, s, 73, 0, &p, &par), SMTP_ADDR_E_TOOLONG,
	    "label 64");

	/* parse_path reports how much it used */
	ok(smtp_addr_parse_path("<a@b.example> X", 15, 0, &p, &used) == 0 &&
	    used == 13, "used");
	is_int(smtp_addr_literal_check("[127.0.0.1]", 11), 0, "literal");
	is_int(smtp_addr_literal_check("127.0.0.1", 9), SMTP_ADDR_E_SYNTAX,
	    "literal needs brackets");
	return done_testing();
}
