/*
 * smtp_cmd: split one command line (from smtp_line, without CRLF) into its
 * verb and argument, and check the argument shape each verb allows.
 *
 * Buffers: struct smtp_cmd points into the caller's line; nothing is copied.
 *
 * Liberal where Postfix is, and nowhere else:
 *   - verbs are case-insensitive (RFC 5321 2.4);
 *   - one or more SP or HT separate the verb from its argument, and
 *     trailing SP/HT are ignored (clients that send "DATA ");
 *   - "MAIL FROM:" / "RCPT TO:" are case-insensitive and may be followed by
 *     spaces before the "<" (Postfix accepts "MAIL FROM: <a@b>"). The path
 *     itself is parsed by smtp_addr, which insists on the angle brackets
 *     (Postfix's strict_rfc821_envelopes is off by default; we do not copy
 *     that: a bare address is ambiguous with parameters).
 *   - a HELO/EHLO/LHLO name may contain "_" (Windows host names); it must
 *     otherwise be a domain or an address literal.
 *
 * Errors:
 *   SMTP_CMD_E_UNKNOWN  no such verb           -> 500 5.5.1
 *   SMTP_CMD_E_SYNTAX   bad argument for verb  -> 501 5.5.4
 *   SMTP_CMD_E_SYNTAX for MAIL/RCPT without FROM:/TO:  -> 501 5.5.4
 * The verb is set even when the argument is bad, for the reply text.
 */
#ifndef PM_SMTP_CMD_H
#define PM_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>

enum smtp_verb {
	SMTP_V_UNKNOWN = 0,
	SMTP_V_HELO, SMTP_V_EHLO, SMTP_V_LHLO,
	SMTP_V_MAIL, SMTP_V_RCPT, SMTP_V_DATA, SMTP_V_BDAT,
	SMTP_V_RSET, SMTP_V_NOOP, SMTP_V_QUIT,
	SMTP_V_HELP, SMTP_V_TURN, SMTP_V_SEND, SMTP_V_SOML, SMTP_V_SAML,
	SMTP_V_EXPN, SMTP_V_VRFY,
	SMTP_V_STARTTLS, SMTP_V_AUTH,
	SMTP_V_COUNT
};

enum smtp_cmd_err {
	SMTP_CMD_OK = 0,
	SMTP_CMD_E_UNKNOWN = -1,
	SMTP_CMD_E_SYNTAX = -2
};

struct smtp_cmd {
	enum smtp_verb verb;
	/*
	 * The argument without the verb, separators and trailing blanks;
	 * for MAIL/RCPT what follows "FROM:"/"TO:" and any spaces (the path
	 * and its parameters). Empty: arg == NULL, arglen == 0.
	 */
	const char *arg;
	size_t arglen;
	uint64_t bdat_size;	/* BDAT chunk size */
	int bdat_sized;		/* bdat_size was read, even if what follows
				 * it is bad: the chunk can still be skipped */
	int bdat_last;		/* BDAT ... LAST */
};

/* Longest HELO name we take: a domain (RFC 5321 4.5.3.1.2) or literal. */
#define SMTP_HELO_MAX 255

int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd);

/* Upper-case verb name ("MAIL"), for logs and replies; "" for unknown. */
const char *smtp_cmd_name(enum smtp_verb verb);

#endif
