#include <string.h>

#include "cf/cf_value.h"

static int
fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -1;
}

int
cf_value_bool(const char *s, int *out, const char **why)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	size_t i;

	for (i = 0; yes[i]; i++)
		if (strcmp(s, yes[i]) == 0)
			return *out = 1, 0;
	for (i = 0; no[i]; i++)
		if (strcmp(s, no[i]) == 0)
			return *out = 0, 0;
	return fail(why, "expected yes or no");
}

/* Digits only; overflow is an error, not a wrap. */
static int
parse_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return -2;
	}
	*sp = s;
	*out = v;
	return 0;
}

int
cf_value_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why)
{
	uint64_t v;
	int r = parse_digits(&s, &v);

	if (r == -2)
		return fail(why, "number too large");
	if (r < 0 || *s)
		return fail(why, "expected a number");
	if (v < min || v > max)
		return fail(why, "number out of range");
	*out = v;
	return 0;
}

static int
scaled(const char *s, uint64_t *out, const char **why, const char *units,
    const uint64_t *mult, const char *what)
{
	uint64_t v;
	const char *u;
	int r = parse_digits(&s, &v);

	if (r == -2)
		return fail(why, "number too large");
	if (r < 0)
		return fail(why, what);
	if (*s) {
		if (s[1] || (u = strchr(units, *s)) == NULL)
			return fail(why, what);
		if (__builtin_mul_overflow(v, mult[u - units], &v))
			return fail(why, "number too large");
	}
	*out = v;
	return 0;
}

int
cf_value_size(const char *s, uint64_t *out, const char **why)
{
	static const uint64_t mult[] = { 1024, 1024, 1048576, 1073741824 };

	return scaled(s, out, why, "kKMG", mult,
	    "expected a size such as 10485760, 10240k or 10M");
}

int
cf_value_duration(const char *s, uint64_t *out, const char **why)
{
	static const uint64_t mult[] = { 1, 60, 3600, 86400, 604800 };

	return scaled(s, out, why, "smhdw", mult,
	    "expected a duration such as 300, 300s, 5m, 2h, 5d or 1w");
}

unsigned
cf_value_port_number(const char *s)
{
	uint64_t v;

	if (cf_value_uint(s, 1, 65535, &v, NULL) < 0)
		return 0;
	return (unsigned)v;
}

static int
valid_service(const char *s, const char **why)
{
	const char *p;
	uint64_t v;

	if (*s == '\0')
		return fail(why, "missing port");
	if (*s >= '0' && *s <= '9') {
		if (cf_value_uint(s, 1, 65535, &v, why) < 0)
			return fail(why, "port must be 1 to 65535");
		return 0;
	}
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return fail(why, "bad port or service name");
	return 0;
}

static int
valid_host(const char *s, const char **why)
{
	const char *p;

	if (*s == '\0')
		return fail(why, "missing host");
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_'))
			return fail(why, "bad host name");
	return 0;
}

static int
copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int
split_hostport(const char *s, struct cf_hostport *out, int need_port,
    const char **why)
{
	const char *colon;

	memset(out, 0, sizeof *out);
	if (*s == '[') {
		const char *close = strchr(s, ']');
		const char *p;

		if (close == NULL)
			return fail(why, "missing ']' after the IPv6 address");
		if (copy(out->host, sizeof out->host, s + 1,
		    (size_t)(close - s - 1)) < 0)
			return fail(why, "address too long");
		for (p = out->host; *p; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
			    (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.'))
				return fail(why, "bad IPv6 address");
		if (strchr(out->host, ':') == NULL)
			return fail(why, "bad IPv6 address");
		out->is_v6 = 1;
		if (close[1] == '\0') {
			if (need_port)
				return fail(why, "missing ':port' after the address");
			return 0;
		}
		if (close[1] != ':')
			return fail(why, "expected ':port' after ']'");
		if (copy(out->port, sizeof out->port, close + 2,
		    strlen(close + 2)) < 0)
			return fail(why, "port too long");
		return valid_service(out->port, why);
	}
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':'))
		return fail(why, "write IPv6 addresses in brackets: [::1]:25");
	if (colon == NULL) {
		if (copy(out->host, sizeof out->host, s, strlen(s)) < 0)
			return fail(why, "host name too long");
		return valid_host(out->host, why);
	}
	if (copy(out->host, sizeof out->host, s, (size_t)(colon - s)) < 0 ||
	    copy(out->port, sizeof out->port, colon + 1, strlen(colon + 1)) < 0)
		return fail(why, "value too long");
	if (valid_host(out->host, why) < 0)
		return -1;
	return valid_service(out->port, why);
}

int
cf_value_listen(const char *s, struct cf_hostport *out, const char **why)
{
	const char *p;

	if (*s == '\0')
		return fail(why, "empty listen-port");
	/* A bare word without ':' or '.' is a port or a service name. */
	if (*s != '[' && strchr(s, ':') == NULL) {
		for (p = s; *p; p++)
			if (*p == '.')
				return fail(why,
				    "expected port, service, host:port or [ipv6]:port");
		memset(out, 0, sizeof *out);
		if (copy(out->port, sizeof out->port, s, strlen(s)) < 0)
			return fail(why, "port too long");
		return valid_service(out->port, why);
	}
	if (split_hostport(s, out, 1, why) < 0)
		return -1;
	return 0;
}

int
cf_value_address(const char *s, struct cf_hostport *out, const char **why)
{
	if (*s == '/') {
		memset(out, 0, sizeof *out);
		if (copy(out->host, sizeof out->host, s, strlen(s)) < 0)
			return fail(why, "socket path too long");
		out->is_unix = 1;
		return 0;
	}
	if (*s == '\0')
		return fail(why, "empty address");
	return split_hostport(s, out, 0, why);
}

int
cf_value_status(const char *s, const char **why)
{
	uint64_t v;
	int i, r;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return fail(why, "expected an enhanced status code like 5.7.1");
	s++;
	for (i = 0; i < 2; i++) {
		if (*s++ != '.')
			return fail(why, "expected an enhanced status code like 5.7.1");
		r = parse_digits(&s, &v);
		if (r < 0 || v > 999)
			return fail(why, "expected an enhanced status code like 5.7.1");
	}
	if (*s)
		return fail(why, "expected an enhanced status code like 5.7.1");
	return 0;
}
