#include <stdio.h>

#include "smtp/smtp_proto.h"

void
smtp_proto_word(const struct smtp_proto_in *in, char *out)
{
	const char *base;

	if (in->lmtp)
		base = in->utf8 ? "UTF8LMTP" : "LMTP";
	else if (in->esmtp || in->utf8)
		base = in->utf8 ? "UTF8SMTP" : "ESMTP";
	else {
		snprintf(out, SMTP_PROTO_MAX, "SMTP");
		return;
	}
	snprintf(out, SMTP_PROTO_MAX, "%s%s%s", base, in->tls ? "S" : "",
	    in->auth ? "A" : "");
}
