/*
 * postmaster-spf: the SPF evaluator postmaster-smtpd starts for a session
 * at its first check and keeps for the session's later transactions. It
 * reads requests on stdin and writes one response each on stdout (the
 * protocol of lib/spf/spf_proto.h), runs libspf2 in a sandbox
 * (lib/spf/spf_sandbox.h) and ends at EOF. See postmaster-spf(8).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/io.h"
#include "base/log.h"
#include "dns/dns_res.h"
#include "spf/spf_eval.h"
#include "spf/spf_proto.h"
#include "spf/spf_sandbox.h"

#define USAGE \
	"usage: postmaster-spf [-s DNS-SERVER] [-r RECEIVER] " \
	"[-t BUDGET-MS]\n"

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

int
main(int argc, char **argv)
{
	const char *server = NULL, *receiver = "unknown", *why;
	uint64_t budget = 20000;
	struct spf_eval *e;
	char buf[2 * SPF_PROTO_LINE_MAX];
	size_t len = 0;
	ssize_t n;
	int opt, ll;

	log_init(argv[0]);
	while ((opt = getopt(argc, argv, "s:r:t:h")) != -1) {
		switch (opt) {
		case 's':
			server = optarg[0] ? optarg : NULL;
			break;
		case 'r':
			receiver = optarg;
			break;
		case 't':
			budget = strtoull(optarg, NULL, 10);
			break;
		default:
			fputs(USAGE, stderr);
			return opt == 'h' ? 0 : EX_USAGE;
		}
	}
	if (optind != argc || budget == 0) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (spf_sandbox_limits(&why) < 0)
		die_sys(EX_OSERR, "sandbox: %s", why);
	/* one DNS try never outlasts the budget; libresolv tries twice */
	if (spf_eval_open(&e, server, receiver,
	        budget / 2 < 5000 ? (unsigned)(budget / 2) : 5000) < 0)
		die_sys(EX_TEMPFAIL,
		    "unable to set up libspf2 (dns-server "
		    "%s)",
		    server ? server : "from resolv.conf");
	if (spf_sandbox_lock(dns_port(server), &ll, &why) < 0)
		die_sys(EX_OSERR, "sandbox: %s", why);
	for (;;) {
		n = read(0, buf + len, sizeof buf - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (serve(e, budget, buf, &len) < 0)
			break;
	}
	spf_eval_close(e);
	return 0;
}
