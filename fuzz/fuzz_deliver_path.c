/*
 * deliver_path: network-supplied local parts and domains never yield a
 * path that leaves the tree (a component starting with a dot, a '/' from
 * a value), holds a control character, a C1 control, U+2028/2029 or a
 * bidi control, or overflows PATH_MAX. Input: local part, '\n', domain.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/deliver_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX 4096

static int
has(const char *s, const char *needle)
{
	return strstr(s, needle) != NULL;
}

static void
check(const char *tmpl, const char *local, size_t ll, const char *dom,
    size_t dl)
{
	char out[OUT_MAX];
	size_t i, n;
	int r;

	r = deliver_path_expand(out, sizeof out, tmpl, local, ll, dom, dl,
	    "/home/u");
	if (r != DELIVER_PATH_OK) {
		if (out[0] != '\0')
			abort();
		return;
	}
	n = strlen(out);
	if (n >= sizeof out || out[0] != '/' || has(out, "/."))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			abort();
	/* (U+0085, U+2028, U+202E, U+2066 stand for their ranges) */
	if (has(out, "\xc2\x85") || has(out, "\xe2\x80\xa8") ||
	    has(out, "\xe2\x80\xae") || has(out, "\xe2\x81\xa6"))
		abort();
	/* Same verdict for the value alone. */
	if (deliver_path_check_part(local, ll) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *nl = memchr(p, '\n', size);
	size_t ll = nl ? (size_t)(nl - p) : size;
	const char *dom = nl ? nl + 1 : NULL;
	size_t dl = nl ? size - ll - 1 : 0;

	check("/var/mail/%d/%u/Maildir", p, ll, dom, dl);
	check("~/Maildir-%u", p, ll, dom, dl);
	return 0;
}
