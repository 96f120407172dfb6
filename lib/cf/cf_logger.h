/*
 * cf_logger: points lib/base/log at the logger a program instance names:
 * [KIND "NAME"] logger, else [core] logger: `stderr`, `syslog` (the
 * unnamed [syslog] section's ident and facility), a [syslog "X"] or a
 * [logfile "X"] (strftime(3) file name, as the seed shows).
 */
#ifndef PM_CF_LOGGER_H
#define PM_CF_LOGGER_H

#include "cf/cf_db.h"

/* 0, or -1 when a log file cannot be opened (lines then go to stderr). */
int cf_logger_setup(struct cf_db *db, const char *kind, const char *name);

#endif
