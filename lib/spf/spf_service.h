/*
 * spf_service: the long-running shape of postmaster-spf (-l SOCKET). It
 * pays the program's start-up (exec, dynamic loading of libspf2) once
 * instead of once per smtpd session: the parent listens on a unix
 * socket and hands each connection to a worker (base/wpool.h): a forked
 * (not exec'd) process that applies the same sandbox as a spawned
 * postmaster-spf (spf_sandbox.h) once and then serves connections with
 * the pipe protocol (spf_hello.h, then spf_proto.h), one after the
 * other, max_use of them. Forking per connection cost more CPU than the
 * checks (page faults are dear on the development VM); the price is
 * that a compromised worker could answer later sessions it serves, which
 * max_use bounds (1: a fresh process per connection).
 *
 * The parent only accepts and hands over: it never reads from or
 * writes to a client, so a slow or hostile client cannot stall it. With
 * `max` workers busy it closes a new connection at once, and smtpd,
 * seeing no "ready", spawns postmaster-spf itself. It refuses to run as
 * root (the workers would refuse anyway). SIGTERM or SIGINT: it removes
 * its socket and returns; its workers die with it (PR_SET_PDEATHSIG,
 * set by the sandbox).
 */
#ifndef PM_SPF_SERVICE_H
#define PM_SPF_SERVICE_H

#include "base/wpool.h"

#define SPF_SERVICE_IDLE_MS (60 * 1000)

/*
 * Listens on path (a stale socket there is replaced; anything else is
 * an error) and serves until SIGTERM/SIGINT: each connection is a job
 * with the connection as its one descriptor. Returns 0 then, or -1 with
 * errno and a static reason in *why when it cannot start.
 */
int spf_service_run(const char *path, unsigned max, unsigned long max_use,
    wpool_start_fn start, wpool_job_fn job, void *arg, const char **why);

#endif
