/*
 * inject_bs: sendmail -bs, an SMTP dialogue with the caller on two file
 * descriptors, by the session code of postmaster-smtpd (smtp_session,
 * net_drive). MAIL FROM is the envelope sender (as -f), each RCPT is
 * checked by inject_route_check() and refused with its reply, and each
 * message is submitted like the default mode (inject_submit) and
 * answered "250 2.0.0 Ok: queued as ID", 451 on a temporary failure,
 * 554 otherwise. SIZE and 8BITMIME are offered; the size limit is
 * [core] max-message-size.
 *
 * The limits are those of an [smtpd] instance that sets none (the
 * schema's idle-timeout and session-timeout), for reading commands and
 * for the caller to read each batch of replies; minute_ms is the length
 * of a minute (60000; tests shorten it). inject_bs_run() returns 0 when
 * the dialogue ended (QUIT, EOF), or a sysexits code: EX_TEMPFAIL (out
 * of memory, unreadable configuration) or EX_IOERR (a write failed, or
 * the caller did not read its replies in time), with a diagnostic in why
 * except after a failed write (the caller is gone; why is empty).
 */
#ifndef PM_INJECT_BS_H
#define PM_INJECT_BS_H

#include <stddef.h>
#include <stdint.h>

#include "inject/inject_cfg.h"

int inject_bs_run(struct inject_cfg *c, int in, int out, uint64_t minute_ms,
    char *why, size_t cap);

#endif
