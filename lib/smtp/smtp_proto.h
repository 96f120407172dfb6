/*
 * smtp_proto: the protocol word of a Received: field's "with" clause and
 * of the log (RFC 5321 4.4, the IANA "Mail Transmission Types" registry):
 * SMTP, ESMTP, LMTP (RFC 2033), UTF8SMTP/UTF8LMTP (RFC 6531 3.7.3), each
 * ESMTP-family word with S after STARTTLS and A after AUTH (RFC 3848:
 * ESMTPS, ESMTPA, ESMTPSA, LMTPSA, UTF8SMTPSA, ...). Plain SMTP (HELO)
 * has no such forms. Pure; the one place that spells these words.
 */
#ifndef PM_SMTP_PROTO_H
#define PM_SMTP_PROTO_H

struct smtp_proto_in {
	int lmtp;	/* after LHLO */
	int esmtp;	/* after EHLO (or LHLO) */
	int utf8;	/* SMTPUTF8 on MAIL */
	int tls;	/* STARTTLS or implicit TLS done */
	int auth;	/* AUTH succeeded */
};

/* Writes the word into out (at least SMTP_PROTO_MAX octets). */
#define SMTP_PROTO_MAX 16
void smtp_proto_word(const struct smtp_proto_in *in, char *out);

#endif
