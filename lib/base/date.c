#include <stdio.h>
#include <string.h>

#include "base/date.h"

static void
format(const struct tm *tm, const char *zone, char out[DATE_RFC5322_SIZE])
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	snprintf(out, DATE_RFC5322_SIZE,
	    "%.3s, %02d %.3s %04d %02d:%02d:%02d %s",
	    days + 3 * ((unsigned)tm->tm_wday % 7), tm->tm_mday,
	    months + 3 * ((unsigned)tm->tm_mon % 12), tm->tm_year + 1900,
	    tm->tm_hour, tm->tm_min, tm->tm_sec, zone);
}

void
date_rfc5322_utc(time_t t, char out[DATE_RFC5322_SIZE])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	format(&tm, "+0000", out);
}

void
date_rfc5322_local(time_t t, char out[DATE_RFC5322_SIZE])
{
	struct tm tm;
	char zone[8];

	if (localtime_r(&t, &tm) == NULL) {
		date_rfc5322_utc(t, out);
		return;
	}
	/* %z is the only portable way to the offset (tm_gmtoff is not
	 * POSIX); it prints digits only, never a locale name. */
	if (strftime(zone, sizeof zone, "%z", &tm) == 0)
		strcpy(zone, "+0000");
	format(&tm, zone, out);
}
