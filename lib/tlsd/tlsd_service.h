/*
 * tlsd_service: the loop of the postmaster-tlsd service (postmaster-tlsd
 * -s). It accepts smtpd's connections on the listening unix socket,
 * receives each one's request (net_tlsd_req.h: the client's socket and
 * the instance's name), finds the instance's credentials (tlsd_inst.h,
 * loaded once, read again only when a file changed) and forks a child
 * that runs session() with the client's socket as fd 0 and smtpd's
 * connection as fd 1, exactly as a postmaster-tlsd that smtpd spawned.
 *
 * The loop itself never waits on a peer: every socket it reads is
 * non-blocking and polled, a request that does not come within
 * TLSD_REQUEST_MS is dropped, and refusals are one report record
 * (net_tls_report.h, "error WHY") written without waiting. At most max
 * children run at once; a request beyond that is refused, and smtpd
 * answers 454. Children are reaped as they end. SIGTERM or SIGINT end
 * the loop (running sessions go on).
 */
#ifndef PM_TLSD_SERVICE_H
#define PM_TLSD_SERVICE_H

#include <stdint.h>

#include "tlsd/tlsd_inst.h"

#define TLSD_REQUEST_MS (10 * 1000)
#define TLSD_MAX_PENDING 64

/* The child's work; its return value is the child's exit status. */
typedef int (*tlsd_session_fn)(const struct tlsd_inst *in);

/* Runs until SIGTERM/SIGINT: 0; or -1 with why. */
int tlsd_service_run(struct tlsd_insts *s, int listen_fd, uint64_t max,
    tlsd_session_fn session, char *why, size_t cap);

#endif
