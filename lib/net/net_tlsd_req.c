#include <string.h>

#include "net/net_tlsd_req.h"

static int
word_ok(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] > '~')
			return 0;
	return 1;
}

size_t
net_tlsd_req_encode(const struct net_tlsd_req *r, char *out)
{
	size_t a = strnlen(r->name, sizeof r->name);
	size_t b = strnlen(r->id, sizeof r->id);

	if (a == 0 || a >= sizeof r->name || b >= sizeof r->id ||
	    !word_ok(r->name, a) || !word_ok(r->id, b))
		return 0;
	memcpy(out, r->name, a + 1);
	memcpy(out + a + 1, r->id, b + 1);
	return a + b + 2;
}

/* One NUL-ended word of 1..cap-1 (name) or 0..cap-1 octets at p. */
static const char *
word(const char *p, const char *end, size_t min, char *out, size_t cap)
{
	const char *nul = memchr(p, '\0', (size_t)(end - p));
	size_t n;

	if (nul == NULL)
		return NULL;
	n = (size_t)(nul - p);
	if (n < min || n >= cap || !word_ok(p, n))
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return nul + 1;
}

int
net_tlsd_req_parse(const char *p, size_t n, struct net_tlsd_req *r)
{
	const char *end = p + n;

	memset(r, 0, sizeof *r);
	if (n > NET_TLSD_REQ_MAX ||
	    (p = word(p, end, 1, r->name, sizeof r->name)) == NULL ||
	    (p = word(p, end, 0, r->id, sizeof r->id)) == NULL || p != end) {
		memset(r, 0, sizeof *r);
		return -1;
	}
	return 0;
}
