#include <errno.h>
#include <string.h>

#include "base/buf.h"
#include "smtp/smtp_reply.h"
#include "tap.h"

int
main(void)
{
	struct buf b = BUF_INIT(0);
	char big[600];

	ok(smtp_reply(&b, 250, "2.1.0", "Ok") == 0, "single");
	is_str(b.p, "250 2.1.0 Ok\r\n", "single bytes");
	buf_reset(&b);
	smtp_reply_line(&b, 250, NULL, 0, "mx.example.org");
	smtp_reply_line(&b, 250, NULL, 0, "PIPELINING");
	smtp_reply_line(&b, 250, NULL, 1, "SIZE %d", 1000);
	is_str(b.p, "250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
	    "multiline");
	is_int(smtp_reply_code(b.p, b.len), 250, "code of last");
	buf_reset(&b);
	smtp_reply(&b, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	is_str(b.p, "354 End data with <CR><LF>.<CR><LF>\r\n", "354 no enh");
	buf_reset(&b);
	errno = 0;
	ok(smtp_reply(&b, 550, "4.1.1", "x") < 0 && errno == EINVAL &&
	    b.len == 0, "class mismatch refused");
	ok(smtp_reply(&b, 550, "5.1", "x") < 0, "short enh refused");
	ok(smtp_reply(&b, 550, "5.1.1000", "x") < 0, "4-digit detail refused");
	ok(smtp_reply(&b, 99, NULL, "x") < 0, "code range");
	ok(smtp_reply(&b, 501, "5.5.4", "bad <%s>", "a\r\n250 ok") == 0,
	    "client text");
	is_str(b.p, "501 5.5.4 bad <a??250 ok>\r\n", "controls neutralised");
	buf_reset(&b);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	smtp_reply(&b, 550, "5.0.0", "%s", big);
	is_int((long long)b.len, 512, "cut to 512 with CRLF");
	ok(b.p[510] == '\r' && b.p[511] == '\n', "still ends in CRLF");
	is_int(smtp_reply_code("250-a\r\n", 7), 250, "code of partial?");
	is_int(smtp_reply_code("25", 2), 0, "no code");
	buf_free(&b);
	return done_testing();
}
