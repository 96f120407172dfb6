#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/utf8.h"
#include "deliver/deliver_path.h"

#ifndef NAME_MAX
#define NAME_MAX 255
#endif

/* Output cursor: bounds and the length of the component being written. */
struct out {
	char *p;
	size_t size;
	size_t len;
	size_t comp;
};

static int
out_byte(struct out *o, char c)
{
	/* Keep one byte for the NUL. */
	if (o->len + 1 >= o->size)
		return DELIVER_PATH_E_TOOLONG;
	if (c == '/') {
		o->comp = 0;
	} else if (++o->comp > NAME_MAX) {
		return DELIVER_PATH_E_TOOLONG;
	}
	o->p[o->len++] = c;
	return 0;
}

static int
out_mem(struct out *o, const char *p, size_t n, int lower)
{
	size_t i;
	char c;
	int r;

	for (i = 0; i < n; i++) {
		c = p[i];
		/* ASCII only: tolower() would depend on the locale. */
		if (lower && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((r = out_byte(o, c)) != 0)
			return r;
	}
	return 0;
}

int
deliver_path_check_part(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	uint32_t cp;
	size_t i, len;

	if (p == NULL || n == 0)
		return -1;
	/* A leading dot covers "." and ".." and hidden/Maildir++ names. */
	if (p[0] == '.')
		return -1;
	for (i = 0; i < n; i += len) {
		if (u[i] < 0x80) {
			if (u[i] == '/' || u[i] < 0x20 || u[i] == 0x7f)
				return -1;
			len = 1;
			continue;
		}
		/* SMTPUTF8 names are UTF-8 (RFC 6531 3.3); anything else in
		 * a file name would be read differently by each tool, and a
		 * hidden code point makes a listing lie (base/utf8.h). */
		if ((len = utf8_seq_len(u + i, n - i, &cp)) == 0 ||
		    utf8_hidden(cp))
			return -1;
	}
	return 0;
}

int
deliver_path_expand(char *out, size_t outsize, const char *tmpl,
    const char *local, size_t locallen, const char *domain, size_t domainlen,
    const char *home)
{
	struct out o = { out, outsize, 0, 0 };
	const char *t;
	size_t homelen;
	int r;

	if (out == NULL || outsize == 0)
		return DELIVER_PATH_E_TOOLONG;
	out[0] = '\0';
	if (tmpl == NULL || tmpl[0] == '\0')
		return DELIVER_PATH_E_TEMPLATE;
	t = tmpl;
	if (t[0] == '~') {
		/* ~user would need a second passwd lookup: not supported. */
		if (t[1] != '\0' && t[1] != '/')
			return DELIVER_PATH_E_TEMPLATE;
		if (home == NULL || home[0] != '/')
			return DELIVER_PATH_E_HOME;
		homelen = strlen(home);
		while (homelen > 1 && home[homelen - 1] == '/')
			homelen--;
		if ((r = out_mem(&o, home, homelen, 0)) != 0)
			goto fail;
		t++;
		/* Home "/" and "~/Maildir" give "/Maildir", not "//Maildir". */
		if (homelen == 1 && t[0] == '/')
			t++;
	} else if (t[0] != '/') {
		return DELIVER_PATH_E_RELATIVE;
	}
	for (; *t != '\0'; t++) {
		if (*t != '%') {
			if ((r = out_byte(&o, *t)) != 0)
				goto fail;
			continue;
		}
		t++;
		switch (*t) {
		case '%':
			r = out_byte(&o, '%');
			break;
		case 'u':
			if (deliver_path_check_part(local, locallen) < 0) {
				r = DELIVER_PATH_E_LOCAL;
				goto fail;
			}
			r = out_mem(&o, local, locallen, 0);
			break;
		case 'd':
			if (deliver_path_check_part(domain, domainlen) < 0) {
				r = DELIVER_PATH_E_DOMAIN;
				goto fail;
			}
			/* Domains are case-insensitive (RFC 5321 2.4). */
			r = out_mem(&o, domain, domainlen, 1);
			break;
		default:
			/* Includes the NUL of a trailing lone %. */
			r = DELIVER_PATH_E_ESCAPE;
			break;
		}
		if (r != 0)
			goto fail;
	}
	out[o.len] = '\0';
	return DELIVER_PATH_OK;
fail:
	out[0] = '\0';
	return r;
}

const char *
deliver_path_strerror(int err)
{
	switch (err) {
	case DELIVER_PATH_OK:
		return "ok";
	case DELIVER_PATH_E_LOCAL:
		return "local part unusable as a file name";
	case DELIVER_PATH_E_DOMAIN:
		return "domain unusable as a file name";
	case DELIVER_PATH_E_ESCAPE:
		return "unknown % escape in maildir template";
	case DELIVER_PATH_E_HOME:
		return "no absolute home directory for ~";
	case DELIVER_PATH_E_RELATIVE:
		return "maildir template is not an absolute path";
	case DELIVER_PATH_E_TOOLONG:
		return "maildir path too long";
	case DELIVER_PATH_E_TEMPLATE:
		return "bad maildir template";
	}
	return "unknown error";
}
