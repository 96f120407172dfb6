#include <stdio.h>

#include "route/route_reject.h"

int
route_reject_reply(struct cf_db *db, const char *name, const char *addr,
    struct route_reject *out)
{
	uint64_t c;

	if (cf_db_uint(db, "reject", name, "code", &c) < 0 || c > 999)
		return -1;
	out->code = (unsigned)c;
	/* A value too long for out counts as unset. */
	if (cf_db_str(db, "reject", name, "status", out->status,
	        sizeof out->status) < 0)
		out->status[0] = '\0';
	if (cf_db_str(db, "reject", name, "text", out->text,
	        sizeof out->text) < 0)
		out->text[0] = '\0';
	if (out->status[0] == '\0')
		snprintf(out->status, sizeof out->status, "%s",
		    c == 521     ? "5.1.2" :
		        c == 554 ? "5.7.1" :
		        c >= 500 ? "5.1.1" :
		                   "4.3.2");
	if (out->text[0] == '\0')
		snprintf(out->text, sizeof out->text, "<%s>: %s", addr,
		    c == 521 ? "does not accept mail" : "recipient rejected");
	return 0;
}
