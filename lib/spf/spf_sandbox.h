/*
 * spf_sandbox: what postmaster-spf gives up before it reads the first
 * request, so that a bug in libspf2 (CVE-2021-20314, CVE-2023-42118:
 * memory corruption in macro expansion) gains an attacker nothing.
 *
 * The process has only its pipes to smtpd and stderr (smtpd closes every
 * other descriptor before exec, the spool's included), runs as smtpd's
 * unprivileged user and refuses to run as root. Then:
 *   - resource limits: RLIMIT_CPU (seconds of CPU for its whole life),
 *     RLIMIT_AS (memory; not under AddressSanitizer, whose shadow needs
 *     terabytes of address space), RLIMIT_NOFILE (a few resolver
 *     sockets), RLIMIT_NPROC 0 (no fork), RLIMIT_CORE 0 (no
 *     RLIMIT_FSIZE: stderr may be smtpd's log file);
 *   - no_new_privs, not dumpable, SIGKILL when smtpd goes;
 *   - where the kernel offers Landlock (Linux 5.13+): no file or
 *     directory may be opened, created or executed at all, TCP only to
 *     the DNS server's port (for truncated answers), and (Linux 6.12+)
 *     no signal to, nor abstract socket of, any process outside the
 *     sandbox. Without Landlock the rest still holds.
 *
 * spf_sandbox_limits() before libspf2 is set up (it must fit the limits),
 * spf_sandbox_lock() after (it reads nothing later). Both return 0, or
 * -1 with errno and a static reason in *why.
 */
#ifndef PM_SPF_SANDBOX_H
#define PM_SPF_SANDBOX_H

#include <stdint.h>

#define SPF_SANDBOX_CPU_SECS 30
#define SPF_SANDBOX_AS_BYTES (256UL << 20)
#define SPF_SANDBOX_NOFILE 16

int spf_sandbox_limits(const char **why);
/* dns_port: the TCP port DNS may use. *landlock: the ABI applied, or 0. */
int spf_sandbox_lock(unsigned dns_port, int *landlock, const char **why);

#endif
