/* The postmaster.cf grammar: one case per production and per diagnostic. */
#include <stdio.h>
#include <string.h>

#include "cf/cf_check.h"
#include "cf/cf_dump.h"
#include "cf/cf_parse.h"
#include "tap.h"

struct pcase {
	const char *name;
	const char *in;
	const char *dump; /* expected dump, or NULL when diag is expected */
	const char *diag; /* expected diagnostics (parse + check) */
};

static const struct pcase cases[] = {
	{ "implicit leading [route]", "joe@example.org joe\n",
	    "route.\"\".joe@example.org = joe\n", "" },
	{ "named section, optional =", "[relay \"r\"]\naddress 10.0.0.1\naddress=10.0.0.2\n",
	    "relay.\"r\".address = 10.0.0.1\nrelay.\"r\".address = 10.0.0.2\n", "" },
	{ "unnamed section", "[core]\nhostname = mx.test\n",
	    "core.\"\".hostname = mx.test\n", "" },
	{ "several words", "[pipe \"p\"]\nexec = /bin/x -a \"b c\"\n",
	    "pipe.\"p\".exec = /bin/x -a \"b c\"\n", "" },
	{ "quoted pairs", "[core]\nhostname = \"a\\\"b\\\\c\\x\"\n",
	    "core.\"\".hostname = \"a\\\"b\\\\cx\"\n", "" },
	{ "comment after a value", "[core]\nhostname = mx.test # the name\n",
	    "core.\"\".hostname = mx.test\n", "" },
	{ "comment right after a word", "[core]\nhostname = mx.test#x\n",
	    "core.\"\".hostname = mx.test\n", "" },
	{ "comment after a header", "[core] # global\nhostname = a\n",
	    "core.\"\".hostname = a\n", "" },
	{ "CRLF lines", "[core]\r\nhostname = a\r\n\r\n# c\r\n",
	    "core.\"\".hostname = a\n", "" },
	{ "tabs as spaces", "[core]\n\thostname\t=\ta\n",
	    "core.\"\".hostname = a\n", "" },
	{ "no newline at end", "[core]\nhostname = a",
	    "core.\"\".hostname = a\n", "" },
	{ "scoped form", "smtpd.\"mx\".listen-port = 2525\nroute.\"\".@a.test = b\n",
	    "smtpd.\"mx\".listen-port = 2525\nroute.\"\".@a.test = b\n", "" },
	{ "brackets in values", "[smtpd \"x\"]\nlisten-port = [::1]:587\n",
	    "smtpd.\"x\".listen-port = [::1]:587\n", "" },
	{ "route list", "a@b.test joe, jane,x@y.test \"|/bin/cat -\"\n",
	    "route.\"\".a@b.test = joe, jane,x@y.test \"|/bin/cat -\"\n", "" },
	{ "[route] after leading routes continues it", "a x\n[route]\nb y\n",
	    "route.\"\".a = x\nroute.\"\".b = y\n", "" },
	{ "empty section kept as a header", "[syslog]\n[core]\nhostname = a\n",
	    "[syslog]\ncore.\"\".hostname = a\n", "" },

	{ "unterminated string", "[core]\nhostname = \"abc\n", NULL,
	    "t.cf:2:12: unterminated quoted string\n" },
	{ "missing value", "[core]\nhostname =\n", NULL,
	    "t.cf:2:11: missing value for 'hostname'\n" },
	{ "missing ]", "[core\n", NULL,
	    "t.cf:1:6: missing ']' at the end of the section header\n" },
	{ "text after header", "[core] x\n", NULL,
	    "t.cf:1:8: unexpected text after the section header\n" },
	{ "empty header", "[]\n", NULL,
	    "t.cf:1:2: expected a section kind after '['\n" },
	{ "stray =", "[core]\nhostname = a=b\n", NULL,
	    "t.cf:2:13: unexpected '=' (quote a value that contains it)\n" },
	{ "backslash outside quotes", "[core]\nhostname = a\\b\n", NULL,
	    "t.cf:2:13: backslash outside a quoted string\n" },
	{ "bare CR", "[core]\nhostname = a\rb\n", NULL,
	    "t.cf:2:13: carriage return not followed by a line feed\n" },
	{ "control character", "[core]\nhostname = a\001\n", NULL,
	    "t.cf:2:13: control character 0x01\n" },
	{ "quote glued to a word", "[core]\nhostname = \"a\"b\n", NULL,
	    "t.cf:2:15: expected a space after the quoted string\n" },
	{ "line starting with =", "= x\n", NULL,
	    "t.cf:1:1: expected a key or a section header\n" },
	{ "duplicate section", "[smtpd \"a\"]\n[smtpd \"a\"]\n", NULL,
	    "t.cf:2:1: duplicate section [smtpd \"a\"] (first at line 1)\n" },
	{ "scoped form missing key", "smtpd.\"a\".\n", NULL,
	    "t.cf:1:11: expected a key after '.'\n" },
	{ "unknown kind with suggestion", "[smptd \"a\"]\n", NULL,
	    "t.cf:1:1: unknown section kind 'smptd' (did you mean 'smtpd'?)\n" },
	{ "unknown kind", "[frobnicate]\n", NULL,
	    "t.cf:1:1: unknown section kind 'frobnicate'\n" },
	{ "unknown key", "[core]\nspool-dir = /x\n", NULL,
	    "t.cf:2:1: unknown key 'spool-dir' in [core] (did you mean 'spool-directory'?)\n" },
	{ "named kind needs a name", "[smtpd]\n", NULL,
	    "t.cf:1:1: [smtpd] needs a name: [smtpd \"NAME\"]\n" },
	{ "unnamed kind takes none", "[core \"x\"]\n", NULL,
	    "t.cf:1:1: [core] takes no name\n" },
	{ "duplicate key", "[core]\nhostname = a\nhostname = b\n", NULL,
	    "t.cf:3:1: 'hostname' is already set at line 2\n" },
	{ "one value only", "[core]\nhostname = a b\n", NULL,
	    "t.cf:2:14: hostname takes one value\n" },
	{ "bad number", "[smtpd \"a\"]\nmax-recipients = lots\n", NULL,
	    "t.cf:2:18: max-recipients: expected a number, not 'lots'\n" },
	{ "number out of range", "[smtpd \"a\"]\nmax-recipients = 0\n", NULL,
	    "t.cf:2:18: max-recipients must be 1 to 100000, not '0'\n" },
	{ "number overflow", "[core]\nmax-hops = 99999999999999999999999\n", NULL,
	    "t.cf:2:12: max-hops: number too large, not '99999999999999999999999'\n" },
	{ "bad size", "[core]\nmax-message-size = 10X\n", NULL,
	    "t.cf:2:20: max-message-size: expected a size such as 10485760, 10240k or 10M, not '10X'\n" },
	{ "bad duration", "[core]\nqueue-lifetime = 5y\n", NULL,
	    "t.cf:2:18: queue-lifetime: expected a duration such as 300, 300s, 5m, 2h, 5d or 1w, not '5y'\n" },
	{ "bad bool", "[smtpd \"a\"]\nlocal-rcpt-to = maybe\n", NULL,
	    "t.cf:2:17: local-rcpt-to: expected yes or no, not 'maybe'\n" },
	{ "bad enum", "[core]\nbounce-to = nobody\n", NULL,
	    "t.cf:2:13: bounce-to must be one of sender, postmaster, both, not 'nobody'\n" },
	{ "relative path", "[core]\nspool-directory = spool\n", NULL,
	    "t.cf:2:19: spool-directory: expected an absolute path, not 'spool'\n" },
	{ "listen-port port 0", "[smtpd \"a\"]\nlisten-port = 0\n", NULL,
	    "t.cf:2:15: listen-port: port must be 1 to 65535, not '0'\n" },
	{ "listen-port unknown service", "[smtpd \"a\"]\nlisten-port = nosuchservice\n", NULL,
	    "t.cf:2:15: listen-port: unknown service 'nosuchservice' (not in /etc/services)\n" },
	{ "listen-port bare IPv6", "[smtpd \"a\"]\nlisten-port = ::1:25\n", NULL,
	    "t.cf:2:15: listen-port: write IPv6 addresses in brackets: [::1]:25, not '::1:25'\n" },
	{ "listen-port missing port", "[smtpd \"a\"]\nlisten-port = [::1]\n", NULL,
	    "t.cf:2:15: listen-port: missing ':port' after the address, not '[::1]'\n" },
	{ "bad status", "[reject \"r\"]\nstatus = 5.7\n", NULL,
	    "t.cf:2:10: status: expected an enhanced status code like 5.7.1, not '5.7'\n" },
	{ "required key", "[pipe \"p\"]\nmax_rcpt_to = 2\n", NULL,
	    "t.cf:1:1: [pipe \"p\"] needs 'exec'\n" },
	{ "target names unique", "[pipe \"x\"]\nexec = /bin/cat\n[relay \"x\"]\n", NULL,
	    "t.cf:3:1: name 'x' is already used by [pipe] at line 1\n" },
	{ "route to a route section", "[route \"t\"]\na@b.test t\n", NULL,
	    "t.cf:2:10: route target 't' names a [route] section, which is not a delivery target\n" },
	{ "relative pipe", "a@b.test \"|bin/x\"\n", NULL,
	    "t.cf:1:10: pipe target must start with an absolute path: '|bin/x'\n" },
	{ "bad route lhs", "a@@b x\n", NULL,
	    "t.cf:1:1: route 'a@@b': more than one '@'\n" },
	{ "lone @", "@ x\n", NULL, "t.cf:1:1: route '@': '@' alone is not an address\n" },
	{ "bad target domain", "a@b.test x@-y\n", NULL,
	    "t.cf:1:10: route target 'x@-y': bad domain\n" },
	{ "duplicate route warns", "a@b.test x\nA@B.test y\n",
	    "route.\"\".a@b.test = x\nroute.\"\".A@B.test = y\n",
	    "t.cf:2:1: warning: route 'A@B.test' never matches: t.cf:1 has the same left side\n" },
	{ "errors are all reported", "[core]\nx = 1\ny = 2\n", NULL,
	    "t.cf:2:1: unknown key 'x' in [core]\nt.cf:3:1: unknown key 'y' in [core]\n" },
};

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct pcase *c = &cases[i];
		struct cf cf;
		struct cf_diag d;
		struct buf out = BUF_INIT(0);
		char name[200];

		cf_init(&cf);
		cf_diag_init(&d);
		cf_parse_text(&cf, "t.cf", c->in, strlen(c->in), &d);
		cf_check(&cf, &d);
		snprintf(name, sizeof name, "%s: diagnostics", c->name);
		is_str(d.out.p ? d.out.p : "", c->diag, name);
		if (c->dump) {
			cf_dump(&cf, &out);
			snprintf(name, sizeof name, "%s: dump", c->name);
			is_str(out.p ? out.p : "", c->dump, name);
		} else {
			snprintf(name, sizeof name, "%s: is an error", c->name);
			ok(d.nerr > 0, "%s", name);
		}
		buf_free(&out);
		cf_diag_free(&d);
		cf_free(&cf);
	}

	{ /* the error cap */
		struct buf big = BUF_INIT(0);
		struct cf cf;
		struct cf_diag d;

		buf_append_str(&big, "[core]\n");
		for (i = 0; i < 200; i++)
			buf_printf(&big, "bogus%zu = 1\n", i);
		cf_init(&cf);
		cf_diag_init(&d);
		cf_parse_text(&cf, "t.cf", big.p, big.len, &d);
		cf_check(&cf, &d);
		is_int(d.nerr, 200, "every error counted");
		ok(strstr(d.out.p, "too many errors, stopping") != NULL &&
		    strstr(d.out.p, "bogus50 ") == NULL,
		    "output capped at %d errors", CF_DIAG_MAX_ERRORS);
		cf_diag_free(&d);
		cf_free(&cf);
		buf_free(&big);
	}
	{ /* NUL bytes */
		static const char in[] = "[core]\nhostname = a\0b\n";
		struct cf cf;
		struct cf_diag d;

		cf_init(&cf);
		cf_diag_init(&d);
		cf_parse_text(&cf, "t.cf", in, sizeof in - 1, &d);
		is_str(d.out.p, "t.cf:2:13: NUL byte\n", "NUL byte refused");
		cf_diag_free(&d);
		cf_free(&cf);
	}
	return done_testing();
}
