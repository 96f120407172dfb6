#include <string.h>

#include "spf/spf_proto.h"

static const char *const result_names[] = { "none", "neutral", "pass", "fail",
	"softfail", "temperror", "permerror" };

#define NRESULTS (sizeof result_names / sizeof result_names[0])

const char *
spf_result_name(enum spf_result r)
{
	return (unsigned)r < NRESULTS ? result_names[r] : NULL;
}

int
spf_result_parse(const char *s, size_t n, enum spf_result *r)
{
	size_t i;

	for (i = 0; i < NRESULTS; i++)
		if (strlen(result_names[i]) == n &&
		    memcmp(result_names[i], s, n) == 0) {
			*r = (enum spf_result)i;
			return 0;
		}
	return -1;
}

size_t
spf_text_clean(char *out, size_t cap, const char *in, size_t n)
{
	size_t i, o = 0;

	if (cap == 0)
		return 0;
	for (i = 0; i < n && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = '\0';
	return o;
}

/* What a field may hold (see the header). */
enum field_class {
	F_TOKEN, /* printable ASCII, no space, non-empty */
	F_TEXT,  /* printable ASCII, space allowed, may be empty */
	F_IDENT  /* F_TEXT plus 0x80-0xff, non-empty */
};

static int
octet_ok(unsigned char c, enum field_class fc)
{
	if (c >= 0x80)
		return fc == F_IDENT;
	if (c == ' ')
		return fc != F_TOKEN;
	return c > 0x20 && c < 0x7f;
}

/*
 * Splits line[0..n) (without its LF) at TABs into nf fields, checks each
 * against its class and copies it into its buffer with a NUL.
 */
static int
split(const char *line, size_t n, size_t nf, const enum field_class *fc,
    char *const *dst, const size_t *cap)
{
	size_t f = 0, start = 0, i, len;

	for (i = 0; i <= n; i++) {
		if (i < n && line[i] != '\t') {
			if (f >= nf)
				return SPF_PROTO_E_FIELDS;
			if (!octet_ok((unsigned char)line[i], fc[f]))
				return SPF_PROTO_E_OCTET;
			continue;
		}
		if (f >= nf)
			return SPF_PROTO_E_FIELDS;
		len = i - start;
		if (len >= cap[f] || (len == 0 && fc[f] != F_TEXT))
			return SPF_PROTO_E_FIELDLEN;
		memcpy(dst[f], line + start, len);
		dst[f][len] = '\0';
		f++;
		start = i + 1;
	}
	return f == nf ? SPF_PROTO_OK : SPF_PROTO_E_FIELDS;
}

/* The line in p[0..n): its length without the LF in *len. */
static int
find_line(const char *p, size_t n, size_t *len)
{
	const char *lf =
	    memchr(p, '\n', n < SPF_PROTO_LINE_MAX ? n : SPF_PROTO_LINE_MAX);

	if (lf == NULL)
		return n < SPF_PROTO_LINE_MAX ? SPF_PROTO_MORE :
		                                SPF_PROTO_E_TOOLONG;
	*len = (size_t)(lf - p);
	return SPF_PROTO_OK;
}

int
spf_proto_req_parse(const char *p, size_t n, struct spf_req *r, size_t *used)
{
	static const enum field_class fc[4] = { F_TOKEN, F_TOKEN, F_TOKEN,
		F_IDENT };
	char kind[16];
	char *const dst[4] = { kind, r->ip, r->helo, r->id };
	const size_t cap[4] = { sizeof kind, sizeof r->ip, sizeof r->helo,
		sizeof r->id };
	size_t len = 0;
	int e;

	*used = 0;
	if ((e = find_line(p, n, &len)) != SPF_PROTO_OK)
		return e;
	if ((e = split(p, len, 4, fc, dst, cap)) != SPF_PROTO_OK)
		return e;
	if (strcmp(kind, "mailfrom") == 0)
		r->kind = SPF_KIND_MAILFROM;
	else if (strcmp(kind, "helo") == 0)
		r->kind = SPF_KIND_HELO;
	else
		return SPF_PROTO_E_KIND;
	*used = len + 1;
	return SPF_PROTO_OK;
}

int
spf_proto_res_parse(const char *p, size_t n, struct spf_res *r, size_t *used)
{
	static const enum field_class fc[3] = { F_TOKEN, F_TEXT, F_TEXT };
	char result[16];
	char *const dst[3] = { result, r->reason, r->expl };
	const size_t cap[3] = { sizeof result, sizeof r->reason,
		sizeof r->expl };
	size_t len = 0;
	int e;

	*used = 0;
	if ((e = find_line(p, n, &len)) != SPF_PROTO_OK)
		return e;
	if ((e = split(p, len, 3, fc, dst, cap)) != SPF_PROTO_OK)
		return e;
	if (spf_result_parse(result, strlen(result), &r->result) < 0)
		return SPF_PROTO_E_KIND;
	*used = len + 1;
	return SPF_PROTO_OK;
}

/* Appends the fields TAB-separated with the LF; -1 if one breaks a rule. */
static int
join(char *out, size_t cap, size_t nf, const enum field_class *fc,
    const char *const *src, const size_t *maxlen)
{
	size_t f, i, o = 0, len;

	for (f = 0; f < nf; f++) {
		len = strlen(src[f]);
		if (len >= maxlen[f] || (len == 0 && fc[f] != F_TEXT))
			return -1;
		for (i = 0; i < len; i++)
			if (!octet_ok((unsigned char)src[f][i], fc[f]))
				return -1;
		if (o + len + 1 > cap)
			return -1;
		memcpy(out + o, src[f], len);
		o += len;
		out[o++] = f + 1 < nf ? '\t' : '\n';
	}
	if (o > SPF_PROTO_LINE_MAX)
		return -1;
	return (int)o;
}

int
spf_proto_req_format(const struct spf_req *r, char *out, size_t cap)
{
	static const enum field_class fc[4] = { F_TOKEN, F_TOKEN, F_TOKEN,
		F_IDENT };
	const char *const src[4] = { r->kind == SPF_KIND_HELO ? "helo" :
		                                                "mailfrom",
		r->ip, r->helo, r->id };
	const size_t maxlen[4] = { 16, sizeof r->ip, sizeof r->helo,
		sizeof r->id };

	if (r->kind != SPF_KIND_HELO && r->kind != SPF_KIND_MAILFROM)
		return -1;
	return join(out, cap, 4, fc, src, maxlen);
}

int
spf_proto_res_format(const struct spf_res *r, char *out, size_t cap)
{
	static const enum field_class fc[3] = { F_TOKEN, F_TEXT, F_TEXT };
	const char *name = spf_result_name(r->result);
	const char *const src[3] = { name ? name : "", r->reason, r->expl };
	const size_t maxlen[3] = { 16, sizeof r->reason, sizeof r->expl };

	if (name == NULL)
		return -1;
	return join(out, cap, 3, fc, src, maxlen);
}
