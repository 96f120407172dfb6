/* smtp_proto: the "with" word of Received (RFC 3848, RFC 6531 3.7.3). */
#include "smtp/smtp_proto.h"
#include "tap.h"

static const char *
w(int lmtp, int esmtp, int utf8, int tls, int auth)
{
	struct smtp_proto p = { lmtp, esmtp, utf8, tls, auth };

	return smtp_proto_word(&p);
}

int
main(void)
{
	plan(12);
	is_str(w(0, 0, 0, 0, 0), "SMTP", "HELO");
	is_str(w(0, 1, 0, 0, 0), "ESMTP", "EHLO");
	is_str(w(0, 1, 0, 1, 0), "ESMTPS", "EHLO + STARTTLS");
	is_str(w(0, 1, 0, 0, 1), "ESMTPA", "EHLO + AUTH");
	is_str(w(0, 1, 0, 1, 1), "ESMTPSA", "EHLO + STARTTLS + AUTH");
	is_str(w(0, 0, 0, 1, 0), "ESMTPS", "HELO after implicit TLS");
	is_str(w(1, 0, 0, 0, 0), "LMTP", "LHLO");
	is_str(w(1, 0, 0, 1, 0), "LMTPS", "LHLO + TLS");
	is_str(w(1, 0, 0, 1, 1), "LMTPSA", "LHLO + TLS + AUTH");
	is_str(w(0, 1, 1, 0, 0), "UTF8SMTP", "SMTPUTF8");
	is_str(w(0, 1, 1, 1, 1), "UTF8SMTPSA", "SMTPUTF8 + TLS + AUTH");
	is_str(w(1, 0, 1, 1, 0), "UTF8LMTPS", "LMTP SMTPUTF8 + TLS");
	return done_testing();
}
