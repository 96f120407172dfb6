#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "deliver/deliver_path.h"
#include "tap.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* len -1 means strlen; a NULL pointer with len 0 means "absent". */
struct tcase {
	const char *name;
	const char *tmpl;
	const char *local;
	int locallen;
	const char *domain;
	int domainlen;
	const char *home;
	size_t outsize;		/* 0: PATH_MAX */
	int want;
	const char *out;
};

static const struct tcase cases[] = {
	{ "virtual %u", "/var/mail/%u/Maildir", "alice", -1, "Example.COM", -1,
	    NULL, 0, DELIVER_PATH_OK, "/var/mail/alice/Maildir" },
	{ "virtual %d/%u, domain lowercased", "/var/mail/%d/%u", "alice", -1,
	    "Example.COM", -1, NULL, 0, DELIVER_PATH_OK,
	    "/var/mail/example.com/alice" },
	{ "local part keeps its case", "/m/%u@%d", "Alice", -1, "EXAMPLE.com",
	    -1, NULL, 0, DELIVER_PATH_OK, "/m/Alice@example.com" },
	{ "%% is a percent", "/m/%%%u%%", "a", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_OK, "/m/%a%" },
	{ "no escapes", "/srv/mail", NULL, 0, NULL, 0, NULL, 0,
	    DELIVER_PATH_OK, "/srv/mail" },
	{ "home", "~/Maildir", "bob", -1, NULL, 0, "/home/bob", 0,
	    DELIVER_PATH_OK, "/home/bob/Maildir" },
	{ "home with trailing slashes", "~/Maildir", "bob", -1, NULL, 0,
	    "/home/bob//", 0, DELIVER_PATH_OK, "/home/bob/Maildir" },
	{ "home is /", "~/Maildir", "bob", -1, NULL, 0, "/", 0,
	    DELIVER_PATH_OK, "/Maildir" },
	{ "~ alone", "~", "bob", -1, NULL, 0, "/home/bob", 0,
	    DELIVER_PATH_OK, "/home/bob" },
	{ "~ alone, home /", "~", "bob", -1, NULL, 0, "/", 0,
	    DELIVER_PATH_OK, "/" },
	{ "home and escapes", "~/Mail/%d", "bob", -1, "X.Org", -1, "/h/b", 0,
	    DELIVER_PATH_OK, "/h/b/Mail/x.org" },
	{ "~ ignores an unusable local part", "~/Maildir", "..", -1, NULL, 0,
	    "/home/x", 0, DELIVER_PATH_OK, "/home/x/Maildir" },
	{ "8-bit local part", "/m/%u", "jos\xc3\xa9", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_OK, "/m/jos\xc3\xa9" },
	{ "plus, colon, backslash", "/m/%u", "a+b:c\\d", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_OK, "/m/a+b:c\\d" },
	{ "ptr+len, not NUL", "/m/%u", "alice@example", 5, NULL, 0, NULL, 0,
	    DELIVER_PATH_OK, "/m/alice" },

	{ "home missing", "~/Maildir", "bob", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_HOME, "" },
	{ "home empty", "~/Maildir", "bob", -1, NULL, 0, "", 0,
	    DELIVER_PATH_E_HOME, "" },
	{ "home relative", "~/Maildir", "bob", -1, NULL, 0, "home/bob", 0,
	    DELIVER_PATH_E_HOME, "" },
	{ "~user", "~bob/Maildir", "bob", -1, NULL, 0, "/home/bob", 0,
	    DELIVER_PATH_E_TEMPLATE, "" },
	{ "empty template", "", "bob", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_TEMPLATE, "" },
	{ "NULL template", NULL, "bob", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_TEMPLATE, "" },
	{ "relative template", "var/mail/%u", "bob", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_RELATIVE, "" },
	{ "relative via escape", "%u/Maildir", "bob", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_RELATIVE, "" },
	{ "unknown escape", "/m/%x", "bob", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_ESCAPE, "" },
	{ "escapes are case-sensitive", "/m/%U", "bob", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_ESCAPE, "" },
	{ "lone trailing %", "/m/%", "bob", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_ESCAPE, "" },

	{ "local empty", "/m/%u", "", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local absent", "/m/%u", NULL, 0, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local .", "/m/%u", ".", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local ..", "/m/%u", "..", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local leading dot", "/m/%u", ".hidden", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local ../etc", "/m/%u", "../etc", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local with /", "/m/%u", "a/b", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local with NUL", "/m/%u", "a\0b", 3, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local with LF", "/m/%u", "a\nb", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local with TAB", "/m/%u", "a\tb", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local with DEL", "/m/%u", "a\x7f", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	/* UTF-8 names are fine (SMTPUTF8); what is not a character of a
	 * name is refused: C1 controls, line/paragraph separators, bidi
	 * controls that reorder how a listing reads, invalid UTF-8. */
	{ "local UTF-8", "/m/%u", "j\xc3\xb6s\xc3\xa9", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_OK, "/m/j\xc3\xb6s\xc3\xa9" },
	{ "local 4-octet UTF-8", "/m/%u", "\xf0\x9f\x93\xa7", -1, NULL, 0,
	    NULL, 0, DELIVER_PATH_OK, "/m/\xf0\x9f\x93\xa7" },
	{ "local NBSP (U+00A0)", "/m/%u", "a\xc2\xa0", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_OK, "/m/a\xc2\xa0" },
	{ "local U+202F (not a control)", "/m/%u", "a\xe2\x80\xaf", -1, NULL,
	    0, NULL, 0, DELIVER_PATH_OK, "/m/a\xe2\x80\xaf" },
	{ "local C1 U+0080", "/m/%u", "a\xc2\x80", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local C1 U+0085 (NEL)", "/m/%u", "a\xc2\x85" "b", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local C1 U+009F", "/m/%u", "\xc2\x9f", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local U+2028 line separator", "/m/%u", "a\xe2\x80\xa8", -1, NULL,
	    0, NULL, 0, DELIVER_PATH_E_LOCAL, "" },
	{ "local U+2029 paragraph separator", "/m/%u", "a\xe2\x80\xa9", -1,
	    NULL, 0, NULL, 0, DELIVER_PATH_E_LOCAL, "" },
	{ "local U+202A LRE", "/m/%u", "\xe2\x80\xaa" "a", -1, NULL, 0, NULL,
	    0, DELIVER_PATH_E_LOCAL, "" },
	{ "local U+202E RLO", "/m/%u", "gpj.\xe2\x80\xae" "exe", -1, NULL, 0,
	    NULL, 0, DELIVER_PATH_E_LOCAL, "" },
	{ "local U+2066 LRI", "/m/%u", "a\xe2\x81\xa6", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local U+2069 PDI", "/m/%u", "a\xe2\x81\xa9", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local U+200F RLM", "/m/%u", "a\xe2\x80\x8f", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local lone continuation octet", "/m/%u", "a\x80", -1, NULL, 0, NULL,
	    0, DELIVER_PATH_E_LOCAL, "" },
	{ "local truncated sequence", "/m/%u", "a\xc3", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "local overlong '/' (C0 AF)", "/m/%u", "a\xc0\xaf", -1, NULL, 0,
	    NULL, 0, DELIVER_PATH_E_LOCAL, "" },
	{ "local overlong 3 octets", "/m/%u", "\xe0\x80\xaf", -1, NULL, 0,
	    NULL, 0, DELIVER_PATH_E_LOCAL, "" },
	{ "local surrogate U+D800", "/m/%u", "\xed\xa0\x80", -1, NULL, 0,
	    NULL, 0, DELIVER_PATH_E_LOCAL, "" },
	{ "local above U+10FFFF", "/m/%u", "\xf4\x90\x80\x80", -1, NULL, 0,
	    NULL, 0, DELIVER_PATH_E_LOCAL, "" },
	{ "local octet FF", "/m/%u", "a\xff", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_LOCAL, "" },
	{ "domain with C1", "/m/%d/%u", "a", -1, "ex\xc2\x9b" "ample", -1,
	    NULL, 0, DELIVER_PATH_E_DOMAIN, "" },
	{ "domain absent", "/m/%d/%u", "a", -1, NULL, 0, NULL, 0,
	    DELIVER_PATH_E_DOMAIN, "" },
	{ "domain ..", "/m/%d/%u", "a", -1, "..", -1, NULL, 0,
	    DELIVER_PATH_E_DOMAIN, "" },
	{ "domain leading dot", "/m/%d/%u", "a", -1, ".example", -1, NULL, 0,
	    DELIVER_PATH_E_DOMAIN, "" },
	{ "domain with /", "/m/%d/%u", "a", -1, "ex/ample", -1, NULL, 0,
	    DELIVER_PATH_E_DOMAIN, "" },
	{ "domain with CR", "/m/%d", "a", -1, "ex\rample", -1, NULL, 0,
	    DELIVER_PATH_E_DOMAIN, "" },
	{ "domain with NUL", "/m/%d", "a", -1, "ex\0", 3, NULL, 0,
	    DELIVER_PATH_E_DOMAIN, "" },

	{ "fits outsize exactly", "/m/%u", "abc", -1, NULL, 0, NULL, 7,
	    DELIVER_PATH_OK, "/m/abc" },
	{ "outsize + 1", "/m/%u", "abc", -1, NULL, 0, NULL, 6,
	    DELIVER_PATH_E_TOOLONG, "" },
	{ "home too long for outsize", "~/Maildir", NULL, 0, NULL, 0,
	    "/home/bob", 12, DELIVER_PATH_E_TOOLONG, "" },
};

static void
run_case(const struct tcase *c)
{
	char out[PATH_MAX];
	size_t ll, dl, size;
	int r;

	ll = c->locallen < 0 ? strlen(c->local) : (size_t)c->locallen;
	dl = c->domainlen < 0 ? strlen(c->domain) : (size_t)c->domainlen;
	size = c->outsize ? c->outsize : sizeof(out);
	memset(out, 'X', sizeof(out));
	r = deliver_path_expand(out, size, c->tmpl, c->local, ll, c->domain,
	    dl, c->home);
	is_int(r, c->want, c->name);
	is_str(out, c->out, c->name);
}

/* Every component limit at NAME_MAX and NAME_MAX + 1, PATH_MAX likewise. */
static void
limits(void)
{
	char local[NAME_MAX + 2], tmpl[PATH_MAX + 8], out[PATH_MAX];
	size_t n;
	int r;

	memset(local, 'a', sizeof(local));
	r = deliver_path_expand(out, sizeof(out), "/m/%u", local, NAME_MAX,
	    NULL, 0, NULL);
	is_int(r, DELIVER_PATH_OK, "component of NAME_MAX bytes");
	is_int((long long)strlen(out), 3 + NAME_MAX, "its length");
	r = deliver_path_expand(out, sizeof(out), "/m/%u", local,
	    NAME_MAX + 1, NULL, 0, NULL);
	is_int(r, DELIVER_PATH_E_TOOLONG, "component of NAME_MAX + 1 bytes");
	r = deliver_path_expand(out, sizeof(out), "/m/x%u", local, NAME_MAX,
	    NULL, 0, NULL);
	is_int(r, DELIVER_PATH_E_TOOLONG, "template text counts too");
	r = deliver_path_expand(out, sizeof(out), "/m/%d", "a", 1, local,
	    NAME_MAX + 1, NULL);
	is_int(r, DELIVER_PATH_E_TOOLONG, "long domain component");

	/* "/aaa.../aaa..." of exactly PATH_MAX - 1 bytes, then one more. */
	for (n = 0; n < PATH_MAX - 1; n++)
		tmpl[n] = (n % 200 == 0) ? '/' : 'a';
	tmpl[n] = '\0';
	r = deliver_path_expand(out, sizeof(out), tmpl, NULL, 0, NULL, 0,
	    NULL);
	is_int(r, DELIVER_PATH_OK, "path of PATH_MAX - 1 bytes");
	is_int((long long)strlen(out), PATH_MAX - 1, "its length");
	tmpl[n++] = 'a';
	tmpl[n] = '\0';
	r = deliver_path_expand(out, sizeof(out), tmpl, NULL, 0, NULL, 0,
	    NULL);
	is_int(r, DELIVER_PATH_E_TOOLONG, "path of PATH_MAX bytes");
	is_str(out, "", "out emptied on error");
}

static void
parts(void)
{
	ok(deliver_path_check_part("alice", 5) == 0, "check_part ok");
	ok(deliver_path_check_part("..", 2) < 0, "check_part ..");
	ok(deliver_path_check_part(NULL, 0) < 0, "check_part NULL");
	ok(deliver_path_check_part("a\x01", 2) < 0, "check_part control");
	ok(strcmp(deliver_path_strerror(DELIVER_PATH_E_LOCAL), "unknown error")
	    != 0, "strerror knows E_LOCAL");
	is_str(deliver_path_strerror(42), "unknown error", "strerror default");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	limits();
	parts();
	return done_testing();
}
