/*
 * postmaster-spf: the SPF evaluator postmaster-smtpd starts for a session
 * at its first check and keeps for the session's later transactions. It
 * reads requests on stdin and writes one response each on stdout (the
 * protocol of lib/spf/spf_proto.h), runs libspf2 in a sandbox
 * (lib/spf/spf_sandbox.h) and ends at EOF.
 *
 * With -l SOCKET it is instead the long-running service smtpd tries
 * first (lib/spf/spf_service.h): each connection gets a forked child
 * that reads the opening line (lib/spf/spf_hello.h), sandboxes itself
 * the same way, says "ready" and serves as above. See postmaster-spf(8).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/io.h"
#include "base/log.h"
#include "base/wpool.h"
#include "dns/dns_res.h"
#include "spf/spf_eval.h"
#include "spf/spf_hello.h"
#include "spf/spf_proto.h"
#include "spf/spf_sandbox.h"
#include "spf/spf_service.h"

#define USAGE \
	"usage: postmaster-spf [-s DNS-SERVER] [-r RECEIVER] " \
	"[-t BUDGET-MS]\n" \
	"       postmaster-spf -l SOCKET [-m MAX-WORKERS] [-u MAX-USE] " \
	"[-s DNS-SERVER]\n"

/* How long a service child waits for smtpd's opening line. */
#define HELLO_WAIT_MS 5000

struct opts {
	const char *server, *receiver;
	uint64_t budget;
};

/* The TCP port DNS answers may need (truncation), from "ip[:port]". */
static unsigned
dns_port(const char *server)
{
	const char *colon = server ? strrchr(server, ':') : NULL;
	unsigned long p;

	if (colon == NULL)
		return 53;
	p = strtoul(colon + 1, NULL, 10);
	return p > 0 && p < 65536 ? (unsigned)p : 53;
}

/* One response per complete request line in buf; the rest stays. */
static int
serve(struct spf_eval *e, uint64_t budget, char *buf, size_t *len)
{
	struct spf_req req;
	struct spf_res res;
	char out[SPF_PROTO_LINE_MAX];
	size_t used;
	int r, n;

	while ((r = spf_proto_req_parse(buf, *len, &req, &used)) ==
	    SPF_PROTO_OK) {
		spf_eval_check(e, &req, budget, &res);
		if ((n = spf_proto_res_format(&res, out, sizeof out)) < 0)
			die(EX_SOFTWARE, "unable to format a response");
		if (io_write_all(1, out, (size_t)n) < 0)
			return -1;
		memmove(buf, buf + used, *len - used);
		*len -= used;
	}
	if (r != SPF_PROTO_MORE)
		die(EX_DATAERR, "bad request from smtpd (%d)", r);
	return 0;
}

/* The opening line of a service connection into o (receiver, budget). */
static int
read_hello(struct opts *o, struct spf_hello *h, char *buf, size_t cap,
    size_t *len)
{
	size_t used;
	ssize_t n;
	int r;

	for (;;) {
		struct pollfd pfd = { 0, POLLIN, 0 };

		r = spf_hello_parse(buf, *len, h, &used);
		if (r == SPF_PROTO_OK)
			break;
		if (r != SPF_PROTO_MORE || poll(&pfd, 1, HELLO_WAIT_MS) <= 0)
			return -1;
		if ((n = read(0, buf + *len, cap - *len)) <= 0)
			return -1;
		*len += (size_t)n;
	}
	/* what follows the line (smtpd waits for "ready", but still) */
	memmove(buf, buf + used, *len - used);
	*len -= used;
	o->receiver = h->receiver;
	o->budget = h->budget_ms;
	/* smtpd's [core] dns-server, as a spawned child gets it; else ours */
	if (h->dns[0])
		o->server = h->dns;
	return 0;
}

/* One DNS try never outlasts the budget; libresolv tries twice. */
static unsigned
query_ms(uint64_t budget)
{
	return budget / 2 < 5000 ? (unsigned)(budget / 2) : 5000;
}

/* Requests on fd 0 until EOF, answers on fd 1 (buf holds len octets). */
static void
converse(struct spf_eval *e, uint64_t budget, char *buf, size_t len)
{
	ssize_t n;

	for (;;) {
		if (serve(e, budget, buf, &len) < 0)
			break;
		n = read(0, buf + len, 2 * SPF_PROTO_LINE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
}

/* A spawned session: sandbox, libspf2, then requests until EOF. */
static int
session(struct opts *o)
{
	struct spf_eval *e;
	char buf[2 * SPF_PROTO_LINE_MAX];
	const char *why;
	int ll;

	if (spf_sandbox_limits(&why) < 0)
		die_sys(EX_OSERR, "sandbox: %s", why);
	if (spf_eval_open(&e, o->server, o->receiver, query_ms(o->budget)) < 0)
		die_sys(EX_TEMPFAIL,
		    "unable to set up libspf2 (dns-server "
		    "%s)",
		    o->server ? o->server : "from resolv.conf");
	if (spf_sandbox_lock(dns_port(o->server), &ll, &why) < 0)
		die_sys(EX_OSERR, "sandbox: %s", why);
	converse(e, o->budget, buf, 0);
	spf_eval_close(e);
	return 0;
}

/*
 * A worker of the service (base/wpool.h) serves smtpd's connections one
 * after the other in the same sandbox. Its evaluator is set up at the
 * first connection, before Landlock shuts the file system (resolv.conf)
 * and every TCP port but that DNS server's, and kept: a later connection
 * changes only the receiver and the timeout. One that names another DNS
 * server ends the worker instead, unserved (smtpd, without "ready",
 * spawns postmaster-spf for its session; the service forks a fresh
 * worker for the next). RLIMIT_CPU counts the worker's whole life, so
 * it retires once it has used half of it, before a session could be cut.
 */
struct worker {
	struct opts base; /* the service's own -s */
	struct spf_eval *e;
	/* e's DNS server; "" for resolv.conf's (a named one is never "":
	 * -s "" and an empty hello field both mean none) */
	char server[sizeof((struct spf_hello *)0)->dns];
	int null; /* /dev/null for fds 0 and 1 between connections */
};

static void
worker_start(void *arg)
{
	struct worker *w = arg;
	struct sigaction sa;
	const char *why;

	/* the service's handlers only set its stop flag */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (spf_sandbox_limits(&why) < 0)
		die_sys(EX_OSERR, "sandbox: %s", why);
	if ((w->null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		die_sys(EX_OSERR, "/dev/null");
}

/* w's evaluator for o: 0, or -1 when it has one for another server. */
static int
worker_eval(struct worker *w, const struct opts *o)
{
	const char *why;
	int ll;

	if (w->e != NULL) {
		if (strcmp(w->server, o->server ? o->server : "") != 0)
			return -1;
		spf_eval_reset(w->e, o->receiver, query_ms(o->budget));
		return 0;
	}
	snprintf(w->server, sizeof w->server, "%s",
	    o->server ? o->server : "");
	if (spf_eval_open(&w->e, o->server, o->receiver, query_ms(o->budget)) <
	    0)
		die_sys(EX_TEMPFAIL,
		    "unable to set up libspf2 (dns-server %s)",
		    o->server ? o->server : "from resolv.conf");
	if (spf_sandbox_lock(dns_port(o->server), &ll, &why) < 0)
		die_sys(EX_OSERR, "sandbox: %s", why);
	return 0;
}

static int
worker_job(void *arg, struct wpool_job *j)
{
	struct worker *w = arg;
	struct opts o = w->base;
	struct spf_hello h;
	struct rusage ru;
	char buf[2 * SPF_PROTO_LINE_MAX];
	size_t len = 0;

	if (j->nfd != 1 || dup2(j->fd[0], 0) < 0 || dup2(j->fd[0], 1) < 0)
		return EX_OSERR;
	close(j->fd[0]);
	j->nfd = 0;
	if (read_hello(&o, &h, buf, sizeof buf, &len) < 0)
		log_warn("spf service: no opening line from smtpd");
	else if (worker_eval(w, &o) < 0) {
		log_info("spf service: a connection for dns-server %s, this "
		         "worker's is %s: it ends, unserved",
		    o.server ? o.server : "from resolv.conf",
		    w->server[0] ? w->server : "from resolv.conf");
		return EX_TEMPFAIL;
	} else if (io_write_all(1, SPF_HELLO_READY,
	               sizeof SPF_HELLO_READY - 1) == 0)
		converse(w->e, o.budget, buf, len);
	if (dup2(w->null, 0) < 0 || dup2(w->null, 1) < 0)
		return EX_OSERR;
	if (getrusage(RUSAGE_SELF, &ru) < 0 ||
	    ru.ru_utime.tv_sec + ru.ru_stime.tv_sec >=
	        SPF_SANDBOX_CPU_SECS / 2)
		return EX_TEMPFAIL;
	return 0;
}

/*
 * The service sets libspf2 up once and drops it before the first fork:
 * malloc's arenas and the lazily bound symbols are then ready in every
 * child instead of being built anew (page faults, symbol lookups) per
 * session. No state of it survives into a child's evaluator.
 */
static void
warm_up(const struct opts *o)
{
	struct spf_eval *e;

	if (spf_eval_open(&e, o->server, "warm-up", 1000) == 0)
		spf_eval_close(e);
}

int
main(int argc, char **argv)
{
	struct opts o = { NULL, "unknown", 20000 };
	static struct worker w;
	const char *listen = NULL, *why;
	unsigned long max = 64, max_use = 100;
	int opt;

	log_init(argv[0]);
	while ((opt = getopt(argc, argv, "s:r:t:l:m:u:h")) != -1) {
		switch (opt) {
		case 's':
			o.server = optarg[0] ? optarg : NULL;
			break;
		case 'r':
			o.receiver = optarg;
			break;
		case 't':
			o.budget = strtoull(optarg, NULL, 10);
			break;
		case 'l':
			listen = optarg;
			break;
		case 'm':
			max = strtoul(optarg, NULL, 10);
			break;
		case 'u':
			max_use = strtoul(optarg, NULL, 10);
			break;
		default:
			fputs(USAGE, stderr);
			return opt == 'h' ? 0 : EX_USAGE;
		}
	}
	if (optind != argc || o.budget == 0 || max == 0 || max > 65536 ||
	    max_use == 0 || max_use > 1000000) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (listen == NULL)
		return session(&o);
	warm_up(&o);
	w.base = o;
	if (spf_service_run(listen, (unsigned)max, max_use, worker_start,
	        worker_job, &w, &why) < 0)
		die_sys(EX_OSERR, "spf service on %s: %s", listen, why);
	return 0;
}
