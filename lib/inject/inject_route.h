/*
 * inject_route: whether a recipient of a local submission goes anywhere,
 * asked before anything is dropped, so the caller learns it now and not
 * from a bounce (pickup routes again, inject_pickup.h).
 *
 * inject_route_check() returns 0 when addr routes, or goes by MX to a
 * domain that is not ours; otherwise a sysexits code with the reply in
 * why: EX_NOUSER (550 5.1.1, no route or a local name that may not
 * receive), EX_DATAERR (553 5.1.3), EX_CONFIG (554 5.4.6, a loop or too
 * many targets), EX_TEMPFAIL (451 4.3.0, the lookup failed).
 *
 * inject_route_verify() is -bv: one line per target of each address
 * ("ADDR: deliver: RCPT to TARGET", "ADDR: refused: REPLY") appended to
 * out; it returns 0, or EX_NOUSER when an address is refused.
 */
#ifndef PM_INJECT_ROUTE_H
#define PM_INJECT_ROUTE_H

#include <stddef.h>

#include "base/buf.h"
#include "inject/inject_cfg.h"

int inject_route_check(struct inject_cfg *c, const char *addr, char *why,
    size_t cap);

int inject_route_verify(struct inject_cfg *c, char *const *addrs, size_t n,
    struct buf *out);

#endif
