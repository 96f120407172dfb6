/*
 * net_starttls: postmaster-smtpd's side of postmaster-tlsd, the process
 * mechanics only (no TLS code is linked into smtpd).
 *
 * net_starttls_start() spawns tlsd with the client's socket as its fd 0
 * and one end of a new socketpair as its fd 1, and waits for tlsd's first
 * report (net_tls_report.h): its credentials loaded ("ready", and smtpd
 * may answer 220) or not (smtpd answers 454). After the 220 is written,
 * net_starttls_handshake() waits for the handshake's report; on success
 * it puts the socketpair over the fds smtpd used for the client (dup2),
 * so from then on smtpd talks plaintext to tlsd through the same fd
 * numbers, holds no reference to the client's socket, and cannot read a
 * byte the client sent in the clear after STARTTLS (those went to tlsd,
 * which took them for the handshake and failed it). At the end
 * net_starttls_finish() shuts smtpd's side, which makes tlsd send
 * close_notify, and waits for tlsd to exit (a service manager that kills
 * what is left of a connection's processes would otherwise cut the last
 * reply).
 *
 * net_starttls_connect() is the same start through the postmaster-tlsd
 * service instead of a spawn: it connects to the service's unix socket,
 * passes the client's socket (SCM_RIGHTS) with the instance's name
 * (net_tlsd_req.h), and from there on the connection is used as the
 * socketpair would be; only there is no process of smtpd's to reap.
 *
 * Every wait has a deadline (until_ms on clock_now_ms()); a tlsd that
 * misses one is killed and reaped. Failures return -1 with a one-line
 * reason in why.
 */
#ifndef PM_NET_STARTTLS_H
#define PM_NET_STARTTLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/net_tls_report.h"

struct net_starttls {
	pid_t pid;   /* tlsd; 0 none */
	int service; /* the fd is a connection to the service */
	int fd;      /* smtpd's end of the socketpair; -1 none */
	int active;  /* the handshake succeeded */
	struct net_tls_report info; /* its report */
};

void net_starttls_init(struct net_starttls *t);
int net_starttls_start(struct net_starttls *t, int sock, char *const argv[],
    int64_t until_ms, char *why, size_t cap);
/* 0: ready; -1: refused (why; smtpd answers 454); 1: no service listens
 * on path (why), so spawn one. */
int net_starttls_connect(struct net_starttls *t, int sock, const char *path,
    const char *name, const char *id, int64_t until_ms, char *why, size_t cap);
int net_starttls_handshake(struct net_starttls *t, int in, int out,
    int64_t until_ms, char *why, size_t cap);
void net_starttls_finish(struct net_starttls *t, int64_t until_ms);

#endif
