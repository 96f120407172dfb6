#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

static int tap_run, tap_failed, tap_planned = -1;

void
tap_plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
}

static void
tap_vresult(int cond, const char *file, int line, const char *fmt,
    va_list ap)
{
	tap_run++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_run);
	vprintf(fmt, ap);
	putchar('\n');
	if (!cond) {
		tap_failed++;
		printf("#   Failed at %s line %d.\n", file, line);
	}
	fflush(stdout);
}

int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(cond, file, line, fmt, ap);
	va_end(ap);
	return cond;
}

static void
print_escaped(const char *label, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	printf("#   %8s: '", label);
	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			fputs("\\n'\n#             '", stdout);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			putchar(s[i]);
		else
			printf("\\x%02x", s[i]);
	}
	puts("'");
}

int
tap_is_int(long long got, long long want, const char *file, int line,
    const char *name)
{
	int c = tap_ok(got == want, file, line, "%s", name);

	if (!c)
		printf("#          got: %lld\n#     expected: %lld\n", got, want);
	return c;
}

int
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *name)
{
	int c;

	if (got == NULL || want == NULL)
		c = got == want;
	else
		c = strcmp(got, want) == 0;
	tap_ok(c, file, line, "%s", name);
	if (!c) {
		if (got)
			print_escaped("got", got, strlen(got));
		else
			puts("#          got: NULL");
		if (want)
			print_escaped("expected", want, strlen(want));
		else
			puts("#     expected: NULL");
	}
	return c;
}

int
tap_is_mem(const void *got, size_t gotlen, const void *want, size_t wantlen,
    const char *file, int line, const char *name)
{
	int c = gotlen == wantlen && (gotlen == 0 || memcmp(got, want, gotlen) == 0);

	tap_ok(c, file, line, "%s", name);
	if (!c) {
		print_escaped("got", got, gotlen);
		print_escaped("expected", want, wantlen);
	}
	return c;
}

void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void
tap_skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # skip %s\n", ++tap_run, why);
}

int
tap_done(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_planned != tap_run)
		printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
	return tap_failed || (tap_planned >= 0 && tap_planned != tap_run);
}
