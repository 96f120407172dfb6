/* Renaming of incoming Received-SPF and our-own Authentication-Results
 * fields: names without case, authserv-id after comments, folding and
 * quoting, body untouched, and the same output however the input is cut. */
#include <string.h>

#include "spf/spf_untrust.h"
#include "tap.h"

struct ucase {
	const char *name, *in, *want;
};

static void
run(const char *in, size_t chunk, struct buf *out)
{
	struct spf_untrust u;
	size_t n = strlen(in), i;

	spf_untrust_init(&u, "mx.example.net");
	buf_reset(out);
	for (i = 0; i < n; i += chunk)
		spf_untrust_feed(&u, in + i, n - i < chunk ? n - i : chunk,
		    out);
	spf_untrust_finish(&u, out);
}

int
main(void)
{
	static const struct ucase c[] = {
		{ "Received-SPF renamed", "Received-SPF: pass\r\n\r\nb\r\n",
		    "X-Untrusted-Received-SPF: pass\r\n\r\nb\r\n" },
		{ "any case, WSP before the colon",
		    "received-spf : pass\r\n\r\n",
		    "X-Untrusted-received-spf : pass\r\n\r\n" },
		{ "our A-R renamed",
		    "Authentication-Results: mx.example.net; spf=pass\r\n\r\n",
		    "X-Untrusted-Authentication-Results: mx.example.net; "
		    "spf=pass\r\n\r\n" },
		{ "another's A-R kept",
		    "Authentication-Results: other.example; spf=pass\r\n\r\n",
		    "Authentication-Results: other.example; spf=pass\r\n\r\n" },
		{ "a longer id is not ours",
		    "Authentication-Results: mx.example.net.evil; x=y\r\n\r\n",
		    "Authentication-Results: mx.example.net.evil; x=y\r\n\r\n" },
		{ "our id after a folded comment, in another case",
		    "Authentication-Results: (a (nested) \\) comment)\r\n"
		    " MX.Example.NET 1; spf=pass\r\n\r\n",
		    "X-Untrusted-Authentication-Results: (a (nested) \\) "
		    "comment)\r\n MX.Example.NET 1; spf=pass\r\n\r\n" },
		{ "quoted with a quoted-pair",
		    "Authentication-Results: \"mx.example\\.net\"; none\r\n\r\n",
		    "X-Untrusted-Authentication-Results: \"mx.example\\.net\"; "
		    "none\r\n\r\n" },
		{ "no authserv-id: renamed",
		    "Authentication-Results: ; spf=pass\r\n\r\n",
		    "X-Untrusted-Authentication-Results: ; spf=pass\r\n\r\n" },
		{ "field ends before its id: renamed",
		    "Authentication-Results:\r\nSubject: x\r\n\r\n",
		    "X-Untrusted-Authentication-Results:\r\nSubject: x\r\n\r\n" },
		{ "other fields and folds pass",
		    "Subject: Received-SPF: no\r\n Received-SPF: fold\r\n\r\n",
		    "Subject: Received-SPF: no\r\n Received-SPF: fold\r\n\r\n" },
		{ "body untouched",
		    "S: x\r\n\r\nReceived-SPF: body\r\nAuthentication-Results: "
		    "mx.example.net\r\n",
		    "S: x\r\n\r\nReceived-SPF: body\r\nAuthentication-Results: "
		    "mx.example.net\r\n" },
		{ "a similar name is not it", "Received-SPFx: a\r\n\r\n",
		    "Received-SPFx: a\r\n\r\n" },
		{ "message ends inside the name", "Received-SP",
		    "Received-SP" },
		{ "message ends before our id: renamed",
		    "Authentication-Results: (c",
		    "X-Untrusted-Authentication-Results: (c" },
		{ "line without a colon",
		    "junk line\r\nReceived-SPF: x\r\n\r\n",
		    "junk line\r\nX-Untrusted-Received-SPF: x\r\n\r\n" },
	};
	struct buf out = BUF_INIT(0), one = BUF_INIT(0);
	char big[3000];
	size_t i, k;
	int same;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		run(c[i].in, 4096, &out);
		is_str(out.p ? out.p : "", c[i].want, c[i].name);
		same = 1;
		for (k = 1; k < 8; k++) {
			run(c[i].in, k, &one);
			if (strcmp(one.p ? one.p : "", out.p ? out.p : "") !=
			    0)
				same = 0;
		}
		ok(same, "%s: the same in chunks of 1 to 7", c[i].name);
	}
	/* an authserv-id past the hold limit is not to be trusted */
	strcpy(big, "Authentication-Results: (");
	memset(big + 25, 'c', SPF_UNTRUST_HOLD + 10);
	strcpy(big + 25 + SPF_UNTRUST_HOLD + 10, ") other.example; x\r\n\r\n");
	run(big, 100, &out);
	ok(strncmp(out.p, "X-Untrusted-Authentication-Results: (ccc", 40) == 0,
	    "a comment past the hold limit: renamed");
	is_int((long long)out.len, (long long)(strlen(big) + 12),
	    "... and nothing lost");
	buf_free(&out);
	buf_free(&one);
	return done_testing();
}
