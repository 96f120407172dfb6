/*
 * date: the RFC 5322 section 3.3 date-time ("Sun, 06 Dec 2026 16:46:18
 * +0000") for Received, Date: and DSN fields. Day and month names are
 * English whatever the locale (strftime's %a and %b follow LC_TIME).
 */
#ifndef PM_DATE_H
#define PM_DATE_H

#include <time.h>

/* Holds any year an int tm_year gives, with its NUL. */
#define DATE_RFC5322_SIZE 48

/* t in UTC ("+0000"); no tzset(), so no rereading of /etc/localtime per
 * call. A t gmtime_r cannot convert gives the 1900 epoch of a zero tm. */
void date_rfc5322_utc(time_t t, char out[DATE_RFC5322_SIZE]);

/* t in local time with its offset ("-0500"), as sendmail(1) writes Date:. */
void date_rfc5322_local(time_t t, char out[DATE_RFC5322_SIZE]);

#endif
