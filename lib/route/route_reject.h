/*
 * route_reject: the reply of a [reject "NAME"] target for one recipient,
 * one reading for smtpd (the RCPT reply), the maildrop pickup (an error
 * target the runner bounces) and the queue runner (a delivery that
 * fails).
 *
 * route_reject_reply() reads the section's code (its default is the
 * schema's), status and text. An unset status follows the code: 5.1.2
 * for 521 (RFC 7504 3), 5.7.1 for 554, 5.1.1 for another 5xx, 4.3.2 for
 * a 4xx. An unset text is "<ADDR>: does not accept mail" for 521, else
 * "<ADDR>: recipient rejected". Returns 0, or -1 when the compiled
 * configuration cannot be read (a temporary failure for the caller).
 */
#ifndef PM_ROUTE_REJECT_H
#define PM_ROUTE_REJECT_H

#include "cf/cf_db.h"

struct route_reject {
	unsigned code;
	char status[16];
	char text[512];
};

int route_reject_reply(struct cf_db *db, const char *name, const char *addr,
    struct route_reject *out);

#endif
