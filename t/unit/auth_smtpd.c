/* auth_smtpd: auth-required and sender-login = own|any at MAIL. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth_smtpd.h"
#include "base/clock.h"
#include "tap.h"

static int
ours(void *arg, const char *dom, size_t len)
{
	(void)arg;
	return len == 12 && memcmp(dom, "example.test", 12) == 0;
}

static const char *
mail(struct auth_smtpd *a, const char *sender)
{
	static struct buf r = BUF_INIT(0);

	buf_reset(&r);
	if (auth_smtpd_mail(a, sender, strlen(sender), &r) == 0)
		return "ok";
	return r.p;
}

int
main(void)
{
	static const char *const refused[][2] = {
		{ "joe@elsewhere.test", "joe@another domain: 553 5.7.1" },
		{ "joey@example.test", "a longer local part: 553" },
		{ "jo@example.test", "a shorter local part: 553" },
		{ "joe", "no domain: 553" },
	};
	struct auth_smtpd a;
	char who[32];
	size_t i;

	memset(&a, 0, sizeof a);
	a.our_domain = ours;
	is_str(mail(&a, "x@y.test"), "ok", "AUTH off: anything");
	a.required = 1;
	is_str(mail(&a, "x@y.test"), "530 5.7.0 Authentication required\r\n",
	    "auth-required without AUTH enabled: fails closed, 530 5.7.0");
	a.required = 0;
	a.enabled = 1;
	is_str(mail(&a, "x@y.test"), "ok", "not required, not authenticated");
	a.required = 1;
	is_str(mail(&a, "x@y.test"), "530 5.7.0 Authentication required\r\n",
	    "auth-required: 530 5.7.0");

	strcpy(a.login, "joe");
	is_str(mail(&a, "joe@example.test"), "ok", "joe@ours");
	is_str(mail(&a, "JOE@example.test"), "ok", "JOE@ours (case)");
	is_str(mail(&a, ""), "ok", "the null sender");
	for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		char want[256];

		snprintf(want, sizeof want,
		    "553 5.7.1 <%s>: Sender address "
		    "rejected: not owned by user joe\r\n",
		    refused[i][0]);
		is_str(mail(&a, refused[i][0]), want, refused[i][1]);
	}

	strcpy(a.login, "carol@example.org");
	is_str(mail(&a, "Carol@Example.ORG"), "ok", "address login: itself");
	is_str(mail(&a, "carol@example.test"),
	    "553 5.7.1 <carol@example.test>: Sender address rejected: not "
	    "owned by user carol@example.org\r\n",
	    "address login: not its local part elsewhere");
	a.sender_any = 1;
	is_str(mail(&a, "anyone@anywhere.test"), "ok", "sender-login = any");

	/*
	 * The failure delay ends at the session deadline: with an hour of
	 * delay and a deadline already passed, the 535 comes at once (the
	 * alarm ends a test that would sleep the hour).
	 */
	{
		struct buf r = BUF_INIT(0);

		alarm(60);
		a.delay_ms = 3600 * 1000;
		a.deadline_ms = clock_now_ms();
		a.client = "192.0.2.1";
		is_int(auth_smtpd_start(&a, "PLAIN AGpvZQ==", 14, 1, &r), 1,
		    "malformed PLAIN refused");
		is_str(r.p, "535 5.7.8 Authentication credentials invalid\r\n",
		    "  535 5.7.8, the delay cut at the session deadline");
		alarm(0);
		buf_free(&r);
	}

	auth_smtpd_comment_name("a(b)c\\d", who, sizeof who);
	is_str(who, "a?b?c?d", "Received comment: no parentheses or '\\'");
	auth_smtpd_comment_name("abcdef", who, 4);
	is_str(who, "abc", "  cut to the buffer");
	return done_testing();
}
