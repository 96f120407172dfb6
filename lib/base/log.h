/*
 * log: one line per event on stderr, `prog[id]: level: text`.
 *
 * stderr is what tcpserver, s6-log and systemd all capture. Under journald
 * (JOURNAL_STREAM names our stderr) each line starts with the sd-daemon
 * `<N>` priority so levels survive. Client-supplied strings go through
 * log_escape() first where they may be long or hold a backslash:
 * everything but printable ASCII becomes \xNN and the text is cut.
 *
 * Every line, whatever its arguments, then passes log_clean(): an octet
 * that is not printable ASCII nor part of printable UTF-8 becomes \xNN
 * (C0 controls and DEL, so CR/LF can never start a forged line; malformed
 * UTF-8; and the hidden code points of utf8.h, C1 controls and bidi
 * overrides, which would make a line read as something else). Valid
 * printable UTF-8 stays readable, as Postfix logs SMTPUTF8 addresses, so
 * a log can be searched for the address a user gives. A backslash is kept
 * as is, so an escape in a line is only unambiguous where log_escape()
 * made it.
 *
 * The program name and session id are process-wide state set once by main();
 * this is the one deliberate exception to "no globals in lib/".
 */
#ifndef PM_LOG_H
#define PM_LOG_H

#include <stddef.h>
#include <stdnoreturn.h>

#include "base/buf.h"

enum log_level { LOG_L_ERR = 3, LOG_L_WARN = 4, LOG_L_NOTICE = 5,
	LOG_L_INFO = 6, LOG_L_DEBUG = 7 };

void log_init(const char *prog);
/* Send lines to syslog(3) (facility as LOG_MAIL etc.), to a file named by
 * strftime(3) pattern (reopened when the name changes), or to stderr. */
void log_use_syslog(const char *ident, int facility);
int log_use_file(const char *pattern);
void log_use_stderr(void);
void log_set_id(const char *id);
const char *log_prog(void);
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define log_err(...) log_msg(LOG_L_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_L_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_L_INFO, __VA_ARGS__)

/*
 * in[0..n) into out[0..cap) as the logger writes it (above), cut at a
 * character or escape boundary to fit with its NUL; returns the length.
 */
size_t log_clean(char *out, size_t cap, const char *in, size_t n);

/* Appends p[0..n) to b with \xNN escapes, at most max source bytes. */
int log_escape(struct buf *b, const void *p, size_t n, size_t max);

/* `prog: fatal: text` and exit(code). The _sys variant appends strerror. */
noreturn void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
noreturn void die_sys(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An impossible state: log and abort() so a core shows where. */
noreturn void die_bug(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
