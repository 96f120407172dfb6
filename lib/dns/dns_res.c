#define _DEFAULT_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_res.h"

struct dns_res {
	struct __res_state st;
};

/* "a.b.c.d" or "a.b.c.d:port" into an IPv4 socket address. */
static int
parse_server(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strchr(s, ':');
	unsigned long port = NS_DEFAULTPORT;
	size_t hl;

	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (*s == '[') {
		errno = EAFNOSUPPORT;
		return -1;
	}
	hl = colon ? (size_t)(colon - s) : strlen(s);
	if (hl == 0 || hl >= sizeof host) {
		errno = EINVAL;
		return -1;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (colon != NULL) {
		char *end;

		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 || *end != '\0' ||
		    port == 0 || port > 65535) {
			errno = EINVAL;
			return -1;
		}
	}
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		errno = strchr(host, ':') ? EAFNOSUPPORT : EINVAL;
		return -1;
	}
	return 0;
}

int
dns_res_open(struct dns_res **out, const char *server, unsigned timeout_ms)
{
	struct dns_res *r;
	struct sockaddr_in sin;

	*out = NULL;
	if (server != NULL && parse_server(server, &sin) < 0)
		return -1;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return -1;
	if (res_ninit(&r->st) < 0) {
		free(r);
		errno = ENOMEM;
		return -1;
	}
	/* The name as given: no search list, no default domain. */
	r->st.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	if (server != NULL) {
		r->st.nsaddr_list[0] = sin;
		r->st.nscount = 1;
	}
	dns_res_set_timeout(r, timeout_ms);
	*out = r;
	return 0;
}

void
dns_res_set_timeout(struct dns_res *r, unsigned timeout_ms)
{
	if (timeout_ms > 0) {
		r->st.retrans = (int)((timeout_ms + 999) / 1000);
		r->st.retry = 2;
	}
}

void
dns_res_close(struct dns_res *r)
{
	if (r == NULL)
		return;
	res_nclose(&r->st);
	free(r);
}

enum dns_status
dns_res_query(struct dns_res *r, const char *name, int type,
    unsigned char *ans, size_t *len)
{
	size_t nl = strlen(name);
	int n;

	*len = 0;
	if (nl == 0 || nl >= DNS_NAME_MAX || strchr(name, ' ') != NULL)
		return DNS_BADNAME;
	n = res_nquery(&r->st, name, ns_c_in, type, ans, DNS_PACKET_MAX);
	if (n < 0) {
		/* glibc maps the rcode to h_errno: NXDOMAIN -> HOST_NOT_FOUND,
		 * NOERROR with no answer -> NO_DATA, SERVFAIL -> TRY_AGAIN,
		 * FORMERR/NOTIMP/REFUSED -> NO_RECOVERY. Only the first two
		 * are statements about the name; the rest may heal. */
		switch (r->st.res_h_errno) {
		case HOST_NOT_FOUND:
			return DNS_NXDOMAIN;
		case NO_DATA:
			return DNS_NODATA;
		default:
			return DNS_TEMP;
		}
	}
	if (n > DNS_PACKET_MAX)
		n = DNS_PACKET_MAX;	/* truncated answer: parse what fits */
	*len = (size_t)n;
	return DNS_OK;
}

const char *
dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "domain not found";
	case DNS_NODATA:
		return "no such record";
	case DNS_NULLMX:
		return "domain does not accept mail (null MX, RFC 7505)";
	case DNS_TEMP:
		return "temporary DNS failure";
	case DNS_BADNAME:
		return "malformed domain name";
	}
	return "unknown DNS status";
}
