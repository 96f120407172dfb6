#include <stddef.h>
#include <string.h>

#include "deliver/deliver_loop.h"

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int
name_is(const char *p, size_t n, const char *want)
{
	size_t i;

	if (n != strlen(want))
		return 0;
	for (i = 0; i < n; i++)
		if (lower(p[i]) != lower(want[i]))
			return 0;
	return 1;
}

/* Offset just past the LF ending the line at pos, or 0 if none before end. */
static size_t
line_end(const char *p, size_t pos, size_t end)
{
	const char *nl;

	nl = memchr(p + pos, '\n', end - pos);
	return nl ? (size_t)(nl - p) + 1 : 0;
}

/*
 * The value v[0..n) of a field, unfolded (CR and LF dropped, RFC 5322
 * 2.2.3), trimmed and unbracketed, equals rcpt ignoring ASCII case.
 */
static int
value_is(const char *v, size_t n, const char *rcpt, size_t rcptlen)
{
	size_t i, j;

	while (n > 0 && (is_wsp(v[0]) || v[0] == '\r' || v[0] == '\n')) {
		v++;
		n--;
	}
	while (n > 0 && (is_wsp(v[n - 1]) || v[n - 1] == '\r' ||
	    v[n - 1] == '\n'))
		n--;
	if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
		v++;
		n -= 2;
	}
	for (i = 0, j = 0; i < n; i++) {
		if (v[i] == '\r' || v[i] == '\n')
			continue;
		if (j >= rcptlen || lower(v[i]) != lower(rcpt[j]))
			return 0;
		j++;
	}
	return j == rcptlen && rcptlen > 0;
}

int
deliver_loop_scan(const char *msg, size_t len, size_t maxhdr,
    const char *rcpt, size_t rcptlen, struct deliver_loop *res)
{
	size_t end, pos, next, colon, namelen, e;
	int cut;

	if (res == NULL || (msg == NULL && len > 0) ||
	    (rcpt == NULL && rcptlen > 0))
		return -1;
	memset(res, 0, sizeof(*res));
	end = (maxhdr > 0 && maxhdr < len) ? maxhdr : len;
	/* Whether bytes exist past the bound, so a last line may go on. */
	cut = end < len;
	pos = 0;
	while (pos < end) {
		next = line_end(msg, pos, end);
		/* The empty line ends the header section (RFC 5322 2.1). */
		if (msg[pos] == '\n' ||
		    (msg[pos] == '\r' && pos + 1 < end && msg[pos + 1] == '\n')) {
			pos = next;
			break;
		}
		if (next == 0) {
			if (cut) {
				res->truncated = 1;
				break;
			}
			next = end;
		}
		/* field-name = 1*ftext, then obsolete WSP, then ':'. */
		for (colon = pos; colon < next; colon++) {
			if (msg[colon] == ':' || msg[colon] <= ' ' ||
			    msg[colon] == 0x7f)
				break;
		}
		namelen = colon - pos;
		while (colon < next && is_wsp(msg[colon]))
			colon++;
		if (namelen == 0 || colon >= next || msg[colon] != ':')
			break;	/* not a field: the body starts here */
		/* Take in the continuation lines of a folded field. */
		while (next < end && is_wsp(msg[next])) {
			e = line_end(msg, next, end);
			if (e == 0)
				e = end;
			next = e;
		}
		if (next == end && cut) {
			/* More folding may follow beyond the bound. */
			res->truncated = 1;
			break;
		}
		if (name_is(msg + pos, namelen, "received")) {
			res->hops++;
		} else if (name_is(msg + pos, namelen, "delivered-to")) {
			res->hops++;
			if (value_is(msg + colon + 1, next - colon - 1, rcpt,
			    rcptlen))
				res->found = 1;
		}
		pos = next;
	}
	res->hdrlen = pos;
	return 0;
}
