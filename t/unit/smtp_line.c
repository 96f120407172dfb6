#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "smtp/smtp_line.h"
#include "tap.h"

/*
 * Runs the reader over input the way a driver does (keeps what was not
 * consumed, appends the next bytes) and renders every event:
 * "[line]" for a line, "!N" for error N; "+K" at the end when K bytes
 * remain unconsumed. step == 0 feeds everything at once.
 */
static void
run(const char *in, size_t n, size_t max, size_t step, struct buf *ev)
{
	struct smtp_line_rd rd;
	struct buf pend = BUF_INIT(0);
	size_t off = 0, used, ll;
	const char *line;
	int r;

	smtp_line_init(&rd, max);
	buf_reset(ev);
	while (off < n) {
		size_t k = step ? step : n;

		if (k > n - off)
			k = n - off;
		buf_append(&pend, in + off, k);
		off += k;
		for (;;) {
			r = smtp_line_get(&rd, pend.p, pend.len, &line, &ll,
			    &used);
			if (r == SMTP_LINE_OK) {
				buf_append_byte(ev, '[');
				buf_append(ev, line, ll);
				buf_append_byte(ev, ']');
			} else if (r < 0)
				buf_printf(ev, "!%d", -r);
			buf_consume(&pend, used);
			if (r == SMTP_LINE_MORE)
				break;
		}
		/* the reader never makes the driver hold more than max */
		if (pend.len > (max ? max : SMTP_LINE_MAX))
			buf_printf(ev, "OVERHELD");
	}
	if (pend.len)
		buf_printf(ev, "+%zu", pend.len);
	buf_free(&pend);
}

struct tcase {
	const char *name;
	const char *in;
	size_t len;	/* 0: strlen */
	size_t max;
	const char *want;
};

static const struct tcase cases[] = {
	{ "one line", "NOOP\r\n", 0, 0, "[NOOP]" },
	{ "empty line", "\r\n", 0, 0, "[]" },
	{ "pipelined burst", "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n",
	    0, 0, "[MAIL FROM:<a@b>][RCPT TO:<c@d>][DATA]" },
	{ "partial stays", "NOOP\r\nQU", 0, 0, "[NOOP]+2" },
	{ "partial CR stays", "NOOP\r", 0, 0, "+5" },
	{ "bare LF", "NO\nOP\r\nQUIT\r\n", 0, 0, "!2[QUIT]" },
	{ "bare LF alone", "\n\r\n", 0, 0, "!2" },
	{ "bare CR", "NO\rOP\r\nQUIT\r\n", 0, 0, "!3[QUIT]" },
	{ "CR CR LF", "NOOP\r\r\nQUIT\r\n", 0, 0, "!3[QUIT]" },
	{ "NUL", "NO\0OP\r\nQUIT\r\n", 13, 0, "!4[QUIT]" },
	{ "first fault wins", "A\0B\nC\r\n", 7, 0, "!4" },
	{ "LF then CRLF", "MAIL\n.\r\nRSET\r\n", 0, 0, "!2[RSET]" },
	{ "bad line waits for CRLF", "NO\nOP", 0, 0, "" },
	{ "max 8 exactly", "ABCDEF\r\n", 0, 8, "[ABCDEF]" },
	{ "max 8 plus 1", "ABCDEFG\r\nNOOP\r\n", 0, 8, "!1[NOOP]" },
	{ "max 8 long, resync", "ABCDEFGHIJKLMNOP\r\nX\r\n", 0, 8, "!1[X]" },
	{ "max 8 long no CRLF yet", "ABCDEFGHIJKLMNOP", 0, 8, "" },
	{ "too long then bare LF", "ABCDEFGHIJ\nK\r\nX\r\n", 0, 8, "!1[X]" },
	{ "long line CR at edge", "ABCDEFGHIJ\r", 0, 8, "" },
};

int
main(void)
{
	struct buf ev = BUF_INIT(0);
	char big[SMTP_LINE_MAX + 8];
	size_t i, step;
	char name[128];

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tcase *t = &cases[i];
		size_t len = t->len ? t->len : strlen(t->in);

		run(t->in, len, t->max, 0, &ev);
		is_str(ev.p ? ev.p : "", t->want, t->name);
		/* any chunking gives the same events */
		for (step = 1; step <= 3; step++) {
			run(t->in, len, t->max, step, &ev);
			snprintf(name, sizeof name, "%s (step %zu)", t->name,
			    step);
			is_str(ev.p ? ev.p : "", t->want, name);
		}
	}

	/* the default limit, 2048 with CRLF, at max and max+1 */
	memset(big, 'a', sizeof big);
	memcpy(big + SMTP_LINE_MAX - 2, "\r\n", 2);
	run(big, SMTP_LINE_MAX, 0, 0, &ev);
	ok(ev.len == SMTP_LINE_MAX - 2 + 2 && ev.p[0] == '[',
	    "2048 octets with CRLF accepted");
	run(big, SMTP_LINE_MAX, 0, 7, &ev);
	ok(ev.len == SMTP_LINE_MAX && ev.p[0] == '[', "... fed in pieces");
	memset(big, 'a', sizeof big);
	memcpy(big + SMTP_LINE_MAX - 1, "\r\n", 2);
	run(big, SMTP_LINE_MAX + 1, 0, 0, &ev);
	is_str(ev.p, "!1", "2049 octets refused");
	run(big, SMTP_LINE_MAX + 1, 0, 100, &ev);
	is_str(ev.p, "!1", "... fed in pieces, never held beyond max");

	buf_free(&ev);
	return done_testing();
}
