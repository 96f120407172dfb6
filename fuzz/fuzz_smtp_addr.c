/*
 * smtp_addr: no crash on any argument; an accepted path is free of
 * CR/LF/NUL, within the RFC 5321 limits, has a lower-case domain, and its
 * canonical form parses again to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct smtp_path *p, int utf8)
{
	struct smtp_path again;
	char s[SMTP_PATH_MAX + 3];
	size_t i, used;

	if (p->addrlen != strlen(p->addr) || p->addrlen > SMTP_PATH_MAX - 2 ||
	    p->domainlen != strlen(p->domain))
		abort();
	for (i = 0; i < p->addrlen; i++)
		if ((unsigned char)p->addr[i] < 32 || p->addr[i] == 127)
			abort();
	for (i = 0; i < p->domainlen; i++)
		if (p->domain[i] >= 'A' && p->domain[i] <= 'Z' &&
		    p->domain[0] != '[')
			abort();
	if (p->utf8 && !utf8)
		abort();
	if (p->null)
		return;
	s[0] = '<';
	memcpy(s + 1, p->addr, p->addrlen);
	s[p->addrlen + 1] = '>';
	if (smtp_addr_parse_path(s, p->addrlen + 2, SMTP_PATH_FORWARD |
	    SMTP_PATH_UTF8 | SMTP_PATH_LOCAL, &again, &used) != 0 ||
	    used != p->addrlen + 2 || strcmp(again.addr, p->addr) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_path p;
	struct smtp_params par;
	const char *s = (const char *)data + 1;
	size_t n, used;
	unsigned ext;

	if (size < 1)
		return 0;
	n = size - 1;
	ext = data[0] & SMTP_EXT_ALL;
	if (smtp_addr_parse_mail(s, n, ext, &p, &par) == 0) {
		check(&p, par.smtputf8);
		if (par.has_size && !(ext & SMTP_EXT_SIZE))
			abort();
	}
	if (smtp_addr_parse_rcpt(s, n, ext, (data[0] & 0x10 ? SMTP_PATH_UTF8 :
	    0) | (data[0] & 0x20 ? SMTP_PATH_LOCAL : 0), &p, &par) == 0)
		check(&p, data[0] & 0x10);
	if (smtp_addr_parse_path(s, n, data[0] >> 4, &p, &used) == 0) {
		if (used > n)
			abort();
		check(&p, data[0] & (SMTP_PATH_UTF8 << 4));
	}
	(void)smtp_addr_literal_check(s, n);
	return 0;
}
