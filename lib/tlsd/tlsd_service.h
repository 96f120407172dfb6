/*
 * tlsd_service: the loop of the postmaster-tlsd service (postmaster-tlsd
 * -s). It accepts smtpd's connections on the listening unix socket,
 * receives each one's request (net_tlsd_req.h: the client's socket and
 * the instance's name), finds the instance's credentials (tlsd_inst.h,
 * loaded once, read again only when a file changed) and hands it to a
 * worker (base/wpool.h) that runs session() with the client's socket as
 * fd 0 and smtpd's connection as fd 1, exactly as a postmaster-tlsd
 * that smtpd spawned, and then waits for the next session. A worker
 * serves at most max_use sessions one after the other, retires after
 * TLSD_IDLE_MS idle, and is not used again once the service has loaded
 * credentials it lacks (a replaced certificate: the next session gets a
 * worker forked after the load). Sessions in one worker share no state
 * but the credentials: each has its own GnuTLS session, freed (and its
 * keys wiped by GnuTLS) before the next begins.
 *
 * The loop itself never waits on a peer: every socket it reads is
 * non-blocking and polled, a request that does not come within
 * TLSD_REQUEST_MS is dropped, and refusals are one report record
 * (net_tls_report.h, "error WHY") written without waiting. At most max
 * sessions run at once; a request beyond that is refused, and smtpd
 * answers 454. SIGTERM or SIGINT end the loop (running sessions go on,
 * idle workers exit).
 */
#ifndef PM_TLSD_SERVICE_H
#define PM_TLSD_SERVICE_H

#include <stdint.h>

#include "tlsd/tlsd_inst.h"

#define TLSD_REQUEST_MS (10 * 1000)
#define TLSD_MAX_PENDING 64
#define TLSD_IDLE_MS (60 * 1000)

/* One session on fds 0 and 1 (its status is not used). */
typedef int (*tlsd_session_fn)(const struct tlsd_inst *in);

/* Runs until SIGTERM/SIGINT: 0; or -1 with why. */
int tlsd_service_run(struct tlsd_insts *s, int listen_fd, uint64_t max,
    uint64_t max_use, tlsd_session_fn session, char *why, size_t cap);

#endif
