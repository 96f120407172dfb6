/*
 * inject_submit: one message of a local submission from the bytes a
 * program piped to sendmail(1) (or sent with -bs) to a file in the
 * maildrop: the header completed with From: (inject_cfg_from), Date: and
 * Message-ID: when missing, the message built (inject_msg), every
 * recipient checked (inject_route), the envelope of a local submission
 * (inject_env) and the message written through inject_drop, and the
 * runner's pickup woken through the public FIFO SPOOL/pickup.
 *
 * inject_submit() returns 0 with the maildrop id in id, or a sysexits
 * code with a one-line diagnostic in why: EX_DATAERR (malformed or too
 * large message, bad address, envelope refused), EX_USAGE (no
 * recipients), the codes of inject_route_check(), EX_TEMPFAIL (memory,
 * the maildrop missing or full, a write failed). rc holds the recipients
 * given so far; with INJECT_MSG_EXTRACT those of the header are added.
 * sender is the envelope sender ("" for <>), also the From: address
 * when the message has none.
 */
#ifndef PM_INJECT_SUBMIT_H
#define PM_INJECT_SUBMIT_H

#include <stddef.h>

#include "inject/inject_cfg.h"
#include "inject/inject_msg.h"
#include "spool/spool_id.h"

int inject_submit(struct inject_cfg *c, const char *sender, const char *in,
    size_t n, int flags, struct inject_rcpts *rc, char id[SPOOL_ID_SIZE],
    char *why, size_t cap);

#endif
