#define _DEFAULT_SOURCE
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "base/clock.h"
#include "base/str.h"
#include "spf/spf_eval_dns.h"

static int
counts_as_void(ns_type t)
{
	/* the terms of RFC 7208 4.6.4; TXT answers (include, redirect,
	 * exp) that are void make their own error or are ignored */
	return t == ns_t_a || t == ns_t_aaaa || t == ns_t_mx || t == ns_t_ptr;
}

/* s[0..n) has room for 2n + 1 octets: each space becomes "%_". */
static void
spaces_as_macros(char *s, size_t n)
{
	size_t spaces = 0, i, o;

	for (i = 0; i < n; i++)
		spaces += s[i] == ' ';
	o = n + spaces;
	s[o] = '\0';
	for (i = n; i-- > 0;) {
		if (s[i] == ' ') {
			s[--o] = '_';
			s[--o] = '%';
		} else {
			s[--o] = s[i];
		}
	}
}

/* One record's data into rr->rr[i]; 0, or -1 (skip it). */
static int
put_rdata(SPF_dns_rr_t *rr, int i, ns_type t, const unsigned char *msg,
    size_t msglen, const unsigned char *rd, size_t rdlen)
{
	char name[NS_MAXDNAME];
	size_t o = 0, k;

	switch (t) {
	case ns_t_a:
		if (rdlen != 4 || SPF_dns_rr_buf_realloc(rr, i, 4) != 0)
			return -1;
		memcpy(&rr->rr[i]->a, rd, 4);
		return 0;
	case ns_t_aaaa:
		if (rdlen != 16 || SPF_dns_rr_buf_realloc(rr, i, 16) != 0)
			return -1;
		memcpy(&rr->rr[i]->aaaa, rd, 16);
		return 0;
	case ns_t_mx:
	case ns_t_ptr:
		if (t == ns_t_mx && rdlen < 3)
			return -1;
		if (ns_name_uncompress(msg, msg + msglen,
		        t == ns_t_mx ? rd + 2 : rd, name, sizeof name) < 0)
			return -1;
		if (SPF_dns_rr_buf_realloc(rr, i, strlen(name) + 1) != 0)
			return -1;
		memcpy(rr->rr[i]->mx, name, strlen(name) + 1);
		return 0;
	case ns_t_txt:
		/* RFC 7208 3.3: the character-strings of one record are
		 * joined without spaces. libspf2 1.2.10 compiles an
		 * explanation (RFC 7208 6.2) as if it were one word and
		 * mangles the rest after a space; "%_" is the macro of a
		 * space (7.1), so a record that is not an SPF record gets
		 * its spaces written that way (2 octets for 1). */
		if (SPF_dns_rr_buf_realloc(rr, i, rdlen * 2 + 1) != 0)
			return -1;
		for (k = 0; k < rdlen;) {
			size_t n = rd[k++];

			if (n > rdlen - k)
				return -1;
			memcpy(rr->rr[i]->txt + o, rd + k, n);
			o += n;
			k += n;
		}
		rr->rr[i]->txt[o] = '\0';
		if (str_ncasecmp(rr->rr[i]->txt, "v=spf1", 6) != 0)
			spaces_as_macros(rr->rr[i]->txt, o);
		return 0;
	default:
		return -1;
	}
}

static SPF_dns_rr_t *
lookup(SPF_dns_server_t *srv, const char *domain, ns_type t, int cache)
{
	struct spf_eval_dns *st = srv->hook;
	SPF_dns_rr_t *rr;
	ns_msg msg;
	ns_rr r;
	size_t len;
	int i, n, cnt = 0;

	(void)cache;
	if (clock_now_ms() >= st->deadline_ms) {
		st->timed_out = 1;
		return SPF_dns_rr_new_init(srv, domain, t, 0, TRY_AGAIN);
	}
	st->queries++;
	switch (dns_res_query(st->res, domain, t, st->ans, &len)) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_BADNAME:
		st->voids += (unsigned)counts_as_void(t);
		return SPF_dns_rr_new_init(srv, domain, t, 0, HOST_NOT_FOUND);
	case DNS_NODATA:
	case DNS_NULLMX:
		st->voids += (unsigned)counts_as_void(t);
		return SPF_dns_rr_new_init(srv, domain, t, 0, NO_DATA);
	default:
		st->temp = 1;
		if (clock_now_ms() >= st->deadline_ms)
			st->timed_out = 1;
		return SPF_dns_rr_new_init(srv, domain, t, 0, TRY_AGAIN);
	}
	rr = SPF_dns_rr_new_init(srv, domain, t, 0, NETDB_SUCCESS);
	if (rr == NULL)
		return NULL;
	if (ns_initparse(st->ans, (int)len, &msg) < 0) {
		rr->herrno = TRY_AGAIN;
		return rr;
	}
	n = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < n; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &r) < 0)
			break;
		if (ns_rr_type(r) != t)
			continue; /* the CNAMEs of the chain */
		if (put_rdata(rr, cnt, t, st->ans, len, ns_rr_rdata(r),
		        ns_rr_rdlen(r)) == 0)
			cnt++;
	}
	rr->num_rr = cnt;
	if (cnt == 0) {
		rr->herrno = NO_DATA;
		st->voids += (unsigned)counts_as_void(t);
	}
	return rr;
}

static void
destroy(SPF_dns_server_t *srv)
{
	free(srv);
}

SPF_dns_server_t *
spf_eval_dns_new(struct spf_eval_dns *st)
{
	SPF_dns_server_t *srv = calloc(1, sizeof *srv);

	if (srv == NULL)
		return NULL;
	srv->destroy = destroy;
	srv->lookup = lookup;
	srv->name = "postmaster";
	srv->hook = st;
	return srv;
}
