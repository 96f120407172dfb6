/*
 * spf_child: smtpd's side of postmaster-spf. The child is started at the
 * first question of a session (fork + exec of the program beside
 * smtpd's own executable, with only its two pipes and stderr open) and
 * kept for the session's later transactions; an instance that never
 * asks never starts it.
 *
 * Where [core] spf-socket names a socket, the session first asks the
 * postmaster-spf service there (spf_service.h) for a forked child:
 * connect, the opening line of spf_hello.h, and "ready" within
 * SPF_CHILD_HELLO_MS. No socket, a refusal or no "ready", and the
 * program is spawned as above. The first start of a session logs which
 * of the two it got.
 *
 * Every answer is awaited with a deadline. A child that misses it, dies,
 * or says anything spf_proto_res_parse() refuses is killed and reaped,
 * the question counts as unanswered (the caller makes it temperror), and
 * the next question starts a new child.
 */
#ifndef PM_SPF_CHILD_H
#define PM_SPF_CHILD_H

#include <stdint.h>
#include <sys/types.h>

#include "spf/spf_proto.h"

struct spf_child_cfg {
	const char *program;    /* path of postmaster-spf */
	const char *dns_server; /* "" or [core] dns-server */
	const char *receiver;   /* our host name, %{r} */
	uint64_t budget_ms;     /* spf-timeout */
	const char *socket;     /* [core] spf-socket, "" for none */
};

/* How long smtpd waits for the service's "ready". */
#define SPF_CHILD_HELLO_MS 3000

enum spf_via { SPF_VIA_NONE = 0, SPF_VIA_SPAWN, SPF_VIA_SERVICE };

struct spf_child {
	pid_t pid;    /* 0: none of ours (not running, or the service's) */
	int to, from; /* request and response pipes (one socket: to == from) */
	enum spf_via via;
	char in[2 * SPF_PROTO_LINE_MAX];
	size_t inlen;
	unsigned started; /* children started (for tests and logs) */
};

void spf_child_init(struct spf_child *c);

/*
 * Asks req and waits for the answer until budget_ms have passed: 0 with
 * *res filled, or -1 with a static reason in *why.
 */
int spf_child_ask(struct spf_child *c, const struct spf_child_cfg *cfg,
    const struct spf_req *req, struct spf_res *res, const char **why);

/* Ends the child: EOF on its input, then a bounded wait; SIGKILL after. */
void spf_child_stop(struct spf_child *c);

#endif
