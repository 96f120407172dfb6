/* auth_dovecot_proto: the handshake, the request, the answers. */
#include <string.h>

#include "auth/auth_dovecot_proto.h"
#include "tap.h"

static int
hs_run(const char *const *lines)
{
	struct auth_dovecot_hs hs = { 0, 0 };
	int r = AUTH_DOVECOT_MORE;

	for (; *lines && r == AUTH_DOVECOT_MORE; lines++)
		r = auth_dovecot_handshake(&hs, *lines, strlen(*lines));
	return r;
}

static int
res(const char *line, char *user)
{
	return auth_dovecot_result(line, strlen(line), 1, user, 256);
}

int
main(void)
{
	static const char *const good[] = { "VERSION\t1\t2",
		"MECH\tPLAIN\t"
		"plaintext",
		"MECH\tLOGIN\tplaintext", "SPID\t42", "CUID\t7",
		"COOKIE\t0123", "DONE", NULL };
	static const char *const noplain[] = { "VERSION\t1\t2",
		"MECH\tLOGIN\tplaintext", "DONE", NULL };
	static const char *const v2[] = { "VERSION\t2\t0", NULL };
	static const char *const noversion[] = { "MECH\tPLAIN", "DONE", NULL };
	struct buf b = BUF_INIT(0);
	char user[256];

	is_int(hs_run(good), AUTH_DOVECOT_OK, "handshake of Dovecot 2.3");
	is_int(hs_run(noplain), AUTH_DOVECOT_PROTO, "no PLAIN: refused");
	is_int(hs_run(v2), AUTH_DOVECOT_PROTO, "major version 2: refused");
	is_int(hs_run(noversion), AUTH_DOVECOT_PROTO, "no VERSION first");

	auth_dovecot_hello(&b, 1234);
	is_str(b.p, "VERSION\t1\t2\nCPID\t1234\n", "client hello");
	buf_reset(&b);
	ok(auth_dovecot_request(&b, 1, "joe", 3, "pw", 2, "192.0.2.1", "",
	       1) == 0,
	    "request built");
	is_str(b.p,
	    "AUTH\t1\tPLAIN\tservice=smtp\tnologin\trip=192.0.2.1"
	    "\tsecured\tresp=AGpvZQBwdw==\n",
	    "request: PLAIN in resp=");
	buf_reset(&b);
	auth_dovecot_request(&b, 7, "joe", 3, "pw", 2, "a\tb", "c\001", 0);
	is_str(b.p,
	    "AUTH\t7\tPLAIN\tservice=smtp\tnologin\trip=a\001tb"
	    "\tlip=c\0011\tresp=AGpvZQBwdw==\n",
	    "request: values escaped");

	ok(res("OK\t1\tuser=joe@example.org", user) == AUTH_DOVECOT_OK &&
	        strcmp(user, "joe@example.org") == 0,
	    "OK with user=");
	ok(res("OK\t1", user) == AUTH_DOVECOT_OK && user[0] == '\0',
	    "OK without user=");
	ok(res("OK\t1\tuser=a\001tb", user) == AUTH_DOVECOT_OK &&
	        user[0] == '\0',
	    "OK with a TAB in user=: name ignored");
	ok(res("OK\t1\tuser=a\001", user) == AUTH_DOVECOT_OK &&
	        user[0] == '\0',
	    "OK with a cut escape: name ignored");
	is_int(res("FAIL\t1\tuser=joe", user), AUTH_DOVECOT_FAIL, "FAIL");
	is_int(res("FAIL\t1\ttemp\treason=db down", user), AUTH_DOVECOT_TEMP,
	    "FAIL temp");
	is_int(res("OK\t2\tuser=joe", user), AUTH_DOVECOT_PROTO,
	    "another request id");
	is_int(res("CONT\t1\t", user), AUTH_DOVECOT_PROTO, "CONT");
	is_int(res("", user), AUTH_DOVECOT_PROTO, "empty line");
	is_int(res("OK", user), AUTH_DOVECOT_PROTO, "OK without id");
	buf_free(&b);
	return done_testing();
}
