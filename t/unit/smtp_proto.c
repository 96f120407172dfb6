/* smtp_proto: the Received: protocol words (RFC 3848, RFC 6531). */
#include "smtp/smtp_proto.h"
#include "tap.h"

static const char *
word(int lmtp, int esmtp, int utf8, int tls, int auth)
{
	struct smtp_proto p = { lmtp, esmtp, utf8, tls, auth };

	return smtp_proto_word(&p);
}

int
main(void)
{
	is_str(word(0, 0, 0, 0, 0), "SMTP", "HELO");
	is_str(word(0, 1, 0, 0, 0), "ESMTP", "EHLO");
	is_str(word(0, 1, 0, 1, 0), "ESMTPS", "EHLO, TLS");
	is_str(word(0, 1, 0, 0, 1), "ESMTPA", "EHLO, AUTH");
	is_str(word(0, 1, 0, 1, 1), "ESMTPSA", "EHLO, TLS, AUTH");
	is_str(word(0, 1, 1, 1, 1), "UTF8SMTPSA", "SMTPUTF8, TLS, AUTH");
	is_str(word(1, 1, 0, 0, 0), "LMTP", "LHLO");
	is_str(word(1, 1, 0, 1, 1), "LMTPSA", "LHLO, TLS, AUTH");
	is_str(word(1, 1, 1, 1, 0), "UTF8LMTPS", "LHLO, SMTPUTF8, TLS");
	return done_testing();
}
