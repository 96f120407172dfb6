/*
 * spf_service: the long-running shape of postmaster-spf (-l SOCKET). It
 * pays the program's start-up (exec, dynamic loading of libspf2) once
 * instead of once per smtpd session: the parent listens on a unix
 * socket, and for each connection forks (no exec) a child that applies
 * the same sandbox as a spawned postmaster-spf (spf_sandbox.h) and then
 * serves that one connection with the pipe protocol (spf_hello.h, then
 * spf_proto.h).
 *
 * The parent only accepts, forks and reaps: it never reads from or
 * writes to a client, so a slow or hostile client cannot stall it. At
 * `max` live children it closes a new connection at once, and smtpd,
 * seeing no "ready", spawns postmaster-spf itself. It refuses to run as
 * root (the children would refuse anyway). SIGTERM or SIGINT: it
 * removes its socket and returns; its children die with it
 * (PR_SET_PDEATHSIG, set by the sandbox).
 */
#ifndef PM_SPF_SERVICE_H
#define PM_SPF_SERVICE_H

/* Serves one connection on fd 0 and 1 in a forked child; its return
 * value is the child's exit status. */
typedef int (*spf_service_fn)(void *arg);

/*
 * Listens on path (a stale socket there is replaced; anything else is
 * an error) and serves until SIGTERM/SIGINT. Returns 0 then, or -1 with
 * errno and a static reason in *why when it cannot start.
 */
int spf_service_run(const char *path, unsigned max, spf_service_fn fn,
    void *arg, const char **why);

#endif
