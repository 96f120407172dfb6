#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp/smtp_addr.h"
#include "smtp/smtp_cmd.h"

/* How an argument may look for each verb. */
enum arg_rule { ARG_NONE, ARG_ANY, ARG_NEED, ARG_HELO, ARG_MAIL, ARG_RCPT,
	ARG_BDAT };

static const struct verb_def {
	const char *name;
	enum smtp_verb verb;
	enum arg_rule rule;
} verbs[] = {
	{ "HELO", SMTP_V_HELO, ARG_HELO },
	{ "EHLO", SMTP_V_EHLO, ARG_HELO },
	{ "LHLO", SMTP_V_LHLO, ARG_HELO },
	{ "MAIL", SMTP_V_MAIL, ARG_MAIL },
	{ "RCPT", SMTP_V_RCPT, ARG_RCPT },
	{ "DATA", SMTP_V_DATA, ARG_NONE },
	{ "BDAT", SMTP_V_BDAT, ARG_BDAT },
	{ "RSET", SMTP_V_RSET, ARG_NONE },
	/* RFC 5321 4.1.1.9: NOOP [ SP String ], HELP [ SP String ] */
	{ "NOOP", SMTP_V_NOOP, ARG_ANY },
	{ "QUIT", SMTP_V_QUIT, ARG_NONE },
	{ "HELP", SMTP_V_HELP, ARG_ANY },
	/* Answered 502 whatever follows, so their syntax does not matter. */
	{ "TURN", SMTP_V_TURN, ARG_ANY },
	{ "SEND", SMTP_V_SEND, ARG_ANY },
	{ "SOML", SMTP_V_SOML, ARG_ANY },
	{ "SAML", SMTP_V_SAML, ARG_ANY },
	{ "EXPN", SMTP_V_EXPN, ARG_ANY },
	{ "VRFY", SMTP_V_VRFY, ARG_ANY },
	{ "STARTTLS", SMTP_V_STARTTLS, ARG_NONE },
	{ "AUTH", SMTP_V_AUTH, ARG_NEED },
};

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
ascii_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Case-insensitive ASCII prefix test; `lit` is upper case. */
static int
prefix_ci(const char *p, size_t n, const char *lit)
{
	size_t i, l = strlen(lit);

	if (n < l)
		return 0;
	for (i = 0; i < l; i++)
		if (ascii_upper((unsigned char)p[i]) != lit[i])
			return 0;
	return 1;
}

const char *
smtp_cmd_name(enum smtp_verb verb)
{
	size_t i;

	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (verbs[i].verb == verb)
			return verbs[i].name;
	return "";
}

static int
helo_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > SMTP_HELO_MAX)
		return 0;
	if (p[0] == '[')
		return smtp_addr_literal_check(p, n) == 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			return 0;
	}
	return 1;
}

/* RFC 3030 2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] */
static int
bdat_parse(struct smtp_cmd *cmd)
{
	const char *p = cmd->arg;
	size_t i = 0, n = cmd->arglen;
	uint64_t v = 0;

	if (n == 0)
		return SMTP_CMD_E_SYNTAX;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(p[i] - '0'), &v))
			return SMTP_CMD_E_SYNTAX;
	}
	/* "10x" is no size */
	if (i == 0 || (i < n && !is_blank(p[i])))
		return SMTP_CMD_E_SYNTAX;
	cmd->bdat_size = v;
	cmd->bdat_sized = 1;
	if (i == n)
		return SMTP_CMD_OK;
	while (i < n && is_blank(p[i]))
		i++;
	if (n - i == 4 && prefix_ci(p + i, 4, "LAST")) {
		cmd->bdat_last = 1;
		return SMTP_CMD_OK;
	}
	return SMTP_CMD_E_SYNTAX;
}

/* Strips "FROM:" / "TO:" and the spaces Postfix tolerates after it. */
static int
path_arg(struct smtp_cmd *cmd, const char *kw)
{
	size_t l = strlen(kw);

	if (!prefix_ci(cmd->arg, cmd->arglen, kw))
		return SMTP_CMD_E_SYNTAX;
	cmd->arg += l;
	cmd->arglen -= l;
	while (cmd->arglen > 0 && is_blank(cmd->arg[0])) {
		cmd->arg++;
		cmd->arglen--;
	}
	if (cmd->arglen == 0) {
		cmd->arg = NULL;
		return SMTP_CMD_E_SYNTAX;
	}
	return SMTP_CMD_OK;
}

int
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd)
{
	const struct verb_def *d = NULL;
	size_t i, vlen;

	memset(cmd, 0, sizeof *cmd);
	for (vlen = 0; vlen < len && !is_blank(line[vlen]); vlen++)
		;
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strlen(verbs[i].name) == vlen &&
		    prefix_ci(line, vlen, verbs[i].name)) {
			d = &verbs[i];
			break;
		}
	}
	if (d == NULL)
		return SMTP_CMD_E_UNKNOWN;
	cmd->verb = d->verb;
	i = vlen;
	while (i < len && is_blank(line[i]))
		i++;
	while (len > i && is_blank(line[len - 1]))
		len--;
	if (i < len) {
		cmd->arg = line + i;
		cmd->arglen = len - i;
	}
	switch (d->rule) {
	case ARG_NONE:
		return cmd->arglen ? SMTP_CMD_E_SYNTAX : SMTP_CMD_OK;
	case ARG_ANY:
		return SMTP_CMD_OK;
	case ARG_NEED:
		return cmd->arglen ? SMTP_CMD_OK : SMTP_CMD_E_SYNTAX;
	case ARG_HELO:
		return helo_ok(cmd->arg, cmd->arglen) ? SMTP_CMD_OK :
		    SMTP_CMD_E_SYNTAX;
	case ARG_MAIL:
		return path_arg(cmd, "FROM:");
	case ARG_RCPT:
		return path_arg(cmd, "TO:");
	case ARG_BDAT:
		return bdat_parse(cmd);
	}
	return SMTP_CMD_E_SYNTAX;
}
