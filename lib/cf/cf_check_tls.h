/*
 * cf_check_tls: the TLS keys of one [smtpd] section, beyond their types:
 * tls-certificate and tls-key pair by rank (the first certificate with
 * the first key, and so on), every file named exists and is readable by
 * cfcompile, and an instance with tls other than off has at least one
 * pair. Errors are reported at the word or line at fault; returns their
 * number. The only I/O is access(2) on the files named.
 */
#ifndef PM_CF_CHECK_TLS_H
#define PM_CF_CHECK_TLS_H

#include "cf/cf_diag.h"
#include "cf/cf_parse.h"

unsigned cf_check_tls(const struct cf_section *s, struct cf_diag *d);

#endif
