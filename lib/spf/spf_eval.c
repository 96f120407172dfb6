#define _DEFAULT_SOURCE
#include <sys/types.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>

#include "base/clock.h"
#include "dns/dns_res.h"
#include "spf/spf_eval.h"
#include "spf/spf_eval_dns.h"

struct spf_eval {
	SPF_server_t *server;
	struct spf_eval_dns dns;
};

/*
 * libspf2 answers fail with its own default explanation (a URL of a
 * site long gone) when the record has no exp=; this one marks "none",
 * so the reply says our fixed text instead.
 */
#define NO_EXPLANATION "postmaster-no-explanation"

int
spf_eval_open(struct spf_eval **out, const char *dns_server,
    const char *receiver, unsigned query_ms)
{
	struct spf_eval *e;
	SPF_dns_server_t *layer;
	SPF_response_t *resp = NULL;

	*out = NULL;
	if ((e = calloc(1, sizeof *e)) == NULL)
		return -1;
	if ((e->dns.ans = malloc(DNS_PACKET_MAX)) == NULL)
		goto fail;
	if (dns_res_open(&e->dns.res, dns_server, query_ms) < 0)
		goto fail;
	if ((layer = spf_eval_dns_new(&e->dns)) == NULL)
		goto fail;
	if ((e->server = SPF_server_new_dns(layer, 0)) == NULL) {
		SPF_dns_free(layer);
		goto fail;
	}
	SPF_server_set_rec_dom(e->server, receiver);
	if (SPF_server_set_explanation(e->server, NO_EXPLANATION, &resp) !=
	    SPF_E_SUCCESS) {
		SPF_response_free(resp);
		goto fail;
	}
	SPF_response_free(resp);
	*out = e;
	return 0;
fail:
	spf_eval_close(e);
	errno = ENOMEM;
	return -1;
}

void
spf_eval_reset(struct spf_eval *e, const char *receiver, unsigned query_ms)
{
	SPF_server_set_rec_dom(e->server, receiver);
	dns_res_set_timeout(e->dns.res, query_ms);
}

void
spf_eval_close(struct spf_eval *e)
{
	if (e == NULL)
		return;
	if (e->server)
		SPF_server_free(e->server);
	dns_res_close(e->dns.res);
	free(e->dns.ans);
	free(e);
}

static enum spf_result
map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:
		return SPF_RES_PASS;
	case SPF_RESULT_FAIL:
		return SPF_RES_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return SPF_RES_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:
		return SPF_RES_NEUTRAL;
	case SPF_RESULT_NONE:
		return SPF_RES_NONE;
	case SPF_RESULT_TEMPERROR:
		return SPF_RES_TEMPERROR;
	default:
		return SPF_RES_PERMERROR;
	}
}

static void
set_text(char *dst, const char *src)
{
	spf_text_clean(dst, SPF_TEXT_MAX, src, src ? strlen(src) : 0);
}

/*
 * SPF_request_query_mailfrom() without its "free ride" for loopback
 * clients: libspf2 passes 127.0.0.0/8 and ::1 unasked, RFC 7208 exempts
 * no address, and smtpd's spf-exempt is where an operator says so. The
 * rest is what libspf2 does after that test.
 */
static SPF_errcode_t
query(SPF_server_t *server, SPF_request_t *q, SPF_response_t **resp)
{
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;

	if ((*resp = SPF_response_new(q)) == NULL)
		return SPF_E_NO_MEMORY;
	q->cur_dom = q->use_helo ? q->helo_dom : q->env_from_dp;
	err = SPF_server_get_record(server, q, *resp, &rec);
	if (err != SPF_E_SUCCESS) {
		if (rec != NULL)
			SPF_record_free(rec);
		return err;
	}
	(*resp)->spf_record_exp = rec;
	err = SPF_record_interpret(rec, q, *resp, 0);
	(*resp)->spf_record_exp = NULL;
	SPF_record_free(rec);
	return err;
}

void
spf_eval_check(struct spf_eval *e, const struct spf_req *req,
    uint64_t budget_ms, struct spf_res *res)
{
	SPF_request_t *q;
	SPF_response_t *resp = NULL;
	SPF_errcode_t err;
	const char *expl;

	memset(res, 0, sizeof *res);
	res->result = SPF_RES_TEMPERROR;
	e->dns.voids = e->dns.queries = 0;
	e->dns.timed_out = e->dns.temp = 0;
	e->dns.deadline_ms = clock_now_ms() + (int64_t)budget_ms;
	if ((q = SPF_request_new(e->server)) == NULL) {
		set_text(res->reason, "out of memory");
		return;
	}
	err = strchr(req->ip, ':') ? SPF_request_set_ipv6_str(q, req->ip) :
	                             SPF_request_set_ipv4_str(q, req->ip);
	if (err == SPF_E_SUCCESS)
		err = SPF_request_set_helo_dom(q, req->helo);
	if (err == SPF_E_SUCCESS && SPF_request_set_env_from(q, req->id) != 0)
		err = SPF_E_INVALID_CHAR;
	if (err != SPF_E_SUCCESS) {
		/* spf_input let it through, libspf2 would not: none */
		res->result = SPF_RES_NONE;
		set_text(res->reason, SPF_strerror(err));
		SPF_request_free(q);
		return;
	}
	err = query(e->server, q, &resp);
	if (resp != NULL)
		res->result = map_result(SPF_response_result(resp));
	if (e->dns.timed_out) {
		/* a term could not be looked up in time: whatever libspf2
		 * made of the gap, the answer is "try again" */
		res->result = SPF_RES_TEMPERROR;
		set_text(res->reason, "time budget for the SPF check spent");
	} else if (e->dns.temp && res->result == SPF_RES_PERMERROR) {
		/* libspf2 1.2.10 makes a failed lookup of the record a
		 * permerror; RFC 7208 4.4 and 5: a DNS error is temperror */
		res->result = SPF_RES_TEMPERROR;
		set_text(res->reason, "DNS lookup failed");
	} else if (e->dns.voids > SPF_EVAL_VOID_MAX &&
	    res->result != SPF_RES_TEMPERROR) {
		res->result = SPF_RES_PERMERROR;
		set_text(res->reason,
		    "too many void DNS lookups "
		    "(RFC 7208 4.6.4)");
	} else if (err != SPF_E_SUCCESS && resp != NULL &&
	    SPF_response_errcode(resp) != SPF_E_SUCCESS) {
		set_text(res->reason,
		    SPF_strerror(SPF_response_errcode(resp)));
	} else if (err != SPF_E_SUCCESS) {
		set_text(res->reason, SPF_strerror(err));
	}
	if (res->result == SPF_RES_FAIL && resp != NULL &&
	    (expl = SPF_response_get_explanation(resp)) != NULL &&
	    strcmp(expl, NO_EXPLANATION) != 0)
		set_text(res->expl, expl);
	SPF_response_free(resp);
	SPF_request_free(q);
}
