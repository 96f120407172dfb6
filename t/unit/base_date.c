#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/date.h"
#include "tap.h"

static const struct {
	time_t t;
	const char *want;
} utc_cases[] = {
	{ 0, "Thu, 01 Jan 1970 00:00:00 +0000" },
	{ 1700000000, "Tue, 14 Nov 2023 22:13:20 +0000" },
	/* day and hour below 10 keep two digits */
	{ 1704067200, "Mon, 01 Jan 2024 00:00:00 +0000" },
	{ 1709164799, "Wed, 28 Feb 2024 23:59:59 +0000" },
	{ 1709251199, "Thu, 29 Feb 2024 23:59:59 +0000" },
	/* a five-digit year is not cut */
	{ 253402300800, "Sat, 01 Jan 10000 00:00:00 +0000" },
};

static const struct {
	const char *tz;
	time_t t;
	const char *want;
} local_cases[] = {
	{ "XST5", 1704067200, "Sun, 31 Dec 2023 19:00:00 -0500" },
	{ "XST-5:30", 1704067200, "Mon, 01 Jan 2024 05:30:00 +0530" },
	{ "UTC0", 1700000000, "Tue, 14 Nov 2023 22:13:20 +0000" },
};

int
main(void)
{
	char out[DATE_RFC5322_SIZE];

	for (size_t i = 0; i < sizeof utc_cases / sizeof utc_cases[0]; i++) {
		date_rfc5322_utc(utc_cases[i].t, out);
		is_str(out, utc_cases[i].want, utc_cases[i].want);
	}
	/* gmtime_r fails (EOVERFLOW): a fixed string, no garbage, no
	 * overflow of out */
	date_rfc5322_utc((time_t)INT64_MAX, out);
	is_str(out, "Sun, 00 Jan 1900 00:00:00 +0000",
	    "a time gmtime_r cannot convert");

	/* POSIX TZ strings need no zone files */
	for (size_t i = 0; i < sizeof local_cases / sizeof local_cases[0];
	     i++) {
		setenv("TZ", local_cases[i].tz, 1);
		tzset();
		date_rfc5322_local(local_cases[i].t, out);
		is_str(out, local_cases[i].want, local_cases[i].tz);
	}
	return done_testing();
}
