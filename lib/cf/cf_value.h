/*
 * cf_value: pure parsers for typed configuration values. Each returns 0 on
 * success and -1 with a static explanation in *why on failure, so the
 * checker can report it at the value's column.
 */
#ifndef PM_CF_VALUE_H
#define PM_CF_VALUE_H

#include <stdint.h>

struct cf_hostport {
	char host[256]; /* "" = any address; brackets removed for IPv6 */
	char port[64];  /* number or service name; "" = none given */
	int is_v6;      /* host was an [IPv6] literal */
	int is_unix;    /* host is an absolute socket path */
};

int cf_value_bool(const char *s, int *out, const char **why);
int cf_value_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why);
int cf_value_size(const char *s, uint64_t *out, const char **why);
int cf_value_duration(const char *s, uint64_t *out, const char **why);
int cf_value_listen(const char *s, struct cf_hostport *out, const char **why);
int cf_value_address(const char *s, struct cf_hostport *out, const char **why);
int cf_value_status(const char *s, const char **why);
/* A port: 1..65535 as digits, else 0 (then it may be a service name). */
unsigned cf_value_port_number(const char *s);

#endif
