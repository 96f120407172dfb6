#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "inject/inject_route.h"

int
inject_route_check(struct inject_cfg *c, const char *addr, char *why,
    size_t cap)
{
	struct route_result res;
	const char *at = strchr(addr, '@');
	int rc = 0;

	route_result_init(&res, NULL);
	switch (route_resolve(&c->ops, &c->inst.q, addr, strlen(addr), &res)) {
	case ROUTE_OK:
		break;
	case ROUTE_NO_ROUTE:
		if (at &&
		    !route_is_our_domain(&c->ops, &c->inst.q, at + 1,
		        strlen(at + 1)))
			break; /* by MX */
		snprintf(why, cap, "550 5.1.1 <%s>: User unknown", addr);
		rc = EX_NOUSER;
		break;
	case ROUTE_LOCAL_DENIED:
		snprintf(why, cap, "550 5.1.1 <%s>: User unknown", addr);
		rc = EX_NOUSER;
		break;
	case ROUTE_BAD_ADDRESS:
		snprintf(why, cap, "553 5.1.3 <%s>: bad address", addr);
		rc = EX_DATAERR;
		break;
	case ROUTE_LOOP:
	case ROUTE_TOO_MANY:
		snprintf(why, cap, "554 5.4.6 <%s>: %s", addr, res.why);
		rc = EX_CONFIG;
		break;
	case ROUTE_ERROR:
		snprintf(why, cap, "451 4.3.0 <%s>: routing lookup failed",
		    addr);
		rc = EX_TEMPFAIL;
		break;
	}
	route_result_free(&res);
	return rc;
}

int
inject_route_verify(struct inject_cfg *c, char *const *addrs, size_t n,
    struct buf *out)
{
	struct route_result res;
	char t[1200], why[512];
	const char *a, *at;
	size_t i, k;
	int rc = 0;

	for (i = 0; i < n; i++) {
		a = addrs[i];
		route_result_init(&res, NULL);
		if (route_resolve(&c->ops, &c->inst.q, a, strlen(a), &res) ==
		    ROUTE_OK) {
			for (k = 0; k < res.n; k++) {
				route_target_format(&res.t[k], t, sizeof t);
				buf_printf(out, "%s: deliver: %s to %s\n", a,
				    res.t[k].rcpt, t);
			}
		} else if (inject_route_check(c, a, why, sizeof why) == 0) {
			at = strchr(a, '@');
			buf_printf(out, "%s: deliver: %s to mx:%s\n", a, a,
			    at ? at + 1 : "");
		} else {
			buf_printf(out, "%s: refused: %s\n", a, why);
			rc = EX_NOUSER;
		}
		route_result_free(&res);
	}
	return rc;
}
