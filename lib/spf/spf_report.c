#include <stdio.h>
#include <string.h>

#include "spf/spf_report.h"

const char *
spf_report_domain(const struct spf_verdict *v)
{
	const char *at = strrchr(v->id, '@');

	return at ? at + 1 : v->id;
}

int
spf_report_reply(enum spf_mode mode, int permerror_reject,
    const struct spf_verdict *v, char *out, size_t cap)
{
	char text[SPF_TEXT_MAX];

	out[0] = '\0';
	if (mode != SPF_MODE_REJECT)
		return 0;
	switch (v->result) {
	case SPF_RES_FAIL:
		/* RFC 7208 8.4: the explanation goes to the sender; it is
		 * the domain's text, so it is cleaned once more */
		if (v->expl[0] != '\0') {
			spf_text_clean(text, sizeof text, v->expl,
			    strlen(v->expl));
			snprintf(out, cap, "550 5.7.23 %s", text);
		} else {
			snprintf(out, cap,
			    "550 5.7.23 SPF fail: %s does not "
			    "designate %s as permitted sender",
			    spf_report_domain(v), v->ip);
		}
		return 550;
	case SPF_RES_TEMPERROR:
		snprintf(out, cap,
		    "451 4.7.24 SPF temporary error checking "
		    "%s, try again later",
		    spf_report_domain(v));
		return 451;
	case SPF_RES_PERMERROR:
		if (!permerror_reject)
			return 0;
		spf_text_clean(text, sizeof text, v->reason,
		    strlen(v->reason));
		snprintf(out, cap,
		    "550 5.7.24 SPF permanent error in the "
		    "record of %s: %s",
		    spf_report_domain(v), text);
		return 550;
	default:
		return 0;
	}
}

static int
atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5322 3.2.3 dot-atom-text: atoms joined by single dots. */
static int
is_dot_atom(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!(atext((unsigned char)s[i]) ||
		        (s[i] == '.' && s[i + 1] != '.')))
			return 0;
	return 1;
}

/* A value (RFC 7208 9.1 key-value-pair, RFC 8601 pvalue). */
static void
put_value(struct buf *b, const char *s)
{
	size_t i;

	if (is_dot_atom(s)) {
		buf_append_str(b, s);
		return;
	}
	buf_append_byte(b, '"');
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			buf_append_byte(b, '\\');
		buf_append_byte(b, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	buf_append_byte(b, '"');
}

/*
 * RFC 8601 2.2 pvalue: an address is written bare when its local part
 * is a dot-atom ([local-part "@"] domain-name); otherwise its domain
 * alone says enough (2.7.2) and needs no quoting.
 */
static void
put_mailbox(struct buf *b, const char *id)
{
	const char *at = strrchr(id, '@');
	char local[SPF_ID_MAX];

	if (at == NULL) {
		put_value(b, id);
		return;
	}
	memcpy(local, id, (size_t)(at - id));
	local[at - id] = '\0';
	if (is_dot_atom(local) && is_dot_atom(at + 1))
		buf_append_str(b, id);
	else
		put_value(b, at + 1);
}

/* Text inside a comment (RFC 5322 3.2.2 ctext and quoted-pair). */
static void
put_ctext(struct buf *b, const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '(' || c == ')' || c == '\\')
			buf_append_byte(b, '\\');
		buf_append_byte(b, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
}

/* The comment of RFC 7208 9.1's examples, by result. */
static void
put_comment(struct buf *b, const char *receiver, const struct spf_verdict *v)
{
	const char *dom = spf_report_domain(v);

	put_ctext(b, receiver);
	buf_append_str(b, ": ");
	switch (v->result) {
	case SPF_RES_PASS:
		put_ctext(b, "domain of ");
		put_ctext(b, v->id);
		buf_printf(b, " designates %s as permitted sender", v->ip);
		break;
	case SPF_RES_FAIL:
		put_ctext(b, "domain of ");
		put_ctext(b, v->id);
		buf_printf(b, " does not designate %s as permitted sender",
		    v->ip);
		break;
	case SPF_RES_SOFTFAIL:
		put_ctext(b, "domain of transitioning ");
		put_ctext(b, v->id);
		buf_printf(b, " does not designate %s as permitted sender",
		    v->ip);
		break;
	case SPF_RES_NEUTRAL:
		buf_printf(b,
		    "%s is neither permitted nor denied by domain "
		    "of ",
		    v->ip);
		put_ctext(b, v->id);
		break;
	case SPF_RES_NONE:
		buf_append_str(b, "no SPF record for ");
		put_ctext(b, dom);
		if (v->reason[0] != '\0') {
			buf_append_str(b, ": ");
			put_ctext(b, v->reason);
		}
		break;
	case SPF_RES_TEMPERROR:
		buf_append_str(b, "temporary error checking ");
		put_ctext(b, dom);
		break;
	case SPF_RES_PERMERROR:
		buf_append_str(b, "permanent error in the record of ");
		put_ctext(b, dom);
		break;
	}
}

/*
 * Every field is bounded (authserv-id and HELO 255, identity 321,
 * reason 300 octets, each at most doubled by quoting): both fields fit
 * SPF_REPORT_RESERVE, reserved at once so no append below can fail.
 */
#define SPF_REPORT_RESERVE 8192

static void
put_headers(struct buf *b, const char *authserv, const struct spf_verdict *v,
    const char *name)
{
	int helo = v->kind == SPF_KIND_HELO;

	/* RFC 8601 2.2: authserv-id; method=result [comment] ptype.property */
	buf_append_str(b, "Authentication-Results: ");
	put_value(b, authserv);
	buf_printf(b, ";\r\n\tspf=%s", name);
	if ((v->result == SPF_RES_TEMPERROR ||
	        v->result == SPF_RES_PERMERROR) &&
	    v->reason[0] != '\0') {
		buf_append_str(b, " (");
		put_ctext(b, v->reason);
		buf_append_byte(b, ')');
	}
	buf_append_str(b, helo ? " smtp.helo=" : " smtp.mailfrom=");
	put_mailbox(b, helo ? spf_report_domain(v) : v->id);
	buf_append_str(b, "\r\n");

	/* RFC 7208 9.1 */
	buf_printf(b, "Received-SPF: %s (", name);
	put_comment(b, authserv, v);
	buf_append_str(b, ")\r\n\treceiver=");
	put_value(b, authserv);
	buf_append_str(b, "; client-ip=");
	put_value(b, v->ip);
	buf_append_str(b, ";\r\n\thelo=");
	put_value(b, v->helo);
	buf_append_str(b, ";\r\n\tenvelope-from=");
	put_value(b, v->id);
	buf_printf(b, "; identity=%s;", helo ? "helo" : "mailfrom");
	if ((v->result == SPF_RES_TEMPERROR ||
	        v->result == SPF_RES_PERMERROR || v->result == SPF_RES_NONE) &&
	    v->reason[0] != '\0') {
		buf_append_str(b, "\r\n\tproblem=");
		put_value(b, v->reason);
		buf_append_byte(b, ';');
	}
	buf_append_str(b, "\r\n");
}

int
spf_report_headers(struct buf *b, const char *authserv,
    const struct spf_verdict *v)
{
	const char *name = spf_result_name(v->result);
	struct buf t = BUF_INIT(SPF_REPORT_RESERVE);
	int e;

	if (name == NULL || strlen(authserv) >= SPF_HELO_MAX ||
	    buf_reserve(&t, SPF_REPORT_RESERVE - 1) < 0)
		return -1;
	put_headers(&t, authserv, v, name);
	e = buf_append(b, t.p, t.len);
	buf_free(&t);
	return e < 0 ? -1 : 0;
}
