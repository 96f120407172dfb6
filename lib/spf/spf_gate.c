#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/sibling.h"
#include "spf/spf_gate.h"
#include "smtp/smtp_reply.h"
#include "spf/spf_input.h"

#define SPF_GATE_OUT_MAX (1024 * 1024)

int
spf_gate_setup(struct spf_gate *g, struct cf_db *db, const char *name,
    const char *receiver)
{
	char mode[16] = "", perm[16] = "";
	struct cf_words w;
	uint64_t secs = 20;
	size_t i;
	int local = 0;

	buf_init(&g->hdr, 16384);
	buf_init(&g->out, SPF_GATE_OUT_MAX);
	g->child.to = g->child.from = -1;
	cf_db_str(db, "smtpd", name, "spf", mode, sizeof mode);
	g->mode = strcmp(mode, "reject") == 0 ? SPF_MODE_REJECT :
	    strcmp(mode, "tag") == 0          ? SPF_MODE_TAG :
	                                        SPF_MODE_OFF;
	if (g->mode == SPF_MODE_OFF)
		return 0;
	spf_child_init(&g->child);
	/* local submission: its users are checked by other means */
	if (cf_db_bool(db, "smtpd", name, "local-rcpt-to", &local) >= 0 &&
	    local) {
		g->mode = SPF_MODE_OFF;
		return 0;
	}
	cf_db_str(db, "smtpd", name, "spf-permerror", perm, sizeof perm);
	g->permerror_reject = strcmp(perm, "reject") == 0;
	cf_db_uint(db, "smtpd", name, "spf-timeout", &secs);
	if (cf_db_words(db, "smtpd", name, "spf-exempt", &w) >= 0)
		for (i = 0; i < w.n && g->nexempt < SPF_GATE_EXEMPT_MAX; i++)
			if (w.len[i] < SPF_GATE_NET_MAX) {
				memcpy(g->exempt[g->nexempt], w.w[i],
				    w.len[i]);
				g->exempt[g->nexempt++][w.len[i]] = '\0';
			}
	cf_db_str(db, "core", "", "dns-server", g->dns_server,
	    sizeof g->dns_server);
	snprintf(g->receiver, sizeof g->receiver, "%s", receiver);
	cf_db_str(db, "core", "", "spf-socket", g->socket, sizeof g->socket);
	if (sibling_path("postmaster-spf", g->program, sizeof g->program) < 0)
		snprintf(g->program, sizeof g->program,
		    "/usr/local/sbin/postmaster-spf");
	g->cfg.program = g->program;
	g->cfg.dns_server = g->dns_server;
	g->cfg.receiver = g->receiver;
	g->cfg.budget_ms = (secs ? secs : 1) * 1000;
	g->cfg.socket = g->socket;
	return 0;
}

void
spf_gate_reset(struct spf_gate *g)
{
	g->done = 0;
	g->code = 0;
	g->reply[0] = '\0';
	buf_reset(&g->hdr);
	buf_reset(&g->out);
}

void
spf_gate_free(struct spf_gate *g)
{
	spf_child_stop(&g->child);
	buf_free(&g->hdr);
	buf_free(&g->out);
}

static int
exempt(const struct spf_gate *g, const char *client)
{
	size_t i;

	for (i = 0; i < g->nexempt; i++)
		if (spf_input_net_match(g->exempt[i], client) == 1)
			return 1;
	return 0;
}

/* The verdict of one transaction (done == 1 afterwards). */
static void
check(struct spf_gate *g, const char *client, const char *helo,
    const char *sender)
{
	struct spf_req req;
	struct spf_res res;
	struct spf_verdict *v = &g->v;
	char why[128];
	const char *cwhy;

	memset(v, 0, sizeof *v);
	switch (
	    spf_input_request(client, helo, sender, &req, why, sizeof why)) {
	case SPF_INPUT_NOIP:
		g->done = 2;
		return;
	case SPF_INPUT_NONE:
		v->result = SPF_RES_NONE;
		v->kind = sender[0] ? SPF_KIND_MAILFROM : SPF_KIND_HELO;
		snprintf(v->ip, sizeof v->ip, "%s", req.ip);
		spf_text_clean(v->helo, sizeof v->helo, helo, strlen(helo));
		spf_text_clean(v->id, sizeof v->id, sender, strlen(sender));
		snprintf(v->reason, sizeof v->reason, "%s", why);
		break;
	default:
		v->kind = req.kind;
		memcpy(v->ip, req.ip, sizeof v->ip);
		memcpy(v->helo, req.helo, sizeof v->helo);
		memcpy(v->id, req.id, sizeof v->id);
		if (spf_child_ask(&g->child, &g->cfg, &req, &res, &cwhy) < 0) {
			log_warn("spf: no answer for <%s> from %s: %s", req.id,
			    req.ip, cwhy);
			v->result = SPF_RES_TEMPERROR;
			snprintf(v->reason, sizeof v->reason, "%s", cwhy);
		} else {
			v->result = res.result;
			memcpy(v->reason, res.reason, sizeof v->reason);
			memcpy(v->expl, res.expl, sizeof v->expl);
		}
		break;
	}
	g->done = 1;
	g->code = spf_report_reply(g->mode, g->permerror_reject, v, g->reply,
	    sizeof g->reply);
	if (spf_report_headers(&g->hdr, g->receiver, v) < 0)
		buf_reset(&g->hdr);
	spf_untrust_init(&g->filter, g->receiver);
}

int
spf_gate_rcpt(struct spf_gate *g, int authenticated, const char *client,
    const char *helo, const char *sender, struct buf *r)
{
	if (g->mode == SPF_MODE_OFF)
		return 0;
	if (g->done == 0) {
		if (authenticated || exempt(g, client))
			g->done = 2;
		else
			check(g, client, helo, sender);
	}
	if (g->done != 1 || g->code == 0)
		return 0;
	smtp_reply_text(r, "%s", g->reply);
	return 1;
}

const char *
spf_gate_headers(const struct spf_gate *g)
{
	return g->done == 1 && g->hdr.p ? g->hdr.p : "";
}

const char *
spf_gate_logfield(const struct spf_gate *g, char *out, size_t cap)
{
	if (g->done != 1) {
		out[0] = '\0';
		return out;
	}
	snprintf(out, cap, " spf=%s", spf_result_name(g->v.result));
	return out;
}

int
spf_gate_data(struct spf_gate *g, const char **p, size_t *n)
{
	if (g->done != 1 || spf_untrust_in_body(&g->filter))
		return 0;
	buf_reset(&g->out);
	if (spf_untrust_feed(&g->filter, *p, *n, &g->out) < 0)
		return -1;
	*p = g->out.p ? g->out.p : "";
	*n = g->out.len;
	return 0;
}

int
spf_gate_data_end(struct spf_gate *g, const char **p, size_t *n)
{
	*p = "";
	*n = 0;
	if (g->done != 1)
		return 0;
	buf_reset(&g->out);
	if (spf_untrust_finish(&g->filter, &g->out) < 0)
		return -1;
	*p = g->out.p ? g->out.p : "";
	*n = g->out.len;
	return 0;
}
