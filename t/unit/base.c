#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/sibling.h"
#include "base/strset.h"
#include "base/utf8.h"
#include "tap.h"

static const struct {
	const char *in, *want;
	size_t cap;
} clean_cases[] = {
	{ "plain text", "plain text", 100 },
	{ "a\r\nb\tc\x7f", "a\\x0d\\x0ab\\x09c\\x7f", 100 },
	/* printable UTF-8 stays readable, backslash is left alone */
	{ "j\xc3\xb6rg \xe2\x82\xac \xf0\x9f\x98\x80 a\\b",
	    "j\xc3\xb6rg \xe2\x82\xac \xf0\x9f\x98\x80 a\\b", 100 },
	/* C1 (U+0085), RLO (U+202E), LRI (U+2066), LRM, U+2028 */
	{ "a\xc2\x85" "b", "a\\xc2\\x85" "b", 100 },
	{ "x\xe2\x80\xae" "y", "x\\xe2\\x80\\xae" "y", 100 },
	{ "x\xe2\x81\xa6" "y", "x\\xe2\\x81\\xa6" "y", 100 },
	{ "x\xe2\x80\x8e\xe2\x80\xa8", "x\\xe2\\x80\\x8e\\xe2\\x80\\xa8", 100 },
	/* malformed: lone continuation, overlong, truncated */
	{ "\x80\xc0\xaf\xe2\x82", "\\x80\\xc0\\xaf\\xe2\\x82", 100 },
	/* cut at a boundary: never half an escape or a character */
	{ "ab\r", "ab", 6 },
	{ "ab\r", "ab\\x0d", 7 },
	{ "a\xc3\xb6", "a", 3 },
	{ "a\xc3\xb6", "a\xc3\xb6", 4 },
	/* a run of plain text cut by the room left */
	{ "abcdef", "abc", 4 },
	{ "abcdef", "", 1 },
	{ "abcdef", "abcdef", 7 },
	{ "abc\tdef", "abc\\x09de", 10 },
};

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

	{
		/* the monotonic clock itself, not the wall clock: a reading of
		 * CLOCK_MONOTONIC lies between two of clock_now_ms() */
		struct timespec ts;
		int64_t before = clock_now_ms(), mono, after;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		after = clock_now_ms();
		mono = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		ok(before <= mono && mono <= after,
		    "clock_now_ms: CLOCK_MONOTONIC in milliseconds");
	}
	ok(clock_ms_from_s(300) == 300000, "clock_ms_from_s: 300 s");
	ok(clock_ms_from_s(18446744073709551ULL) == 18446744073709551000ULL,
	    "clock_ms_from_s: the largest that fits");
	ok(clock_ms_from_s(18446744073709552ULL) == UINT64_MAX,
	    "clock_ms_from_s: one more saturates (it wrapped to 384 ms)");
	ok(clock_ms_from_s(UINT64_MAX) == UINT64_MAX,
	    "clock_ms_from_s: UINT64_MAX saturates");

	{
		/* the directory of this test's own executable */
		char self[4096], want[4200], got[4200], small[8];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

		self[n > 0 ? n : 0] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(want, sizeof want, "%s/postmaster-x", self);
		ok(sibling_path("postmaster-x", got, sizeof got) == 0 &&
		    strcmp(got, want) == 0, "sibling_path: beside the program");
		errno = 0;
		ok(sibling_path("postmaster-x", small, sizeof small) < 0 &&
		    errno == ENAMETOOLONG, "sibling_path: no room is ENAMETOOLONG");
	}

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

	for (size_t i = 0; i < sizeof clean_cases / sizeof clean_cases[0];
	    i++) {
		char out[100], name[32];
		size_t n = log_clean(out, clean_cases[i].cap, clean_cases[i].in,
		    strlen(clean_cases[i].in));

		snprintf(name, sizeof name, "log_clean case %zu", i);
		is_str(out, clean_cases[i].want, name);
		is_int((long long)n, (long long)strlen(out), "  its length");
	}
	{
		uint32_t cp = 0;

		ok(utf8_seq_len((const unsigned char *)"\xe2\x80\xae", 3,
		    &cp) == 3 && cp == 0x202e, "utf8: U+202E decoded");
		ok(utf8_hidden(0x80) && utf8_hidden(0x9f) &&
		    !utf8_hidden(0xa0) && utf8_hidden(0x202a) &&
		    !utf8_hidden(0x202f) && utf8_hidden(0x2069) &&
		    !utf8_hidden(0x206a) && !utf8_hidden(0x7f) &&
		    !utf8_hidden(0xe9),
		    "utf8: hidden code points and their neighbours");
	}
	{
		/* a line logged with client bytes in it, as written */
		char path[] = "/tmp/pm-log-test.XXXXXX", got[512];
		int fd = mkstemp(path);
		ssize_t r;

		log_init("t");
		log_set_id("1");
		ok(fd >= 0 && log_use_file(path) == 0, "log to a file");
		log_info("from=<%s> helo=%s", "a\xc2\x85" "b\xe2\x80\xae" "c@d",
		    "x\r\ninfo: forged");
		log_use_stderr();
		r = fd >= 0 ? read(fd, got, sizeof got - 1) : -1;
		got[r > 0 ? r : 0] = '\0';
		is_str(got, "t[1]: info: from=<a\\xc2\\x85" "b\\xe2\\x80\\xae"
		    "c@d> helo=x\\x0d\\x0ainfo: forged\n",
		    "the logged line has C1, bidi and CR LF escaped");
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
	{
		struct strset set;
		char k[16];
		size_t old = 0;
		int i, all = 1;

		strset_init(&set);
		ok(!strset_has(&set, "a", 1), "strset: an empty set has nothing");
		is_int(strset_put(&set, "bob", 3, 7, NULL), 1, "strset: put");
		is_int(strset_put(&set, "bob", 3, 9, &old), 0, "strset: put again");
		is_int((long long)old, 7, "strset: the first value stays");
		ok(strset_has(&set, "bob", 3), "strset: has what was put");
		ok(!strset_has(&set, "bo", 2), "strset: not a prefix");
		for (i = 0; i < 1000; i++) {
			snprintf(k, sizeof k, "k%d", i);
			if (strset_put(&set, k, strlen(k), 0, NULL) != 1)
				all = 0;
		}
		for (i = 0; i < 1000; i++) {
			snprintf(k, sizeof k, "k%d", i);
			if (!strset_has(&set, k, strlen(k)))
				all = 0;
		}
		ok(all, "strset: 1,000 keys through growth, each found");
		strset_free(&set);
	}
	return done_testing();
}
