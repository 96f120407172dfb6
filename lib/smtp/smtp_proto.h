/*
 * smtp_proto: the protocol word of a Received field's "with" clause
 * (RFC 5321 4.4), in one place: SMTP or ESMTP, LMTP, with "S" when the
 * session is under TLS and "A" when the client authenticated (RFC 3848),
 * and the UTF8 forms (RFC 6531 3.7.3). STARTTLS and AUTH are service
 * extensions, so a session that used either is ESMTP even after HELO.
 * Pure; the strings are static.
 */
#ifndef PM_SMTP_PROTO_H
#define PM_SMTP_PROTO_H

struct smtp_proto {
	int lmtp;  /* LHLO */
	int esmtp; /* EHLO */
	int utf8;  /* SMTPUTF8 on MAIL */
	int tls;   /* STARTTLS done, or implicit TLS */
	int auth;  /* AUTH succeeded */
};

const char *smtp_proto_word(const struct smtp_proto *p);

#endif
