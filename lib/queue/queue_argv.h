/*
 * queue_argv: the argument vector of a pipe delivery. Pure: no I/O.
 *
 * Words come from the configuration ([pipe] exec) or from a "|/path args"
 * route target, which queue_argv_split() cuts at blanks; single quotes
 * group literally, double quotes group with \" and \\ as escapes. No shell
 * ever sees the result (fork + execve): envelope values are data, never
 * syntax (OpenSMTPD CVE-2020-7247 was a shell command line).
 *
 * queue_argv_expand() substitutes in each word:
 *   ${MAIL_FROM}    the envelope sender; MAILER-DAEMON for <> (Postfix
 *                   pipe(8)); the Return-Path line on stdin says <>
 *   ${RCPT_TO}      a recipient address
 *   ${RCPT_LOCAL}   its local part (before the last '@')
 *   ${RCPT_DOMAIN}  its domain (after the last '@'; "" for a bare name)
 *   ${QUEUE_ID}     the queue id
 * A word that uses a RCPT_ variable is repeated once per recipient of the
 * batch, in order ("-d" "${RCPT_TO}" with two recipients gives
 * -d a@x b@y); other words appear once. "$" not followed by "{" is
 * literal; an unknown ${NAME} is QUEUE_ARGV_E_VAR.
 *
 * The dash guard: a value that starts with '-' and would start an argument
 * (e.g. "-f" "${MAIL_FROM}" with sender -oQ/tmp@x) could be read as an
 * option. Such a delivery is refused with QUEUE_ARGV_E_DASH and *bad says
 * whose value it was (the recipient's index, or QUEUE_ARGV_SENDER); the
 * runner fails just that recipient (or, for the sender, the batch)
 * permanently. Postfix refuses such addresses at the SMTP server
 * (allow_min_user); we refuse them where the danger is.
 *
 * The result is NULL-terminated, each string malloc'ed; free with
 * queue_argv_free(). Errors are QUEUE_ARGV_E_* (negative).
 */
#ifndef PM_QUEUE_ARGV_H
#define PM_QUEUE_ARGV_H

#include <stddef.h>
#include <stdint.h>

#define QUEUE_ARGV_MAX 4096		/* arguments in one vector */
#define QUEUE_ARGV_SENDER SIZE_MAX	/* *bad: the sender's value */

enum queue_argv_err {
	QUEUE_ARGV_OK = 0,
	QUEUE_ARGV_E_NOMEM = -1,
	QUEUE_ARGV_E_VAR = -2,		/* unknown or unterminated ${...} */
	QUEUE_ARGV_E_DASH = -3,		/* a value starting with '-' */
	QUEUE_ARGV_E_TOOMANY = -4,	/* more than QUEUE_ARGV_MAX */
	QUEUE_ARGV_E_QUOTE = -5,	/* unterminated quote in a command */
	QUEUE_ARGV_E_EMPTY = -6		/* no program */
};

struct queue_argv {
	char **v;
	size_t n;
	size_t cap;
};

struct queue_vars {
	const char *sender;		/* "" for the null sender */
	const char *const *rcpt;
	size_t nrcpt;
	const char *queue_id;
};

void queue_argv_init(struct queue_argv *a);
void queue_argv_free(struct queue_argv *a);
/* Appends a copy of p[0..n) (used by split and by callers). */
int queue_argv_push(struct queue_argv *a, const char *p, size_t n);

/* Cuts "/path arg 'a b' \"c\"" (a leading '|' is skipped) into words. */
int queue_argv_split(struct queue_argv *out, const char *cmd);

/* Expands words w[0..nw) into out. bad may be NULL. */
int queue_argv_expand(struct queue_argv *out, char *const *w, size_t nw,
    const struct queue_vars *vars, size_t *bad);

const char *queue_argv_strerror(int err);

#endif
