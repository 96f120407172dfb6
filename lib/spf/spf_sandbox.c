#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "spf/spf_sandbox.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

/* Linux's <linux/landlock.h> of the build host may predate the network
 * and scope fields (ABI 4 and 6); the kernel takes the longer struct
 * and checks its size, so the values are spelled out here. */
#define LL_VERSION 1U
#define LL_RULE_NET_PORT 2
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
	uint64_t fs;
	uint64_t net;
	uint64_t scoped;
};

struct ll_net_port {
	uint64_t allowed;
	uint64_t port;
} __attribute__((packed));

#if defined(__SANITIZE_ADDRESS__)
#define PM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PM_ASAN 1
#endif
#endif

static int
limit(int res, rlim_t v)
{
	struct rlimit rl = { v, v };

	return setrlimit(res, &rl);
}

int
spf_sandbox_limits(const char **why)
{
	*why = "";
	if (geteuid() == 0 || getuid() == 0) {
		*why = "refusing to run as root";
		errno = EPERM;
		return -1;
	}
	if (limit(RLIMIT_CPU, SPF_SANDBOX_CPU_SECS) < 0 ||
	    limit(RLIMIT_NOFILE, SPF_SANDBOX_NOFILE) < 0 ||
	    limit(RLIMIT_CORE, 0) < 0 || limit(RLIMIT_NPROC, 0) < 0) {
		*why = "setrlimit";
		return -1;
	}
#ifndef PM_ASAN
	if (limit(RLIMIT_AS, SPF_SANDBOX_AS_BYTES) < 0) {
		*why = "setrlimit RLIMIT_AS";
		return -1;
	}
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L) < 0 ||
	    prctl(PR_SET_PDEATHSIG, (long)SIGKILL, 0L, 0L, 0L) < 0) {
		*why = "prctl";
		return -1;
	}
	if (getppid() == 1) {
		*why = "smtpd is gone";
		errno = ESRCH;
		return -1;
	}
	return 0;
}

/* Every filesystem right the kernel's ABI knows, all of them denied. */
static uint64_t
fs_rights(long abi)
{
	uint64_t r = (1ULL << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */

	if (abi >= 2)
		r |= 1ULL << 13; /* REFER */
	if (abi >= 3)
		r |= 1ULL << 14; /* TRUNCATE */
	if (abi >= 5)
		r |= 1ULL << 15; /* IOCTL_DEV */
	return r;
}

int
spf_sandbox_lock(unsigned dns_port, int *landlock, const char **why)
{
	struct ll_ruleset_attr attr;
	struct ll_net_port port;
	size_t size = sizeof attr.fs;
	long abi;
	int fd;

	*landlock = 0;
	*why = "";
	abi =
	    syscall(__NR_landlock_create_ruleset, NULL, (size_t)0, LL_VERSION);
	if (abi < 1)
		return 0; /* no Landlock here: the limits still hold */
	memset(&attr, 0, sizeof attr);
	attr.fs = fs_rights(abi);
	if (abi >= 4) {
		attr.net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT | LL_SCOPE_SIGNAL;
		size = sizeof attr;
	}
	fd = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0U);
	if (fd < 0) {
		*why = "landlock_create_ruleset";
		return -1;
	}
	if (abi >= 4) {
		port.allowed = LL_NET_CONNECT_TCP;
		port.port = dns_port;
		if (syscall(__NR_landlock_add_rule, fd, LL_RULE_NET_PORT,
		        &port, 0U) < 0) {
			*why = "landlock_add_rule";
			close(fd);
			return -1;
		}
	}
	if (syscall(__NR_landlock_restrict_self, fd, 0U) < 0) {
		*why = "landlock_restrict_self";
		close(fd);
		return -1;
	}
	close(fd);
	*landlock = (int)abi;
	return 0;
}
