/* auth_crypt and auth_pwfile: the three schemes, verified and parsed. */
#include <stdio.h>
#include <string.h>

#include "auth/auth_crypt.h"
#include "auth/auth_pwfile.h"
#include "base/buf.h"
#include "tap.h"

#define YES \
	"$y$j9T$Wp7KqLPwhVD946Uq4ua2X1$ClbjCzcZkj3lzDMDWTmNCjfJlOFYTHDYc/le9JXPIw1"
#define SHA \
	"$6$rounds=5000$saltsalt$pauPrmdmG4BTE9h2HPmywiw152IFch6BJCEsaY6D.PLTfpV8sqvXwWdyfsgVgozkYH9B80bAip/08R2BPH2xk/"
#define BCR "$2b$05$abcdefghijklmnopqrstuuHIrMEWpUCQe2YqFR3sXwQ75u4od..9q"

#ifdef PM_TEST_KNOBS
static char last[256];

static void
seen(const char *hash)
{
	snprintf(last, sizeof last, "%s", hash);
}
#endif

static int
collect(void *arg, const char *user, size_t ulen, const char *hash,
    size_t hlen)
{
	struct buf *b = arg;

	return buf_printf(b, "[%.*s=%.*s]", (int)ulen, user, (int)hlen, hash);
}

static void
parse(const char *text, struct buf *got, struct cf_diag *d)
{
	buf_reset(got);
	cf_diag_free(d);
	cf_diag_init(d);
	auth_pwfile_parse("pw", text, strlen(text), d, collect, got);
}

int
main(void)
{
	struct buf got = BUF_INIT(0);
	struct cf_diag d;

	is_int(auth_crypt_verify("pw", YES), 1, "yescrypt: right password");
	is_int(auth_crypt_verify("pW", YES), 0, "yescrypt: wrong password");
	is_int(auth_crypt_verify("pw", SHA), 1, "sha512-crypt: right");
	is_int(auth_crypt_verify("", SHA), 0, "sha512-crypt: empty");
	is_int(auth_crypt_verify("pw", BCR), 1, "bcrypt: right");
	is_int(auth_crypt_verify("pw2", BCR), 0, "bcrypt: wrong");
	is_int(auth_crypt_verify("pw", "$y$j9T$x$"), -1,
	    "a broken hash is unusable, not a match");
#ifdef PM_TEST_KNOBS
	auth_crypt_watch(seen);
	auth_crypt_dummy("pw", SHA);
	is_str(last, SHA, "an unknown user: the file's hash, its scheme");
	auth_crypt_dummy("pw", NULL);
	is_int(strncmp(last, "$y$j9T$", 7), 0,
	    "  without one (an older passwd CDB): yescrypt j9T");
	auth_crypt_dummy("pw", "$6$short");
	is_int(strncmp(last, "$y$j9T$", 7), 0, "  nor for an unusable one");
	auth_crypt_watch(NULL);
#else
	skip(3, "the crypt watch is a test knob");
#endif

	ok(auth_pwfile_hash_ok(YES, strlen(YES)), "shape: yescrypt");
	ok(auth_pwfile_hash_ok(SHA, strlen(SHA)), "shape: sha512-crypt");
	ok(auth_pwfile_hash_ok(SHA, strlen(SHA) - 1) == 0,
	    "shape: sha512-crypt one short");
	ok(auth_pwfile_hash_ok(BCR, strlen(BCR)), "shape: bcrypt");
	ok(!auth_pwfile_hash_ok("$1$abc$Kb85XxsXB.VXinPhbS4431", 28),
	    "shape: md5-crypt refused");
	ok(!auth_pwfile_hash_ok("{PLAIN}pw", 9), "shape: plain text refused");
	ok(!auth_pwfile_hash_ok("x", 1), "shape: DES refused");

	cf_diag_init(&d);
	parse("# accounts\n\njoe:" YES "\r\nann:" SHA ":1000:1000::/home/ann\n"
	      "  # indented comment\nbob:" BCR,
	    &got, &d);
	is_str(got.p, "[joe=" YES "][ann=" SHA "][bob=" BCR "]",
	    "three accounts, CRLF, Dovecot fields, no final LF");
	is_int((long long)d.nerr, 0, "  no errors");
	parse("joe\n:" YES "\njo e:" YES "\nann:{SHA512-CRYPT}x\njoe:" BCR
	      "\nbob:" YES "\nbob:" SHA "\n",
	    &got, &d);
	is_str(got.p, "[joe=" BCR "][bob=" YES "]",
	    "only good lines are taken");
	is_str(d.out.p,
	    "pw:1:1: expected user:hash\n"
	    "pw:2:1: empty user name\n"
	    "pw:3:3: blank or control character in the user name\n"
	    "pw:4:5: 'ann': not a yescrypt ($y$), sha512-crypt ($6$) "
	    "or bcrypt ($2b$) crypt(3) hash\n"
	    "pw:7:1: user 'bob' is already defined at line 6\n",
	    "every bad line reported as FILE:LINE:COL");
	is_int((long long)d.nerr, 5, "  five errors");
	cf_diag_free(&d);
	buf_free(&got);
	return done_testing();
}
