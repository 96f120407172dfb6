/* Pipe argv: splitting "|cmd" targets and substituting variables. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "queue/queue_argv.h"
#include "tap.h"

static void
joined(const struct queue_argv *a, char *out, size_t cap)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < a->n && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "[%s]", a->v[i]);
}

static void
split_case(const char *cmd, int want_e, const char *want)
{
	struct queue_argv a;
	char got[1024];
	int e;

	queue_argv_init(&a);
	e = queue_argv_split(&a, cmd);
	is_int(e, want_e, cmd);
	if (e == 0) {
		joined(&a, got, sizeof got);
		is_str(got, want, cmd);
	}
	queue_argv_free(&a);
}

static void
expand_case(const char *name, char **w, size_t nw, const char *sender,
    const char *const *rcpt, size_t nrcpt, int want_e, const char *want,
    size_t want_bad)
{
	struct queue_argv a;
	struct queue_vars v = { sender, rcpt, nrcpt, "0123456789ABCDEF0123456789ABCD" };
	char got[2048];
	size_t bad = 12345;
	int e;

	queue_argv_init(&a);
	e = queue_argv_expand(&a, w, nw, &v, &bad);
	is_int(e, want_e, name);
	if (e == 0) {
		joined(&a, got, sizeof got);
		is_str(got, want, name);
		ok(a.v[a.n] == NULL, "%s: NULL-terminated", name);
	}
	if (e == QUEUE_ARGV_E_DASH)
		ok(bad == want_bad, "%s: the guilty value is named", name);
	queue_argv_free(&a);
}

int
main(void)
{
	char *procmail[] = { "/usr/bin/procmail", "-f", "${MAIL_FROM}", "-d",
		"${RCPT_TO}" };
	char *parts[] = { "/bin/x", "--user=${RCPT_LOCAL}",
		"${RCPT_DOMAIN}", "id=${QUEUE_ID}", "$HOME", "cost: $5" };
	char *bad_var[] = { "/bin/x", "${NOPE}" };
	char *open_var[] = { "/bin/x", "${RCPT_TO" };
	char *mid[] = { "/bin/x", "--from=${MAIL_FROM}" };
	char *shell[] = { "/bin/x", "${RCPT_TO}" };
	const char *two[] = { "a@x.org", "b@y.org" };
	const char *dash[] = { "ok@x.org", "-oQ/tmp/@x.org" };
	const char *meta[] = { "`id`;$(reboot)|x\"'@x.org" };
	const char *bare[] = { "joe" };

	split_case("|/usr/bin/foo a b", 0, "[/usr/bin/foo][a][b]");
	split_case("/bin/x  'a b'\t\"c \\\" d\" e'f'g", 0,
	    "[/bin/x][a b][c \" d][efg]");
	split_case("|/bin/x \"\"", 0, "[/bin/x][]");
	split_case("|/bin/x 'open", QUEUE_ARGV_E_QUOTE, NULL);
	split_case("|/bin/x \"open", QUEUE_ARGV_E_QUOTE, NULL);
	split_case("|   ", QUEUE_ARGV_E_EMPTY, NULL);

	expand_case("procmail batch", procmail, 5, "s@z.org", two, 2, 0,
	    "[/usr/bin/procmail][-f][s@z.org][-d][a@x.org][b@y.org]", 0);
	expand_case("null sender", procmail, 5, "", two, 1, 0,
	    "[/usr/bin/procmail][-f][MAILER-DAEMON][-d][a@x.org]", 0);
	expand_case("parts", parts, 6, "s@z.org", two, 1, 0,
	    "[/bin/x][--user=a][x.org][id=0123456789ABCDEF0123456789ABCD]"
	    "[$HOME][cost: $5]", 0);
	expand_case("bare local name", parts, 3, "s@z.org", bare, 1, 0,
	    "[/bin/x][--user=joe][]", 0);
	expand_case("unknown variable", bad_var, 2, "", two, 1,
	    QUEUE_ARGV_E_VAR, NULL, 0);
	expand_case("unterminated variable", open_var, 2, "", two, 1,
	    QUEUE_ARGV_E_VAR, NULL, 0);
	expand_case("dash sender", procmail, 5, "-oQ/tmp@x.org", two, 1,
	    QUEUE_ARGV_E_DASH, NULL, QUEUE_ARGV_SENDER);
	expand_case("dash recipient", procmail, 5, "s@z.org", dash, 2,
	    QUEUE_ARGV_E_DASH, NULL, 1);
	expand_case("dash inside an argument is data", mid, 2, "-x@y.org",
	    two, 1, 0, "[/bin/x][--from=-x@y.org]", 0);
	expand_case("shell syntax is data", shell, 2, "", meta, 1, 0,
	    "[/bin/x][`id`;$(reboot)|x\"'@x.org]", 0);
	expand_case("no recipients: rcpt words vanish", procmail, 5, "s@z.org",
	    two, 0, 0, "[/usr/bin/procmail][-f][s@z.org][-d]", 0);
	return done_testing();
}
