#include <stdio.h>
#include <string.h>

#include "base/str.h"

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int
str_ncasecmp(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int ca = lower((unsigned char)a[i]), cb = lower((unsigned char)b[i]);

		if (ca != cb)
			return ca - cb;
		if (ca == 0)
			return 0;
	}
	return 0;
}

int
str_casecmp(const char *a, const char *b)
{
	return str_ncasecmp(a, b, (size_t)-1);
}

void
str_lower(char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = (char)lower((unsigned char)s[i]);
}

void
str_list_join(char *dst, size_t cap, const char *src, const char *sep)
{
	size_t n = 0, sl = strlen(sep);

	if (cap == 0)
		return;
	for (; *src && n + 1 < cap; src++) {
		if (*src == '|') {
			if (n + sl >= cap)
				break;
			memcpy(dst + n, sep, sl);
			n += sl;
		} else {
			dst[n++] = *src;
		}
	}
	dst[n] = '\0';
}
