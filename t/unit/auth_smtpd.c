/* auth_smtpd: auth-required and sender-login = own|any at MAIL; what an
 * unknown user's password is hashed against. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth_crypt.h"
#include "auth/auth_smtpd.h"
#include "base/clock.h"
#include "cf/cf_db.h"
#include "cf/cf_diag.h"
#include "cf/cf_parse.h"
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

#ifdef PM_TEST_KNOBS
#define SHA \
	"$6$rounds=5000$saltsalt$pauPrmdmG4BTE9h2HPmywiw152IFch6BJCEsaY6D.PLTfpV8sqvXwWdyfsgVgozkYH9B80bAip/08R2BPH2xk/"
#define BCR "$2b$05$abcdefghijklmnopqrstuuHIrMEWpUCQe2YqFR3sXwQ75u4od..9q"

static char hashed[4][256];
static int nhashed;

static void
seen(const char *hash)
{
	if (nhashed < 4)
		snprintf(hashed[nhashed], sizeof hashed[0], "%s", hash);
	nhashed++;
}

/* One PLAIN AUTH against [auth "auth"]: "ok" (the session then says
 * 235) or the reply; the hashes checked in hashed. */
static const char *
plain(struct auth_smtpd *a, const char *auth, const char *b64)
{
	static struct buf r = BUF_INIT(0);
	char line[128];

	snprintf(a->name, sizeof a->name, "%s", auth);
	snprintf(line, sizeof line, "PLAIN %s", b64);
	buf_reset(&r);
	nhashed = 0;
	a->login[0] = '\0';
	if (auth_smtpd_start(a, line, strlen(line), 1, &r) == 0)
		return "ok";
	return r.p;
}

/*
 * An unknown user of a passwd-file is hashed against the file's first
 * account's hash (cfcompile's "Q" record), so it costs that scheme and
 * cost, not a fixed yescrypt: with sha512-crypt accounts, ~70 ms less.
 */
static void
unknown_user_cost(void)
{
	static const struct cf_db_pw pw[] = {
		{ "a", "joe", SHA, 3, sizeof SHA - 1 },
		{ "b", "bob", BCR, 3, sizeof BCR - 1 },
		{ "a", "ann", BCR, 3, sizeof BCR - 1 },
	};
	static const char fail[] =
	    "535 5.7.8 Authentication credentials invalid\r\n";
	char path[] = "/tmp/pm-unit-pwdb.XXXXXX";
	struct auth_smtpd a;
	const char *why = NULL;
	int fd = mkstemp(path);

	memset(&a, 0, sizeof a);
	if (!ok(fd >= 0 && cf_emit_passwd(pw, 3, fd) == 0 && close(fd) == 0 &&
	            cf_db_open(&a.pwdb, path, &why) == 0,
	        "a passwd CDB of two [auth] sections")) {
		diag("%s", why ? why : "write failed");
		return;
	}
	unlink(path);
	a.pwdb_open = a.enabled = 1;
	a.deadline_ms = INT64_MAX;
	a.client = "192.0.2.1";
	auth_crypt_watch(seen);

	is_str(plain(&a, "a", "AG5vYm9keQBwdzI="), fail, "unknown user: 535");
	is_int(nhashed, 1, "  one hash");
	is_str(hashed[0], SHA,
	    "  against the first account's (sha512-crypt, as joe's)");
	is_str(plain(&a, "a", "AG5vYm9keQBwdw=="), fail,
	    "unknown user with the first account's password: still 535");
	is_str(a.login, "", "  and not logged in");
	is_str(plain(&a, "b", "AG5vYm9keQBwdw=="), fail, "[auth b]: 535");
	is_str(hashed[0], BCR, "  hashed as its own first account (bcrypt)");
	is_str(plain(&a, "a", "AGpvZQBwdw=="), "ok",
	    "joe, right password: ok");
	is_str(a.login, "joe", "  logged in");
	is_str(hashed[0], SHA, "  his own hash");

	auth_crypt_watch(NULL);
	auth_smtpd_close(&a);
}
#endif

/*
 * auth-required = yes without auth read from a compiled configuration
 * (cfcompile refuses it; this CDB skips cf_check as an old or hand-made
 * one would): auth_smtpd_open must keep "required", so MAIL gets 530.
 */
static void
required_without_auth(void)
{
	static const char text[] = "[smtpd \"sub\"]\nrouting-table = r\n"
	                           "auth-required = yes\n[route \"r\"]\n"
	                           "@x.test [127.0.0.1]\n";
	char path[] = "/tmp/auth-smtpd-test.XXXXXX";
	struct auth_smtpd a;
	struct cf cf;
	struct cf_diag d;
	struct cf_db db;
	const char *why = NULL;
	int fd;

	cf_init(&cf);
	cf_diag_init(&d);
	cf_parse_text(&cf, "t.cf", text, sizeof text - 1, &d);
	fd = mkstemp(path);
	unlink(path);
	ok(fd >= 0 && cf_emit(&cf, fd) == 0,
	    "a CDB with auth-required and "
	    "no auth, compiled without cfcompile's check");
	ok(cf_db_open_fd(&db, fd, &why) == 0, "  opened");
	is_int(auth_smtpd_open(&a, &db, "sub", path, &why), 0,
	    "  auth_smtpd_open: no [auth], nothing to open");
	is_int(a.enabled, 0, "  AUTH not enabled");
	is_str(mail(&a, "x@y.test"), "530 5.7.0 Authentication required\r\n",
	    "  yet MAIL gets 530 5.7.0: required holds, it fails closed");
	cf_db_close(&db);
	cf_free(&cf);
	cf_diag_free(&d);
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

#ifdef PM_TEST_KNOBS
	unknown_user_cost();
#else
	skip(11, "the crypt watch is a test knob");
#endif

	required_without_auth();

	auth_smtpd_comment_name("a(b)c\\d", who, sizeof who);
	is_str(who, "a?b?c?d", "Received comment: no parentheses or '\\'");
	auth_smtpd_comment_name("abcdef", who, 4);
	is_str(who, "abc", "  cut to the buffer");
	return done_testing();
}
