/*
 * cf_check: validates a parsed configuration against cf_schema and the
 * routing rules: unknown kinds and keys (with a did-you-mean), naming,
 * duplicate single-valued keys, typed values, dangling references and
 * route syntax. Every problem is reported; returns the error count.
 *
 * The only I/O is getservbyname(3) for listen-port service names, which
 * reads /etc/services (never DNS).
 */
#ifndef PM_CF_CHECK_H
#define PM_CF_CHECK_H

#include "cf/cf_parse.h"

unsigned cf_check(struct cf *cf, struct cf_diag *d);

/*
 * Splits a route right-hand side into its comma-separated items: unquoted
 * words split at commas, a quoted word is one item. Calls fn per item.
 */
int cf_route_items(const struct cf_assign *a,
    int (*fn)(void *arg, const char *item, size_t len, unsigned col),
    void *arg);

#endif
