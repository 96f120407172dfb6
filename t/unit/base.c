#include <errno.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "tap.h"

int
main(void)
{
	struct buf b = BUF_INIT(8);

	ok(buf_append_str(&b, "abc") == 0, "append within cap");
	is_mem(b.p, b.len, "abc", 3, "content");
	ok(buf_append_str(&b, "defgh") == 0, "append up to max");
	errno = 0;
	ok(buf_append_byte(&b, 'x') < 0 && errno == ERANGE, "max+1 fails ERANGE");
	is_int((long long)b.len, 8, "length unchanged after failure");
	buf_consume(&b, 3);
	is_str(b.p, "defgh", "consume drops prefix");
	buf_free(&b);

	buf_init(&b, 0);
	ok(buf_printf(&b, "%d-%s", 42, "x") == 0, "printf");
	is_str(b.p, "42-x", "printf content");
	buf_reset(&b);
	ok(log_escape(&b, "a\r\n\\b\x80", 6, 100) == 0, "escape");
	is_str(b.p, "a\\x0d\\x0a\\x5cb\\x80", "escape non-printables");
	buf_reset(&b);
	log_escape(&b, "abcdef", 6, 3);
	is_str(b.p, "abc...", "escape truncates");
	buf_free(&b);
	return done_testing();
}
