#include <stdio.h>
#include <string.h>

#include "net/net_tls_report.h"

#define TEXT_MAX (NET_TLS_REPORT_MAX - 2) /* octets after the length */

/* Octets left for the SNI name in "tls A B SNI resumed". */
static size_t
sni_room(size_t a, size_t b)
{
	return TEXT_MAX - (4 + a + 1 + b + 1 + 1 + 7);
}

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* A token of the record: never empty, no space, printable. */
static void
token(char *out, size_t cap, const char *s)
{
	size_t i;

	if (s[0] == '\0') {
		snprintf(out, cap, "-");
		return;
	}
	for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
		out[i] = name_char(s[i]) ? s[i] : '?';
	out[i] = '\0';
}

/* Free text: printable ASCII, spaces allowed. */
static void
text(char *out, size_t cap, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
		out[i] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
	out[i] = '\0';
}

size_t
net_tls_report_encode(const struct net_tls_report *r, char *out)
{
	char a[sizeof r->version], b[sizeof r->cipher], c[sizeof r->sni];
	char w[sizeof r->why];
	int n;

	switch (r->kind) {
	case NET_TLS_READY:
		n = snprintf(out + 1, NET_TLS_REPORT_MAX - 1, "ready");
		break;
	case NET_TLS_ERROR:
	case NET_TLS_FAIL:
		text(w, sizeof w, r->why);
		n = snprintf(out + 1, NET_TLS_REPORT_MAX - 1, "%s %s",
		    r->kind == NET_TLS_ERROR ? "error" : "fail", w);
		break;
	default:
		token(a, sizeof a, r->version);
		token(b, sizeof b, r->cipher);
		/* room for the rest: the SNI is cut to fit the record */
		token(c, sni_room(strlen(a), strlen(b)) + 1, r->sni);
		n = snprintf(out + 1, NET_TLS_REPORT_MAX - 1,
		    "tls %s %s %s %s", a, b, c,
		    r->resumed ? "resumed" : "new");
		break;
	}
	if (n < 0)
		n = 0;
	if (n > TEXT_MAX)
		n = TEXT_MAX;
	out[0] = (char)(unsigned char)n;
	return (size_t)n + 1;
}

/* The next space-separated token of p[*off..n) into out; -1 if absent,
 * too long or not of name characters. */
static int
next_token(const char *p, size_t n, size_t *off, char *out, size_t cap)
{
	size_t i = *off, k = 0;

	while (i < n && p[i] != ' ') {
		if (!name_char(p[i]) && p[i] != '?')
			return -1;
		if (k + 1 >= cap)
			return -1;
		out[k++] = p[i++];
	}
	if (k == 0)
		return -1;
	out[k] = '\0';
	*off = i < n ? i + 1 : i;
	return 0;
}

static int
word_is(const char *p, size_t n, const char *w)
{
	size_t k = strlen(w);

	return n >= k && memcmp(p, w, k) == 0 && (n == k || p[k] == ' ');
}

int
net_tls_report_parse(const char *p, size_t n, struct net_tls_report *r)
{
	char st[16];
	size_t i, off;

	memset(r, 0, sizeof *r);
	if (n > TEXT_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (p[i] < ' ' || p[i] > '~')
			return -1;
	if (n == 5 && memcmp(p, "ready", 5) == 0) {
		r->kind = NET_TLS_READY;
		return 0;
	}
	if (word_is(p, n, "error") || word_is(p, n, "fail")) {
		r->kind = p[0] == 'e' ? NET_TLS_ERROR : NET_TLS_FAIL;
		off = p[0] == 'e' ? 6 : 5;
		if (off >= n || n - off >= sizeof r->why)
			return -1;
		memcpy(r->why, p + off, n - off);
		r->why[n - off] = '\0';
		return 0;
	}
	if (!word_is(p, n, "tls") || p[n - 1] == ' ')
		return -1;
	r->kind = NET_TLS_DONE;
	off = 4;
	if (next_token(p, n, &off, r->version, sizeof r->version) < 0 ||
	    next_token(p, n, &off, r->cipher, sizeof r->cipher) < 0 ||
	    next_token(p, n, &off, r->sni, sizeof r->sni) < 0 ||
	    next_token(p, n, &off, st, sizeof st) < 0 || off != n)
		return -1;
	if (strlen(r->sni) > sni_room(strlen(r->version), strlen(r->cipher)))
		return -1;
	if (strcmp(st, "resumed") == 0)
		r->resumed = 1;
	else if (strcmp(st, "new") != 0)
		return -1;
	if (strcmp(r->sni, "-") == 0)
		r->sni[0] = '\0';
	return 0;
}
