#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/utf8.h"

static const char *log_progname = "postmaster";
static char log_sessid[64];
static int log_journal;
/* Where lines go: stderr (default), syslog, or a strftime-named file. */
static enum { LOG_TO_STDERR, LOG_TO_SYSLOG, LOG_TO_FILE } log_to;
static char log_pattern[1024];
static char log_fname[1024];
static int log_fd = -1;

/* JOURNAL_STREAM is "dev:ino" of the stream journald gave us. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(2, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	log_progname = slash ? slash + 1 : prog;
	log_journal = stderr_is_journal();
}

void
log_set_id(const char *id)
{
	snprintf(log_sessid, sizeof log_sessid, "%s", id ? id : "");
}

const char *
log_prog(void)
{
	return log_progname;
}

static const char *
level_name(enum log_level lvl)
{
	switch (lvl) {
	case LOG_L_ERR:
		return "error";
	case LOG_L_WARN:
		return "warning";
	case LOG_L_NOTICE:
		return "notice";
	case LOG_L_INFO:
		return "info";
	case LOG_L_DEBUG:
		return "debug";
	}
	return "info";
}

/* The file for now; a new strftime name (a new day) opens a new file.
 * If it cannot be opened, lines go to stderr rather than nowhere. */
static int
log_file_fd(void)
{
	char name[sizeof log_fname];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	if (strftime(name, sizeof name, log_pattern, &tm) == 0)
		return 2;
	if (log_fd >= 0 && strcmp(name, log_fname) == 0)
		return log_fd;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (log_fd < 0)
		return 2;
	snprintf(log_fname, sizeof log_fname, "%s", name);
	return log_fd;
}

int
log_use_file(const char *pattern)
{
	snprintf(log_pattern, sizeof log_pattern, "%s", pattern);
	log_to = LOG_TO_FILE;
	log_fname[0] = '\0';
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	return log_file_fd() == 2 ? -1 : 0;
}

void
log_use_syslog(const char *ident, int facility)
{
	static char id[128];

	snprintf(id, sizeof id, "%s/%s", ident, log_progname);
	openlog(id, LOG_PID | LOG_NDELAY, facility);
	log_to = LOG_TO_SYSLOG;
}

void
log_use_stderr(void)
{
	log_to = LOG_TO_STDERR;
}

size_t
log_clean(char *out, size_t cap, const char *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0, l, k;
	uint32_t cp = 0;

	if (cap == 0)
		return 0;
	while (i < n) {
		/* printable ASCII, the common case, goes in runs */
		for (k = i; k < n && s[k] >= 0x20 && s[k] < 0x7f; k++)
			;
		if (k > i) {
			l = k - i < cap - o - 1 ? k - i : cap - o - 1;
			memcpy(out + o, s + i, l);
			o += l;
			i += l;
			if (i < k)
				break;	/* out is full */
			continue;
		}
		l = s[i] >= 0x20 && s[i] < 0x7f ? 1 : s[i] >= 0x80 ?
		    utf8_seq_len(s + i, n - i, &cp) : 0;
		if (l == 0 || (l > 1 && utf8_hidden(cp))) {
			/* one octet at a time: \xNN for each */
			if (cap - o < 5)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[s[i] >> 4];
			out[o++] = hex[s[i] & 15];
			i++;
			continue;
		}
		if (cap - o < l + 1)
			break;
		for (k = 0; k < l; k++)
			out[o++] = (char)s[i++];
	}
	out[o] = '\0';
	return o;
}

static void
log_vline(enum log_level lvl, const char *tag, const char *fmt, va_list ap,
    int with_errno, int saved_errno)
{
	char line[2048], msg[2048];
	size_t n = 0, m = 0;
	int r;

	if (log_journal) {
		r = snprintf(line, sizeof line, "<%d>", (int)lvl);
		n = r > 0 ? (size_t)r : 0;
	}
	if (log_sessid[0])
		r = snprintf(line + n, sizeof line - n, "%s[%s]: %s: ",
		    log_progname, log_sessid, tag);
	else
		r = snprintf(line + n, sizeof line - n, "%s: %s: ",
		    log_progname, tag);
	if (r > 0)
		n += (size_t)r;
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	r = vsnprintf(msg, sizeof msg, fmt, ap);
	if (r > 0)
		m = (size_t)r < sizeof msg ? (size_t)r : sizeof msg - 1;
	if (with_errno && m < sizeof msg - 1) {
		r = snprintf(msg + m, sizeof msg - m, ": %s",
		    strerror(saved_errno));
		if (r > 0)
			m += (size_t)r < sizeof msg - m ? (size_t)r :
			    sizeof msg - m - 1;
	}
	/* whatever the caller put in: one line, nothing hidden */
	n += log_clean(line + n, sizeof line - 1 - n, msg, m);
	if (log_to == LOG_TO_SYSLOG) {
		line[n] = '\0';
		/* syslog adds its own ident; skip our "prog: " prefix */
		syslog((int)lvl, "%s", line + strlen(log_progname) + 2);
		return;
	}
	line[n++] = '\n';
	/* One write(2) per line so concurrent writers never interleave. */
	while (write(log_to == LOG_TO_FILE ? log_file_fd() : 2, line, n) < 0 &&
	    errno == EINTR)
		;
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	log_vline(lvl, level_name(lvl), fmt, ap, 0, 0);
	va_end(ap);
	errno = e;
}

int
log_escape(struct buf *b, const void *p, size_t n, size_t max)
{
	const unsigned char *s = p;
	size_t i, lim = n < max ? n : max;

	for (i = 0; i < lim; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
			if (buf_append_byte(b, (char)s[i]) < 0)
				return -1;
		} else if (buf_printf(b, "\\x%02x", s[i]) < 0) {
			return -1;
		}
	}
	if (n > lim && buf_append_str(b, "...") < 0)
		return -1;
	return 0;
}

void
die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(LOG_L_ERR, "fatal", fmt, ap, 0, 0);
	va_end(ap);
	exit(code);
}

void
die_sys(int code, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	log_vline(LOG_L_ERR, "fatal", fmt, ap, 1, e);
	va_end(ap);
	exit(code);
}

void
die_bug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(LOG_L_ERR, "bug", fmt, ap, 0, 0);
	va_end(ap);
	abort();
}
