#include "smtp/smtp_proto.h"

/* [utf8][lmtp][tls][auth] for the ESMTP/LMTP family */
static const char *const words[2][2][2][2] = {
	{ { { "ESMTP", "ESMTPA" }, { "ESMTPS", "ESMTPSA" } },
	    { { "LMTP", "LMTPA" }, { "LMTPS", "LMTPSA" } } },
	{ { { "UTF8SMTP", "UTF8SMTPA" }, { "UTF8SMTPS", "UTF8SMTPSA" } },
	    { { "UTF8LMTP", "UTF8LMTPA" }, { "UTF8LMTPS", "UTF8LMTPSA" } } },
};

const char *
smtp_proto_word(const struct smtp_proto *p)
{
	if (!p->lmtp && !p->esmtp && !p->tls && !p->auth && !p->utf8)
		return "SMTP";
	return words[p->utf8 != 0][p->lmtp != 0][p->tls != 0][p->auth != 0];
}
